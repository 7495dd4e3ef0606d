"""Everything one onestack process holds: settings, database, services.

Handlers reach it as ``call.runtime`` (the outer middleware puts it in the
ASGI scope), so there are no module-level globals and tests can run several
clouds in one process.
"""

from __future__ import annotations

from starlette.requests import Request

from onestack.config import Settings
from onestack.db.engine import Database
from onestack.drivers.netns import availability
from onestack.http.context import Context
from onestack.services.compute.reconcile.instances import InstanceReconciler
from onestack.services.compute.reconcile.power_sync import PowerSync
from onestack.services.compute.service import ComputeService
from onestack.services.identity.service import IdentityService
from onestack.services.image.service import ImageService
from onestack.services.image.service.facade import ImageFacade
from onestack.services.network.reconcile.agent import Agent
from onestack.services.network.service import NetworkService
from onestack.services.network.service.facade import NetworkFacade
from onestack.services.object.reconcile import Upkeep
from onestack.services.object.service import ObjectService
from onestack.services.orchestration.reconcile.engine import Engine as OrchestrationEngine
from onestack.services.orchestration.service import OrchestrationService
from onestack.services.placement.service import PlacementService
from onestack.services.placement.service.facade import PlacementFacade
from onestack.services.volume.reconcile import Reconciler as VolumeReconciler
from onestack.services.volume.service import VolumeService


class Runtime:
    def __init__(self, settings: Settings, *, network_node: bool = True, guests: bool | None = None):
        """``network_node``: this host runs DHCP and routers (the controller; ``onestack compute join`` hosts
        do not).  ``guests``: plug guests' taps (and containers' veths) and report their ports (default: with the QEMU
        driver, beside which runc runs containers)."""
        self.settings = settings
        self.db = Database(settings.database_url)
        self.identity = IdentityService(self.db, settings)
        self.image = ImageService(self.db, settings, limits=self.identity.effective_limit)
        self.network = NetworkService(self.db, settings)
        self.placement = PlacementService(self.db)
        self.object = ObjectService(self.db, settings)
        # Object data live in the controller's data dir: a joined host's sweep would find every blob missing.
        self.object_upkeep = Upkeep(self.object) if network_node else None
        self.volume = VolumeService(self.db, settings)
        # Compute reaches the other services through their public facades only.
        self.compute = ComputeService(self.db, settings, network=NetworkFacade(self.network),
                                      images=ImageFacade(self.image), placement=PlacementFacade(self.placement),
                                      volumes=self.volume, schedules=network_node)
        self.volume.guests = self.compute  # a QoS change reaches the guests that have the volume
        self.compute_reconciler = InstanceReconciler.of(self.compute)
        self.power_sync = PowerSync(self.db, self.compute.hosts)
        # Volume files live in the controller's data dir: joined hosts leave them to it.
        self.volume_files = VolumeReconciler(self.db, self.volume.stores, self.volume.image_api,
                                             self.volume.backup_stores, guests=self.compute) if network_node else None
        self.orchestration = OrchestrationService(self.db, settings)
        # Stacks are converged by the controller only (joined hosts have no API for it to call).
        self.orchestration_engine = OrchestrationEngine(self.db, self.orchestration) if network_node else None
        self.dataplane_on, self.dataplane_reason = availability.choose(settings.network.dataplane)
        self.dataplane: Agent | None = None
        if self.dataplane_on:
            guests = self.compute.hosts.plugs_guests if guests is None else guests
            self.dataplane = Agent(self.db, settings, guests=guests, network_node=network_node,
                                   remotes=self.compute.hosts.tunnel_remotes)
            if guests:  # their ports go ACTIVE when the data plane has wired them, not when QEMU starts
                self.compute.networking.wired_by_data_plane(self.dataplane.host)

    def start(self) -> None:
        """The background work of this process: converging compute hosts, volume files, stacks and the
        network data plane."""
        self.compute.start()
        if self.object_upkeep is not None:  # the controller: joined hosts leave the image store's sweep to it
            self.image.start()
        self.compute_reconciler.start()
        self.power_sync.start()
        if self.volume_files is not None:
            self.volume_files.start()
        if self.object_upkeep is not None:
            self.object_upkeep.start()
        if self.orchestration_engine is not None:
            self.orchestration_engine.start()
        if self.dataplane is not None:
            self.dataplane.start()

    def stop(self) -> None:
        if self.dataplane is not None:
            self.dataplane.stop()
        if self.orchestration_engine is not None:
            self.orchestration_engine.stop()
        if self.volume_files is not None:
            self.volume_files.stop()
        if self.object_upkeep is not None:
            self.object_upkeep.stop()
        self.compute_reconciler.stop()
        self.power_sync.stop()
        self.compute.stop()

    def authenticate(self, token: str) -> Context:
        return self.identity.context(token)

    def peek_context(self, token: str) -> Context | None:
        return self.identity.peek_context(token)

    def base_url(self, request: Request) -> str:
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        host = request.headers.get("host") or self.settings.bind
        return f"{request.url.scheme}://{host}"

    def close(self) -> None:
        self.db.dispose()
