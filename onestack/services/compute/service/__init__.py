"""The compute service: what its handlers reach through ``call.runtime.compute``.

It ties the pieces together: the catalogue (flavors, keypairs, quotas), the hosts this process runs and
their drivers, the scheduler (over placement), the servers and everything done to them, and Nova's proxy
APIs.  Other services are reached through their public facades only.  Each change that needs the real
world to follow is a row written and the instance's id put in ``wakeups``, which the reconciler
(``reconcile/``) takes from.
"""

from __future__ import annotations

from sqlalchemy import update

from onestack.config import Settings
from onestack.db.engine import Database
from onestack.reconcile.loop import KeyedQueue
from onestack.services.compute.models import Instance
from onestack.services.compute.service import guest_metadata, in_use
from onestack.services.compute.service.admission import Admission
from onestack.services.compute.service.aggregates import Aggregates
from onestack.services.compute.service.assisted_snapshots import AssistedSnapshots
from onestack.services.compute.service.boot_volumes import BootVolumes
from onestack.services.compute.service.consoles import Consoles
from onestack.services.compute.service.flavors import Flavors
from onestack.services.compute.service.floating_ip_proxy import FloatingIPProxy
from onestack.services.compute.service.guest_calls import GuestCalls
from onestack.services.compute.service.host_drivers import HostDrivers, rbd_disks
from onestack.services.compute.service.host_records import HostRecords
from onestack.services.compute.service.image_proxy import ImageProxy
from onestack.services.compute.service.interfaces import Interfaces
from onestack.services.compute.service.keypairs import Keypairs
from onestack.services.compute.service.migrations import Migrations
from onestack.services.compute.service.network_proxy import NetworkProxy
from onestack.services.compute.service.networking import InstanceNetworking
from onestack.services.compute.service.placement_client import PlacementClient
from onestack.services.compute.service.quotas import Quotas, QuotaSets
from onestack.services.compute.service.scheduler import Scheduler
from onestack.services.compute.service.security_group_proxy import SecurityGroupProxy
from onestack.services.compute.service.server_actions import ServerActions
from onestack.services.compute.service.server_details import ServerDetails
from onestack.services.compute.service.server_groups import ServerGroups
from onestack.services.compute.service.server_listing import ServerListing
from onestack.services.compute.service.servers import Servers
from onestack.services.compute.service.snapshots import Snapshots
from onestack.services.compute.service.usage import UsageReports
from onestack.services.compute.service.volume_attachments import VolumeAttachments
from onestack.services.compute.service.volume_proxy import VolumeProxy
from onestack.services.image.public import Images
from onestack.services.network.public import Network
from onestack.services.placement.public import Placement
from onestack.services.volume.public import BlockStorage


class ComputeService:
    def __init__(self, db: Database, settings: Settings, *, network: Network, images: Images, placement: Placement,
                 volumes: BlockStorage | None = None, schedules: bool = True):
        """``schedules``: this process places new instances (a joined host only converges its own);
        ``volumes``: the block storage service, if the cloud has one."""
        self.db = db
        self.settings = settings
        self.schedules = schedules
        self.images = images
        # the instances whose rows ask the reconciler for work
        self.wakeups = KeyedQueue()
        self.quotas = Quotas(in_use.usage)
        self.hosts = HostDrivers(db, settings.compute, settings.data_dir / "compute", settings.network.tunnel_ip,
                                 rbd_disks=rbd_disks(settings))
        self.placement = PlacementClient(placement)
        self.scheduler = Scheduler(db, self.placement, self.hosts.names)
        self.networking = InstanceNetworking(network)
        admission = Admission(self.quotas, images)
        self.boot_volumes = BootVolumes(db, admission, volumes)
        self.servers = Servers(db, admission, self.networking, self.wakeups.put, self.boot_volumes)
        self.listing = ServerListing(db, self.networking)
        self.actions = ServerActions(self.servers, self.networking, settings.compute.allow_resize_to_same_host,
                                     self.hosts.names,
                                     images.rbd_location if rbd_disks(settings) is not None else None)
        self.details = ServerDetails(db, self.servers, admission, self.networking)
        self.guest_calls = GuestCalls(db, self.servers, self.hosts, self.networking)
        self.snapshots = Snapshots(db, self.servers, admission, images, volumes)
        self.interfaces = Interfaces(db, self.servers, self.networking, self.hosts)
        self.volume_attachments = VolumeAttachments(db, self.servers, self.hosts, volumes)
        self.assisted_snapshots = AssistedSnapshots(db, volumes)
        self.consoles = Consoles(db, self.servers, self.hosts, settings.consoles.token_ttl)
        self.flavors = Flavors(db)
        self.keypairs = Keypairs(db, self.quotas)
        self.quota_sets = QuotaSets(db, self.quotas)
        self.aggregates = Aggregates(db, self.placement)
        self.host_records = HostRecords(db, self.hosts)
        self.server_groups = ServerGroups(db)
        self.migrations = Migrations(db)
        self.usage_reports = UsageReports(db)
        # Nova's proxy APIs, always as the caller
        self.image_proxy = ImageProxy(images)
        self.security_group_proxy = SecurityGroupProxy(network, self.servers)
        self.floating_ip_proxy = FloatingIPProxy(network, settings.compute.default_floating_pool)
        self.network_proxy = NetworkProxy(network)
        self.volume_proxy = VolumeProxy(volumes)

    def start(self) -> None:
        """Register this process's hosts (their drivers, their link, their providers in placement)."""
        self.hosts.start(self.placement)
        self.volume_attachments.recover(self.hosts.names())

    def stop(self) -> None:
        self.hosts.stop()

    # -- the metadata service: who is asking, and what it is told -------------------------------------
    def instance(self, instance_id: str) -> Instance | None:
        """A live instance by id, whoever owns it (the metadata service has identified the guest)."""
        with self.db.read() as session:
            instance = session.get(Instance, instance_id)
        return None if instance is None or instance.deleted else instance

    def instance_at(self, address: str, network_id: str | None, router_id: str | None) -> str | None:
        return self.networking.instance_at(address, network_id, router_id)

    def guest(self, instance: Instance) -> guest_metadata.Guest:
        return guest_metadata.guest(self.networking, instance)

    # -- Block Storage's events (compute's public GuestVolumes) ---------------------------------------
    def volume_extended(self, volume_id: str, size_gb: int) -> bool:
        return self.volume_attachments.extended(volume_id, size_gb)

    def snapshot_volume(self, volume_id: str, overlay_path: str) -> bool:
        return self.volume_attachments.snapshot(volume_id, overlay_path)

    def volume_limits_changed(self, volume_id: str, qos_specs: dict | None) -> None:
        self.volume_attachments.limits_changed(volume_id, qos_specs)

    def volume_moved(self, volume_id: str, connection: dict) -> bool:
        return self.volume_attachments.moved(volume_id, connection)

    def set_guest_password(self, instance_id: str, password: str) -> bool:
        """The password a guest posts, kept once: False if it was set already."""
        with self.db.write() as session:
            return bool(session.execute(update(Instance).where(Instance.id == instance_id,
                                                               Instance.password.is_(None))
                                        .values(password=password)).rowcount)
