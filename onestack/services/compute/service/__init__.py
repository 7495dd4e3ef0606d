"""The compute service: what its handlers reach through ``call.runtime.compute``.

It ties the pieces together: the catalogue (flavors, keypairs, quotas), the hosts this process runs and
their drivers, the scheduler (over placement), the engine that converges instances, and the image and
network services boot requests are checked against.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestack.config import Settings
from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Forbidden, NotFound
from onestack.services.compute.models import ComputeHost, Instance, ServerGroup
from onestack.services.compute.models.quota_resources import DEFAULTS
from onestack.services.compute.reconcile.instances import Engine
from onestack.services.compute.service import flavors, keypairs
from onestack.services.compute.service import guest_metadata as metadata
from onestack.services.compute.service.host_drivers import Hosts
from onestack.services.compute.service.networking import InstanceNetworking
from onestack.services.compute.service.quotas import QuotaExceeded, Quotas
from onestack.services.compute.service.scheduler import Scheduler
from onestack.services.compute.service.servers import Servers


class ComputeService:
    def __init__(self, db: Database, settings: Settings, *, network, image, placement, schedules: bool = True):
        """``schedules``: this process places new instances (a joined host only converges its own)."""
        self.db = db
        self.schedules = schedules
        self.settings = settings
        self.image = image
        self.placement = placement
        self.quotas = Quotas(self.usage)
        self.hosts = Hosts(db, settings.compute, settings.data_dir / "compute", settings.network.tunnel_ip)
        self.scheduler = Scheduler(db, placement)
        self.networking = InstanceNetworking(network)
        self.servers = Servers(self)
        self.engine = Engine(self)

    def start(self) -> None:
        """Register this process's hosts and start converging their instances."""
        self.hosts.start(self.placement)
        self.engine.start()

    def stop(self) -> None:
        self.engine.stop()
        self.hosts.stop()

    # -- quotas ------------------------------------------------------------------------------------
    def usage(self, session: Session, project_id: str, user_id: str | None = None) -> dict[str, int]:
        """What is in use, per quota resource, in a project (or by one user in it)."""
        used = dict.fromkeys(DEFAULTS, 0)
        live = select(func.count(), func.coalesce(func.sum(Instance.vcpus), 0),
                      func.coalesce(func.sum(Instance.memory_mb), 0)).where(
            Instance.project_id == project_id, Instance.deleted.is_(False))
        if user_id:
            live = live.where(Instance.user_id == user_id)
            used["key_pairs"] = keypairs.count(session, user_id)
        used["instances"], used["cores"], used["ram"] = (int(v) for v in session.execute(live).one())
        groups = select(func.count()).select_from(ServerGroup).where(ServerGroup.project_id == project_id)
        used["server_groups"] = session.scalar(groups if not user_id else groups.where(ServerGroup.user_id == user_id))
        return used

    def quota_limits(self, session: Session, project_id: str, user_id: str | None = None) -> dict[str, int]:
        """The limits in force (-1: unlimited) for the project, or for the user within it."""
        return self.quotas.limits(session, project_id, user_id)

    def check_quota(self, session: Session, project_id: str, user_id: str | None, deltas: dict[str, int]) -> None:
        """Raise Nova's 403 ("Quota exceeded for instances: Requested 1, but already used 10 of 10
        instances") if adding ``deltas`` passes a limit.  Call it inside the creating transaction: the
        project's quota lock is held until it ends."""
        self.quotas.check(session, project_id, user_id, deltas)

    def check_metadata_quota(self, session: Session, project_id: str, metadata: dict | None) -> None:
        """Nova's 403 when a server's metadata holds more items than the project's ``metadata_items``
        (the limit ``/limits`` shows as maxServerMeta)."""
        if not metadata:
            return
        allowed = self.quotas.limits(session, project_id).get("metadata_items", -1)
        if 0 <= allowed < len(metadata):
            raise Forbidden(f"Quota exceeded for metadata_items: Maximum number of metadata items exceeds "
                            f"{allowed}")

    def quota_room(self, session: Session, ctx: Context, flavor: dict, low: int, high: int) -> int:
        """How many of ``low``..``high`` servers of ``flavor`` fit the quotas (Nova boots the most that
        fit, and refuses when even ``low`` do not)."""
        for count in range(high, low, -1):
            try:
                self.check_quota(session, ctx.project_id, ctx.user_id, self._deltas(flavor, count))
                return count
            except QuotaExceeded:
                continue
        self.check_quota(session, ctx.project_id, ctx.user_id, self._deltas(flavor, low))
        return low

    @staticmethod
    def _deltas(flavor: dict, count: int) -> dict[str, int]:
        return {"instances": count, "cores": flavor["vcpus"] * count, "ram": flavor["ram"] * count}

    # -- what a boot request is checked against ------------------------------------------------
    def flavor_for_boot(self, session: Session, ctx: Context, ref: str) -> dict:
        """The flavor as the instance keeps it (a snapshot: later flavor changes do not touch it)."""
        try:
            flavor = flavors.get(session, ctx, ref)
        except NotFound:
            raise BadRequest(f"Flavor {ref} could not be found.") from None
        if flavor.disabled:
            raise BadRequest(f"Flavor {ref} is disabled.")
        return {"id": flavor.flavorid, "original_name": flavor.name, "vcpus": flavor.vcpus, "ram": flavor.memory_mb,
                "disk": flavor.root_gb, "ephemeral": flavor.ephemeral_gb, "swap": flavor.swap,
                "extra_specs": flavor.extra_specs}

    def keypair_for_boot(self, session: Session, ctx: Context, name: str) -> str:
        try:
            return keypairs.get(session, ctx.user_id, name).public_key
        except NotFound:
            raise BadRequest("Invalid key_name provided.") from None

    def check_image(self, ctx: Context, image_id: str, flavor: dict, missing_ok: bool = False) -> None:
        """A boot's (or rebuild's) image must exist and fit the flavor; a resize only checks the fit of an
        image still there (``missing_ok``: the image may have gone since the boot)."""
        with self.image.db.read() as session:
            try:
                image = self.image.get(session, ctx, image_id)
            except NotFound:
                if missing_ok:
                    return
                raise BadRequest(f"Image {image_id} could not be found.") from None
        if image.status != "active":
            raise BadRequest(f"Image {image_id} is not active.")
        if (image.min_ram or 0) > flavor["ram"]:
            raise BadRequest("Flavor's memory is too small for requested image.")
        if flavor["disk"] and (image.min_disk or 0) > flavor["disk"]:
            raise BadRequest("Flavor's disk is too small for requested image.")

    def guest(self, instance: Instance) -> metadata.Guest:
        """What the metadata service and the config drive tell the instance about itself."""
        fixed, floating = self.networking.guest_addresses(instance)
        return metadata.Guest(instance, self.networking.nics(instance), self.networking.port_networks(instance),
                              fixed, floating)

    def image_path(self, image_id: str) -> str | None:
        path = self.image.store.path(image_id)
        return str(path) if path.exists() else None

    def availability_zones(self, session: Session) -> set[str]:
        return set(session.scalars(select(ComputeHost.availability_zone))) or {"nova"}
