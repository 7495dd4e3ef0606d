"""The extensions this network service really implements; ``/v2.0/extensions`` lists exactly these,
and clients (and Tempest) decide from it what to send."""

from __future__ import annotations

from onestack.services.network import views

UPDATED = "2024-01-01T00:00:00-00:00"

# alias -> (name, description)
EXTENSIONS: dict[str, tuple[str, str]] = {
    "network_availability_zone": ("Network Availability Zone", "Availability zone support for network."),
    "availability_zone": ("Availability Zone", "The availability zone extension."),
    "binding": ("Port Binding", "Expose port bindings of a virtual port to external application"),
    "binding-extended": ("Port Bindings Extended", "Expose port bindings of a virtual port to external "
                                                   "application"),
    "default-subnetpools": ("Default Subnetpools", "Provides ability to mark and use a subnetpool as the default."),
    "dns-integration": ("DNS Integration", "Provides integration with DNS."),
    "empty-string-filtering": ("Empty String Filtering Extension", "Allow filtering by attributes with empty "
                                                                   "string value"),
    "external-net": ("Neutron external network", "Adds external network attribute to network resource."),
    "extraroute": ("Neutron Extra Route", "Extra routes configuration for L3 router"),
    "extraroute-atomic": ("Atomically add/remove extra routes", "Edit extra routes of a router on server side by "
                                                                "atomically adding/removing extra routes"),
    "ext-gw-mode": ("Neutron L3 Configurable external gateway mode", "Extension of the router abstraction for "
                                                                    "specifying whether SNAT should occur on the "
                                                                    "external gateway"),
    "fip-port-details": ("Floating IP Port Details Extension", "Add port_details attribute to Floating IP "
                                                               "resource"),
    "floating-ip-port-forwarding": ("Floating IP Port Forwarding", "Allow to forward a floating IP's port to an "
                                                                   "internal port."),
    "floatingip-pools": ("Floating IP Pools Extension", "Provides a floating IP pools API."),
    "extra_dhcp_opt": ("Neutron Extra DHCP options", "Extra options configuration for DHCP."),
    "address-scope": ("Address scope", "Address scopes extension."),
    "allowed-address-pairs": ("Allowed Address Pairs", "Provides allowed address pairs"),
    "fields-query": ("Query resources with fields", "Restrict the returned fields of a list or show."),
    "filter-validation": ("Filter parameters validation", "Provides validation on filter parameters."),
    "ip-substring-filtering": ("IP address substring filtering", "Provides IP address substring filtering "
                                                                 "when listing ports"),
    "net-mtu": ("Network MTU", "Provides MTU attribute for a network resource."),
    "net-mtu-writable": ("Network MTU (writable)", "Provides a writable MTU attribute for a network resource."),
    "port-security": ("Port Security", "Provides port security"),
    "project-id": ("project_id field enabled", "Extension that indicates that project_id field is enabled."),
    "provider": ("Provider Network", "Expose mapping of virtual networks to physical networks"),
    "quotas": ("Quota management support", "Expose functions for quotas management per project"),
    "quota_details": ("Quota details management support", "Expose functions for quotas usage statistics per "
                                                           "project"),
    "rbac-policies": ("RBAC Policies", "Allows creation and modification of policies that control tenant "
                                       "access to resources."),
    "rbac-address-scope": ("Add address_scope type to RBAC", "Add address_scope type to RBAC"),
    "rbac-security-groups": ("Add security_group type to network RBAC", "Add security_group type to network "
                                                                         "RBAC"),
    "rbac-subnetpool": ("Add subnetpool type to RBAC", "Add subnetpool type to RBAC"),
    "router": ("Neutron L3 Router", "Router abstraction for basic L3 forwarding between L2 Neutron networks and "
                                    "access to external networks via a NAT gateway."),
    "router_availability_zone": ("Router Availability Zone", "Availability zone support for router."),
    "revision-if-match": ("If-Match constraints based on revision_number", "Extension indicating that If-Match "
                                                                          "based on revision_number is supported."),
    "security-group": ("security-group", "The security groups extension."),
    "security-groups-remote-address-group": ("Remote address group id field for security group rules",
                                             "Add new field of remote address group id in SG rules"),
    "sorting": ("Sorting support", "Extension that indicates that sorting is enabled."),
    "pagination": ("Pagination support", "Extension that indicates that pagination is enabled."),
    "standard-attr-description": ("standard-attr-description", "Extension to add descriptions to standard "
                                                               "attributes"),
    "standard-attr-revisions": ("Resource revision numbers", "This extension will display the revision number "
                                                             "of neutron resources."),
    "standard-attr-tag": ("Tag support for resources with standard attribute", "Enables to set tag on "
                                                                               "resources with standard attribute."),
    "standard-attr-timestamp": ("Resource timestamps", "Adds created_at and updated_at fields to all Neutron "
                                                       "resources that have Neutron standard attributes."),
    "stateful-security-group": ("Stateful security group", "Indicates if the security group is stateful or not"),
    "subnet-external-network": ("Subnet External Network", "Subnets of external networks are visible to the "
                                                           "projects that may use those networks."),
    "tag": ("Tag support", "Enables to set tag on networks (the standard-attr-tag routes)."),
    "subnet_allocation": ("Subnet Allocation", "Enables allocation of subnets from a subnet pool"),
    "subnet-service-types": ("Subnet service types", "Provides ability to set the subnet service_types field"),
    "tag-creation": ("Tag support for resources during creation", "Allows to set tags on resources when "
                                                                   "they are created."),
}


def view(alias: str) -> dict:
    name, description = EXTENSIONS[alias]
    return views.extension(alias, name, description, UPDATED)
