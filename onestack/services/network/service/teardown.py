"""Removing what the cloud made for itself: a port whatever owns it, and a floating IP with the port
that holds its address.  Below every resource, so that a network's delete can take its unused
floating IPs with it without reaching up to the resources that make them."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onestack.services.network.models import FloatingIP, Port
from onestack.services.network.service import tags


def remove_port(session: Session, port: Port) -> None:
    """Delete a port, first letting go of the floating IPs that point at it."""
    session.execute(update(FloatingIP).where(FloatingIP.port_id == port.id)
                    .values(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN"))
    tags.replace(session, port.id, [])
    session.delete(port)


def remove_floatingip(session: Session, row: FloatingIP) -> None:
    port = session.get(Port, row.floating_port_id)
    session.delete(row)
    session.flush()
    if port is not None:
        remove_port(session, port)


def release_unassociated_floatingips(session: Session, network_id: str) -> None:
    """Before an external network goes: its floating IPs nobody uses go with it (associated ones keep
    their ports, and so keep the network in use), as Neutron does."""
    for row in session.scalars(select(FloatingIP).where(FloatingIP.floating_network_id == network_id,
                                                        FloatingIP.port_id.is_(None))):
        tags.replace(session, row.id, [])
        remove_floatingip(session, row)
