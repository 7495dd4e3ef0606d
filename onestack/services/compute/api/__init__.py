"""The compute service's routes (Nova v2.1 with microversions)."""

from onestack.http.errors import nova_fault
from onestack.http.routing import Service
from onestack.services.compute import schemas
from onestack.services.compute.api import (
    actions,
    aggregates,
    availability_zones,
    consoles,
    discovery,
    extensions,
    flavors,
    floating_ips,
    hypervisors,
    images,
    interfaces,
    keypairs,
    limits,
    migrations,
    networks,
    os_hosts,
    quotas,
    security_groups,
    server_admin,
    server_details,
    server_groups,
    server_password,
    server_tags,
    servers,
    services,
    usage,
    volume_attachments,
    volumes,
)
from onestack.services.compute.versions import MICROVERSIONS


def service() -> Service:
    routes = [*discovery.ROUTES, *servers.ROUTES, *actions.ROUTES, *server_details.ROUTES, *server_tags.ROUTES,
              *interfaces.ROUTES, *volume_attachments.ROUTES,
              *server_groups.ROUTES,
              *availability_zones.ROUTES, *services.ROUTES, *hypervisors.ROUTES, *flavors.ROUTES, *keypairs.ROUTES, *quotas.ROUTES,
              *limits.ROUTES,
              # Nova's proxy APIs (images, volumes and snapshots, security groups, floating IPs, networks)
              *images.ROUTES, *volumes.ROUTES, *security_groups.ROUTES, *floating_ips.ROUTES, *networks.ROUTES]
    # The admin APIs: aggregates, os-hosts, usage, migrations, diagnostics and events, extensions.
    routes += [*aggregates.ROUTES, *os_hosts.ROUTES, *usage.ROUTES, *migrations.ROUTES, *server_admin.ROUTES,
               *extensions.ROUTES, *consoles.ROUTES, *server_password.ROUTES]
    return Service("compute", "/compute", nova_fault, routes, microversions=MICROVERSIONS, validate=schemas.check,
                   version_choices=discovery.CHOICES)
