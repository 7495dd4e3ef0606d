"""The file backends this Block Storage has, as Cinder describes its backends to admins: each one's pool with
the capabilities and capacity the scheduler weighs (``/scheduler-stats/get_pools``), the capabilities of a
host (``/capabilities/{host}``) and the hosts with what they hold (``/os-hosts``)."""

from __future__ import annotations

from sqlalchemy import func, select

from onestack.config import VolumeSettings
from onestack.db.base import utcnow
from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import NotFound
from onestack.services.volume.models import Snapshot, Volume, host_name, host_of, volume_host
from onestack.services.volume.policies import authorize
from onestack.services.volume.service import capacity
from onestack.services.volume.service.stores import FILE, VolumeStores
from onestack.services.volume.service.types import BACKEND_CAPABILITIES

DRIVER_VERSION = "1.0.0"


class Backend:
    def __init__(self, db: Database, stores: VolumeStores, settings: VolumeSettings):
        self.db = db
        self.stores = stores
        self.settings = settings

    def capabilities(self, backend: str = FILE) -> dict:
        """What a file backend reports (Cinder's volume stats), its capacity that of the file system holding
        its volume files (``capacity.pool_stats``)."""
        with self.db.read() as session:
            stats = capacity.pool_stats(session, self.stores.of(backend).root, self.settings, backend=backend)
        return {**BACKEND_CAPABILITIES, "volume_backend_name": backend, "driver_version": DRIVER_VERSION,
                "QoS_support": True, **stats, "multiattach": True, "timestamp": utcnow()}

    def pools(self, ctx: Context) -> list[tuple[str, dict]]:
        authorize(ctx, "scheduler_extension:scheduler_stats:get_pools")
        return [(volume_host(name), self.capabilities(name)) for name in self.stores.file_stores]

    def host_capabilities(self, ctx: Context, host: str) -> dict:
        authorize(ctx, "volume_extension:capabilities")
        backend = host.split("@")[1].split("#")[0] if "@" in host else FILE
        if host_of(host) != host_name() or backend not in self.stores.file_stores:
            raise NotFound(f"Host {host} could not be found.")
        return self.capabilities(backend)

    def hosts(self, ctx: Context) -> list[tuple[str, str]]:
        """(service, host) of each service of this cloud's Block Storage."""
        authorize(ctx, "volume_extension:hosts")
        return [("cinder-scheduler", host_name()),
                *(("cinder-volume", f"{host_name()}@{name}") for name in self.stores.file_stores)]

    def host_usage(self, ctx: Context, host: str) -> list[dict]:
        """What a volume host holds: the total, then each project's (Cinder's os-hosts show)."""
        authorize(ctx, "volume_extension:hosts")
        if host_of(host) != host_name():
            raise NotFound(f"Host {host} could not be found.")
        with self.db.read() as session:
            volumes = dict(session.execute(select(Volume.project_id, func.count()).group_by(Volume.project_id)).all())
            volume_gb = dict(session.execute(select(Volume.project_id, func.sum(Volume.size))
                                             .group_by(Volume.project_id)).all())
            visible = Snapshot.hidden.is_(False)
            snapshots = dict(session.execute(select(Snapshot.project_id, func.count()).where(visible)
                                             .group_by(Snapshot.project_id)).all())
            snapshot_gb = dict(session.execute(select(Snapshot.project_id, func.sum(Snapshot.size)).where(visible)
                                               .group_by(Snapshot.project_id)).all())
        rows = [{"project": "(total)", "volume_count": sum(volumes.values()),
                 "total_volume_gb": sum(v or 0 for v in volume_gb.values()),
                 "snapshot_count": sum(snapshots.values()),
                 "total_snapshot_gb": sum(v or 0 for v in snapshot_gb.values())}]
        for project in sorted(set(volumes) | set(snapshots)):
            rows.append({"project": project, "volume_count": volumes.get(project, 0),
                         "total_volume_gb": volume_gb.get(project) or 0,
                         "snapshot_count": snapshots.get(project, 0),
                         "total_snapshot_gb": snapshot_gb.get(project) or 0})
        return rows
