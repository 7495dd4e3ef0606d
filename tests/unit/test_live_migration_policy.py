"""The cloud's live-migration policy, and the fake driver's migration that the API tests lean on."""

from types import SimpleNamespace

from onestack.drivers.compute import (
    AUTO_CONVERGE,
    PAUSED_COPY,
    POST_COPY,
    PRE_COPY,
    InstanceSpec,
    MigrationProgress,
)
from onestack.drivers.fake import DIRTY_RATE_KEY, MIB, FakeDriver
from onestack.services.compute.service import live_migration
from onestack.services.compute.service.live_migration import Policy, forced_mode, steer

POLICY = Policy(first_downtime_ms=100, downtime_step_ms=100, max_downtime_ms=300, switch_after=4)


def test_pre_copy_downtime_rises_step_by_step_up_to_its_ceiling():
    def at(iteration, downtime):
        return steer(MigrationProgress("active", PRE_COPY, iteration, downtime, True), POLICY)

    assert at(0, 100) == (None, None)
    assert at(1, 100) == (200, None)
    assert at(2, 200) == (300, None)
    assert at(3, 300) == (None, None)  # the ceiling


def test_after_its_passes_post_copy_where_armed_else_auto_converge_and_never_compression():
    assert steer(MigrationProgress("active", PRE_COPY, 4, 300, True), POLICY) == (None, POST_COPY)
    assert steer(MigrationProgress("active", PRE_COPY, 4, 300, False), POLICY) == (None, AUTO_CONVERGE)
    unarmed = MigrationProgress("active", PRE_COPY, 4, 300, False, converge_possible=False)
    assert steer(unarmed, POLICY) == (None, PAUSED_COPY)  # nothing armed (TCG): one last pass, paused
    for mode in (POST_COPY, AUTO_CONVERGE):  # once switched it finishes on its own
        assert steer(MigrationProgress("active", mode, 9, 300, True), POLICY) == (None, None)
    assert forced_mode(MigrationProgress("active", postcopy_possible=False)) == PAUSED_COPY


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def drivers(dirty_mb_per_s: int, memory_mb: int = 1024, bandwidth_mib: int = 0):
    source, dest, clock = FakeDriver(), FakeDriver(), Clock()
    source._clock = dest._clock = clock
    spec = InstanceSpec(uuid="u1", name="instance-1", hostname="vm", vcpus=1, memory_mb=memory_mb, root_gb=1,
                        metadata={DIRTY_RATE_KEY: str(dirty_mb_per_s)})
    source.spawn(spec)
    uri = dest.prepare_incoming(spec, "192.0.2.2")
    source.live_migrate("u1", uri, 100, bandwidth_mib)
    return source, dest, clock


def test_an_idle_fake_guest_migrates_in_one_pass_at_the_links_speed():
    source, dest, clock = drivers(0)
    clock.now = 0.5
    half = source.migration_progress("u1")
    assert (half.status, half.memory_processed, half.memory_remaining) == ("active", 512 * MIB, 512 * MIB)
    clock.now = 1.01
    assert source.migration_progress("u1").status == "completed"
    dest.finish_incoming("u1")
    assert dest.instance_info("u1").power_state == 1


def test_a_capped_migration_sends_no_faster_than_its_cap():
    """``compute.live_migration_bandwidth``: 256 MiB/s over the fake hosts' 1 GiB/s link."""
    source, _, clock = drivers(0, bandwidth_mib=256)
    clock.now = 1.0
    progress = source.migration_progress("u1")
    assert (progress.status, progress.memory_processed) == ("active", 256 * MIB)
    clock.now = 4.01
    assert source.migration_progress("u1").status == "completed"


def test_a_fake_guest_dirtying_faster_than_the_link_needs_the_policy():
    source, _, clock = drivers(4096)
    for second in range(1, 20):
        clock.now = float(second)
        progress = source.migration_progress("u1")
        assert progress.status == "active"
        assert progress.memory_remaining == 1024 * MIB  # every pass finds it all dirty again
    source.steer_migration("u1", mode=POST_COPY)
    clock.now = 21.0
    assert source.migration_progress("u1").status == "completed"


def test_auto_converge_throttles_the_guest_until_pre_copy_ends_and_abort_keeps_it_running():
    source, _, clock = drivers(1536)
    source.steer_migration("u1", mode=AUTO_CONVERGE)
    statuses = []
    for tenth in range(1, 80):
        clock.now = tenth / 10
        statuses.append(source.migration_progress("u1").status)
    assert statuses[-1] == "completed"
    other, dest, clock = drivers(4096)
    clock.now = 2.0
    other.abort_migration("u1")
    assert other.migration_progress("u1").status == "cancelled" and other.instance_info("u1").power_state == 1
    dest.abort_incoming("u1")
    assert dest.list_instances() == []


def test_shared_storage_counts_ephemeral_and_swap_as_shared_only_where_guests_disks_go_to_ceph():
    in_ceph = {"img-rbd": "images/img-rbd@snap"}.get

    def guest(image_ref: str, **flavor) -> SimpleNamespace:
        return SimpleNamespace(image_ref=image_ref, flavor={"ephemeral": 0, "swap": 0, **flavor})
    # files: a flavor's ephemeral or swap disk is local, whatever the root disk is
    assert not live_migration.shared_storage(guest("", ephemeral=1), None)
    assert not live_migration.shared_storage(guest("", swap=64), None)
    assert live_migration.shared_storage(guest(""), None)
    assert not live_migration.shared_storage(guest("img-rbd"), None)
    # images_type rbd: ephemeral and swap disks are in Ceph too; the root disk is there whether its image is
    # (a clone) or not (a raw copy)
    assert live_migration.shared_storage(guest("img-rbd", ephemeral=1, swap=64), in_ceph)
    assert live_migration.shared_storage(guest("", ephemeral=1), in_ceph)
    assert live_migration.shared_storage(guest("img-file", ephemeral=1), in_ceph)
