"""The data-plane agent of one host: a level-triggered loop that converges the kernel to the database.

There is one key, the host: every tick reads the whole desired state (a few queries) and compares
it to the last full pass's.  The same plan and a kernel that passes a cheap check (its bridges,
veths and namespaces there, dnsmasq, the proxies and radvd alive, guests' taps plugged): nothing more is
done, so the one-second resync costs a query, one ``ip link`` and a few reads of /proc.  A tap that
came or went gets a quick pass of its own (guests wait for it); a new plan, a failed check, a
network commit or ``DEEP_EVERY`` seconds gone by run the full converge, which also repairs what the
check does not see (an address removed by hand).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import socket
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.config import Settings
from onestack.db.engine import Database
from onestack.drivers.netns import availability, converge, firewall, links
from onestack.reconcile.loop import Loop
from onestack.services.network import models
from onestack.services.network.reconcile import desired, security

LOG = logging.getLogger("onestack.dataplane")
KEY = "host"
DEEP_EVERY = 10.0
SLOW_PASS = 1.0  # seconds: longer full passes are logged
OWNER_FILE = "owner"
OWN_REPORT = "dataplane_report"  # marks the agent's own status writes, which need no new pass
METADATA_SOCKET = "metadata.sock"  # the metadata server's (the guest-facing service listens there)


def state_dir(settings: Settings) -> Path:
    return settings.data_dir / "dataplane"


def owner_of(settings: Settings) -> str:
    """This cloud's short, stable id (8 of [a-z0-9]), the mark on every kernel object it makes; also
    the ``scope`` the firewall's rules are filed under."""
    path = state_dir(settings) / OWNER_FILE
    try:
        found = path.read_text().strip()
        if re.fullmatch(r"[a-z0-9]{1,8}", found):
            return found
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    made = secrets.token_hex(4)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(made + "\n")
    os.replace(tmp, path)
    return made


def purge(settings: Settings) -> None:
    """Remove every namespace, bridge, veth, VXLAN device, tap, dnsmasq, radvd and firewall rule this cloud made here."""
    path = state_dir(settings) / OWNER_FILE
    if path.exists():
        owner = owner_of(settings)
        converge.purge(owner, state_dir(settings))
        firewall.purge(owner)


class Agent:
    def __init__(self, db: Database, settings: Settings, *, guests: bool, network_node: bool = True,
                 remotes: Callable[[Session], tuple[str, ...]] = lambda _session: ()):
        """``guests``: this host's guests are real (their taps are plugged and their ports reported).
        ``network_node``: DHCP servers and routers run here.  ``remotes``: the other hosts' tunnel addresses."""
        self.db = db
        self.network_node = network_node
        self.remotes = remotes
        self.settings = settings
        self.state = state_dir(settings)
        self.owner = owner_of(settings)
        self.host = settings.compute.host or socket.gethostname()
        self.guests = guests
        self.loop = Loop("dataplane", self.step, lambda: [KEY], workers=1, resync_every=1.0, max_backoff=5.0)
        self._last = None  # the plan of the last full pass
        self._filtered: tuple | None = None  # security.stamp when the firewall last converged
        self._wired: set[str] = set()  # the ports the last pass found wired
        self._deep_at = 0.0
        self._skipped_said: set[str] = set()
        self._changed = True  # a network commit since the last full pass
        self._listen_for_network_commits()
        self._links = links.LinkWatcher(lambda: self.loop.wake(KEY))

    def start(self) -> None:
        self.loop.start()
        self._links.start()
        self.loop.wake(KEY)

    def stop(self) -> None:
        self._links.stop()
        self.loop.stop()

    def _listen_for_network_commits(self) -> None:
        """Wake the loop after any commit that wrote a network row, except its own status reports (other
        processes' commits are seen by the resync)."""

        def flushed(session, _context):
            if not session.info.get(OWN_REPORT) and any(type(obj).__module__ == models.__name__
                   for obj in (*session.new, *session.dirty, *session.deleted)):
                session.info["network_touched"] = True

        def committed(session):
            if session.info.pop("network_touched", False):
                self._changed = True
                self.loop.wake(KEY)

        def rolled_back(session):
            session.info.pop("network_touched", None)

        self.db.listen("after_flush", flushed)
        self.db.listen("after_commit", committed)
        self.db.listen("after_soft_rollback", lambda session, _previous: rolled_back(session))

    def facts(self, root: dict[str, links.Link], remotes: tuple[str, ...] = ()) -> desired.HostFacts:
        net = self.settings.network
        return desired.HostFacts(
            owner=self.owner, host=self.host, guests=self.guests, bridge_mappings=dict(net.physical_networks),
            bridge_addresses=dict(net.bridge_addresses),
            interfaces={name: link.kind for name, link in root.items()}, vlan_supported=availability.vlan(),
            tunnel_ip=net.tunnel_ip, vxlan_port=net.vxlan_port, metadata=net.isolated_metadata,
            metadata_socket=net.metadata_socket or str(self.settings.data_dir / METADATA_SOCKET),
            domain=net.dns_domain, remotes=remotes, network_node=self.network_node)

    def step(self, _key: str) -> float | None:
        root = links.snapshot()
        with self.db.read() as session:
            plan = desired.plan(session, self.facts(root, self.remotes(session)))
            filtered = security.stamp(session)
        due = self._changed or time.monotonic() - self._deep_at >= DEEP_EVERY
        if due or plan != self._last or converge.broken(plan, self.state, root):
            self._full_pass(plan)
        elif filtered != self._filtered:
            self._converge_firewall(plan)
        elif converge.taps_astray(plan, root, self._wired):
            self._quick_pass(plan, root)
        return None

    def _quick_pass(self, plan, root: dict[str, links.Link]) -> None:
        taps = {t.port_id for t in plan.taps}
        self._report((self._wired - taps) | converge.plug_taps(plan, root))

    def _full_pass(self, plan) -> None:
        started = time.monotonic()
        self._changed = False
        self._say_skipped(plan)
        try:
            wired = converge.converge(plan, self.state)
        except converge.ConvergeErrors as exc:
            self._report(exc.wired)  # what did work is reported; the loop retries the rest
            raise
        self._report(wired)
        self._converge_firewall(plan)
        self._last = plan
        self._deep_at = time.monotonic()
        if self._deep_at - started > SLOW_PASS:
            LOG.info("full pass over %d networks and %d routers took %.1fs", len(plan.segments), len(plan.routers),
                     self._deep_at - started)

    def _converge_firewall(self, plan) -> None:
        """Security groups and port security of this host's guests' ports.  Runs on every full pass: a
        rule change commits a network row, which wakes a full pass at once."""
        with self.db.read() as session:
            filtered = security.stamp(session)
            rules = security.port_rules(session, [tap.port_id for tap in plan.taps])
        firewall.converge(self.owner, rules)
        self._filtered = filtered

    def _say_skipped(self, plan) -> None:
        for segment in plan.segments:
            if segment.skipped and segment.network_id not in self._skipped_said:
                LOG.warning("network %s is not wired on this host: %s", segment.network_id, segment.skipped)
                self._skipped_said.add(segment.network_id)

    def _report(self, wired: set[str]) -> None:
        """Ports this host wires are ACTIVE once their device is in its bridge, DOWN otherwise; a floating
        IP is ACTIVE while it is associated (or forwards ports) and its router's gateway is wired.  Read first, so a pass that
        changes nothing takes no write lock."""
        for port_id in wired - self._wired:
            LOG.info("port %s wired", port_id)
        self._wired = wired
        with self.db.read() as session:
            changes = self._status_changes(session, wired)
        if not changes:
            return
        def write(session) -> None:
            # the rows are read again in the write: a port another host's compute or the API changed since
            # the read above is updated as it now is, and one changed between this read and the write makes
            # the whole report run again (write_retrying), never a lost change
            session.info[OWN_REPORT] = True
            for (model, row_id), status in changes.items():
                row = session.get(model, row_id)
                if row is not None:
                    row.status = status

        self.db.write_retrying(write)

    def _status_changes(self, session, wired: set[str]) -> dict[tuple[type, str], str]:
        changes: dict[tuple[type, str], str] = {}
        for port in desired.managed_ports(session, self.host if self.guests else None, self.network_node):
            status = "ACTIVE" if port.id in wired else "DOWN"
            if port.status != status:
                changes[(models.Port, port.id)] = status
        if not self.network_node:
            return changes
        gateways = dict(session.execute(select(models.Router.id, models.Router.gw_port_id)).all())
        forwarded = set(session.scalars(select(models.PortForwarding.floatingip_id)))
        for fip in session.scalars(select(models.FloatingIP)):
            used = fip.port_id or fip.id in forwarded
            status = "ACTIVE" if used and gateways.get(fip.router_id) in wired else "DOWN"
            if fip.status != status:
                changes[(models.FloatingIP, fip.id)] = status
        return changes
