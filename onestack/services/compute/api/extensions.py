"""/extensions: the v2 extension list Nova 2.1 still answers (frozen since microversions replaced
extensions; clients such as Tempest and older SDKs read it to find features)."""

from __future__ import annotations

from onestack.http.errors import NotFound
from onestack.http.routing import Call, route
from onestack.services.compute.policies import authorize

# alias -> name, as Nova lists them; every v2.1 entry carries the same namespace and date.
ALIASES = {
    "NMN": "Multinic", "OS-DCF": "DiskConfig", "OS-EXT-AZ": "ExtendedAvailabilityZone",
    "OS-EXT-IMG-SIZE": "ImageSize", "OS-EXT-IPS": "ExtendedIps", "OS-EXT-IPS-MAC": "ExtendedIpsMac",
    "OS-EXT-SRV-ATTR": "ExtendedServerAttributes", "OS-EXT-STS": "ExtendedStatus",
    "OS-FLV-DISABLED": "FlavorDisabled", "OS-FLV-EXT-DATA": "FlavorExtraData", "OS-SCH-HNT": "SchedulerHints",
    "OS-SRV-USG": "ServerUsage", "os-access-ips": "AccessIPs", "os-admin-actions": "AdminActions",
    "os-admin-password": "AdminPassword", "os-aggregates": "Aggregates",
    "os-assisted-volume-snapshots": "AssistedVolumeSnapshots", "os-attach-interfaces": "AttachInterfaces",
    "os-availability-zone": "AvailabilityZone", "os-block-device-mapping": "BlockDeviceMapping",
    "os-config-drive": "ConfigDrive", "os-console-auth-tokens": "ConsoleAuthTokens",
    "os-console-output": "ConsoleOutput", "os-consoles": "Consoles", "os-create-backup": "CreateBackup",
    "os-deferred-delete": "DeferredDelete", "os-evacuate": "Evacuate", "os-extended-quotas": "ExtendedQuotas",
    "os-extended-services": "ExtendedServices", "os-extended-volumes": "ExtendedVolumes",
    "os-flavor-access": "FlavorAccess", "os-flavor-extra-specs": "FlavorExtraSpecs",
    "os-flavor-manage": "FlavorManage", "os-flavor-rxtx": "FlavorRxtx", "os-flavor-swap": "FlavorSwap",
    "os-hide-server-addresses": "HideServerAddresses", "os-hosts": "Hosts",
    "os-hypervisor-status": "HypervisorStatus", "os-hypervisors": "Hypervisors",
    "os-instance-actions": "InstanceActions", "os-instance_usage_audit_log": "OSInstanceUsageAuditLog",
    "os-keypairs": "Keypairs", "os-lock-server": "LockServer", "os-migrate-server": "MigrateServer",
    "os-migrations": "Migrations", "os-multiple-create": "MultipleCreate", "os-pause-server": "PauseServer",
    "os-personality": "Personality", "os-quota-class-sets": "QuotaClasses", "os-quota-sets": "Quotas",
    "os-rescue": "Rescue", "os-security-groups": "SecurityGroups", "os-server-diagnostics": "ServerDiagnostics",
    "os-server-external-events": "ServerExternalEvents", "os-server-group-quotas": "ServerGroupQuotas",
    "os-server-groups": "ServerGroups", "os-server-list-multi-status": "ServerListMultiStatus",
    "os-server-password": "ServerPassword", "os-server-sort-keys": "ServerSortKeys",
    "os-server-start-stop": "ServerStartStop", "os-services": "Services", "os-shelve": "Shelve",
    "os-simple-tenant-usage": "SimpleTenantUsage", "os-suspend-server": "SuspendServer",
    "os-used-limits": "UsedLimits", "os-user-data": "UserData", "os-user-quotas": "UserQuotas",
    "os-virtual-interfaces": "VirtualInterfaces", "os-volumes": "Volumes",
}


def _extension(alias: str) -> dict:
    return {"alias": alias, "name": ALIASES[alias], "description": f"{ALIASES[alias]} support.",
            "namespace": "http://docs.openstack.org/compute/ext/fake_xml", "updated": "2014-12-03T00:00:00Z",
            "links": []}


def list_extensions(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:extensions")
    return {"extensions": [_extension(alias) for alias in sorted(ALIASES)]}


def show_extension(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:extensions")
    alias = call.path["alias"]
    if alias not in ALIASES:
        raise NotFound(f"Extension {alias} could not be found.")
    return {"extension": _extension(alias)}


ROUTES = [route("/v2.1/extensions", "GET", list_extensions),
          route("/v2.1/extensions/{alias}", "GET", show_extension)]
