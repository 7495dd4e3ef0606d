"""The compute service: what its handlers reach through ``call.runtime.compute``.

It ties the pieces together: the hosts this process runs and their drivers, the scheduler (over
placement), the engine that converges instances, and the image and network services the API
checks requests against.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.config import Settings
from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest
from onestack.services.compute.engine import Engine
from onestack.services.compute.hosts import Hosts
from onestack.services.compute.models import ComputeHost
from onestack.services.compute.networking import InstanceNetworking
from onestack.services.compute.scheduler import Scheduler
from onestack.services.compute.servers import Servers


class ComputeService:
    def __init__(self, db: Database, settings: Settings, *, network, image, placement):
        self.db = db
        self.settings = settings
        self.image = image
        self.placement = placement
        self.hosts = Hosts(db, settings.compute)
        self.scheduler = Scheduler(db, placement)
        self.ports = self.networking = InstanceNetworking(network)
        self.servers = Servers(self)
        self.engine = Engine(self)

    def start(self) -> None:
        """Register this process's hosts and start converging their instances."""
        self.hosts.start(self.placement)
        self.engine.start()

    def stop(self) -> None:
        self.engine.stop()

    # -- what a boot request is checked against ------------------------------------------------
    def check_image(self, ctx: Context, image_id: str, flavor: dict) -> None:
        with self.image.db.read() as session:
            try:
                image = self.image.get(session, ctx, image_id)
            except Exception:  # noqa: BLE001 - any refusal from the image service means "not found" here
                raise BadRequest(f"Image {image_id} could not be found.") from None
        if image.status != "active":
            raise BadRequest(f"Image {image_id} is not active.")
        if (image.min_ram or 0) > flavor["ram"]:
            raise BadRequest("Flavor's memory is too small for requested image.")
        if (image.min_disk or 0) > flavor["disk"] and flavor["disk"]:
            raise BadRequest("Flavor's disk is too small for requested image.")

    def image_path(self, image_id: str) -> str | None:
        path = self.image.store.path(image_id)
        return str(path) if path.exists() else None

    def availability_zones(self, session: Session) -> set[str]:
        return set(session.scalars(select(ComputeHost.availability_zone))) or {"nova"}
