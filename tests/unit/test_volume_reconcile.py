"""The volume reconciler after a crash, against a real database and real qcow2 files: interrupted tasks
are finished, a failure ends in an error status with its reason, and files no row owns are removed."""

import subprocess
import uuid

import pytest

from onestack import registry
from onestack.config import Settings
from onestack.db import migrate
from onestack.db.engine import Database
from onestack.drivers.secrets import Luks
from onestack.drivers.volumefiles import VolumeFileError, VolumeFiles, backing_of, inspect_image
from onestack.services.volume.models import DEFAULT_TYPE_ID, Backup, Snapshot, Volume
from onestack.services.volume.reconcile import Reconciler
from onestack.services.volume.service.stores import VolumeStores


@pytest.fixture
def world(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'cloud.db'}")
    migrate.upgrade(db, registry.METADATA)
    stores = VolumeStores(Settings(data_dir=tmp_path))
    files = stores.files
    yield db, files, Reconciler(db, stores)
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
    (files.root / f".volume-{volume_id}.create.partial").write_bytes(b"half written")
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


def cache_image(files: VolumeFiles, image_id: str) -> None:
    """An image's cached file, as a finished download leaves it."""
    downloaded = files.download_target(image_id)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(downloaded), "64M"], check=True)
    files.cache_image(image_id, downloaded, "qcow2")


def test_a_create_from_an_image_cut_by_a_restart_ends_in_error_and_leaves_no_file(world):
    db, files, reconciler = world
    image_id, other_image = str(uuid.uuid4()), str(uuid.uuid4())
    half_done = add_volume(db, image_id=image_id, task_token="a-token")
    not_started = add_volume(db, image_id=other_image, task_token="a-token")
    # What a kill -9 left: the image cached, the volume's overlay made but its row not yet told, and the
    # other image half downloaded and half converted.
    cache_image(files, image_id)
    files.create_from_image(half_done, image_id, 1)
    files.download_target(other_image).write_bytes(b"half an image")
    (files.root / f".image-{other_image}.qcow2.partial").write_bytes(b"half converted")
    reconciler.recover()
    for volume_id in (half_done, not_started):
        ended = row(db, Volume, volume_id)
        assert (ended.status, ended.task, ended.task_token) == ("error", None, None)
        assert "restarted while creating it from image" in ended.fault
    assert list(files.root.iterdir()) == []
    assert reconciler.pending() == []


def test_an_upload_cut_by_a_restart_goes_back_to_the_status_it_left(world):
    db, files, reconciler = world
    volume_id = add_volume(db)
    settle(reconciler)
    image_id = str(uuid.uuid4())
    with db.write() as session:
        volume = session.get(Volume, volume_id)
        volume.status, volume.previous_status, volume.task = "uploading", "in-use", "upload"
        volume.task_args, volume.task_token = {"image_id": image_id, "disk_format": "raw"}, "a-token"
    files.work_file(volume_id, "upload").write_bytes(b"part of the data")
    reconciler.recover()
    ended = row(db, Volume, volume_id)
    assert (ended.status, ended.task, ended.task_token, ended.previous_status) == ("in-use", None, None, None)
    assert image_id in ended.fault
    assert [p.name for p in files.root.iterdir()] == [f"volume-{volume_id}.qcow2"]


def test_a_cached_image_stays_while_a_file_backs_on_it(world):
    db, files, reconciler = world
    image_id = str(uuid.uuid4())
    cache_image(files, image_id)
    user = add_volume(db, image_id=image_id)
    files.create_from_image(user, image_id, 1)
    with db.write() as session:
        session.get(Volume, user).task = None
    snapshot_id = add_snapshot(db, user)
    settle(reconciler)  # the volume's file is frozen as the snapshot, still on the image
    reconciler.recover()
    assert files.image(image_id).exists()
    with db.write() as session:
        session.get(Volume, user).task = "delete"
        session.get(Volume, user).cascade = True
        session.get(Snapshot, snapshot_id).task = "delete"
    settle(reconciler)
    assert list(files.root.iterdir()) == []


@pytest.mark.parametrize("declared, make, refusal", [
    ("qcow2", ["-f", "raw"], "not the declared qcow2"),
    ("raw", ["-f", "qcow2"], "not the declared raw"),
    ("qcow2", ["-f", "qcow2", "-b", "/etc/passwd", "-F", "raw"], "backing"),
    ("ami", ["-f", "raw"], "cannot be made a volume"),
])
def test_image_data_that_are_not_what_they_claim_are_refused(tmp_path, declared, make, refusal):
    path = tmp_path / "image"
    subprocess.run(["qemu-img", "create", "-q", *make, str(path), "1M"], check=True)
    with pytest.raises(VolumeFileError, match=refusal):
        inspect_image(path, declared)


def add_backup(db: Database, volume_id: str, **fields) -> str:
    ident = str(uuid.uuid4())
    values = {"status": "creating", "task": "create", **fields}
    with db.write() as session:
        session.add(Backup(id=ident, project_id="p", user_id="u", volume_id=volume_id, size=1,
                           availability_zone="nova", driver="posix", container="volumebackups",
                           object_prefix=f"volume_{volume_id}/20240101000000/az_nova_backup_{ident}",
                           metadata_={}, **values))
    return ident


def test_a_backup_cut_by_a_restart_ends_in_error_and_its_objects_go(world):
    db, files, reconciler = world
    volume_id = add_volume(db)
    settle(reconciler)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 64k", str(files.volume(volume_id))],
                   check=True, capture_output=True)
    done = add_backup(db, volume_id)
    settle(reconciler)
    assert row(db, Backup, done).status == "available"
    with db.write() as session:
        volume = session.get(Volume, volume_id)
        volume.status, volume.previous_status = "backing-up", "available"
    cut = add_backup(db, volume_id)
    # What the kill left: a chunk stored, one half written, the volume's data half exported.
    store = files.root.parent / "backups" / "volumebackups" / f"volume_{volume_id}" / "20240101000000"
    (store / f"az_nova_backup_{cut}-00001").write_bytes(b"a stored chunk")
    (store / f".az_nova_backup_{cut}-00002.partial").write_bytes(b"half a chunk")
    files.work_file(volume_id, f"backup-{cut}").write_bytes(b"half the data")
    reconciler.recover()
    ended = row(db, Backup, cut)
    assert (ended.status, ended.task) == ("error", "purge") and "restarted while making it" in ended.fault
    assert row(db, Volume, volume_id).status == "available"
    settle(reconciler)
    assert row(db, Backup, cut).task is None
    assert sorted(p.name for p in store.iterdir()) == sorted(
        [f"az_nova_backup_{done}-00001", f"az_nova_backup_{done}_metadata"])
    assert [p.name for p in files.root.iterdir()] == [f"volume-{volume_id}.qcow2"]


def restore_under_way(db, reconciler) -> tuple[str, str]:
    """A backup of a new volume being restored into another one, as a killed process left it: (backup, target)."""
    source = add_volume(db)
    settle(reconciler)
    backup_id = add_backup(db, source)
    settle(reconciler)
    target = add_volume(db)
    settle(reconciler)
    with db.write() as session:
        session.get(Volume, target).status = "restoring-backup"
        backup = session.get(Backup, backup_id)
        backup.status, backup.task, backup.restore_volume_id = "restoring", "restore", target
    return backup_id, target


def test_a_restore_cut_by_a_restart_leaves_the_backup_and_an_error_restoring_volume(world):
    db, files, reconciler = world
    backup_id, target = restore_under_way(db, reconciler)
    files.work_file(target, "restore").write_bytes(b"half restored")
    reconciler.recover()
    assert row(db, Volume, target).status == "error_restoring"
    assert (row(db, Backup, backup_id).status, row(db, Backup, backup_id).task) == ("available", None)
    assert not files.work_file(target, "restore").exists()


def _group_rows(db: Database, **fields) -> tuple[str, str]:
    """A group type and a group of it."""
    from onestack.services.volume.models import Group, GroupType

    type_id, group_id = str(uuid.uuid4()), str(uuid.uuid4())
    with db.write() as session:
        session.add(GroupType(id=type_id, name=type_id, is_public=True, group_specs={}))
        session.flush()
        session.add(Group(id=group_id, project_id="p", user_id="u", availability_zone="nova",
                          group_type_id=type_id, volume_type_ids=[DEFAULT_TYPE_ID], **fields))
    return type_id, group_id


def test_groups_follow_their_members_across_a_restart(world):
    from onestack.services.volume.models import Group, GroupSnapshot

    db, files, reconciler = world
    # a group being filled when the process died ends in error, keeping what was made
    _, filling = _group_rows(db, status="creating", task="fill")
    made = add_volume(db, group_id=filling)
    # a group made from a source is available once its volumes are
    _, creating = _group_rows(db, status="creating", task="create")
    member = add_volume(db, group_id=creating)
    # a group snapshot is available once its snapshots are; a deleted one goes with its last snapshot
    type_id, holder = _group_rows(db, status="available")
    volume = add_volume(db, group_id=holder)
    taking, going = str(uuid.uuid4()), str(uuid.uuid4())
    with db.write() as session:
        session.add(GroupSnapshot(id=taking, project_id="p", user_id="u", group_id=holder, group_type_id=type_id,
                                  status="creating", task="create"))
    taken = add_snapshot(db, volume, group_snapshot_id=taking)
    doomed = add_snapshot(db, volume)
    settle(reconciler)  # the volumes and snapshots are made: the group snapshot is available
    assert row(db, GroupSnapshot, taking).status == "available" and files.snapshot(taken).exists()
    with db.write() as session:
        session.add(GroupSnapshot(id=going, project_id="p", user_id="u", group_id=holder, group_type_id=type_id,
                                  status="deleting", task="delete"))
        snapshot = session.get(Snapshot, doomed)
        snapshot.group_snapshot_id, snapshot.status, snapshot.task = going, "deleting", "delete"
    reconciler.recover()
    settle(reconciler)
    assert (row(db, Group, filling).status, row(db, Group, filling).task) == ("error", None)
    assert row(db, Volume, made).group_id == filling and row(db, Volume, made).status == "available"
    assert (row(db, Group, creating).status, row(db, Volume, member).status) == ("available", "available")
    assert (row(db, GroupSnapshot, taking).status, row(db, GroupSnapshot, taking).task) == ("available", None)
    assert row(db, Snapshot, doomed) is None and row(db, GroupSnapshot, going) is None
    assert files.volume(volume).exists() and not files.snapshot(doomed).exists()


def test_a_restore_cut_while_its_data_were_imported_leaves_no_temporary_file(world):
    """A kill -9 while a restore turned the backup's data into the volume's file left that file's temporary
    (``.volume-<id>.qcow2.partial``, the name a snapshot's overlay also has) for good: the volume exists, so
    start-up kept it. Temporaries now name their purpose and start-up removes them; the overlay name is kept
    only while a guest may write to it."""
    db, files, reconciler = world
    backup_id, target = restore_under_way(db, reconciler)
    left = [files.root / f".volume-{target}.import.partial", files.root / f".volume-{target}.qcow2.partial",
            files.root / f".snapshot-{str(uuid.uuid4())}.copy.partial"]
    for path in left:
        path.write_bytes(b"half imported")
    reconciler.recover()
    assert row(db, Volume, target).status == "error_restoring"
    assert [p.name for p in files.root.iterdir() if p.name.startswith(".")] == []


def test_the_overlay_of_a_snapshot_being_taken_stays_at_start(world):
    db, files, reconciler = world
    volume_id = add_volume(db)
    settle(reconciler)
    with db.write() as session:
        session.get(Volume, volume_id).status = "in-use"
    overlay = files.overlay(files.volume(volume_id))
    overlay.write_bytes(b"a guest writes here")
    reconciler.recover()
    assert overlay.read_bytes() == b"a guest writes here"


def test_a_qemu_img_that_fails_leaves_no_temporary_file(world):
    """Restoring an encrypted backup whose bytes do not open with the volume's key, and making a volume from a
    cached image that is not what its name says: qemu-img fails, and its half-made file goes with it."""
    _, files, _ = world
    files.root.mkdir(parents=True, exist_ok=True)
    raw = files.root.parent / "not-luks.raw"
    raw.write_bytes(b"\0" * 65536)
    luks = Luks(secret=b"k" * 32)
    with pytest.raises(VolumeFileError):
        files.import_raw(str(uuid.uuid4()), raw, 1, luks)
    image_id = str(uuid.uuid4())
    files.image(image_id).write_bytes(b"QFI\xfb" + b"\0" * 20 + (1024).to_bytes(8, "big") + b"\0" * 4096)
    with pytest.raises(VolumeFileError):
        files.create_from_image(str(uuid.uuid4()), image_id, 1, luks)
    assert sorted(p.name for p in files.root.iterdir()) == [f"image-{image_id}.qcow2"]
