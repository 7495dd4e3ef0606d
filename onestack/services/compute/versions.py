"""The compute API's microversions: the range onestack serves and what changed in each.

Like Nova's ``rest_api_version_history.rst``, every version onestack serves is listed with the
behaviour it brings; a version is only added here when that behaviour is built (Tempest runs every
test up to the maximum).  Views, schemas and routes ask ``http.microversion.at_least(version, "2.x")``.
"""

from __future__ import annotations

from onestack.http.errors import NotFound
from onestack.http.microversion import Microversions, Version

HISTORY: dict[str, str] = {
    "2.1": "The v2.1 API: servers, flavors, keypairs, limits, quotas, availability zones, services.",
    "2.2": "Keypairs have a type (ssh or x509); create answers 201 and delete 204.",
    "2.3": "Admins see more extended server attributes: reservation_id, launch_index, hostname, kernel_id, "
           "ramdisk_id, root_device_name, user_data.",
    "2.7": "Adding a project's access to a public flavor is a 409.",
    "2.9": "Servers show locked.",
    "2.10": "Admins manage other users' keypairs (user_id in the create body and the query).",
    "2.11": "Services show forced_down; PUT /os-services/force-down.",
    "2.16": "Admins see a server's host_status (UP, DOWN, MAINTENANCE or empty).",
    "2.19": "Servers have a description (create, update, rebuild, shown).",
    "2.23": "Migrations show migration_type, and links while a live migration runs.",
    "2.26": "Servers have tags (/servers/{id}/tags, list filters tags, tags-any, not-tags, not-tags-any).",
    "2.28": "Hypervisors' cpu_info is an object.",
    "2.32": "A requested network may carry a device tag.",
    "2.33": "Requested networks lose their device tag again.",
    "2.35": "Keypair lists page with limit and marker (keypairs_links).",
    "2.36": "Quota sets and limits drop the network proxies (fixed_ips, floating_ips, security_groups, "
            "security_group_rules).",
    "2.37": "Create requires networks: a list, 'auto' or 'none'.",
    "2.39": "Limits drop maxImageMeta.",
    "2.40": "Simple tenant usage pages the servers it counts with limit and marker (tenant_usage(s)_links).",
    "2.41": "Aggregates show their uuid.",
    "2.42": "Requested networks carry device tags again.",
    "2.43": "os-hosts is gone (404).",
    "2.47": "A server embeds the flavor it was built with (original_name, vcpus, ram, disk, ephemeral, swap, "
            "extra_specs).",
    "2.48": "Server diagnostics in the standard, driver-independent format.",
    "2.50": "Quota class sets show server_groups and server_group_members and drop the network proxies.",
    "2.52": "Servers may be tagged at create.",
    "2.53": "Services and hypervisors are named by uuid; PUT /os-services/{id}; hypervisors take "
            "hypervisor_hostname_pattern and with_servers, /search and /servers are gone.",
    "2.54": "Rebuild may replace or unset the key pair; its reply shows key_name.",
    "2.55": "Flavors have a description (create, update with PUT, shown in lists).",
    "2.57": "Rebuild may replace or unset user_data and shows it; personality (injected files) is gone.",
    "2.59": "Migrations show their uuid, page with limit and marker and filter by changes-since.",
    "2.61": "Flavor bodies carry their extra_specs.",
    "2.63": "Servers carry trusted_image_certificates (create, rebuild, shown).",
    "2.66": "Migrations filter by changes-before.",
    "2.69": "Servers in unreachable cells would be partial: onestack has one cell, so every server answers whole.",
    "2.71": "Show, update and rebuild list the server's server_groups.",
    "2.73": "Lock takes a locked_reason, which servers show.",
    "2.74": "Admins may name the host or hypervisor_hostname a server boots on.",
    "2.75": "Update and rebuild answer the whole server; unknown server list query parameters are a 400.",
    "2.77": "Unshelving an offloaded server may name an availability zone.",
    "2.80": "Migrations show user_id and project_id and filter by them.",
    "2.88": "Hypervisors drop their resource fields and show uptime; /statistics and /uptime are gone.",
    "2.90": "A server's hostname is set at create, update and rebuild, and shown to every user.",
    "2.91": "Admins may unshelve an offloaded server to a host; a null availability zone unpins it.",
    "2.92": "Keypairs are imported only (public_key required, no private_key); names may hold '@' and '.'.",
    "2.93": "A volume-backed server is rebuilt with a new image: its root volume is re-imaged (Block Storage's "
            "os-reimage, 3.68) and the guest starts on the new content.",
    "2.94": "A hostname may be fully qualified.",
    "2.96": "Servers show pinned_availability_zone, the zone the create asked for.",
}

MICROVERSIONS = Microversions("compute", Version(2, 1), Version.parse(max(HISTORY, key=Version.parse)),
                              legacy_headers=("x-openstack-nova-api-version",))


# Nova's proxy APIs (images, security groups, floating IPs, networks) went at 2.36, image metadata at 2.39
# and the floating IP server actions at 2.44: the last microversion that serves each.
PROXY_LAST = "2.35"
IMAGE_METADATA_LAST = "2.38"
FLOATING_IP_ACTIONS_LAST = "2.43"


def served_until(version: Version | None, last: str) -> None:
    """404 for a request past the last microversion that served the API (Nova's answer, not a 410)."""
    if version is not None and version > Version.parse(last):
        raise NotFound("The resource could not be found.")
