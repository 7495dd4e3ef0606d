"""The compute API's microversions: the range onestack serves and what changed in each.

Like Nova's ``rest_api_version_history.rst``, every version onestack serves is listed with the
behaviour it brings; a version is only added here when that behaviour is built (Tempest runs every
test up to the maximum).  Views and schemas ask ``at_least(call, "2.x")``.
"""

from __future__ import annotations

from onestack.http.microversion import Microversions, Version

HISTORY: dict[str, str] = {
    "2.1": "The v2.1 API: servers, flavors, keypairs, limits, quotas, availability zones, services.",
    "2.2": "Keypairs have a type (ssh or x509); create answers 201 and delete 204.",
    "2.7": "Adding a project's access to a public flavor is a 409.",
    "2.10": "Admins manage other users' keypairs (user_id in the create body and the query).",
    "2.11": "Services show forced_down; PUT /os-services/force-down.",
    "2.23": "Migrations show migration_type, and links while a live migration runs.",
    "2.28": "Hypervisors' cpu_info is an object.",
    "2.35": "Keypair lists page with limit and marker (keypairs_links).",
    "2.36": "Quota sets and limits drop the network proxies (fixed_ips, floating_ips, security_groups, "
            "security_group_rules).",
    "2.39": "Limits drop maxImageMeta.",
    "2.40": "Simple tenant usage pages the servers it counts with limit and marker (tenant_usage(s)_links).",
    "2.41": "Aggregates show their uuid.",
    "2.43": "os-hosts is gone (404).",
    "2.48": "Server diagnostics in the standard, driver-independent format.",
    "2.50": "Quota class sets show server_groups and server_group_members and drop the network proxies.",
    "2.53": "Services and hypervisors are named by uuid; PUT /os-services/{id}; hypervisors take "
            "hypervisor_hostname_pattern and with_servers, /search and /servers are gone.",
    "2.55": "Flavors have a description (create, update with PUT, shown in lists).",
    "2.59": "Migrations show their uuid, page with limit and marker and filter by changes-since.",
    "2.61": "Flavor bodies carry their extra_specs.",
    "2.66": "Migrations filter by changes-before.",
    "2.80": "Migrations show user_id and project_id and filter by them.",
    "2.88": "Hypervisors drop their resource fields and show uptime; /statistics and /uptime are gone.",
    "2.92": "Keypairs are imported only (public_key required, no private_key); names may hold '@' and '.'.",
}

MICROVERSIONS = Microversions("compute", Version(2, 1), Version.parse(max(HISTORY, key=Version.parse)),
                              legacy_headers=("x-openstack-nova-api-version",))


def at_least(version: Version | None, text: str) -> bool:
    return version is not None and version >= Version.parse(text)
