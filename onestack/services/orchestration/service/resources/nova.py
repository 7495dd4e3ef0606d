"""Compute types, made through the Compute API: key pairs and servers."""

from __future__ import annotations

import base64

from onestack.services.orchestration.service.cloud import CloudError
from onestack.services.orchestration.service.resources import swiftsignal
from onestack.services.orchestration.service.resources.base import (
    Handle,
    Prop,
    ResourceFailure,
    ResourceType,
    gone,
    ignore_missing,
    image_id,
)
from onestack.services.orchestration.service.resources.neutron import Subnet, find_id, same_stack_refs
from onestack.services.orchestration.service.resources.software import config_content


class KeyPair(ResourceType):
    name = "OS::Nova::KeyPair"
    description = "A resource for creating Nova key pairs."
    properties = {
        "name": Prop("string", "The name of the key pair.", required=True, min=1, max=255),
        "save_private_key": Prop("boolean", "True if the system should remember a generated private key; "
                                 "False otherwise.", default=False),
        "public_key": Prop("string", "The optional public key. This allows users to supply the public key "
                           "from a pre-existing key pair. If not supplied, a new key pair will be generated."),
        "type": Prop("string", "Keypair type.", allowed=("ssh", "x509")),
        "user": Prop("string", "ID or name of user to whom to add key-pair."),
    }
    attributes = {"public_key": "The public key.", "private_key": "The private key if it has been saved."}

    def create(self, h: Handle) -> None:
        body = {"name": h.properties["name"]}
        if h.properties.get("public_key"):
            body["public_key"] = h.properties["public_key"]
        headers = {}
        if h.properties.get("type") or h.properties.get("user"):
            headers["OpenStack-API-Version"] = "compute 2.10"
            body.update({k: h.properties[k] for k in ("type", "user") if h.properties.get(k)})
            if "user" in body:
                body["user_id"] = body.pop("user")
        made = h.cloud.post("compute", "/os-keypairs", {"keypair": body}, headers=headers)["keypair"]
        if h.properties["save_private_key"] and made.get("private_key"):
            h.data["private_key"] = made["private_key"]
        h.physical_id = h.properties["name"]

    def delete(self, h: Handle) -> None:
        if h.physical_id:
            ignore_missing(lambda: h.cloud.delete("compute", f"/os-keypairs/{h.physical_id}"))

    def attribute(self, h: Handle, name: str):
        if name == "private_key":
            return h.data.get("private_key", "")
        if not h.physical_id:
            return None
        body = h.cloud.get("compute", f"/os-keypairs/{h.physical_id}")["keypair"]
        return body if name == "show" else body.get(name)


NETWORK = Prop("map", schema={
    "uuid": Prop("string", "ID of network to create a port on (deprecated: use network)."),
    "network": Prop("string", "Name or ID of network to create a port on."),
    "fixed_ip": Prop("string", "Fixed IP address to specify for the port created on the requested network."),
    "port": Prop("string", "ID of an existing port to associate with this server."),
    "subnet": Prop("string", "Subnet in which to allocate the IP address for port."),
    "floating_ip": Prop("string", "ID of the floating IP to associate."),
    "tag": Prop("string", "Port tag."),
    "allocate_network": Prop("string", "The special string values of network, auto: means either a network "
                             "that is already available to the project will be used, or if one does not "
                             "exist, will be automatically created for the project; none: means no "
                             "networking will be allocated for the created server.", allowed=("none", "auto")),
    "port_extra_properties": Prop("map", "Dict, which has expand properties for port."),
})
BDM = Prop("map", schema={
    "device_name": Prop("string"), "volume_id": Prop("string"), "snapshot_id": Prop("string"),
    "image": Prop("string"), "image_id": Prop("string"), "swap_size": Prop("integer"),
    "volume_size": Prop("integer"), "boot_index": Prop("integer"), "delete_on_termination": Prop("boolean"),
    "disk_bus": Prop("string"), "device_type": Prop("string"), "ephemeral_size": Prop("integer"),
    "ephemeral_format": Prop("string"),
})


class Server(ResourceType):
    name = "OS::Nova::Server"
    description = "A resource for managing Nova instances."
    properties = {
        "name": Prop("string", "Server name.", update=True),
        "image": Prop("string", "The ID or name of the image to boot with."),
        "flavor": Prop("string", "The ID or name of the flavor to boot onto.", required=True, update=True),
        "flavor_update_policy": Prop("string", "Policy on how to apply a flavor update; either by requesting "
                                     "a server resize or by replacing the entire server.", default="RESIZE",
                                     update=True, allowed=("RESIZE", "REPLACE")),
        "image_update_policy": Prop("string", "Policy on how to apply an image-id update; onestack replaces "
                                    "the server.", default="REPLACE", allowed=("REBUILD", "REPLACE",
                                                                               "REBUILD_PRESERVE_EPHEMERAL")),
        "key_name": Prop("string", "Name of keypair to inject into the server."),
        "admin_pass": Prop("string", "The administrator password for the server.", update=True),
        "availability_zone": Prop("string", "Name of the availability zone for server placement."),
        "security_groups": Prop("list", "List of security group names or IDs.", default=[],
                                schema=Prop("string")),
        "networks": Prop("list", "An ordered list of nics to be added to this server, with information about "
                         "connected networks, fixed ips, port etc.", schema=NETWORK),
        "metadata": Prop("map", "Arbitrary key/value metadata to store for this server.", update=True),
        "user_data_format": Prop("string", "How the user_data should be formatted for the server. Each passes "
                                 "it as it is, or the config of the software config it names.", default="HEAT_CFNTOOLS",
                                 allowed=("HEAT_CFNTOOLS", "RAW", "SOFTWARE_CONFIG")),
        "user_data": Prop("string", "User data script to be executed by cloud-init.", default=""),
        "config_drive": Prop("boolean", "If True, enable config drive on the server."),
        "scheduler_hints": Prop("map", "Arbitrary key-value pairs specified by the client to help boot a "
                                "server."),
        "block_device_mapping_v2": Prop("list", "Block device mappings v2 for this server.", schema=BDM),
        "diskConfig": Prop("string", "Control how the disk is partitioned when the server is created.",
                           allowed=("AUTO", "MANUAL")),
        "software_config_transport": Prop("string", "How the server should receive the metadata required for "
                                          "software configuration. POLL_TEMP_URL will create and populate a "
                                          "Swift TempURL with metadata for polling (os_collect_config gives "
                                          "it); onestack keeps no other transport's metadata.",
                                          default="POLL_SERVER_CFN", update=True,
                                          allowed=("POLL_SERVER_CFN", "POLL_SERVER_HEAT", "POLL_TEMP_URL",
                                                   "ZAQAR_MESSAGE")),
        "deployment_swift_data": Prop("map", "Swift container and object to use for storing deployment data."),
        "tags": Prop("list", "Server tags.", update=True, schema=Prop("string")),
    }
    attributes = {
        "show": "A dict of all server details as returned by the API.",
        "addresses": "A dict of all network addresses with corresponding port_id and subnets.",
        "networks": "A dict of assigned network addresses of the form: {\"public\": [ip1, ip2...], "
                    "\"private\": [ip3, ip4], \"public_uuid\": [ip1, ip2...], \"private_uuid\": [ip3, ip4]}.",
        "first_address": "Convenience attribute to fetch the first assigned network address, or an empty string "
                         "if nothing has been assigned at this time.",
        "name": "Name of the server.",
        "instance_name": "AWS compatible instance name.",
        "accessIPv4": "The manually assigned alternative public IPv4 address of the server.",
        "accessIPv6": "The manually assigned alternative public IPv6 address of the server.",
        "console_urls": "URLs of server's consoles.",
        "os_collect_config": "The os-collect-config configuration for the server's local agent.",
    }

    @classmethod
    def implied_requires(cls, name, properties, others):
        networks = properties.get("networks") if isinstance(properties, dict) else None
        wanted = {same_stack_refs(n, "network") for n in networks or [] if isinstance(n, dict)} - {None}
        return {other for other, (kind, props) in others.items()
                if kind == Subnet.name and same_stack_refs(props, "network") in wanted}

    def needs_replacement(self, old: dict, new: dict) -> bool:
        if old.get("flavor") != new.get("flavor") and new.get("flavor_update_policy") == "REPLACE":
            return True
        return super().needs_replacement(old, new)

    # -- making ------------------------------------------------------------------------------------------
    def _flavor(self, h: Handle, ref: str) -> str:
        # One list answers the usual case (a public flavor by id or name); a private flavor the project
        # may use is not listed to an admin, so an id is then looked up by itself.
        listed = h.cloud.get("compute", "/flavors")["flavors"]
        for key in ("id", "name"):
            for flavor in listed:
                if flavor[key] == ref:
                    return flavor["id"]
        try:
            return h.cloud.get("compute", f"/flavors/{ref}")["flavor"]["id"]
        except CloudError as exc:
            if exc.status != 404:
                raise
        raise ResourceFailure(f"Flavor {ref} could not be found.", "NotFound")

    def _nics(self, h: Handle) -> list | str | None:
        nics = []
        for net in h.properties.get("networks") or []:
            if net.get("allocate_network"):
                return net["allocate_network"]
            if net.get("port"):
                nics.append({"port": find_id(h, "ports", "port", net["port"])})
                continue
            network = net.get("network") or net.get("uuid")
            if net.get("subnet"):
                # Nova takes no subnet: make the port on it here, as Heat does, and remove it with the server.
                subnet_id = find_id(h, "subnets", "subnet", net["subnet"])
                subnet = h.cloud.get("network", f"/v2.0/subnets/{subnet_id}")["subnet"]
                fixed = {"subnet_id": subnet_id, **({"ip_address": net["fixed_ip"]} if net.get("fixed_ip") else {})}
                port = h.cloud.post("network", "/v2.0/ports", {"port": {
                    "network_id": subnet["network_id"], "fixed_ips": [fixed],
                    "name": f"{h.physical_name()}-port"}})["port"]
                h.data.setdefault("internal_ports", []).append(port["id"])
                nics.append({"port": port["id"]})
                continue
            if not network:
                raise ResourceFailure("One of the properties \"network\", \"port\", \"allocate_network\" or "
                                      "\"subnet\" should be set for the specified network of server "
                                      f"\"{h.name}\".", "StackValidationFailed")
            nic = {"uuid": find_id(h, "networks", "network", network)}
            if net.get("fixed_ip"):
                nic["fixed_ip"] = net["fixed_ip"]
            nics.append(nic)
        return nics or None

    def _bdm(self, h: Handle) -> list:
        mappings = []
        for item in h.properties.get("block_device_mapping_v2") or []:
            entry = {k: item[k] for k in ("device_name", "boot_index", "delete_on_termination", "disk_bus",
                                          "device_type", "volume_size") if item.get(k) is not None}
            image = item.get("image") or item.get("image_id")
            if item.get("volume_id"):
                entry.update(source_type="volume", destination_type="volume", uuid=item["volume_id"])
            elif item.get("snapshot_id"):
                entry.update(source_type="snapshot", destination_type="volume", uuid=item["snapshot_id"])
            elif image:
                entry.update(source_type="image", uuid=image_id(h, image),
                             destination_type="volume" if item.get("volume_size") else "local")
            elif item.get("swap_size"):
                entry.update(source_type="blank", destination_type="local", guest_format="swap",
                             volume_size=item["swap_size"])
            elif item.get("ephemeral_size"):
                entry.update(source_type="blank", destination_type="local", volume_size=item["ephemeral_size"],
                             **({"guest_format": item["ephemeral_format"]} if item.get("ephemeral_format") else {}))
            mappings.append(entry)
        return mappings

    def create(self, h: Handle) -> None:
        p = h.properties
        server = {"name": h.name_or_physical(), "flavorRef": self._flavor(h, p["flavor"])}
        server["imageRef"] = image_id(h, p["image"]) if p.get("image") else ""
        for key, field in (("key_name", "key_name"), ("availability_zone", "availability_zone"),
                           ("admin_pass", "adminPass"), ("metadata", "metadata"),
                           ("config_drive", "config_drive"), ("diskConfig", "OS-DCF:diskConfig")):
            if p.get(key) is not None:
                server[field] = p[key]
        if p.get("user_data"):
            # A software config's id (CloudConfig, MultipartMime, SoftwareConfig) gives its config.
            user_data = config_content(h, p["user_data"])
            server["user_data"] = base64.b64encode(user_data.encode()).decode()
        if p.get("security_groups"):
            server["security_groups"] = [{"name": g} for g in p["security_groups"]]
        headers = self._networked(h, server)
        bdm = self._bdm(h)
        if bdm:
            server["block_device_mapping_v2"] = bdm
        body = {"server": server}
        if p.get("scheduler_hints"):
            body["os:scheduler_hints"] = p["scheduler_hints"]
        h.physical_id = h.cloud.post("compute", "/servers", body, headers=headers)["server"]["id"]
        h.data["floating_ips"] = [n["floating_ip"] for n in p.get("networks") or [] if n.get("floating_ip")]

    def _server(self, h: Handle) -> dict:
        if "server" not in h.cache:
            h.cache["server"] = h.cloud.get("compute", f"/servers/{h.physical_id}")["server"]
        return h.cache["server"]

    def _wait_active(self, h: Handle) -> bool:
        h.cache.pop("server", None)
        server = self._server(h)
        status = server.get("status")
        if status == "ERROR":
            fault = server.get("fault") or {}
            raise ResourceFailure(f"Went to status ERROR due to \"Message: {fault.get('message', 'Unknown')}, "
                                  f"Code: {fault.get('code', 'Unknown')}\"", "ResourceInError")
        return status == "ACTIVE"

    def create_done(self, h: Handle) -> bool:
        if h.properties.get("software_config_transport") == "POLL_TEMP_URL" and "metadata_url" not in h.data:
            # its agent's metadata: an object of the owner's store it polls with a TempURL GET
            h.data["metadata_url"] = swiftsignal.make_metadata_object(h, h.physical_id)
        if not self._wait_active(h):
            return False
        # Floating IPs named in networks[] go to the server's port on that network once it exists.
        for fip in h.data.get("floating_ips") or []:
            ports = h.cloud.get("network", "/v2.0/ports", params={"device_id": h.physical_id})["ports"]
            if ports:
                h.cloud.put("network", f"/v2.0/floatingips/{fip}", {"floatingip": {"port_id": ports[0]["id"]}})
        h.data["floating_ips"] = []
        return True

    def find(self, h: Handle) -> str | None:
        return h.found_by_physical_name("compute", "/servers", "servers", exact=True)

    # -- changing ----------------------------------------------------------------------------------------
    def update(self, h: Handle, old: dict, new: dict) -> None:
        path = f"/servers/{h.physical_id}"
        changes = {}
        if old.get("name") != new.get("name"):
            changes["name"] = h.name_or_physical()
        if changes:
            h.cloud.put("compute", path, {"server": changes})
        if old.get("metadata") != new.get("metadata"):
            h.cloud.put("compute", f"{path}/metadata", {"metadata": new.get("metadata") or {}})
        if new.get("admin_pass") and old.get("admin_pass") != new.get("admin_pass"):
            h.cloud.post("compute", f"{path}/action", {"changePassword": {"adminPass": new["admin_pass"]}})
        if old.get("flavor") != new.get("flavor"):
            flavor = self._flavor(h, new["flavor"])
            h.cloud.post("compute", f"{path}/action", {"resize": {"flavorRef": flavor}})
            h.data["resizing"], h.data["confirmed"] = True, False

    def update_done(self, h: Handle) -> bool:
        if not h.data.get("resizing"):
            return True
        h.cache.pop("server", None)
        server = self._server(h)
        if server.get("status") == "VERIFY_RESIZE":
            # Once only: a second confirm racing the first one's completion is Nova's 409.
            if not h.data.get("confirmed"):
                h.cloud.post("compute", f"/servers/{h.physical_id}/action", {"confirmResize": None})
                h.data["confirmed"] = True
            return False
        if server.get("status") == "ERROR":
            raise ResourceFailure("Resizing to flavor failed: the server went to status ERROR", "ResourceInError")
        if server.get("status") == "ACTIVE" and server.get("OS-EXT-STS:task_state") is None:
            h.data["resizing"] = h.data["confirmed"] = False
            return True
        return False

    # -- suspending and resuming (Nova's suspend: the guest's memory saved, its CPU and RAM freed) ----------
    def _networked(self, h: Handle, server: dict) -> dict:
        """``server``'s networks from the resource's; the headers its create then needs (``auto`` and
        ``none`` are Nova's from 2.37)."""
        headers = {}
        nics = self._nics(h)
        if nics is not None:
            server["networks"] = nics
            if isinstance(nics, str):
                headers["OpenStack-API-Version"] = "compute 2.37"
        return headers

    def _power(self, h: Handle, verb: str, settled: str) -> None:
        """Ask Nova to ``verb`` the server unless it is already ``settled`` or on its way (a task under way)."""
        if not h.physical_id:
            return
        h.cache.pop("server", None)
        server = self._server(h)
        if server.get("status") == settled or server.get("OS-EXT-STS:task_state"):
            return
        h.cloud.post("compute", f"/servers/{h.physical_id}/action", {verb: None})

    def _reached(self, h: Handle, settled: str, verb: str) -> bool:
        if not h.physical_id:
            return True
        h.cache.pop("server", None)
        server = self._server(h)
        if server.get("status") == "ERROR":
            raise ResourceFailure(f"{verb.capitalize()} of server {server.get('name')} failed: it went to "
                                  "status ERROR", "ResourceInError")
        return server.get("status") == settled and not server.get("OS-EXT-STS:task_state")

    # what a stack's suspend and resume ask of the server: (action, the status it settles in, its name)
    SUSPEND, RESUME = ("suspend", "SUSPENDED", "suspend"), ("resume", "ACTIVE", "resume")

    def suspend(self, h: Handle) -> None:
        self._power(h, *self.SUSPEND[:2])

    def suspend_done(self, h: Handle) -> bool:
        return self._reached(h, *self.SUSPEND[1:])

    def resume(self, h: Handle) -> None:
        self._power(h, *self.RESUME[:2])

    def resume_done(self, h: Handle) -> bool:
        return self._reached(h, *self.RESUME[1:])

    # -- removing ----------------------------------------------------------------------------------------
    snapshots = True

    def snapshot(self, h: Handle) -> None:
        """An image of the server (Nova's createImage), named after the resource's physical name as Heat's."""
        if not h.physical_id or h.data.get("snapshot_image"):
            return
        name = f"{h.physical_name()}-snapshot"
        # asked before a crash but never recorded: the image is found by its name, not made twice
        found = h.cloud.get("image", "/v2/images", params={"name": name})["images"]
        if found:
            h.data["snapshot_image"] = found[0]["id"]
            return
        try:
            made = h.cloud.post("compute", f"/servers/{h.physical_id}/action", {"createImage": {"name": name}},
                                headers={"OpenStack-API-Version": "compute 2.45"})
        except CloudError as exc:
            if exc.status == 404:
                return  # the server is gone: nothing to keep
            raise
        h.data["snapshot_image"] = made["image_id"]

    def snapshot_done(self, h: Handle) -> bool:
        if not h.data.get("snapshot_image"):
            return True
        status = h.cloud.get("image", f"/v2/images/{h.data['snapshot_image']}")["status"]
        if status in ("killed", "deleted", "deactivated"):
            raise ResourceFailure(f"The server's snapshot image {h.data['snapshot_image']} went to status "
                                  f"{status}", "ResourceInError")
        return status == "active"

    def delete(self, h: Handle) -> None:
        if h.physical_id:
            ignore_missing(lambda: h.cloud.delete("compute", f"/servers/{h.physical_id}"))

    def delete_done(self, h: Handle) -> bool:
        if h.physical_id and not gone(lambda: h.cloud.get("compute", f"/servers/{h.physical_id}")):
            return False
        if h.data.get("metadata_url"):
            swiftsignal.remove_signal_object(h, swiftsignal.metadata_container(h.physical_id))
        for port in h.data.get("internal_ports") or []:
            ignore_missing(lambda port=port: h.cloud.delete("network", f"/v2.0/ports/{port}"))
        return True

    # -- attributes ----------------------------------------------------------------------------------------
    def attribute(self, h: Handle, name: str):
        if not h.physical_id:
            return None
        server = self._server(h)
        addresses = server.get("addresses") or {}
        if name == "show":
            return server
        if name == "first_address":
            for entries in addresses.values():
                for entry in entries:
                    if entry.get("version") == 4:
                        return entry["addr"]
            return ""
        if name == "addresses":
            return addresses
        if name == "networks":
            out: dict = {}
            ids = self._network_ids(h)
            for network, entries in addresses.items():
                ips = [e["addr"] for e in entries]
                out[network] = ips
                if network in ids:
                    out[ids[network]] = ips
            return out
        if name == "name":
            return server.get("name")
        if name == "instance_name":
            return server.get("OS-EXT-SRV-ATTR:instance_name")
        if name in ("accessIPv4", "accessIPv6"):
            return server.get(name) or ""
        if name == "os_collect_config":
            if not h.data.get("metadata_url"):
                return None
            return {"request": {"metadata_url": h.data["metadata_url"]}, "collectors": ["request", "local"],
                    "polling_interval": 30}
        if name == "console_urls":
            return self._console_urls(h)
        return None

    @staticmethod
    def _console_urls(h: Handle) -> dict[str, str]:
        """Each console type Heat knows: a new URL from Nova's remote-consoles, or, where Nova answers that
        it cannot give one (a type the cloud does not serve, a server not running), Heat's ``Cannot get
        console url: <Nova's message>`` in its place, as Heat's ``console_urls`` reads them."""
        urls = {}
        for console_type, protocol in CONSOLE_TYPES.items():
            body = {"remote_console": {"protocol": protocol, "type": console_type}}
            try:
                answer = h.cloud.post("compute", f"/servers/{h.physical_id}/remote-consoles", body,
                                      headers={"OpenStack-API-Version": "compute 2.8"})
                urls[console_type] = answer["remote_console"]["url"]
            except CloudError as exc:
                urls[console_type] = f"Cannot get console url: {exc}"
        return urls

    def _network_ids(self, h: Handle) -> dict[str, str]:
        networks = h.cloud.get("network", "/v2.0/networks", params={"fields": ["id", "name"]})["networks"]
        return {n["name"]: n["id"] for n in networks}


# Heat's console types (its Nova client plugin's), each with the protocol Nova's remote-consoles takes it by.
CONSOLE_TYPES = {"novnc": "vnc", "xvpvnc": "vnc", "spice-html5": "spice", "rdp-html5": "rdp", "serial": "serial",
                 "webmks": "mks"}


class ServerGroup(ResourceType):
    name = "OS::Nova::ServerGroup"
    description = "A resource for managing a Nova server group."
    properties = {
        "name": Prop("string", "Server Group name."),
        "policies": Prop("list", "A list of exactly one policy to apply.", default=["anti-affinity"],
                         schema=Prop("string", allowed=("anti-affinity", "affinity", "soft-anti-affinity",
                                                        "soft-affinity")), min=1, max=1),
        "rules": Prop("map", "Rules for the policy (max_server_per_host with anti-affinity)."),
    }

    def create(self, h: Handle) -> None:
        group = {"name": h.name_or_physical(), "policies": h.properties["policies"]}
        h.physical_id = h.cloud.post("compute", "/os-server-groups", {"server_group": group})["server_group"]["id"]

    def delete(self, h: Handle) -> None:
        if h.physical_id:
            ignore_missing(lambda: h.cloud.delete("compute", f"/os-server-groups/{h.physical_id}"))

    def attribute(self, h: Handle, name: str):
        if name == "show" and h.physical_id:
            return h.cloud.get("compute", f"/os-server-groups/{h.physical_id}")["server_group"]
        return None


class Flavor(ResourceType):
    name = "OS::Nova::Flavor"
    description = "A resource for creating OpenStack virtual hardware templates (admin only, as in Nova)."
    properties = {
        "name": Prop("string", "Name of the flavor."),
        "ram": Prop("integer", "Memory in MB for the flavor.", required=True, min=1),
        "vcpus": Prop("integer", "Number of VCPUs for the flavor.", required=True, min=1),
        "disk": Prop("integer", "Size of local disk in GB.", default=0, min=0),
        "swap": Prop("integer", "Swap space in MB.", default=0, min=0),
        "ephemeral": Prop("integer", "Size of a secondary ephemeral data disk in GB.", default=0, min=0),
        "rxtx_factor": Prop("number", "RX/TX factor.", default=1.0),
        "is_public": Prop("boolean", "Scope of flavor accessibility.", default=True),
        "flavorid": Prop("string", "Unique ID of the flavor; generated when not given."),
        "tenants": Prop("list", "List of tenants with access to a private flavor.", default=[], update=True,
                        schema=Prop("string")),
        "extra_specs": Prop("map", "Key/Value pairs to extend the capabilities of the flavor.", default={},
                            update=True),
    }
    attributes = {"is_public": "Whether the flavor is shared across all projects.",
                  "extra_specs": "Extra specs of the flavor in key-value pairs."}

    def create(self, h: Handle) -> None:
        p = h.properties
        flavor = {"name": h.name_or_physical(), "ram": p["ram"], "vcpus": p["vcpus"], "disk": p["disk"],
                  "swap": p["swap"], "OS-FLV-EXT-DATA:ephemeral": p["ephemeral"], "rxtx_factor": p["rxtx_factor"],
                  "os-flavor-access:is_public": p["is_public"]}
        if p.get("flavorid"):
            flavor["id"] = p["flavorid"]
        h.physical_id = h.cloud.post("compute", "/flavors", {"flavor": flavor})["flavor"]["id"]
        self._extras(h, {}, p)

    def _extras(self, h: Handle, old: dict, new: dict) -> None:
        path = f"/flavors/{h.physical_id}"
        specs = new.get("extra_specs") or {}
        for key in set(old.get("extra_specs") or {}) - set(specs):
            ignore_missing(lambda key=key: h.cloud.delete("compute", f"{path}/os-extra_specs/{key}"))
        if specs:
            h.cloud.post("compute", f"{path}/os-extra_specs", {"extra_specs": {k: str(v) for k, v in specs.items()}})
        if not new.get("is_public", True):
            before, after = set(old.get("tenants") or []), set(new.get("tenants") or [])
            for tenant in sorted(after - before):
                h.cloud.post("compute", f"{path}/action", {"addTenantAccess": {"tenant": tenant}})
            for tenant in sorted(before - after):
                h.cloud.post("compute", f"{path}/action", {"removeTenantAccess": {"tenant": tenant}})

    def update(self, h: Handle, old: dict, new: dict) -> None:
        self._extras(h, old, new)

    def find(self, h: Handle) -> str | None:
        if h.properties.get("name") or "physical_name" not in h.data:
            return None
        found = [f for f in h.cloud.get("compute", "/flavors", params={"is_public": "None"})["flavors"]
                 if f["name"] == h.data["physical_name"]]
        return found[0]["id"] if len(found) == 1 else None

    def delete(self, h: Handle) -> None:
        ignore_missing(lambda: h.cloud.delete("compute", f"/flavors/{h.physical_id}"))

    def attribute(self, h: Handle, name: str):
        if name == "is_public":
            return h.properties.get("is_public")
        if name == "extra_specs":
            return h.cloud.get("compute", f"/flavors/{h.physical_id}/os-extra_specs")["extra_specs"]
        if name == "show":
            return h.cloud.get("compute", f"/flavors/{h.physical_id}")["flavor"]
        return None


TYPES = (KeyPair, Server, ServerGroup, Flavor)
