"""Network types, made through the Network API (``/v2.0``): networks, subnets, ports, routers and their
interfaces, floating IPs, security groups and their rules."""

from __future__ import annotations

from typing import Any, ClassVar

from onestack.services.orchestration.service.cloud import CloudError
from onestack.services.orchestration.service.resources.base import (
    Handle,
    Prop,
    ResourceFailure,
    ResourceType,
    gone,
    ignore_missing,
)

TAGS = Prop("list", "The tags to be added to the resource.", update=True, schema=Prop("string"))
VALUE_SPECS = Prop("map", "Extra parameters to include in the request.", default={}, update=True)


def find_id(h: Handle, collection: str, singular: str, ref: str) -> str:
    """The id of the ``singular`` named or identified by ``ref`` (Heat takes either)."""
    try:
        return h.cloud.get("network", f"/v2.0/{collection}/{ref}")[singular]["id"]
    except CloudError as exc:
        if exc.status != 404:
            raise
    key = collection.replace("-", "_")  # the path's "security-groups" lists under "security_groups"
    found = h.cloud.get("network", f"/v2.0/{collection}", params={"name": ref, "fields": "id"})[key]
    if len(found) == 1:
        return found[0]["id"]
    if not found:
        raise ResourceFailure(f"Unable to find {singular} with name or id '{ref}'", "NotFound")
    raise ResourceFailure(f"Multiple {key} match the name '{ref}', use an ID to be more specific.",
                          "PhysicalResourceNameAmbiguity")


def same_stack_refs(properties: dict, key: str) -> Any:
    """The resource a raw property names through get_resource, if it does."""
    value = properties.get(key) if isinstance(properties, dict) else None
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("get_resource"), str):
        return value["get_resource"]
    return None


class NeutronResource(ResourceType):
    collection: ClassVar[str] = ""
    singular: ClassVar[str] = ""
    # Properties sent as they are (under their own name) at create and, when update-allowed, at update.
    plain: ClassVar[tuple[str, ...]] = ()
    has_status: ClassVar[bool] = False

    def body(self, h: Handle) -> dict:
        p = h.properties
        body = {key: p[key] for key in self.plain if p.get(key) is not None}
        if "name" in self.properties:
            body["name"] = h.name_or_physical()
        body.update(p.get("value_specs") or {})
        return body

    def path(self, h: Handle) -> str:
        return f"/v2.0/{self.collection}/{h.physical_id}"

    def create(self, h: Handle) -> None:
        made = h.cloud.post("network", f"/v2.0/{self.collection}", {self.singular: self.body(h)})[self.singular]
        h.physical_id = made["id"]
        if h.properties.get("tags"):
            h.cloud.put("network", f"{self.path(h)}/tags", {"tags": h.properties["tags"]})

    def create_done(self, h: Handle) -> bool:
        if not self.has_status:
            return True
        status = self.show(h).get("status")
        if status == "ERROR":
            raise ResourceFailure(f"Went to status ERROR due to \"{self.singular} in ERROR\"", "ResourceInError")
        return status in ("ACTIVE", "DOWN")

    def update(self, h: Handle, old: dict, new: dict) -> None:
        changes = {key: new[key] for key in self.plain
                   if key in self.properties and self.properties[key].update and old.get(key) != new.get(key)}
        if "name" in self.properties and old.get("name") != new.get("name"):
            changes["name"] = h.name_or_physical()
        if old.get("value_specs") != new.get("value_specs"):
            changes.update(new.get("value_specs") or {})
        if changes:
            h.cloud.put("network", self.path(h), {self.singular: changes})
        if "tags" in self.properties and old.get("tags") != new.get("tags"):
            h.cloud.put("network", f"{self.path(h)}/tags", {"tags": new.get("tags") or []})

    def delete(self, h: Handle) -> None:
        if h.physical_id:
            ignore_missing(lambda: h.cloud.delete("network", self.path(h)))

    def delete_done(self, h: Handle) -> bool:
        return not h.physical_id or gone(lambda: h.cloud.get("network", self.path(h)))

    def find(self, h: Handle) -> str | None:
        if "name" not in self.properties:
            return None
        return h.found_by_physical_name("network", f"/v2.0/{self.collection}", self.collection, fields="id")

    def show(self, h: Handle) -> dict:
        if "show" not in h.cache:
            h.cache["show"] = h.cloud.get("network", self.path(h))[self.singular]
        return h.cache["show"]

    def attribute(self, h: Handle, name: str):
        if not h.physical_id:
            return None
        body = self.show(h)
        return body if name == "show" else body.get(name)


class Net(NeutronResource):
    name = "OS::Neutron::Net"
    description = "A resource for managing Neutron net."
    collection, singular = "networks", "network"
    plain = ("admin_state_up", "shared", "port_security_enabled", "dns_domain", "qos_policy_id", "mtu")
    has_status = True
    properties = {
        "name": Prop("string", "A string specifying a symbolic name for the network.", update=True),
        "admin_state_up": Prop("boolean", "A boolean value specifying the administrative status of the "
                               "network.", default=True, update=True),
        "shared": Prop("boolean", "Whether this network should be shared across all tenants.", update=True),
        "port_security_enabled": Prop("boolean", "Flag to enable/disable port security on the network.",
                                      update=True),
        "dns_domain": Prop("string", "DNS domain associated with this network.", update=True),
        "qos_policy_id": Prop("string", "The QoS policy to apply.", update=True),
        "mtu": Prop("integer", "The maximum transmission unit size (in bytes) for the network.", update=True),
        "value_specs": VALUE_SPECS,
        "tags": TAGS,
    }
    attributes = {"status": "The status of the network.", "name": "The name of the network.",
                  "subnets": "Subnets of this network.", "admin_state_up": "The administrative status of the "
                  "network.", "tenant_id": "The tenant owning this network.", "mtu": "The maximum "
                  "transmission unit size (in bytes) for the network.", "port_security_enabled": "Port "
                  "security enabled of the network.", "segments": "The segments of this network."}


class Subnet(NeutronResource):
    name = "OS::Neutron::Subnet"
    description = "A resource for managing Neutron subnets."
    collection, singular = "subnets", "subnet"
    plain = ("cidr", "ip_version", "enable_dhcp", "gateway_ip", "allocation_pools", "dns_nameservers",
             "host_routes", "ipv6_address_mode", "ipv6_ra_mode", "prefixlen", "segment_id")
    properties = {
        "network": Prop("string", "The ID or name of the network to associate this subnet with.",
                        required=True),
        "cidr": Prop("string", "The CIDR."),
        "ip_version": Prop("integer", "The IP version, which is 4 or 6.", default=4, allowed=(4, 6)),
        "name": Prop("string", "The name of the subnet.", update=True),
        "enable_dhcp": Prop("boolean", "Set to true if DHCP is enabled and false if DHCP is disabled.",
                            default=True, update=True),
        "gateway_ip": Prop("string", "The gateway IP address. Set to any of [ null | ~ | \"\" ] to create/"
                           "update a subnet without a gateway.", update=True),
        "allocation_pools": Prop("list", "The start and end addresses for the allocation pools.", update=True,
                                 schema=Prop("map", schema={"start": Prop("string", required=True),
                                                            "end": Prop("string", required=True)})),
        "dns_nameservers": Prop("list", "A specified set of DNS name servers to be used.", default=[],
                                update=True, schema=Prop("string")),
        "host_routes": Prop("list", "A list of host route dictionaries for the subnet.", update=True,
                            schema=Prop("map", schema={"destination": Prop("string", required=True),
                                                       "nexthop": Prop("string", required=True)})),
        "ipv6_address_mode": Prop("string", "IPv6 address mode.", allowed=("dhcpv6-stateful",
                                                                          "dhcpv6-stateless", "slaac")),
        "ipv6_ra_mode": Prop("string", "IPv6 RA (Router Advertisement) mode.",
                             allowed=("dhcpv6-stateful", "dhcpv6-stateless", "slaac")),
        "subnetpool": Prop("string", "The name or ID of the subnet pool."),
        "prefixlen": Prop("integer", "Prefix length for subnet allocation from subnet pool.", min=0),
        "segment": Prop("string", "The name/ID of the segment to associate."),
        "value_specs": VALUE_SPECS,
        "tags": TAGS,
    }
    attributes = {"name": "Friendly name of the subnet.", "network_id": "Parent network of the subnet.",
                  "tenant_id": "Tenant owning the subnet.", "allocation_pools": "Ip allocation pools and "
                  "their ranges.", "gateway_ip": "Ip of the subnet's gateway.", "host_routes": "Additional "
                  "routes for this subnet.", "ip_version": "Ip version for the subnet.", "cidr": "CIDR block "
                  "notation for this subnet.", "dns_nameservers": "List of dns nameservers.", "enable_dhcp":
                  "'true' if DHCP is enabled for this subnet; 'false' otherwise."}

    def body(self, h: Handle) -> dict:
        body = super().body(h)
        body["network_id"] = find_id(h, "networks", "network", h.properties["network"])
        if h.properties.get("subnetpool"):
            body["subnetpool_id"] = find_id(h, "subnetpools", "subnetpool", h.properties["subnetpool"])
        if h.properties.get("segment"):
            body["segment_id"] = h.properties["segment"]
        if "gateway_ip" in body and body["gateway_ip"] in ("", "~", "null"):
            body["gateway_ip"] = None
        return body


class Port(NeutronResource):
    name = "OS::Neutron::Port"
    description = "A resource for managing Neutron ports."
    collection, singular = "ports", "port"
    plain = ("admin_state_up", "mac_address", "device_id", "device_owner", "allowed_address_pairs",
             "port_security_enabled", "binding:vnic_type", "qos_policy_id")
    has_status = True
    properties = {
        "network": Prop("string", "Network this port belongs to.", required=True),
        "name": Prop("string", "A symbolic name for this port.", update=True),
        "fixed_ips": Prop("list", "Desired IPs for this port.", update=True, schema=Prop("map", schema={
            "subnet": Prop("string", "Subnet in which to allocate the IP address for this port."),
            "ip_address": Prop("string", "IP address desired in the subnet for this port.")})),
        "security_groups": Prop("list", "Security group IDs or names to associate with this port.",
                                update=True, schema=Prop("string")),
        "admin_state_up": Prop("boolean", "The administrative state of this port.", default=True, update=True),
        "mac_address": Prop("string", "MAC address to give to this port.", update=True),
        "device_id": Prop("string", "Device ID of this port.", update=True),
        "device_owner": Prop("string", "Name of the network owning the port.", update=True),
        "allowed_address_pairs": Prop("list", "Additional MAC/IP address pairs allowed to pass through the "
                                      "port.", update=True, schema=Prop("map", schema={
                                          "mac_address": Prop("string"), "ip_address": Prop("string",
                                                                                            required=True)})),
        "port_security_enabled": Prop("boolean", "Flag to enable/disable port security on the port.",
                                      update=True),
        "binding:vnic_type": Prop("string", "The vnic type to be bound on the neutron port.", update=True,
                                  allowed=("normal", "direct", "macvtap", "direct-physical", "baremetal")),
        "qos_policy_id": Prop("string", "The QoS policy to apply.", update=True),
        "value_specs": VALUE_SPECS,
        "tags": TAGS,
    }
    attributes = {"admin_state_up": "The administrative state of this port.", "device_id": "Unique "
                  "identifier for the device.", "device_owner": "Name of the network owning the port.",
                  "fixed_ips": "Fixed IP addresses.", "mac_address": "MAC address of the port.", "name":
                  "Friendly name of the port.", "network_id": "Unique identifier for the network owning the "
                  "port.", "security_groups": "A list of security groups for the port.", "status": "The "
                  "status of the port.", "tenant_id": "Tenant owning the port.", "allowed_address_pairs":
                  "Additional MAC/IP address pairs allowed to pass through a port.", "subnets": "Subnets of "
                  "this port.", "port_security_enabled": "Port security enabled of the port."}

    @classmethod
    def implied_requires(cls, name, properties, others):
        # A port made before its network's subnet would get no address: wait for the stack's subnets on it.
        network = same_stack_refs(properties, "network")
        if network is None:
            return set()
        return {other for other, (kind, props) in others.items()
                if kind == Subnet.name and same_stack_refs(props, "network") == network}

    def _fixed_ips(self, h: Handle, wanted) -> list:
        ips = []
        for item in wanted or []:
            entry = {}
            if item.get("subnet"):
                entry["subnet_id"] = find_id(h, "subnets", "subnet", item["subnet"])
            if item.get("ip_address"):
                entry["ip_address"] = item["ip_address"]
            ips.append(entry)
        return ips

    def _groups(self, h: Handle, wanted) -> list:
        return [find_id(h, "security-groups", "security_group", g) for g in wanted or []]

    def body(self, h: Handle) -> dict:
        body = super().body(h)
        body["network_id"] = find_id(h, "networks", "network", h.properties["network"])
        if h.properties.get("fixed_ips"):
            body["fixed_ips"] = self._fixed_ips(h, h.properties["fixed_ips"])
        if h.properties.get("security_groups") is not None:
            body["security_groups"] = self._groups(h, h.properties["security_groups"])
        return body

    def update(self, h: Handle, old: dict, new: dict) -> None:
        super().update(h, old, new)
        changes = {}
        if old.get("fixed_ips") != new.get("fixed_ips") and new.get("fixed_ips") is not None:
            changes["fixed_ips"] = self._fixed_ips(h, new["fixed_ips"])
        if old.get("security_groups") != new.get("security_groups"):
            changes["security_groups"] = self._groups(h, new.get("security_groups") or [])
        if changes:
            h.cloud.put("network", self.path(h), {"port": changes})

    def attribute(self, h: Handle, name: str):
        if name == "subnets" and h.physical_id:
            return [ip["subnet_id"] for ip in self.show(h).get("fixed_ips", [])]
        return super().attribute(h, name)


class Router(NeutronResource):
    name = "OS::Neutron::Router"
    description = "A resource that implements Neutron router."
    collection, singular = "routers", "router"
    plain = ("admin_state_up", "distributed", "ha")
    has_status = True
    properties = {
        "name": Prop("string", "The name of the router.", update=True),
        "external_gateway_info": Prop("map", "External network gateway configuration for a router.",
                                      update=True, schema={
                                          "network": Prop("string", "ID or name of the external network for "
                                                          "the gateway.", required=True),
                                          "enable_snat": Prop("boolean", "Enables Source NAT on the router "
                                                              "gateway."),
                                          "external_fixed_ips": Prop("list", "External fixed IP addresses for "
                                                                     "the gateway.", schema=Prop("map"))}),
        "admin_state_up": Prop("boolean", "The administrative state of the router.", default=True,
                               update=True),
        "distributed": Prop("boolean", "Indicates whether or not to create a distributed router."),
        "ha": Prop("boolean", "Indicates whether or not to create a highly available router."),
        "value_specs": VALUE_SPECS,
        "tags": TAGS,
    }
    attributes = {"status": "The status of the router.", "external_gateway_info": "Gateway network for the "
                  "router.", "name": "Friendly name of the router.", "admin_state_up": "Administrative state "
                  "of the router.", "tenant_id": "Tenant owning the router."}

    def _gateway(self, h: Handle, info) -> dict | None:
        if not info:
            return None
        gateway = {"network_id": find_id(h, "networks", "network", info["network"])}
        if info.get("enable_snat") is not None:
            gateway["enable_snat"] = info["enable_snat"]
        if info.get("external_fixed_ips"):
            gateway["external_fixed_ips"] = info["external_fixed_ips"]
        return gateway

    def body(self, h: Handle) -> dict:
        body = super().body(h)
        gateway = self._gateway(h, h.properties.get("external_gateway_info"))
        if gateway:
            body["external_gateway_info"] = gateway
        return body

    def update(self, h: Handle, old: dict, new: dict) -> None:
        super().update(h, old, new)
        if old.get("external_gateway_info") != new.get("external_gateway_info"):
            h.cloud.put("network", self.path(h), {"router": {
                "external_gateway_info": self._gateway(h, new.get("external_gateway_info")) or {}}})


class RouterInterface(ResourceType):
    name = "OS::Neutron::RouterInterface"
    description = "A resource for managing Neutron router interfaces."
    properties = {
        "router": Prop("string", "The router.", required=True),
        "subnet": Prop("string", "The subnet, either subnet or port should be specified."),
        "port": Prop("string", "The port, either subnet or port should be specified."),
    }

    def _target(self, h: Handle) -> tuple[str, dict]:
        if bool(h.properties.get("subnet")) == bool(h.properties.get("port")):
            raise ResourceFailure("Exactly one of subnet or port must be given", "PropertyUnspecifiedError")
        if h.properties.get("subnet"):
            subnet = find_id(h, "subnets", "subnet", h.properties["subnet"])
            return f"subnet_id={subnet}", {"subnet_id": subnet}
        port = find_id(h, "ports", "port", h.properties["port"])
        return f"port_id={port}", {"port_id": port}

    def create(self, h: Handle) -> None:
        router = find_id(h, "routers", "router", h.properties["router"])
        key, body = self._target(h)
        h.cloud.put("network", f"/v2.0/routers/{router}/add_router_interface", body)
        h.physical_id = f"{router}:{key}"

    def delete(self, h: Handle) -> None:
        if not h.physical_id:
            return
        router, _, key = h.physical_id.partition(":")
        field, _, value = key.partition("=")
        ignore_missing(lambda: h.cloud.put("network", f"/v2.0/routers/{router}/remove_router_interface",
                                           {field: value}))


class FloatingIP(NeutronResource):
    name = "OS::Neutron::FloatingIP"
    description = "A resource for managing Neutron floating ips."
    collection, singular = "floatingips", "floatingip"
    plain = ("fixed_ip_address", "floating_ip_address", "dns_name", "dns_domain", "port_id")
    properties = {
        "floating_network": Prop("string", "Network to allocate floating IP from.", required=True),
        "port_id": Prop("string", "ID of an existing port with at least one IP address to associate with "
                        "this floating IP.", update=True),
        "fixed_ip_address": Prop("string", "IP address to use if the port has multiple addresses.",
                                 update=True),
        "floating_ip_address": Prop("string", "IP address of the floating IP."),
        "dns_name": Prop("string", "DNS name associated with floating ip."),
        "dns_domain": Prop("string", "DNS domain associated with floating ip."),
        "value_specs": VALUE_SPECS,
    }
    attributes = {"router_id": "ID of the router used as gateway, set when associated with a port.",
                  "tenant_id": "The tenant owning this floating IP.", "floating_network_id": "ID of the "
                  "network in which this IP is allocated.", "fixed_ip_address": "IP address of the associated "
                  "port, if specified.", "floating_ip_address": "The allocated address of this IP.",
                  "port_id": "ID of the port associated with this IP."}

    @classmethod
    def implied_requires(cls, name, properties, others):
        # Associating needs a route from the external network to the port: the stack's router interfaces.
        if not (isinstance(properties, dict) and properties.get("port_id")):
            return set()
        return {other for other, (kind, _) in others.items() if kind in (RouterInterface.name, Router.name)}

    def body(self, h: Handle) -> dict:
        body = super().body(h)
        body["floating_network_id"] = find_id(h, "networks", "network", h.properties["floating_network"])
        return body

    def update(self, h: Handle, old: dict, new: dict) -> None:
        if old.get("port_id") != new.get("port_id") or old.get("fixed_ip_address") != new.get("fixed_ip_address"):
            h.cloud.put("network", self.path(h), {"floatingip": {
                "port_id": new.get("port_id"), **({"fixed_ip_address": new["fixed_ip_address"]}
                                                  if new.get("fixed_ip_address") else {})}})


RULE = Prop("map", schema={
    "direction": Prop("string", "The direction in which the security group rule is applied.", default="ingress",
                      allowed=("ingress", "egress")),
    "ethertype": Prop("string", "Ethertype of the traffic.", default="IPv4", allowed=("IPv4", "IPv6")),
    "port_range_min": Prop("integer", "The minimum port number in the range.", min=0, max=65535),
    "port_range_max": Prop("integer", "The maximum port number in the range.", min=0, max=65535),
    "protocol": Prop("string", "The protocol that is matched by the security group rule."),
    "remote_mode": Prop("string", "Whether to specify a remote group or a remote IP prefix.",
                        default="remote_ip_prefix", allowed=("remote_ip_prefix", "remote_group_id")),
    "remote_ip_prefix": Prop("string", "The remote IP prefix (CIDR) to be associated with this security "
                             "group rule."),
    "remote_group_id": Prop("string", "The remote group ID to be associated with this security group rule."),
})


def rule_body(h: Handle, group_id: str, rule: dict) -> dict:
    body = {"security_group_id": group_id, "direction": rule.get("direction") or "ingress",
            "ethertype": rule.get("ethertype") or "IPv4"}
    for key in ("port_range_min", "port_range_max", "protocol"):
        if rule.get(key) is not None:
            body[key] = rule[key]
    if rule.get("remote_mode") == "remote_group_id":
        remote = rule.get("remote_group_id")
        body["remote_group_id"] = find_id(h, "security-groups", "security_group", remote) if remote else group_id
    elif rule.get("remote_ip_prefix"):
        body["remote_ip_prefix"] = rule["remote_ip_prefix"]
    return body


class SecurityGroup(NeutronResource):
    name = "OS::Neutron::SecurityGroup"
    description = "A resource for managing Neutron security groups."
    collection, singular = "security-groups", "security_group"
    plain = ("description",)
    properties = {
        "name": Prop("string", "A string specifying a symbolic name for the security group, which is not "
                     "required to be unique.", update=True),
        "description": Prop("string", "Description of the security group.", update=True),
        "rules": Prop("list", "List of security group rules.", default=[], update=True, schema=RULE),
    }
    attributes = {}

    def path(self, h: Handle) -> str:
        return f"/v2.0/security-groups/{h.physical_id}"

    def create(self, h: Handle) -> None:
        if h.properties.get("name") == "default":
            raise ResourceFailure('Security groups cannot be assigned the name "default".', "StackValidationFailed")
        made = h.cloud.post("network", "/v2.0/security-groups", {"security_group": self.body(h)})
        h.physical_id = made["security_group"]["id"]
        self._set_rules(h, made["security_group"].get("security_group_rules") or [], h.properties["rules"])

    def _set_rules(self, h: Handle, existing: list, wanted: list) -> None:
        """Make the group's rules ``wanted``.  Its default egress rules stay unless an egress rule is given,
        as Heat does."""
        keep_default_egress = not any(r.get("direction") == "egress" for r in wanted)
        for rule in existing:
            is_default_egress = rule.get("direction") == "egress" and not rule.get("protocol") \
                and not rule.get("remote_ip_prefix") and not rule.get("remote_group_id")
            if not (keep_default_egress and is_default_egress):
                ignore_missing(lambda rid=rule["id"]: h.cloud.delete("network", f"/v2.0/security-group-rules/{rid}"))
        for rule in wanted:
            try:
                h.cloud.post("network", "/v2.0/security-group-rules",
                             {"security_group_rule": rule_body(h, h.physical_id, rule)})
            except CloudError as exc:
                if exc.status != 409:  # the same rule already exists: what was wanted
                    raise

    def update(self, h: Handle, old: dict, new: dict) -> None:
        super().update(h, old, new)
        if old.get("rules") != new.get("rules"):
            current = self.show(h).get("security_group_rules") or []
            self._set_rules(h, current, new.get("rules") or [])


class SecurityGroupRule(NeutronResource):
    name = "OS::Neutron::SecurityGroupRule"
    description = "A resource for managing Neutron security group rules."
    collection, singular = "security-group-rules", "security_group_rule"
    properties = {
        "security_group": Prop("string", "Security group name or ID to add rule.", required=True),
        "description": Prop("string", "Description of the security group rule."),
        "direction": Prop("string", "The direction in which the security group rule is applied.",
                          default="ingress", allowed=("ingress", "egress")),
        "ethertype": Prop("string", "Ethertype of the traffic.", default="IPv4", allowed=("IPv4", "IPv6")),
        "port_range_min": Prop("integer", "The minimum port number in the range.", min=0, max=65535),
        "port_range_max": Prop("integer", "The maximum port number in the range.", min=0, max=65535),
        "protocol": Prop("string", "The protocol that is matched by the security group rule."),
        "remote_group": Prop("string", "The remote group name or ID to be associated with this security group "
                             "rule."),
        "remote_ip_prefix": Prop("string", "The remote IP prefix (CIDR) to be associated with this security "
                                 "group rule."),
    }

    def create(self, h: Handle) -> None:
        p = h.properties
        group = find_id(h, "security-groups", "security_group", p["security_group"])
        rule = {**p, "remote_mode": "remote_group_id" if p.get("remote_group") else "remote_ip_prefix",
                "remote_group_id": p.get("remote_group")}
        body = rule_body(h, group, rule)
        if p.get("description"):
            body["description"] = p["description"]
        h.physical_id = h.cloud.post("network", "/v2.0/security-group-rules",
                                     {"security_group_rule": body})["security_group_rule"]["id"]


class ProviderNet(Net):
    name = "OS::Neutron::ProviderNet"
    description = "A resource for managing Neutron provider networks (admin only, as in Neutron)."
    plain = ("admin_state_up", "shared", "port_security_enabled", "dns_domain", "mtu")
    # Template property -> Neutron's provider extension field.
    provider = {"network_type": "provider:network_type", "physical_network": "provider:physical_network",
                "segmentation_id": "provider:segmentation_id", "router_external": "router:external"}
    properties = {
        "name": Net.properties["name"],
        "network_type": Prop("string", "A string specifying the provider network type for the network.",
                             required=True, allowed=("local", "vlan", "vxlan", "gre", "geneve", "flat")),
        "physical_network": Prop("string", "A string specifying physical network mapping for the network."),
        "segmentation_id": Prop("string", "A string specifying the segmentation id for the network."),
        "admin_state_up": Net.properties["admin_state_up"],
        "shared": Prop("boolean", "Whether this network should be shared across all tenants.", default=True,
                       update=True),
        "port_security_enabled": Net.properties["port_security_enabled"],
        "router_external": Prop("boolean", "Whether the network is an external network.", default=False,
                                update=True),
        "dns_domain": Net.properties["dns_domain"],
        "mtu": Net.properties["mtu"],
        "tags": TAGS,
    }

    def body(self, h: Handle) -> dict:
        body = super().body(h)
        for prop, field in self.provider.items():
            if h.properties.get(prop) is not None:
                value = h.properties[prop]
                body[field] = int(value) if prop == "segmentation_id" and str(value).isdigit() else value
        return body

    def update(self, h: Handle, old: dict, new: dict) -> None:
        super().update(h, old, new)
        if old.get("router_external") != new.get("router_external"):
            h.cloud.put("network", self.path(h), {"network": {"router:external": new["router_external"]}})


class FloatingIPAssociation(ResourceType):
    name = "OS::Neutron::FloatingIPAssociation"
    description = "A resource for associating floating ips and ports."
    properties = {
        "floatingip_id": Prop("string", "ID of the floating IP to associate.", required=True, update=True),
        "port_id": Prop("string", "ID of an existing port with at least one IP address to associate with "
                        "this floating IP.", required=True, update=True),
        "fixed_ip_address": Prop("string", "IP address to use if the port has multiple addresses.", update=True),
    }

    @classmethod
    def implied_requires(cls, name, properties, others):
        return FloatingIP.implied_requires(name, properties, others)

    @staticmethod
    def _associate(h: Handle, fip: str, port: str | None, fixed: str | None = None) -> None:
        body = {"port_id": port, **({"fixed_ip_address": fixed} if port and fixed else {})}
        h.cloud.put("network", f"/v2.0/floatingips/{fip}", {"floatingip": body})

    def create(self, h: Handle) -> None:
        p = h.properties
        fip = find_id(h, "floatingips", "floatingip", p["floatingip_id"])
        self._associate(h, fip, find_id(h, "ports", "port", p["port_id"]), p.get("fixed_ip_address"))
        h.physical_id = f"{fip}:{p['port_id']}"

    def update(self, h: Handle, old: dict, new: dict) -> None:
        if old.get("floatingip_id") != new.get("floatingip_id"):  # the old address lets go of the port
            ignore_missing(lambda: self._associate(h, old["floatingip_id"], None))
        self._associate(h, new["floatingip_id"], find_id(h, "ports", "port", new["port_id"]),
                        new.get("fixed_ip_address"))
        h.physical_id = f"{new['floatingip_id']}:{new['port_id']}"

    def delete(self, h: Handle) -> None:
        fip = (h.physical_id or "").partition(":")[0]
        if fip:
            ignore_missing(lambda: self._associate(h, fip, None))

    def attribute(self, h: Handle, name: str):
        fip = (h.physical_id or "").partition(":")[0]
        if name == "show" and fip:
            return h.cloud.get("network", f"/v2.0/floatingips/{fip}")["floatingip"]
        return None


class SubnetPool(NeutronResource):
    name = "OS::Neutron::SubnetPool"
    description = "A resource that implements neutron subnet pool."
    collection, singular = "subnetpools", "subnetpool"
    plain = ("prefixes", "default_quota", "default_prefixlen", "min_prefixlen", "max_prefixlen", "is_default",
             "shared")
    properties = {
        "name": Prop("string", "Name of the subnet pool.", update=True),
        "prefixes": Prop("list", "List of subnet prefixes to assign.", required=True, update=True,
                         schema=Prop("string")),
        "address_scope": Prop("string", "An address scope ID to assign to the subnet pool.", update=True),
        "default_quota": Prop("integer", "A per-tenant quota on the prefix space that can be allocated from "
                              "the subnet pool for tenant subnets.", update=True, min=0),
        "default_prefixlen": Prop("integer", "The size of the prefix to allocate when the cidr or prefixlen "
                                  "attributes are not specified while creating a subnet.", update=True, min=0),
        "min_prefixlen": Prop("integer", "Smallest prefix size that can be allocated from the subnet pool.",
                              update=True, min=0),
        "max_prefixlen": Prop("integer", "Maximum prefix size that can be allocated from the subnet pool.",
                              update=True, min=0),
        "is_default": Prop("boolean", "Whether this is default IPv4/IPv6 subnet pool.", default=False,
                           update=True),
        "shared": Prop("boolean", "Whether the subnet pool will be shared across all tenants.", default=False),
        "value_specs": VALUE_SPECS,
        "tags": TAGS,
    }

    def body(self, h: Handle) -> dict:
        body = super().body(h)
        for key in ("is_default", "shared"):  # only an admin may set them: false is left out, as unset
            if not body.get(key):
                body.pop(key, None)
        if h.properties.get("address_scope"):
            body["address_scope_id"] = h.properties["address_scope"]
        return body

    def update(self, h: Handle, old: dict, new: dict) -> None:
        super().update(h, old, new)
        if old.get("address_scope") != new.get("address_scope"):
            h.cloud.put("network", self.path(h), {"subnetpool": {"address_scope_id": new.get("address_scope")}})


class RBACPolicy(NeutronResource):
    name = "OS::Neutron::RBACPolicy"
    description = "A Resource for managing RBAC policies in Neutron: share an object with another project."
    collection, singular = "rbac-policies", "rbac_policy"
    plain = ("object_type", "object_id", "action", "target_tenant")
    properties = {
        "object_type": Prop("string", "Type of the object that RBAC policy affects.", required=True,
                            allowed=("network", "qos_policy", "security_group", "address_scope", "subnetpool",
                                     "address_group")),
        "target_tenant": Prop("string", "ID of the tenant to which the RBAC policy will be enforced.",
                              required=True, update=True),
        "action": Prop("string", "Action for the RBAC policy.", required=True,
                       allowed=("access_as_shared", "access_as_external")),
        "object_id": Prop("string", "ID or name of the RBAC object.", required=True),
        "tenant_id": Prop("string", "The owner tenant ID of the RBAC policy."),
    }

    def body(self, h: Handle) -> dict:
        body = super().body(h)
        if h.properties["object_type"] == "network":
            body["object_id"] = find_id(h, "networks", "network", h.properties["object_id"])
        if h.properties.get("tenant_id"):
            body["tenant_id"] = h.properties["tenant_id"]
        return body


TYPES = (Net, Subnet, Port, Router, RouterInterface, FloatingIP, FloatingIPAssociation, SecurityGroup,
         SecurityGroupRule, ProviderNet, SubnetPool, RBACPolicy)
