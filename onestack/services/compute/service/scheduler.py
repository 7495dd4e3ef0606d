"""Choosing a host: placement's candidates, then Nova's filters and weighers, then an atomic claim.

Candidates come from placement (enough VCPU, MEMORY_MB and DISK_GB, and the traits the instance needs:
a container's host reports ``CUSTOM_COMPUTE_CONTAINER``, and a flavor's ``trait:<NAME>`` extra specs
require or forbid others, as Nova's); the filters drop disabled hosts and down ones (forced down, or
heartbeat older than the service-down time: a joined host whose process died is no destination), hosts
outside the requested availability zone, hosts the server group's policy forbids, and hosts the server's
``different_host`` and ``same_host`` hints rule out (Nova's DifferentHostFilter and SameHostFilter; the
hints are kept with the server, so a move or an unshelve keeps to them as the boot did); the weighers
prefer hosts with the most free memory (Nova's default spread) and, for the soft policies, the group's
preference.  Boots read placement through the scheduler's host view
(``host_capacity.py``: placement's providers as last read, less what was claimed since); resizes ask
placement afresh.  The claim is placement's: if another claim took the room first, the next host is
tried, and a boot that finds no room in a view not read just now reads it again before giving up.
Scheduling holds one lock so that two members of an anti-affinity group placed at the same moment see
each other.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from onestack.db.engine import Database
from onestack.drivers.compute import CONTAINER
from onestack.services.compute.models import ComputeHost, Instance, ServerGroup, ServerGroupMember
from onestack.services.compute.models import states as st
from onestack.services.compute.service.host_capacity import CapacityView
from onestack.services.compute.service.host_records import is_up
from onestack.services.compute.service.placement_client import CONTAINER_TRAIT, PlacementClient


class NoValidHost(Exception):
    def __init__(self, reason: str = "There are not enough hosts available."):
        super().__init__(f"No valid host was found. {reason}")


def resources_of(flavor: dict) -> dict[str, int]:
    disk = flavor["disk"] + flavor.get("ephemeral", 0) + (flavor.get("swap", 0) + 1023) // 1024
    wanted = {"VCPU": flavor["vcpus"], "MEMORY_MB": flavor["ram"]}
    if disk:
        wanted["DISK_GB"] = disk
    return wanted


def traits_of(instance: Instance, flavor: dict | None = None) -> tuple[frozenset[str], frozenset[str]]:
    """The traits a host must have and must not have to take ``instance`` (with ``flavor``, a resize's new
    one, instead of its own): the container trait for a container, then the flavor's
    ``trait:<NAME>=required|forbidden`` extra specs."""
    required, forbidden = set(), set()
    if instance.guest_kind == CONTAINER:
        required.add(CONTAINER_TRAIT)
    for key, value in ((flavor or instance.flavor).get("extra_specs") or {}).items():
        if key.startswith("trait:"):
            {"required": required, "forbidden": forbidden}.get(value, set()).add(key[len("trait:"):])
    return frozenset(required), frozenset(forbidden)


@dataclass(frozen=True)
class HintedHosts:
    """Where the server's ``different_host`` and ``same_host`` hints let it go: not on a host of a server
    named in the first (``avoid``), and, when the second names any, on a host of one of those (``within``).
    A named server that is gone or on no host is on none, as in Nova: ``same_host`` naming only such
    servers leaves no host at all."""

    avoid: frozenset[str] = frozenset()
    within: frozenset[str] | None = None

    def allow(self, host: str) -> bool:
        return host not in self.avoid and (self.within is None or host in self.within)


def _server_ids(value) -> set[str]:
    """A hint naming one server uuid or a list of them (the create's schema checked their shape)."""
    if not value:
        return set()
    return {str(v).lower() for v in ([value] if isinstance(value, str) else value)}


class Scheduler:
    def __init__(self, db: Database, placement: PlacementClient, running: Callable[[], list[str]] = list):
        """``running``: the hosts this process runs (up whatever their heartbeat says)."""
        self.db = db
        self.placement = placement
        self.running = running
        self._lock = threading.Lock()
        self.view = CapacityView(placement.providers)

    def place(self, instance: Instance, record: Callable[[str], bool]) -> str:
        """Claim room for ``instance`` on a host and ``record`` the host, under the scheduling lock (so the
        next member of its group sees it); a record refused (the instance changed meanwhile) gives the
        room back."""
        wanted = resources_of(instance.flavor)
        required, forbidden = traits_of(instance)
        with self._lock:
            with self.db.read() as session:
                # Columns only: loading a hundred host rows as objects on every boot costs more than the claim.
                hosts = {h.id: h for h in session.execute(select(
                    ComputeHost.id, ComputeHost.host, ComputeHost.disabled, ComputeHost.forced_down,
                    ComputeHost.heartbeat_at, ComputeHost.availability_zone))}
                group, members_on = self._group(session, instance)
                hinted = self._hinted(session, instance)
            up = self._up(hosts.values())
            refused: set[str] = set()
            for again in (False, True):  # a view not read just now is read again before "no valid host"
                free, fresh = self.view.fitting(wanted, fresh=again, required=required, forbidden=forbidden)
                candidates = [hosts[p] for p in free if p in up and p not in refused
                              and self._passes(hosts[p], instance, group, members_on, hinted)]
                for host in self._weigh(candidates, free, group, members_on):
                    if self.placement.claim(instance.id, host.id, wanted, instance.project_id, instance.user_id):
                        self.view.consumed(host.id, wanted)
                        if not record(host.host):
                            self.placement.release(instance.id)
                        return host.host
                    refused.add(host.id)
                if fresh:
                    break
        if not refused:
            raise NoValidHost()
        raise NoValidHost("Every candidate host was claimed by another request first.")

    def place_resize(self, instance: Instance, new_flavor: dict, migration: str, *, same_host: bool = True) -> str:
        """Choose the host for a resize or cold migration and claim ``new_flavor`` there for the instance while
        its old allocation moves to ``migration`` (as Nova's migration-based allocations).  With
        ``same_host`` (Nova's ``allow_resize_to_same_host``) the current host may be chosen and is preferred:
        the guest is then resized in place; without, only another host will do."""
        wanted, old = resources_of(new_flavor), resources_of(instance.flavor)
        with self._lock:
            with self.db.read() as session:
                hosts = {h.id: h for h in session.scalars(select(ComputeHost))}
                group, members_on = self._group(session, instance)
                hinted = self._hinted(session, instance)
            source = next((h for h in hosts.values() if h.host == instance.host), None)
            if source is None:
                raise NoValidHost(f"The instance's host {instance.host} is unknown.")
            free = dict(self.placement.candidates(wanted, *traits_of(instance, new_flavor)))
            up = self._up(hosts.values())
            candidates = [hosts[p] for p in free if p in up and (same_host or p != source.id)
                          and self._passes(hosts[p], instance, group, members_on, hinted)]
            ordered = sorted(self._weigh(candidates, free, group, members_on), key=lambda h: h.id != source.id)
            for host in ordered:
                writes = {migration: {source.id: old}, instance.id: {host.id: wanted}}
                if self.placement.hand_over(writes, instance.project_id, instance.user_id):
                    return host.host
        raise NoValidHost()

    def revert_resize(self, instance: Instance, source_host: str, old_flavor: dict, migration: str) -> None:
        """Give the old flavor's room, held by ``migration``, back to the instance on ``source_host``."""
        with self.db.read() as session:
            source = session.scalar(select(ComputeHost).where(ComputeHost.host == source_host))
        writes = {instance.id: {source.id: resources_of(old_flavor)}, migration: {}}
        if not self.placement.hand_over(writes, instance.project_id, instance.user_id):
            raise RuntimeError(f"placement refused the revert of {instance.id}'s resize; retrying")

    def release(self, instance: Instance) -> None:
        self.placement.release(instance.id)

    def release_migration(self, migration: str) -> None:
        """A resize confirmed (or its server deleted): the old flavor's room ``migration`` held goes back."""
        self.placement.release(migration)

    def _up(self, hosts) -> set[str]:
        """The ids of the hosts that are up (Nova's ComputeFilter asks the service group the same)."""
        running = set(self.running())
        return {host.id for host in hosts if is_up(host, running)}

    @staticmethod
    def _group(session, instance: Instance) -> tuple[ServerGroup | None, dict[str, int]]:
        if instance.server_group_id is None:
            return None, {}
        group = session.get(ServerGroup, instance.server_group_id)
        others = select(Instance.host).join(ServerGroupMember, ServerGroupMember.instance_uuid == Instance.id).where(
            ServerGroupMember.group_id == instance.server_group_id, Instance.id != instance.id,
            Instance.deleted.is_(False), Instance.host.is_not(None))
        counts: dict[str, int] = {}
        for host in session.scalars(others):
            counts[host] = counts.get(host, 0) + 1
        return group, counts

    @staticmethod
    def _hinted(session, instance: Instance) -> HintedHosts:
        """The hosts of the servers ``instance``'s different_host and same_host hints name, of any project
        (Nova's filters look at every instance on a host)."""
        hints = instance.scheduler_hints or {}
        apart, together = _server_ids(hints.get("different_host")), _server_ids(hints.get("same_host"))
        if not apart and not together:
            return HintedHosts()
        hosts = dict(session.execute(select(Instance.id, Instance.host).where(
            Instance.id.in_(apart | together), Instance.deleted.is_(False), Instance.host.is_not(None))).all())
        return HintedHosts(avoid=frozenset(hosts[i] for i in apart if i in hosts),
                           within=frozenset(hosts[i] for i in together if i in hosts) if together else None)

    @staticmethod
    def _passes(host, instance: Instance, group: ServerGroup | None, members_on: dict[str, int],
                hinted: HintedHosts) -> bool:
        if host.disabled or host.forced_down:
            return False
        if not hinted.allow(host.host):
            return False
        if (instance.task_args or {}).get(st.REQUESTED_HOST, host.host) != host.host:
            return False
        if instance.requested_availability_zone and host.availability_zone != instance.requested_availability_zone:
            return False
        if group is None:
            return True
        here = members_on.get(host.host, 0)
        if group.policy == "anti-affinity":
            return here < (group.rules or {}).get("max_server_per_host", 1)
        if group.policy == "affinity":
            return not members_on or here > 0
        return True

    @staticmethod
    def _weigh(hosts: list, free: dict[str, int], group: ServerGroup | None,
               members_on: dict[str, int]) -> list:
        policy = group.policy if group is not None else None

        def score(host: ComputeHost) -> tuple:
            here = members_on.get(host.host, 0)
            preference = -here if policy == "soft-anti-affinity" else here if policy == "soft-affinity" else 0
            return (preference, free.get(host.id, 0))

        return sorted(hosts, key=score, reverse=True)
