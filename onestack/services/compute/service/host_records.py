"""The compute hosts' records as the admin APIs read and change them: services (enabled, forced down),
hypervisors (capacity, what their servers use, their servers), os-hosts and availability zones.

A host is up when this process runs it or another process heartbeats for it within ``SERVICE_DOWN_TIME``
(Nova's service_down_time), and it is not forced down.
"""

from __future__ import annotations

import dataclasses
import os
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.base import utcnow
from onestack.db.engine import Database
from onestack.http.errors import NotFound, NotImplemented_
from onestack.http.numbers import decimal
from onestack.services.compute.models import ComputeHost, Instance
from onestack.services.compute.service.host_drivers import HostDrivers

# Seconds without a heartbeat after which a host another process runs is down (Nova's service_down_time).
SERVICE_DOWN_TIME = 60
NO_USE = {"vcpus": 0, "ram": 0, "disk": 0, "running": 0}


@dataclasses.dataclass
class HostState:
    """A host's record with what the admin APIs add to it: whether it is up, what its live servers use
    (vcpus, ram, disk in GB and how many) and, when asked for, its servers (uuid, number)."""

    row: ComputeHost
    up: bool
    used: dict[str, int]
    servers: list[tuple[str, int]] | None = None


def is_up(row: ComputeHost, running: set[str]) -> bool:
    if row.forced_down:
        return False
    return row.host in running or (utcnow() - row.heartbeat_at).total_seconds() < SERVICE_DOWN_TIME


def uptime_text() -> str:
    """The machine's ``uptime`` line: every host of this process runs on it (the fake ones too)."""
    with open("/proc/uptime") as f:
        seconds = int(float(f.read().split()[0]))
    days, rest = divmod(seconds, 86400)
    load = os.getloadavg()
    up = (f"{days} day{'s' if days != 1 else ''}, " if days else "") + f"{rest // 3600:2d}:{rest % 3600 // 60:02d}"
    return (f" {time.strftime('%H:%M:%S')} up {up},  0 users,  load average: "
            f"{load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}")


def usage_by_host(session: Session) -> dict[str, dict]:
    """What the live servers of each host use (vcpus, ram, disk in GB) and how many there are."""
    used: dict[str, dict] = {}
    rows = session.execute(select(Instance.host, Instance.flavor).where(Instance.deleted.is_(False),
                                                                        Instance.host.is_not(None)))
    for host, flavor in rows:
        entry = used.setdefault(host, dict(NO_USE))
        entry["vcpus"] += flavor["vcpus"]
        entry["ram"] += flavor["ram"]
        entry["disk"] += flavor["disk"] + flavor.get("ephemeral", 0)
        entry["running"] += 1
    return used


def _servers(session: Session, host: ComputeHost) -> list[tuple[str, int]]:
    return [(ident, number) for ident, number in session.execute(select(Instance.id, Instance.number).where(
        Instance.host == host.host, Instance.deleted.is_(False)).order_by(Instance.number))]


def by_name(session: Session, name: str) -> ComputeHost:
    host = session.scalar(select(ComputeHost).where(ComputeHost.host == name))
    if host is None:
        raise NotFound(f"Compute host {name} could not be found.")
    return host


def by_id(session: Session, ident: str, by_uuid: bool, kind: str = "Hypervisor") -> ComputeHost:
    """A host by the id its microversion shows (uuid from 2.53, integer before)."""
    if by_uuid:
        host = session.get(ComputeHost, ident)
    else:
        # Integers beyond the column name nothing (and must not reach PostgreSQL out of range).
        number = decimal(ident)
        host = session.scalar(select(ComputeHost).where(ComputeHost.number == number)) \
            if number is not None and number < 2**31 else None
    if host is None:
        raise NotFound(f"{kind} with ID '{ident}' could not be found." if kind == "Hypervisor"
                       else f"Service {ident} could not be found.")
    return host


@dataclasses.dataclass(eq=False)
class HostRecords:
    db: Database
    hosts: HostDrivers

    def _state(self, row: ComputeHost, used: dict | None = None) -> HostState:
        return HostState(row, is_up(row, set(self.hosts.names())), (used or {}).get(row.host, dict(NO_USE)))

    # -- services ------------------------------------------------------------------------------------
    def services(self, host: str | None) -> list[HostState]:
        stmt = select(ComputeHost).order_by(ComputeHost.host)
        if host:
            stmt = stmt.where(ComputeHost.host == host)
        with self.db.read() as session:
            return [self._state(h) for h in session.scalars(stmt)]

    def set_disabled(self, name: str, disabled: bool, reason: str | None) -> ComputeHost:
        with self.db.write() as session:
            host = by_name(session, name)
            host.disabled = disabled
            host.disabled_reason = reason if disabled else None
            return host

    def update_service(self, ident: str, changes: dict) -> HostState:
        """PUT /os-services/{uuid}: ``status`` (with its ``disabled_reason``) and ``forced_down``."""
        with self.db.write() as session:
            host = by_id(session, ident, by_uuid=True, kind="Service")
            if "status" in changes:
                host.disabled = changes["status"] == "disabled"
                host.disabled_reason = changes.get("disabled_reason") if host.disabled else None
            if "forced_down" in changes:
                host.forced_down = changes["forced_down"]
            session.flush()
            return self._state(host)

    def force_down(self, name: str, forced: bool) -> ComputeHost:
        with self.db.write() as session:
            host = by_name(session, name)
            host.forced_down = forced
            return host

    # -- hypervisors ---------------------------------------------------------------------------------
    def hypervisors(self, pattern: str | None, *, with_usage: bool, with_servers: bool) -> list[HostState]:
        """Every host (those whose name contains ``pattern``: a 404 if none does), by name."""
        stmt = select(ComputeHost).order_by(ComputeHost.host)
        if pattern:
            stmt = stmt.where(ComputeHost.host.contains(pattern, autoescape=True))
        with self.db.read() as session:
            used = usage_by_host(session) if with_usage else {}
            found = [self._state(h, used) for h in session.scalars(stmt)]
            if pattern and not found:
                raise NotFound(f"No hypervisor matching '{pattern}' could be found.")
            for state in found if with_servers else ():
                state.servers = _servers(session, state.row)
        return found

    def hypervisor(self, ident: str, by_uuid: bool, *, with_usage: bool = True,
                   with_servers: bool = False) -> HostState:
        with self.db.read() as session:
            host = by_id(session, ident, by_uuid)
            state = self._state(host, usage_by_host(session) if with_usage else {})
            if with_servers:
                state.servers = _servers(session, host)
        return state

    def host_states(self, names: set[str]) -> dict[str, tuple[ComputeHost, bool]]:
        """host -> its record and whether it is up: this process runs it or another one heartbeats for it (a
        joined host, or the supervisor when the API is served by workers); what a server's host_status is made
        of."""
        if not names:
            return {}
        running = set(self.hosts.names())
        with self.db.read() as session:
            return {row.host: (row, is_up(row, running))
                    for row in session.scalars(select(ComputeHost).where(ComputeHost.host.in_(names)))}

    # -- os-hosts --------------------------------------------------------------------------------------
    def in_zone(self, zone: str | None) -> list[ComputeHost]:
        stmt = select(ComputeHost).order_by(ComputeHost.host)
        if zone:  # an empty zone lists every host, as in Nova
            stmt = stmt.where(ComputeHost.availability_zone == zone)
        with self.db.read() as session:
            return list(session.scalars(stmt))

    def usage_of(self, name: str) -> tuple[ComputeHost, dict[str, int], dict[str, list[int]]]:
        """The host, what its servers use, and (cpu, memory MB, disk GB) per project."""
        with self.db.read() as session:
            host = by_name(session, name)
            used = usage_by_host(session).get(host.host, dict(NO_USE))
            per_project: dict[str, list[int]] = {}
            rows = session.execute(select(Instance.project_id, Instance.flavor).where(
                Instance.host == host.host, Instance.deleted.is_(False)).order_by(Instance.project_id))
            for project, flavor in rows:
                sums = per_project.setdefault(project, [0, 0, 0])
                sums[0] += flavor["vcpus"]
                sums[1] += flavor["ram"]
                sums[2] += flavor["disk"] + flavor.get("ephemeral", 0)
        return host, used, per_project

    def update_host(self, name: str, status: str | None, maintenance: str | None) -> dict:
        """``status`` enables or disables the host's compute service; ``maintenance_mode`` is the driver's
        business: Nova's fake driver acknowledges it, libvirt (our QEMU) does not implement it (501)."""
        reply = {}
        with self.db.write() as session:
            host = by_name(session, name)
            reply["host"] = host.host
            if status is not None:
                host.disabled = status.lower() == "disable"
                reply["status"] = "disabled" if host.disabled else "enabled"
            if maintenance is not None:
                if host.driver != "fake":
                    raise NotImplemented_("Virt driver does not implement host maintenance mode.")
                reply["maintenance_mode"] = "on_maintenance" if maintenance.lower() == "enable" else "off_maintenance"
        return reply

    def power_action(self, name: str, action: str) -> dict:
        with self.db.read() as session:
            host = by_name(session, name)
        # Nova's fake driver answers the action without doing anything; libvirt cannot power its host.
        if host.driver != "fake":
            raise NotImplemented_("Virt driver does not implement host power management.")
        return {"host": host.host, "power_action": action}

    # -- availability zones ------------------------------------------------------------------------------
    def zones(self) -> dict[str, list[ComputeHost]]:
        zones: dict[str, list[ComputeHost]] = {}
        with self.db.read() as session:
            for host in session.scalars(select(ComputeHost).order_by(ComputeHost.host)):
                zones.setdefault(host.availability_zone, []).append(host)
        return zones
