"""The volume reconciler after a crash, against a real database and real qcow2 files: interrupted tasks
are finished, a failure ends in an error status with its reason, and files no row owns are removed."""

import uuid

import pytest

from onestack.db import migrate
from onestack.db.engine import Database
from onestack.drivers.volumefiles import VolumeFiles, backing_of
from onestack.services.volume.models import DEFAULT_TYPE_ID, Snapshot, Volume
from onestack.services.volume.reconcile import Reconciler


@pytest.fixture
def world(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'cloud.db'}")
    migrate.upgrade(db)
    files = VolumeFiles(tmp_path / "volumes")
    yield db, files, Reconciler(db, files)
    db.dispose()


def add_volume(db: Database, **fields) -> str:
    ident = str(uuid.uuid4())
    with db.write() as session:
        session.add(Volume(id=ident, project_id="p", user_id="u", size=1, status="creating", task="create",
                           availability_zone="nova", type_id=DEFAULT_TYPE_ID, metadata_={}, image_metadata={},
                           **fields))
    return ident


def add_snapshot(db: Database, volume_id: str, **fields) -> str:
    ident = str(uuid.uuid4())
    with db.write() as session:
        session.add(Snapshot(id=ident, project_id="p", user_id="u", volume_id=volume_id, size=1,
                             status="creating", task="create", metadata_={}, **fields))
    return ident


def settle(reconciler: Reconciler) -> None:
    """Handle every pending key until none is left (what the loop does, in this thread)."""
    for _ in range(20):
        keys = reconciler.pending()
        if not keys:
            return
        for key in keys:
            reconciler.step(key)
    raise AssertionError(f"tasks never finished: {reconciler.pending()}")


def row(db: Database, model, ident: str):
    with db.read() as session:
        return session.get(model, ident)


def test_a_create_interrupted_with_a_partial_file_is_finished(world):
    db, files, reconciler = world
    volume_id = add_volume(db)
    files.root.mkdir(parents=True)
    (files.root / f".volume-{volume_id}.qcow2.partial").write_bytes(b"half written")
    reconciler.recover()
    settle(reconciler)
    assert row(db, Volume, volume_id).status == "available"
    assert files.volume(volume_id).exists()
    assert sorted(p.name for p in files.root.iterdir()) == [f"volume-{volume_id}.qcow2"]


def test_a_snapshot_interrupted_between_its_renames_is_finished(world):
    db, files, reconciler = world
    volume_id = add_volume(db)
    settle(reconciler)
    snapshot_id = add_snapshot(db, volume_id)
    # What take_snapshot had done when the process died: the overlay made, the volume's file frozen.
    overlay = files.root / f".volume-{volume_id}.qcow2.partial"
    files.create_blank("scratch", 1)
    files.volume("scratch").replace(overlay)
    files.volume(volume_id).replace(files.snapshot(snapshot_id))
    reconciler.recover()
    settle(reconciler)
    assert row(db, Snapshot, snapshot_id).status == "available"
    assert files.volume(volume_id).exists() and not overlay.exists()


def test_a_delete_interrupted_after_the_file_went_removes_the_row(world):
    db, files, reconciler = world
    volume_id = add_volume(db)
    settle(reconciler)
    with db.write() as session:
        session.get(Volume, volume_id).task = "delete"
    files.delete_volume(volume_id)
    settle(reconciler)
    assert row(db, Volume, volume_id) is None


def test_a_task_that_cannot_succeed_ends_in_error_with_its_reason(world):
    db, files, reconciler = world
    volume_id = add_volume(db, snapshot_id=str(uuid.uuid4()))
    settle(reconciler)
    failed = row(db, Volume, volume_id)
    assert (failed.status, failed.task) == ("error", None) and "are missing" in failed.fault


def test_files_no_row_owns_are_removed_at_start(world):
    db, files, reconciler = world
    kept = add_volume(db)
    settle(reconciler)
    snapshot_id = add_snapshot(db, kept)
    settle(reconciler)
    files.create_blank(str(uuid.uuid4()), 1)
    stray = files.root / f".snapshot-{uuid.uuid4()}.qcow2.partial"
    stray.write_bytes(b"")
    reconciler.recover()
    assert sorted(p.name for p in files.root.iterdir()) == sorted(
        [f"volume-{kept}.qcow2", f"snapshot-{snapshot_id}.qcow2"])
    assert backing_of(files.volume(kept)) == f"snapshot-{snapshot_id}.qcow2"


def test_a_clone_waits_for_its_frozen_copy_and_takes_it_away_when_deleted(world):
    db, files, reconciler = world
    source = add_volume(db)
    settle(reconciler)
    frozen = add_snapshot(db, source, hidden=True)
    clone = add_volume(db, clone_of=frozen, source_volid=source)
    assert reconciler.step(f"volume:{clone}") is not None  # waits: the copy is not made yet
    settle(reconciler)
    assert backing_of(files.volume(clone)) == f"snapshot-{frozen}.qcow2"
    with db.write() as session:
        session.get(Volume, clone).task = "delete"
    settle(reconciler)
    assert row(db, Snapshot, frozen) is None and not files.snapshot(frozen).exists()
    assert backing_of(files.volume(source)) is None
