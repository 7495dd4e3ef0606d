"""The scheduler's host view on SQLite and PostgreSQL: boots read placement's providers as last read, less
their own claims; a view that is out of date costs a refused claim or a second read, never a wrong
"no valid host" nor a claim placement would not grant."""

from __future__ import annotations

import datetime
import types
import uuid

import pytest
from sqlalchemy import event

from onestack import registry
from onestack.db.base import utcnow
from onestack.db.migrate import upgrade
from onestack.services.compute.models import ComputeHost
from onestack.services.compute.service.host_records import SERVICE_DOWN_TIME
from onestack.services.compute.service.placement_client import PlacementClient
from onestack.services.compute.service.scheduler import NoValidHost, Scheduler
from onestack.services.placement.service import PlacementService
from onestack.services.placement.service.facade import PlacementFacade
from onestack.services.placement.service.snapshot import Snapshot

FLAVOR = {"vcpus": 1, "ram": 512, "disk": 1}
WANTED = {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}


def _instance():
    return types.SimpleNamespace(id=str(uuid.uuid4()), flavor=FLAVOR, project_id="p", user_id="u",
                                 server_group_id=None, requested_availability_zone=None, task_args=None,
                                 guest_kind="vm", scheduler_hints=None)


@pytest.fixture
def cloud(db):
    """One compute host with room for two servers, its provider, and a scheduler whose view never ages."""
    upgrade(db, registry.METADATA)
    placement = PlacementService(db)
    host_id = str(uuid.uuid4())
    with db.write() as session:
        session.add(ComputeHost(id=host_id, number=1, host="h1", driver="fake"))
    placement.ensure_provider("h1", host_id, {"VCPU": {"total": 2}, "MEMORY_MB": {"total": 4096},
                                              "DISK_GB": {"total": 100}}, ["COMPUTE_NODE"])
    scheduler = Scheduler(db, PlacementClient(PlacementFacade(placement)))
    scheduler.view._max_age = 3600  # only the scheduler's own rules may make it read placement again
    return types.SimpleNamespace(placement=placement, scheduler=scheduler, host_id=host_id)


def test_the_view_counts_its_own_claims(cloud):
    placed = [cloud.scheduler.place(_instance(), lambda host: True) for _ in range(2)]
    assert placed == ["h1", "h1"]
    free, fresh = cloud.scheduler.view.fitting(WANTED)
    assert free == {} and not fresh  # full by its own reckoning, without reading placement again
    with pytest.raises(NoValidHost, match="not enough hosts"):
        cloud.scheduler.place(_instance(), lambda host: True)


def test_room_given_back_elsewhere_is_found_before_no_valid_host(cloud):
    first = _instance()
    for instance in (first, _instance()):
        cloud.scheduler.place(instance, lambda host: True)
    cloud.placement.release(first.id)  # a delete the view did not see
    assert cloud.scheduler.place(_instance(), lambda host: True) == "h1"


def test_room_taken_elsewhere_is_refused_by_placement(cloud):
    cloud.scheduler.place(_instance(), lambda host: True)
    cloud.scheduler.view.fitting(WANTED)
    # another process claims the last unit behind the view's back
    cloud.placement.claim(str(uuid.uuid4()), {cloud.host_id: {"VCPU": 1}}, "p", "u")
    late = _instance()
    with pytest.raises(NoValidHost, match="claimed by another request first"):
        cloud.scheduler.place(late, lambda host: True)
    assert cloud.placement.providers_of(late.id) == set()


def test_a_provider_registered_while_placement_reads_its_snapshot_is_left_out_not_a_failure(cloud, db):
    """On PostgreSQL each of the snapshot's statements reads what is committed when it runs: a host joining
    between its read of the providers and its read of their traits (what `onestack compute join` does while
    the controller answers) must not make the read fail (it was a KeyError, a 500)."""
    joined: list[str] = []

    def join_once(conn, cursor, statement, parameters, context, executemany):
        if not joined and "FROM placement_provider" in statement and "placement_provider_trait" not in statement \
                and "placement_inventory" not in statement:
            joined.append(str(uuid.uuid4()))
            cloud.placement.ensure_provider("joining", joined[0], {"VCPU": {"total": 2}}, ["COMPUTE_NODE"])

    event.listen(db.engine, "after_cursor_execute", join_once)
    try:
        with db.read() as session:
            snap = Snapshot(session)
    finally:
        event.remove(db.engine, "after_cursor_execute", join_once)
    assert joined, "the snapshot read no providers"
    assert cloud.host_id in snap.by_uuid and joined[0] not in snap.by_uuid
    assert snap.by_uuid[cloud.host_id].traits == {"COMPUTE_NODE"}
    with db.read() as session:  # the next snapshot has it, whole
        assert Snapshot(session).by_uuid[joined[0]].inventories["VCPU"].total == 2


def test_a_host_whose_heartbeat_is_gone_is_chosen_only_when_this_process_runs_it(cloud, db):
    """Nova's ComputeFilter: a host is up when its service heartbeats within service_down_time (or, here,
    when this very process runs it)."""
    with db.write() as session:
        session.get(ComputeHost, cloud.host_id).heartbeat_at = utcnow() - datetime.timedelta(
            seconds=SERVICE_DOWN_TIME + 1)
    with pytest.raises(NoValidHost):
        cloud.scheduler.place(_instance(), lambda host: True)
    cloud.scheduler.running = lambda: ["h1"]
    assert cloud.scheduler.place(_instance(), lambda host: True) == "h1"
