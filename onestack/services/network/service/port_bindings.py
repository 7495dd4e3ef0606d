"""A port's bindings (Neutron's ``binding-extended``): ``/v2.0/ports/{port_id}/bindings``.

A port has at most one ACTIVE binding, which is the port's own ``binding:host_id`` (with its
``binding:vnic_type`` and ``binding:profile``): every path that binds a port and the data plane that
wires it read that one place.  The INACTIVE bindings, to other hosts, are rows of ``PortBinding``;
live migration makes one on the destination before the guest moves (the destination's data plane
plugs the guest's tap beforehand, so the guest's announcements at resume reach the network), and
activating it swaps it with the active one in one transaction, so a crash leaves the port bound on
exactly one host.  These are admin (and service) operations, as in Neutron.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.http.attrmap import matches
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict, NotFound
from onestack.services.network import policies, schemas, views
from onestack.services.network.models import Port, PortBinding
from onestack.services.network.service.ports import Ports


def not_found(port_id: str, host: str) -> NotFound:
    return NotFound(f"Binding for port {port_id} for host {host} could not be found.", kind="PortBindingNotFound")


class PortBindings:
    table = schemas.PORT_BINDINGS

    def __init__(self, db: Database, ports: Ports):
        self.db, self.ports = db, ports

    # -- the routes' operations: each one transaction, on a port the caller sees ----------------
    def _on_port(self, ctx: Context, port_id: str, verb: str, work: Callable[[Session, Port], object],
                 write: bool = True):
        """``work`` on a port ``ctx`` may see (404 otherwise), if its policy ``<verb>_port_binding`` allows.  A
        change is run again whole when a concurrent one (a joined host's compute, an agent's status report)
        changed the port first (``write_retrying``)."""
        def on_port(session: Session):
            port = self.ports.get(session, ctx, port_id)
            policies.authorize(ctx, verb, "port_binding", {"project_id": port.project_id})
            return work(session, port)

        if write:
            return self.db.write_retrying(on_port)
        with self.db.read() as session:
            return on_port(session)

    def read_list(self, ctx: Context, port_id: str, query, fields: list[str]) -> list[dict]:
        filters = self.table.filters(query)

        def work(session: Session, port: Port) -> list[dict]:
            found = [b for b in self.of(session, port) if matches(b, filters, lambda _: False)]
            return [self.table.shown(b, fields, ctx.is_admin) for b in found]

        return self._on_port(ctx, port_id, "get", work, write=False)

    def read_one(self, ctx: Context, port_id: str, host: str, fields: list[str]) -> dict:
        return self._on_port(ctx, port_id, "get", lambda session, port: self.table.shown(
            self.get(session, port, host), fields, ctx.is_admin), write=False)

    def create_one(self, ctx: Context, port_id: str, body: dict) -> dict:
        return self._on_port(ctx, port_id, "create",
                             lambda session, port: self.create(session, port, body))

    def update_one(self, ctx: Context, port_id: str, host: str, changes: dict) -> dict:
        return self._on_port(ctx, port_id, "update",
                             lambda session, port: self.update(session, port, host, changes))

    def delete_one(self, ctx: Context, port_id: str, host: str) -> None:
        self._on_port(ctx, port_id, "delete", lambda session, port: self.delete(session, port, host))

    def activate_one(self, ctx: Context, port_id: str, host: str) -> dict:
        return self._on_port(ctx, port_id, "activate",
                             lambda session, port: self.activate(session, port, host))

    # -- rules, inside a transaction ---------------------------------------------------------
    @staticmethod
    def inactive(session: Session, port_id: str) -> list[PortBinding]:
        return list(session.scalars(select(PortBinding).where(PortBinding.port_id == port_id)
                                    .order_by(PortBinding.host)))

    def of(self, session: Session, port: Port) -> list[dict]:
        """The port's bindings: the active one first, then the inactive ones by host."""
        found = [views.port_binding(port, port.host_id, port.vnic_type, port.profile, True)] if port.host_id else []
        return found + [views.port_binding(port, b.host, b.vnic_type, b.profile, False)
                        for b in self.inactive(session, port.id) if b.host != port.host_id]

    def get(self, session: Session, port: Port, host: str) -> dict:
        found = next((b for b in self.of(session, port) if b["host"] == host), None)
        if found is None:
            raise not_found(port.id, host)
        return found

    def create(self, session: Session, port: Port, body: dict) -> dict:
        """A binding to ``body["host"]``: INACTIVE beside the port's active binding, or ACTIVE (the port's
        own binding) when the port is bound nowhere yet, as Neutron's ML2 does."""
        if not port.device_owner.startswith("compute:"):
            raise BadRequest(f"Port {port.id} is not a compute port: only a compute port has bindings to hosts.",
                             kind="BadRequest")
        host = body["host"]
        if host == port.host_id or session.get(PortBinding, (port.id, host)) is not None:
            raise Conflict(f"Binding for port {port.id} on host {host} already exists.", kind="PortBindingAlreadyExists")
        vnic_type, profile = body["vnic_type"], body.get("profile") or {}
        if not port.host_id:
            port.host_id, port.vnic_type, port.profile = host, vnic_type, profile
            session.flush()
            return views.port_binding(port, host, vnic_type, profile, True)
        session.add(PortBinding(port_id=port.id, host=host, vnic_type=vnic_type, profile=profile))
        session.flush()
        return views.port_binding(port, host, vnic_type, profile, False)

    def update(self, session: Session, port: Port, host: str, changes: dict) -> dict:
        if host == port.host_id:
            if "vnic_type" in changes:
                port.vnic_type = changes["vnic_type"]
            if "profile" in changes:
                port.profile = changes["profile"] or {}
            session.flush()
            return views.port_binding(port, host, port.vnic_type, port.profile, True)
        row = session.get(PortBinding, (port.id, host))
        if row is None:
            raise not_found(port.id, host)
        if "vnic_type" in changes:
            row.vnic_type = changes["vnic_type"]
        if "profile" in changes:
            row.profile = changes["profile"] or {}
        session.flush()
        return views.port_binding(port, host, row.vnic_type, row.profile, False)

    def delete(self, session: Session, port: Port, host: str) -> None:
        """An inactive binding goes; the active one goes too, leaving the port bound nowhere (DOWN)."""
        if host and host == port.host_id:
            port.host_id, port.status = "", "DOWN"
            session.flush()
            return
        row = session.get(PortBinding, (port.id, host))
        if row is None:
            raise not_found(port.id, host)
        session.delete(row)
        session.flush()

    def activate(self, session: Session, port: Port, host: str) -> dict:
        """``host``'s binding becomes the port's own; the one it replaces stays, INACTIVE."""
        if host and host == port.host_id:
            raise Conflict(f"Binding for port {port.id} on host {host} is already active.",
                           kind="PortBindingAlreadyActive")
        row = session.get(PortBinding, (port.id, host))
        if row is None:
            raise not_found(port.id, host)
        previous = (port.host_id, port.vnic_type, port.profile)
        port.host_id, port.vnic_type, port.profile = host, row.vnic_type, row.profile
        session.delete(row)
        session.flush()
        if previous[0]:
            session.add(PortBinding(port_id=port.id, host=previous[0], vnic_type=previous[1], profile=previous[2]))
            session.flush()
        return views.port_binding(port, host, port.vnic_type, port.profile, True)
