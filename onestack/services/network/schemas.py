"""What a client may send: one Neutron-style attribute table per resource (which attributes are
postable, updatable, admin-only, visible, filterable and sortable, and each one's JSON Schema), and the
bodies of the routes beyond the five every resource gets."""

from __future__ import annotations

from onestack.http.attrmap import RENDERED, Attr, Table

NAME = {"type": "string", "maxLength": 255}
DESCRIPTION = {"type": "string", "maxLength": 255}
UUID = {"type": "string", "pattern": "^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"}
UUID_OR_NULL = {"anyOf": [UUID, {"type": "null"}]}
PROJECT = {"type": "string", "maxLength": 64}
BOOL = {"type": "boolean"}
TAG = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^,/]*$"}
TAGS = {"type": "array", "items": TAG, "maxItems": 50}
IP = {"type": "string", "maxLength": 64}
IP_OR_NULL = {"type": ["string", "null"], "maxLength": 64}
IP_VERSION = {"type": ["integer", "string"], "enum": [4, 6, "4", "6"]}
AZ_HINTS = {"type": "array", "items": {"type": "string", "maxLength": 255}}
ROUTES = {"type": "array", "items": {"type": "object", "required": ["destination", "nexthop"],
                                     "additionalProperties": False,
                                     "properties": {"destination": IP, "nexthop": IP}}}
DNS_NAME = {"type": "string", "maxLength": 255, "pattern": r"^$|^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$"}


def standard(*, name: bool = True) -> list[Attr]:
    """Neutron's standard attributes (project, description, timestamps, revision, tags)."""
    attrs = [
        Attr("id", sort=True, shows={"type": "string"}),
        Attr("project_id", PROJECT, post=True),
        Attr("tenant_id", PROJECT, post=True, column="project_id"),
        Attr("description", DESCRIPTION, post=True, put=True, default=""),
        Attr("tags", TAGS, post=True, sort=False),
        Attr("created_at", filter=True, shows={"type": "string"}),
        Attr("updated_at", filter=True, shows={"type": "string"}),
        Attr("revision_number", shows={"type": "integer"}),
    ]
    if name:
        attrs.insert(1, Attr("name", NAME, post=True, put=True, default=""))
    return attrs


NETWORKS = Table([
    *standard(),
    Attr("admin_state_up", BOOL, post=True, put=True, default=True),
    Attr("status", shows={"type": "string"}),
    Attr("subnets", sort=False, column=RENDERED, shows={"type": "array"}),
    Attr("shared", BOOL, post=True, put=True, default=False, admin=True),
    Attr("router:external", BOOL, post=True, put=True, default=False, admin=True, column="external"),
    Attr("provider:network_type", {"type": "string", "maxLength": 16}, post=True, admin=True, admin_read=True,
         column="network_type"),
    Attr("provider:physical_network", {"type": ["string", "null"], "maxLength": 64}, post=True, admin=True,
         admin_read=True, column="physical_network"),
    Attr("provider:segmentation_id", {"type": ["integer", "null", "string"], "pattern": "^[0-9]+$"},
         post=True, admin=True, admin_read=True, column="segmentation_id"),
    Attr("mtu", {"type": "integer", "minimum": 68}, post=True, put=True),
    Attr("port_security_enabled", BOOL, post=True, put=True, default=True),
    Attr("availability_zone_hints", AZ_HINTS, post=True, sort=False, filter=False, default=list),
    Attr("availability_zones", sort=False, filter=False, column=RENDERED),
    Attr("ipv4_address_scope", sort=False, column=RENDERED),
    Attr("ipv6_address_scope", sort=False, column=RENDERED),
    Attr("dns_domain", {"type": "string", "maxLength": 255}, post=True, put=True, default=""),
    Attr("l2_adjacency", sort=False, filter=False, column=RENDERED),
])

POOLS = {"type": "array", "items": {"type": "object", "required": ["start", "end"], "additionalProperties": False,
                                    "properties": {"start": IP, "end": IP}}}
IPV6_MODES = ("slaac", "dhcpv6-stateful", "dhcpv6-stateless")
IPV6_MODE = {"enum": [*IPV6_MODES, None]}

SUBNETS = Table([
    *standard(),
    Attr("network_id", UUID, post=True, required=True),
    Attr("ip_version", IP_VERSION, post=True, required=True),
    Attr("cidr", {"type": ["string", "null"], "maxLength": 64}, post=True),
    Attr("prefixlen", {"type": ["integer", "string"]}, post=True, visible=False),
    Attr("subnetpool_id", UUID_OR_NULL, post=True),
    Attr("use_default_subnetpool", BOOL, post=True, visible=False),
    Attr("gateway_ip", {"type": ["string", "null"], "maxLength": 64}, post=True, put=True),
    Attr("allocation_pools", POOLS, post=True, put=True, sort=False),
    Attr("dns_nameservers", {"type": "array", "items": IP}, post=True, put=True, default=list, sort=False),
    Attr("host_routes", ROUTES, post=True, put=True, default=list, sort=False),
    Attr("enable_dhcp", BOOL, post=True, put=True, default=True),
    Attr("ipv6_ra_mode", IPV6_MODE, post=True),
    Attr("ipv6_address_mode", IPV6_MODE, post=True),
    Attr("service_types", {"type": "array", "items": {"type": "string", "maxLength": 255}}, post=True, put=True,
         default=list, sort=False),
    Attr("segment_id", UUID_OR_NULL, post=True),
    Attr("dns_publish_fixed_ip", BOOL, post=True, put=True, default=False),
])

MAC = {"type": "string", "pattern": "^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$"}
FIXED_IPS = {"type": "array", "items": {"type": "object", "additionalProperties": False,
                                        "properties": {"subnet_id": UUID, "ip_address": {"type": "string"}}}}
PAIRS = {"type": "array", "items": {"type": "object", "required": ["ip_address"], "additionalProperties": False,
                                    "properties": {"ip_address": {"type": "string"}, "mac_address": MAC}}}
DHCP_OPTS = {"type": "array", "items": {"type": "object", "required": ["opt_name"], "additionalProperties": False,
                                        "properties": {"opt_name": {"type": "string", "minLength": 1},
                                                       "opt_value": {"type": ["string", "null"]},
                                                       "ip_version": {"enum": [4, 6, "4", "6"]}}}}
VNIC_TYPES = ["normal", "direct", "macvtap", "baremetal", "direct-physical", "virtio-forwarder", "smart-nic",
              "vdpa", "remote-managed"]

PORTS = Table([
    *standard(),
    Attr("network_id", UUID, post=True, required=True),
    Attr("admin_state_up", BOOL, post=True, put=True, default=True),
    Attr("mac_address", MAC, post=True, put=True),
    Attr("fixed_ips", FIXED_IPS, post=True, put=True, sort=False, column=RENDERED),
    Attr("device_id", {"type": "string", "maxLength": 255}, post=True, put=True, default=""),
    Attr("device_owner", {"type": "string", "maxLength": 255}, post=True, put=True, default=""),
    Attr("status", shows={"type": "string"}),
    Attr("security_groups", {"type": "array", "items": UUID}, post=True, put=True, sort=False, column=RENDERED),
    Attr("allowed_address_pairs", PAIRS, post=True, put=True, sort=False, column=RENDERED),
    Attr("extra_dhcp_opts", DHCP_OPTS, post=True, put=True, sort=False, column=RENDERED),
    Attr("port_security_enabled", BOOL, post=True, put=True),
    Attr("binding:host_id", {"type": "string", "maxLength": 255}, post=True, put=True, admin=True,
         admin_read=True, column="host_id"),
    Attr("binding:vnic_type", {"enum": VNIC_TYPES}, post=True, put=True, default="normal", column="vnic_type"),
    Attr("binding:profile", {"type": ["object", "null"]}, post=True, put=True, admin=True, admin_read=True,
         sort=False, column="profile"),
    Attr("binding:vif_type", admin_read=True, column=RENDERED),
    Attr("binding:vif_details", admin_read=True, sort=False, column=RENDERED),
    Attr("dns_name", {"type": "string", "maxLength": 255}, post=True, put=True, default=""),
    Attr("dns_assignment", sort=False, filter=False, column=RENDERED),
    Attr("ip_allocation", sort=False, column=RENDERED),
])

SECURITY_GROUPS = Table([
    *standard(),
    Attr("security_group_rules", sort=False, column=RENDERED),
    Attr("stateful", BOOL, post=True, put=True, default=True),
    Attr("shared", sort=False),
])

PORT_OR_NULL = {"type": ["integer", "string", "null"]}

SECURITY_GROUP_RULES = Table([
    *standard(name=False),
    Attr("security_group_id", {"type": "string", "maxLength": 36}, post=True, required=True),
    Attr("direction", {"enum": ["ingress", "egress"]}, post=True, required=True),
    Attr("ethertype", {"enum": ["IPv4", "IPv6"]}, post=True, default="IPv4"),
    Attr("protocol", {"type": ["string", "integer", "null"]}, post=True),
    Attr("port_range_min", PORT_OR_NULL, post=True),
    Attr("port_range_max", PORT_OR_NULL, post=True),
    Attr("remote_ip_prefix", {"type": ["string", "null"]}, post=True),
    # Not checked as a UUID: Neutron answers an unknown group, however spelt, with 404.
    Attr("remote_group_id", {"type": ["string", "null"], "maxLength": 36}, post=True),
    Attr("remote_address_group_id", UUID_OR_NULL, post=True),
    Attr("normalized_cidr", sort=False, column=RENDERED),
    Attr("belongs_to_default_sg", sort=False, column=RENDERED),
])

PREFIXLEN = {"type": ["integer", "string"]}
PREFIX_LIST = {"type": "array", "items": {"type": "string", "maxLength": 64}}

SUBNETPOOLS = Table([
    *standard(),
    Attr("prefixes", PREFIX_LIST, post=True, put=True, required=True, sort=False, column=RENDERED),
    Attr("default_prefixlen", PREFIXLEN, post=True, put=True),
    Attr("min_prefixlen", PREFIXLEN, post=True, put=True),
    Attr("max_prefixlen", PREFIXLEN, post=True, put=True),
    Attr("default_quota", {"type": ["integer", "string", "null"]}, post=True, put=True),
    Attr("ip_version"),
    Attr("shared", BOOL, post=True, default=False, admin=True),
    Attr("is_default", BOOL, post=True, put=True, default=False, admin=True),
    Attr("address_scope_id", UUID_OR_NULL, post=True, put=True),
])

# Like Neutron's, address scopes and RBAC policies carry no standard attributes.
ADDRESS_SCOPES = Table([
    Attr("id", shows={"type": "string"}),
    Attr("name", NAME, post=True, put=True, default=""),
    Attr("project_id", PROJECT, post=True),
    Attr("tenant_id", PROJECT, post=True, column="project_id"),
    Attr("shared", BOOL, post=True, put=True, default=False, admin=True),
    Attr("ip_version", IP_VERSION, post=True, required=True),
])

# What each object type and action means is in ``service/rbac_policies.py``.
RBAC_OBJECT_TYPES = ["address_scope", "network", "security_group", "subnetpool"]
RBAC_ACTIONS = ["access_as_shared", "access_as_external"]

RBAC_POLICIES = Table([
    Attr("id", shows={"type": "string"}),
    Attr("project_id", PROJECT, post=True),
    Attr("tenant_id", PROJECT, post=True, column="project_id"),
    Attr("object_type", {"enum": RBAC_OBJECT_TYPES}, post=True, required=True),
    Attr("object_id", UUID, post=True, required=True),
    Attr("target_tenant", {"type": "string", "minLength": 1, "maxLength": 255}, post=True, put=True,
         required=True, column="target_project"),
    Attr("action", {"enum": RBAC_ACTIONS}, post=True, required=True),
])

GATEWAY_FIXED_IP = {"type": "object", "additionalProperties": False,
                    "properties": {"subnet_id": UUID, "ip_address": {"type": "string", "maxLength": 64}}}
GATEWAY_INFO = {"type": ["object", "null"], "additionalProperties": False,
                "properties": {"network_id": UUID, "enable_snat": BOOL,
                               "external_fixed_ips": {"type": "array", "items": GATEWAY_FIXED_IP}}}
ROUTES_OR_NULL = {"anyOf": [ROUTES, {"type": "null"}]}

ROUTERS = Table([
    *standard(),
    Attr("admin_state_up", BOOL, post=True, put=True, default=True),
    Attr("status", shows={"type": "string"}),
    Attr("external_gateway_info", GATEWAY_INFO, post=True, put=True, sort=False, filter=False, column=RENDERED),
    Attr("routes", ROUTES_OR_NULL, put=True, sort=False, filter=False),
    Attr("availability_zone_hints", AZ_HINTS, post=True, sort=False, filter=False, default=list),
    Attr("availability_zones", sort=False, filter=False, column=RENDERED),
])

# ``add_extraroutes`` and ``remove_extraroutes`` (extraroute-atomic).
ROUTES_BODY = {"type": "object", "required": ["router"], "properties": {
    "router": {"type": "object", "required": ["routes"], "additionalProperties": False,
               "properties": {"routes": ROUTES}}}}

FLOATINGIPS = Table([
    *standard(name=False),
    # The model has a name column (standard attributes) that Neutron's floating IPs do not show.
    Attr("name", visible=False, filter=False, sort=False),
    Attr("floating_network_id", UUID, post=True, required=True),
    # Admin-only to choose (the service says so), but everyone sees it: not an ``admin`` attribute.
    Attr("floating_ip_address", {"type": "string", "maxLength": 64}, post=True),
    Attr("subnet_id", UUID_OR_NULL, post=True, visible=False),
    Attr("port_id", UUID_OR_NULL, post=True, put=True),
    Attr("fixed_ip_address", IP_OR_NULL, post=True, put=True),
    Attr("router_id"),
    Attr("status", shows={"type": "string"}),
    Attr("dns_name", DNS_NAME, post=True, default=""),
    Attr("dns_domain", DNS_NAME, post=True, default=""),
    Attr("port_details", sort=False, filter=False, column=RENDERED),
])

PORT_NUMBER = {"type": "integer", "minimum": 1, "maximum": 65535}
FORWARDED_PROTOCOLS = ("tcp", "udp", "udplite", "sctp")

PORT_FORWARDINGS = Table([
    Attr("id", shows={"type": "string"}),
    Attr("internal_port_id", UUID, post=True, put=True, required=True),
    Attr("internal_ip_address", {"type": "string", "maxLength": 64}, post=True, put=True, required=True),
    Attr("internal_port", PORT_NUMBER, post=True, put=True, required=True),
    Attr("external_port", PORT_NUMBER, post=True, put=True, required=True),
    Attr("protocol", {"enum": list(FORWARDED_PROTOCOLS)}, post=True, put=True, required=True),
    Attr("description", DESCRIPTION, post=True, put=True, default=""),
])

# ``/v2.0/ports/{port_id}/bindings`` (binding-extended): a port's binding to one host.
PORT_BINDINGS = Table([
    Attr("host", {"type": "string", "minLength": 1, "maxLength": 255}, post=True, required=True),
    Attr("vnic_type", {"enum": VNIC_TYPES}, post=True, put=True, default="normal"),
    Attr("profile", {"type": ["object", "null"]}, post=True, put=True, filter=False),
    Attr("vif_type"),
    Attr("vif_details", filter=False),
    Attr("status", {"enum": ["ACTIVE", "INACTIVE"]}),
    Attr("project_id"),
])

# ``PUT .../tags`` (standard-attr-tag).
TAGS_BODY = {"type": "object", "required": ["tags"], "properties": {"tags": TAGS}}
