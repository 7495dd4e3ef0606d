"""Settings of one cloud, read from ``DATA_DIR/onestack.yaml``.

The file is written at first start with the defaults below, so an operator
can see every knob and change it; unknown keys are refused so a typo does
not silently leave a default in force.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import yaml

CONFIG_FILE = "onestack.yaml"


def default_data_dir() -> Path:
    if os.geteuid() == 0:
        return Path("/var/lib/onestack")
    return Path.home() / ".local/share/onestack"


@dataclasses.dataclass
class SecurityCompliance:
    """Keystone's ``[security_compliance]`` options, same names and meaning."""

    lockout_failure_attempts: int = 0
    lockout_duration: int = 1800
    unique_last_password_count: int = 0
    minimum_password_age: int = 0
    password_expires_days: int = 0
    change_password_upon_first_use: bool = False
    password_regex: str | None = None
    password_regex_description: str | None = None
    disable_user_account_days_inactive: int = 0


@dataclasses.dataclass
class NetworkSettings:
    """ML2-style knobs: which physical networks exist and which segments tenants get."""

    base_mac: str = "fa:16:3e:00:00:00"
    # physical network -> host bridge or interface it is bridged to (Neutron's bridge_mappings)
    physical_networks: dict = dataclasses.field(default_factory=lambda: {"public": "br-ex", "physnet1": ""})
    # VLAN ids tenants may be given per physical network; provider networks may use any of 1-4094
    vlan_ranges: dict = dataclasses.field(default_factory=lambda: {"physnet1": [1000, 1999]})
    vni_ranges: list = dataclasses.field(default_factory=lambda: [[1, 65535]])
    tenant_network_type: str = "vxlan"
    global_physnet_mtu: int = 1500
    dns_domain: str = "openstacklocal"
    max_dns_nameservers: int = 5
    max_subnet_host_routes: int = 20
    max_allowed_address_pair: int = 10
    # extra routes per router (Neutron's max_routes)
    max_routes: int = 30
    # The kernel data plane (bridges, namespaces, dnsmasq, router NAT): true, false, or "auto" (on when
    # running as root with iproute2, dnsmasq, haproxy and nftables installed).
    dataplane: bool | str = "auto"
    # This host's VXLAN tunnel address ("": the kernel picks the source) and the VXLAN UDP port.
    tunnel_ip: str = ""
    vxlan_port: int = 4789
    # Guests reach 169.254.169.254 through their network's DHCP namespace (Neutron's isolated metadata),
    # where a proxy passes their requests to the metadata server's Unix socket ("": DATA_DIR/metadata.sock).
    isolated_metadata: bool = True
    metadata_socket: str = ""
    # Addresses the data plane puts on host bridges it uses (DevStack's br-ex holds the public gateway).
    bridge_addresses: dict = dataclasses.field(default_factory=lambda: {"br-ex": ["172.24.4.1/24"]})
    # At first start, DevStack's networks: public (external, physnet public), private, router1.
    defaults: bool = True
    # Neutron's [quotas] defaults; -1 means unlimited
    quotas: dict = dataclasses.field(default_factory=lambda: {
        "network": 100, "subnet": 100, "port": 500, "router": 10, "floatingip": 50, "security_group": 10,
        "security_group_rule": 100, "subnetpool": -1, "rbac_policy": 10})


@dataclasses.dataclass
class ImageImport:
    """Interoperable image import: Glance's ``enabled_import_methods`` and ``[import_filtering_opts]``.

    A ``web-download`` URI must pass every filter: an allowed list, when not empty, is the only thing
    allowed; otherwise the disallowed list is refused.  Whatever the lists say, an address the name
    resolves to that is loopback, link-local (the metadata service), unspecified, multicast or reserved
    is refused unless it lies in ``allowed_networks`` (CIDRs), so the cloud cannot be turned on itself.
    """

    enabled_methods: list[str] = dataclasses.field(default_factory=lambda: ["glance-direct", "web-download"])
    allowed_schemes: list[str] = dataclasses.field(default_factory=lambda: ["http", "https"])
    disallowed_schemes: list[str] = dataclasses.field(default_factory=list)
    allowed_hosts: list[str] = dataclasses.field(default_factory=list)
    disallowed_hosts: list[str] = dataclasses.field(default_factory=list)
    allowed_ports: list[int] = dataclasses.field(default_factory=lambda: [80, 443])
    disallowed_ports: list[int] = dataclasses.field(default_factory=list)
    allowed_networks: list[str] = dataclasses.field(default_factory=list)
    download_timeout: int = 60
    # Glance's image_import_plugins: ``image_conversion`` converts an imported image's data to
    # ``conversion_format`` (Glance's [image_conversion] output_format) before it is stored, e.g. qcow2 to the
    # raw that RBD clones need; uploads with PUT .../file are stored as they are (as in Glance).
    plugins: list[str] = dataclasses.field(default_factory=list)
    conversion_format: str = "raw"


@dataclasses.dataclass
class ImageSwiftStore:
    """Glance's ``swift`` store: image data kept as objects of this cloud's Object Storage, in the account of
    the image service's own user (``glance``, in the ``service`` project), as Glance's single-tenant swift
    store keeps them (``swift_store_container``; images over ``large_object_size`` MiB go in segments of
    ``large_object_chunk_size`` MiB, Glance's ``swift_store_large_object_size`` and ``_chunk_size``).
    Off by default: the ``file`` store is then the only one."""

    enabled: bool = False
    container: str = "glance"
    large_object_size: int = 5120
    large_object_chunk_size: int = 200


@dataclasses.dataclass
class OrchestrationSettings:
    """Heat's fetching of templates named by URL (``template_url``, provider templates in a
    ``resource_registry``): http and https only, at most ``max_template_size`` bytes (Heat's option of that
    name) within ``fetch_timeout`` seconds.  The filters are those of ``ImageImport``: loopback,
    link-local (the metadata service), unspecified, multicast and reserved addresses are refused unless
    they lie in ``allowed_networks``; the cloud's own object store (a public container or a TempURL of
    this cloud) is always reachable.
    """

    max_template_size: int = 524288
    fetch_timeout: int = 30
    allowed_schemes: list[str] = dataclasses.field(default_factory=lambda: ["http", "https"])
    disallowed_schemes: list[str] = dataclasses.field(default_factory=list)
    allowed_hosts: list[str] = dataclasses.field(default_factory=list)
    disallowed_hosts: list[str] = dataclasses.field(default_factory=list)
    allowed_ports: list[int] = dataclasses.field(default_factory=list)
    disallowed_ports: list[int] = dataclasses.field(default_factory=list)
    allowed_networks: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class ComputeSettings:
    """Which driver runs guests and how many hosts this process runs."""

    # "auto": the real driver where it can run, else the fake one (``up`` says which and why)
    driver: str = "auto"
    fake_hosts: int = 1
    # Container instances (images whose container_format is docker or oci) beside VMs: true, false, or
    # "auto" (under runc where it is installed and the process is root; always on fake hosts).  Hosts that
    # run them report the placement trait CUSTOM_COMPUTE_CONTAINER.
    containers: bool | str = "auto"
    # How many of the fake hosts (the first ones) run containers; null: every one (scheduling tests).
    fake_container_hosts: int | None = None
    host: str = ""  # this host's name; empty: the machine's hostname
    engine_workers: int = 4
    # Nova's allow_resize_to_same_host (on, as DevStack sets it): a resize may stay on its host, which the
    # scheduler then prefers.  A cold migration always leaves it.
    allow_resize_to_same_host: bool = True
    # The cloud's live-migration policy: pre-copy allowing this downtime first, raised by the step on each
    # pass up to the maximum; after ``switch_after`` passes, post-copy where both hosts' kernels offer
    # userfaultfd, else auto-converge.  Never compression.
    live_migration_downtime_ms: int = 100
    live_migration_downtime_step_ms: int = 100
    live_migration_max_downtime_ms: int = 500
    live_migration_switch_after: int = 5
    # Nova's [libvirt] live_migration_bandwidth: the most a pre-copy may send, in MiB/s, so that moves leave
    # room on a link they share with guests' traffic; 0: no cap.  Post-copy pulls pages uncapped (the guest
    # waits on each), and a force-complete that pauses the guest lifts it (every second is downtime then).
    live_migration_bandwidth: int = 0
    cpu_allocation_ratio: float = 4.0
    ram_allocation_ratio: float = 1.0
    disk_allocation_ratio: float = 1.0
    reserved_host_memory_mb: int = 512
    # what each fake host offers
    fake_vcpus: int = 64
    fake_memory_mb: int = 262144
    fake_disk_gb: int = 10240
    # The external network os-floating-ips allocates from when no pool is named and there is more than
    # one (Nova's [neutron] default_floating_pool, as DevStack sets it).
    default_floating_pool: str = "public"
    # Where this process takes other processes' calls for its hosts' guests (console output, consoles,
    # interfaces): ``HOST:PORT``, which ``onestack compute join`` sets to its tunnel address; empty: a Unix
    # socket in the data dir, for this machine's other processes (API workers).
    link_bind: str = ""
    # Nova's [libvirt] images_type: "default" (a qcow2 overlay file per guest) or "rbd" (the root disk of a
    # guest whose image the image service keeps in Ceph is a clone of it in the ceph section's vms pool).
    images_type: str = "default"


@dataclasses.dataclass
class MetadataSettings:
    """The metadata service guests reach at 169.254.169.254 through the network's metadata proxy.

    It always answers on ``DATA_DIR/metadata.sock``, where the proxy says which address on which
    network (or router) is asking (``X-Forwarded-For`` with ``X-Neutron-Network-ID`` or
    ``X-Neutron-Router-ID``).  ``bind`` (e.g. ``127.0.0.1:8775``, Nova's port) also serves it over
    TCP, where only Nova's signed requests are taken: ``X-Instance-ID``, ``X-Tenant-ID`` and
    ``X-Instance-ID-Signature``, the HMAC-SHA256 of the instance id with ``proxy_shared_secret``
    (Nova's ``metadata_proxy_shared_secret``; empty: signed requests are refused).
    """

    bind: str = ""
    proxy_shared_secret: str = ""


@dataclasses.dataclass
class ConsoleSettings:
    """Remote consoles (``remote-consoles``): how long a console URL's token lasts, as Nova's
    ``[consoleauth] token_ttl``, and the host names a browser page may open a console from besides the
    one it asked (Nova's ``[console] allowed_origins``)."""

    token_ttl: int = 600
    allowed_origins: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class DashboardSettings:
    """The web dashboard at ``/dashboard``, a client of the public APIs like any other."""

    enabled: bool = True
    # The Keystone it signs people into; "": this cloud, reached over loopback.  Any OpenStack cloud's
    # auth URL works: the dashboard finds every other service in the signed-in user's catalog.
    auth_url: str = ""
    # Where sessions are kept (they hold Keystone tokens, so the directory is private); "": DATA_DIR/dashboard
    session_dir: str = ""


@dataclasses.dataclass
class VolumeSettings:
    """Block Storage: where backups go (Cinder's ``backup_driver``): ``posix``, files under
    ``DATA_DIR/backups``, or ``swift``, the Object Storage API with the caller's token; and the container
    a backup goes to when the request names none (``backup_swift_container``)."""

    backup_driver: str = "posix"
    backup_container: str = "volumebackups"
    # The backend of a volume whose type names none in its ``volume_backend_name`` extra spec: ``file``
    # (qcow2 files under DATA_DIR/volumes) or the Ceph backend's name (``ceph.volume_backend_name``).
    default_backend: str = "file"
    # More file backends beside ``file`` (Cinder's multi-backend: several volume services on one host), by
    # name: the directory holding that backend's volume files ("": DATA_DIR/volumes-<name>).  A type's
    # ``volume_backend_name`` chooses one; a migration or an on-demand retype moves a volume between them.
    file_backends: dict = dataclasses.field(default_factory=dict)
    # Where the master key that wraps encrypted volumes' keys is kept ("": DATA_DIR/volume-keys).  A host
    # joined with ``onestack compute join`` starts guests with encrypted volumes only with that key, so give
    # it the controller's directory (shared, readable by root only), as ``image_dir`` is shared.
    key_dir: str = ""
    # Cinder's capacity filter on the file backend: how far the volumes' sizes may exceed the file system
    # (thin files) and the share of it kept free
    max_over_subscription_ratio: float = 20.0
    reserved_percentage: int = 0


@dataclasses.dataclass
class CephSettings:
    """A Ceph cluster onestack keeps bytes in (none while ``conf`` is empty): its ``ceph.conf``, the client
    onestack is (``onestack`` for ``client.onestack``) and that client's keyring ("": the one ceph.conf
    names), the pools per use, and the name a volume type's ``volume_backend_name`` gives the RBD volume
    backend.  Every call to the cluster gives up after ``timeout`` seconds.  ``onestack down --purge``
    leaves the cluster's data alone; ``--purge-ceph`` empties these pools too."""

    conf: str = ""
    client: str = "onestack"
    keyring: str = ""
    timeout: int = 60
    pools: dict = dataclasses.field(default_factory=lambda: {"volumes": "volumes", "images": "images",
                                                             "vms": "vms", "objects": "objects"})
    volume_backend_name: str = "ceph"
    # Raw images are also kept in the images pool (Glance's RBD store layout, <pool>/<id>@snap), so RBD
    # volumes from them are clones of it and nothing is copied.
    image_store: bool = True
    # Raw images only in the images pool (Glance with ``rbd`` as its store): once an image's RBD copy is made,
    # its file under the image store goes, downloads and copies read the cluster, and only a host that builds
    # a guest from a file fetches one (a cache, gone at the next start).  Images the cluster cannot keep (not
    # raw, or its copy failed) stay files.
    image_store_only: bool = False
    # The object service's bytes (Swift and S3) as RADOS objects in the objects pool, striped 4 MiB a RADOS
    # object, instead of files under DATA_DIR/objects.  Off by default: objects already in files are not
    # moved, so switching hides them.
    object_store: bool = False


@dataclasses.dataclass
class TLSSettings:
    """HTTPS on the API port (``onestack up --tls``).  Without ``cert_file`` the cloud makes its own CA and a
    server certificate under ``DATA_DIR/tls`` (see ``onestack.tls``), valid for the bind address, 127.0.0.1,
    ::1, localhost, the host's names, the public URL's host and ``names``.  ``cert_file`` and ``key_file``
    (PEM; the certificate file may hold the chain) serve an operator's own certificate instead, and
    ``ca_file`` is then the CA the written ``clouds.yaml`` and ``openrc`` files point clients at ("": the
    system's CAs verify it)."""

    enabled: bool = False
    cert_file: str = ""
    key_file: str = ""
    ca_file: str = ""
    names: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Settings:
    data_dir: Path
    bind: str = "127.0.0.1:8080"
    database: str = ""
    # Where image data lives (Glance's filesystem_store_datadir; "": DATA_DIR/images).  Hosts joined with
    # ``onestack compute join`` read guests' images from it, so it is a directory the hosts share (NFS).
    image_dir: str = ""
    public_url: str = ""
    region: str = "RegionOne"
    bcrypt_rounds: int = 12
    token_expiration: int = 3600
    allow_expired_window: int = 172800
    max_request_body_size: int = 114688
    log_level: str = "info"
    # Host names whose requests are S3's (as Ceph RGW's rgw_dns_name): ``<bucket>.<name>`` is a virtual-hosted
    # bucket, ``<name>`` itself path-style; the whole path is then S3's (no ``/s3`` prefix).
    s3_domains: list[str] = dataclasses.field(default_factory=list)
    # Serving processes; more than one lets a busy cloud use more cores (writes still queue on SQLite).
    workers: int = 1
    security_compliance: SecurityCompliance = dataclasses.field(default_factory=SecurityCompliance)
    network: NetworkSettings = dataclasses.field(default_factory=NetworkSettings)
    compute: ComputeSettings = dataclasses.field(default_factory=ComputeSettings)
    image_import: ImageImport = dataclasses.field(default_factory=ImageImport)
    image_swift_store: ImageSwiftStore = dataclasses.field(default_factory=ImageSwiftStore)
    orchestration: OrchestrationSettings = dataclasses.field(default_factory=OrchestrationSettings)
    metadata: MetadataSettings = dataclasses.field(default_factory=MetadataSettings)
    consoles: ConsoleSettings = dataclasses.field(default_factory=ConsoleSettings)
    dashboard: DashboardSettings = dataclasses.field(default_factory=DashboardSettings)
    volume: VolumeSettings = dataclasses.field(default_factory=VolumeSettings)
    ceph: CephSettings = dataclasses.field(default_factory=CephSettings)
    tls: TLSSettings = dataclasses.field(default_factory=TLSSettings)

    @property
    def host(self) -> str:
        return self.bind.rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.bind.rsplit(":", 1)[1])

    @property
    def image_store(self) -> Path:
        return Path(self.image_dir) if self.image_dir else self.data_dir / "images"

    @property
    def database_url(self) -> str:
        return self.database or f"sqlite:///{self.data_dir / 'onestack.db'}"

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = self.host if self.host not in ("0.0.0.0", "::") else "127.0.0.1"
        return f"{'https' if self.tls.enabled else 'http'}://{host}:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.data_dir / CONFIG_FILE

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data.pop("data_dir")
        return data


SECTIONS = {"security_compliance": SecurityCompliance, "image_import": ImageImport, "network": NetworkSettings,
            "image_swift_store": ImageSwiftStore,
            "orchestration": OrchestrationSettings,
            "compute": ComputeSettings, "metadata": MetadataSettings, "consoles": ConsoleSettings,
            "dashboard": DashboardSettings, "volume": VolumeSettings,
            "ceph": CephSettings, "tls": TLSSettings}


def load(data_dir: Path) -> Settings:
    path = data_dir / CONFIG_FILE
    raw = yaml.safe_load(path.read_text()) if path.exists() else {}
    raw = dict(raw or {})
    sections = {name: kind(**(raw.pop(name, None) or {})) for name, kind in SECTIONS.items()}
    return Settings(data_dir=data_dir, **sections, **raw)


def save(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    tmp = settings.config_path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(settings.to_dict(), sort_keys=False))
    os.replace(tmp, settings.config_path)
