"""What a request asks of a guest's host directly, through the host's driver in this process or the host
link (``drivers/remote``) to the process that runs it: the console output, a new admin password, the
diagnostics.  A host no process serves now, or a driver that fails, is Nova's 409."""

from __future__ import annotations

import dataclasses
import logging

from sqlalchemy import select

from onestack.db.engine import Database
from onestack.drivers.compute import ComputeDriver, DriverError, InstanceInfo
from onestack.drivers.remote.wire import LinkError
from onestack.http.context import Context
from onestack.http.errors import Conflict, NotFound
from onestack.services.compute.models import ComputeHost, Instance
from onestack.services.compute.models import states as st
from onestack.services.compute.policies import authorize
from onestack.services.compute.service.host_drivers import HostDrivers
from onestack.services.compute.service.networking import InstanceNetworking
from onestack.services.compute.service.servers import Servers

LOG = logging.getLogger("onestack.compute.events")


@dataclasses.dataclass(frozen=True)
class Diagnostics:
    """What the driver knows of a guest and what the records say of it."""

    instance: Instance
    info: InstanceInfo
    hypervisor: str  # the driver's name
    macs: list[str]  # one per port


@dataclasses.dataclass(eq=False)
class GuestCalls:
    db: Database
    servers: Servers
    hosts: HostDrivers
    networking: InstanceNetworking

    def _driver(self, instance: Instance, not_served: str) -> ComputeDriver:
        try:
            return self.hosts.driver(instance.host)
        except LinkError:  # no process serves its host (or it has none yet)
            raise Conflict(not_served) from None

    def console_output(self, ctx: Context, server_id: str, length: int | None) -> str:
        """The guest's console log, its last ``length`` lines if given."""
        instance = self.servers.show(ctx, server_id, "os_compute_api:os-console-output")
        driver = self._driver(instance, f"Instance {instance.id} is not ready to show its console.")
        try:
            return driver.console_output(instance.id, length)
        except DriverError as error:
            raise Conflict(f"Instance {instance.id} cannot show its console now: {error}") from None

    def set_admin_password(self, ctx: Context, server_id: str, password: str, request_id: str) -> None:
        with self.db.read() as session:
            instance = self.servers.get(session, ctx, server_id)
            authorize(ctx, "os_compute_api:os-admin-password", instance)
            self.servers.check_lock(ctx, instance)
            st.require(instance, "changePassword", (st.ACTIVE,))
        driver = self._driver(instance, f"Instance {instance.id} is not on a host of this cloud that can set its "
                                        "password.")
        try:
            driver.set_admin_password(instance.id, password)
        except DriverError as error:
            raise Conflict(f"Unable to set password on instance: {error}") from None
        with self.db.write() as session:
            self.servers.record(session, ctx, session.get(Instance, instance.id), "changePassword", request_id)

    def diagnostics(self, ctx: Context, server_id: str) -> Diagnostics:
        with self.db.read() as session:
            instance = self.servers.get(session, ctx, server_id)
            authorize(ctx, "os_compute_api:os-server-diagnostics", project_id=instance.project_id)
            session.expunge(instance)
            # the host's own driver: an API worker reaches the guest through the host link's client
            hypervisor = session.scalar(select(ComputeHost.driver).where(ComputeHost.host == instance.host))
        driver = self._driver(instance, f"Cannot 'get_diagnostics' instance {instance.id} while it is in vm_state "
                                        f"{instance.vm_state}")
        try:
            info = driver.instance_info(instance.id)
        except DriverError as exc:
            raise Conflict(f"Cannot 'get_diagnostics' instance {instance.id}: {exc}") from None
        found = self.networking.addresses([instance.id])[instance.id]
        macs = sorted({entry["OS-EXT-IPS-MAC:mac_addr"] for entries in found.values() for entry in entries})
        return Diagnostics(instance, info, hypervisor or driver.name, macs)

    def external_events(self, events: list[dict]) -> tuple[list[dict], int]:
        """Each event answered for itself: 200 accepted, 404 unknown server, 422 server on no host; and how
        many were accepted.  Nothing waits for these events (servers go ACTIVE without waiting for
        vif-plugged), so accepting is acknowledging."""
        answered, accepted = [], 0
        with self.db.read() as session:
            for wanted in events:
                event = {**wanted, "status": wanted.get("status", "completed")}
                instance = session.get(Instance, wanted["server_uuid"])
                if instance is None or instance.deleted:
                    event.update(status="failed", code=404)
                elif instance.host is None:
                    event.update(status="failed", code=422)
                else:
                    event["code"] = 200
                    accepted += 1
                    LOG.info("external event %s (%s) for server %s", event["name"], event["status"], instance.id)
                answered.append(event)
        if not accepted:
            raise NotFound("No instances found for any event")
        return answered, accepted
