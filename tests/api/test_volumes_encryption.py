"""Volume types' encryption over HTTP (/types/{id}/encryption): admins create, show, update and delete it;
a type volumes use cannot change it; volumes of an encrypted type are encrypted for real: QEMU's LUKS in
their files, a key per volume (cloned for a volume made from one, and for a backup), gone with it."""

import subprocess
import uuid

from onestack.db.engine import Database
from onestack.services.volume.service.keys import KeyManager
from tests.api.helpers import ok
from tests.api.volume_helpers import image_info, snapshot_file, volume_file

SPEC = {"provider": "luks", "cipher": "aes-xts-plain64", "key_size": 256, "control_location": "front-end"}


def _type(cinder_admin) -> dict:
    return ok(cinder_admin.post("/types", json={"volume_type": {"name": f"enc-{uuid.uuid4().hex[:8]}"}}))[
        "volume_type"]


def test_an_encryption_type_is_created_shown_updated_and_deleted(cinder_admin):
    volume_type = _type(cinder_admin)
    path = f"/types/{volume_type['id']}/encryption"
    assert ok(cinder_admin.get(path)) == {}
    made = ok(cinder_admin.post(path, json={"encryption": SPEC}))["encryption"]
    assert made == {**SPEC, "volume_type_id": volume_type["id"], "encryption_id": made["encryption_id"]}
    shown = ok(cinder_admin.get(path))
    assert {k: shown[k] for k in SPEC} == SPEC and shown["deleted"] is False and shown["created_at"]
    again = cinder_admin.post(path, json={"encryption": SPEC})
    assert again.status_code == 400 and "already exists" in again.text
    # cinderclient names "provider" where the encryption id goes: the id in the URL is not compared
    changed = ok(cinder_admin.put(f"{path}/provider", json={"encryption": {"key_size": "128",
                                                                            "control_location": "back-end"}}))
    assert changed == {"encryption": {"key_size": 128, "control_location": "back-end"}}
    assert ok(cinder_admin.get(f"{path}/cipher")) == {"cipher": "aes-xts-plain64"}
    assert ok(cinder_admin.get(f"{path}/key_size")) == {"key_size": 128}
    assert cinder_admin.get(f"{path}/nothing").status_code == 404
    ok(cinder_admin.delete(f"{path}/{made['encryption_id']}"), 202)
    assert ok(cinder_admin.get(path)) == {}
    assert cinder_admin.delete(f"{path}/{made['encryption_id']}").status_code == 404
    assert cinder_admin.put(f"{path}/x", json={"encryption": {"cipher": "c"}}).status_code == 404
    # the type goes with its encryption
    ok(cinder_admin.post(path, json={"encryption": SPEC}))
    ok(cinder_admin.delete(f"/types/{volume_type['id']}"), 202)
    assert cinder_admin.get(path).status_code == 404


def test_bad_encryption_bodies_and_types_are_refused(cinder_admin):
    volume_type = _type(cinder_admin)
    path = f"/types/{volume_type['id']}/encryption"
    for body in ({}, {"encryption": {}}, {"encryption": {**SPEC, "control_location": "middle"}},
                 {"encryption": {**SPEC, "key_size": -1}}, {"encryption": {**SPEC, "key_size": "big"}},
                 {"encryption": {**SPEC, "colour": "red"}}, {"encryption": "luks"}):
        assert cinder_admin.post(path, json=body).status_code == 400, body
    missing = cinder_admin.post(f"/types/{uuid.uuid4()}/encryption", json={"encryption": SPEC})
    assert missing.status_code == 404 and "itemNotFound" in missing.text
    ok(cinder_admin.delete(f"/types/{volume_type['id']}"), 202)


def test_only_admins_manage_encryption(cinder_admin, storage):
    volume_type = _type(cinder_admin)
    path = f"/types/{volume_type['id']}/encryption"
    made = ok(cinder_admin.post(path, json={"encryption": SPEC}))["encryption"]
    assert storage.http.get(path).status_code == 403
    assert storage.http.post(path, json={"encryption": SPEC}).status_code == 403
    assert storage.http.put(f"{path}/x", json={"encryption": {"cipher": "c"}}).status_code == 403
    assert storage.http.delete(f"{path}/{made['encryption_id']}").status_code == 403
    ok(cinder_admin.delete(f"{path}/{made['encryption_id']}"), 202)
    ok(cinder_admin.delete(f"/types/{volume_type['id']}"), 202)


def test_a_type_in_use_keeps_its_encryption_and_its_volumes_are_encrypted(cinder_admin, storage):
    volume_type = _type(cinder_admin)
    path = f"/types/{volume_type['id']}/encryption"
    made = ok(cinder_admin.post(path, json={"encryption": SPEC}))["encryption"]
    plain = storage.volume()
    assert plain["encrypted"] is False
    volume = storage.volume(volume_type=volume_type["id"])
    assert volume["encrypted"] is True
    listed = ok(storage.http.get("/volumes/detail"))["volumes"]
    assert {v["id"]: v["encrypted"] for v in listed} == {plain["id"]: False, volume["id"]: True}
    for call, message in ((cinder_admin.put(f"{path}/x", json={"encryption": {"cipher": "c"}}), "update"),
                          (cinder_admin.delete(f"{path}/{made['encryption_id']}"), "delete"),
                          (cinder_admin.post(f"/types/{_in_use_without(cinder_admin, storage)}/encryption",
                                             json={"encryption": SPEC}), "create")):
        assert call.status_code == 400 and f"Cannot {message} encryption specs" in call.text, call.text
    assert ok(cinder_admin.get(path))["cipher"] == SPEC["cipher"]
    ok(storage.http.delete(f"/volumes/{volume['id']}"), 202)
    storage.gone(f"/volumes/{volume['id']}")
    ok(cinder_admin.delete(f"{path}/{made['encryption_id']}"), 202)


def _in_use_without(cinder_admin, storage) -> str:
    """A type with no encryption that a volume uses."""
    volume_type = _type(cinder_admin)
    storage.volume(volume_type=volume_type["id"])
    return volume_type["id"]


# -- the data really encrypted (QEMU's LUKS in each volume's qcow2 file, a key per volume) ----------------
LUKS_MAGIC = b"LUKS\xba\xbe"
MARK = 0x5A  # 64 KiB of it: a run no ciphertext holds


def _passphrase(cloud, key_id: str) -> str | None:
    """The volume's passphrase as QEMU is given it (what the key manager unwraps), None once the key is gone."""
    db = Database(cloud.database or f"sqlite:///{cloud.data_dir / 'onestack.db'}")
    try:
        with db.read() as session:
            if not KeyManager(cloud.data_dir / "volume-keys").exists(session, key_id):
                return None
            return KeyManager(cloud.data_dir / "volume-keys").secret_of(session, key_id).decode()
    finally:
        db.dispose()


def _qemu_io(path, passphrase: str | None, command: str) -> subprocess.CompletedProcess:
    shared = ["-r", "-U"] if command.startswith("read") else []
    if passphrase is None:
        return subprocess.run(["qemu-io", *shared, "-f", "qcow2", "-c", command, str(path)], capture_output=True,
                              text=True)
    return subprocess.run(["qemu-io", *shared, "--object", f"secret,id=s,data={passphrase}", "--image-opts",
                           f"driver=qcow2,file.filename={path},encrypt.key-secret=s", "-c", command],
                          capture_output=True, text=True)


def _holds_mark(path, passphrase: str) -> bool:
    out = _qemu_io(path, passphrase, f"read -P {MARK} 0 64k").stdout
    return "read 65536/65536" in out and "Pattern verification failed" not in out


def _encrypted_type(cinder_admin, **spec) -> str:
    volume_type = _type(cinder_admin)
    ok(cinder_admin.post(f"/types/{volume_type['id']}/encryption", json={"encryption": {**SPEC, **spec}}))
    return volume_type["id"]


def test_an_encrypted_volume_holds_only_ciphertext_and_its_key_goes_with_it(cloud, cinder_admin, storage):
    volume = storage.volume(volume_type=_encrypted_type(cinder_admin))
    key_id = volume["encryption_key_id"]
    assert volume["encrypted"] is True and key_id
    path = volume_file(cloud, volume["id"])
    info = image_info(path)
    assert info["encrypted"] is True and info["format-specific"]["data"]["encrypt"]["format"] == "luks"
    assert info["format-specific"]["data"]["encrypt"]["cipher-alg"] == "aes-128"  # xts halves 256 bits
    assert LUKS_MAGIC in path.read_bytes()[:4 * 1024 * 1024]
    # without the key QEMU cannot read it; with it, what is written reads back, and the file holds no clear run
    assert _qemu_io(path, None, "read 0 4k").returncode != 0
    passphrase = _passphrase(cloud, key_id)
    assert _qemu_io(path, passphrase, f"write -P {MARK} 0 64k").returncode == 0
    assert _holds_mark(path, passphrase)
    assert bytes([MARK]) * 4096 not in path.read_bytes()
    # a snapshot and a volume from it: a clone of the key (another id, the same bytes), data still readable
    snapshot = storage.snapshot(volume["id"])
    copy = storage.volume(snapshot_id=snapshot["id"], size=2)
    assert copy["encrypted"] is True and copy["encryption_key_id"] not in (None, key_id)
    copy_passphrase = _passphrase(cloud, copy["encryption_key_id"])
    assert copy_passphrase == passphrase and _holds_mark(volume_file(cloud, copy["id"]), copy_passphrase)
    assert image_info(volume_file(cloud, copy["id"]))["virtual-size"] == 2 * 1024**3
    assert bytes([MARK]) * 4096 not in snapshot_file(cloud, snapshot["id"]).read_bytes()
    # a volume of another kind is not made from it, and neither is an image
    mixed = storage.http.post("/volumes", json={"volume": {"snapshot_id": snapshot["id"],
                                                           "volume_type": _in_use_without(cinder_admin, storage)}})
    assert mixed.status_code == 400 and "encrypted" in mixed.text
    upload = storage.http.post(f"/volumes/{copy['id']}/action", json={"os-volume_upload_image": {
        "image_name": "x", "disk_format": "raw", "container_format": "bare"}})
    assert upload.status_code == 400 and "encrypted" in upload.text
    # connected for a host as Cinder does: the connection says it is encrypted and carries no key (compute
    # asks the volume service for it; tests/drivers/test_qemu_encrypted_volumes.py gives it to real guests)
    connect = storage.http.post(f"/volumes/{copy['id']}/action", json={"os-initialize_connection": {
        "connector": {"host": "h"}}})
    assert ok(connect)["connection_info"]["data"]["encrypted"] is True
    assert copy_passphrase not in connect.text
    # each key goes with its volume
    for made in (copy, volume):
        if made is volume:
            ok(storage.http.delete(f"/snapshots/{snapshot['id']}"), 202)
            storage.gone(f"/snapshots/{snapshot['id']}")
        ok(storage.http.delete(f"/volumes/{made['id']}"), 202)
        storage.gone(f"/volumes/{made['id']}")
        assert _passphrase(cloud, made["encryption_key_id"]) is None


def test_a_backup_of_an_encrypted_volume_holds_its_ciphertext_and_restores_readable(cloud, cinder_admin, storage):
    volume = storage.volume(volume_type=_encrypted_type(cinder_admin, cipher="aes-cbc-essiv:sha256"))
    passphrase = _passphrase(cloud, volume["encryption_key_id"])
    assert _qemu_io(volume_file(cloud, volume["id"]), passphrase, f"write -P {MARK} 1M 64k").returncode == 0
    backup = storage.backup(volume["id"])
    assert backup["encryption_key_id"] not in (None, volume["encryption_key_id"])
    stored = b"".join(p.read_bytes() for p in (cloud.data_dir / "backups").rglob("*") if p.is_file())
    assert stored and bytes([MARK]) * 4096 not in stored
    restored = ok(storage.http.post(f"/backups/{backup['id']}/restore", json={"restore": {}}), 202)["restore"]
    new = storage.wait(restored["volume_id"], "available")
    assert new["encrypted"] is True and new["encryption_key_id"] not in (None, backup["encryption_key_id"])
    path = volume_file(cloud, new["id"])
    out = _qemu_io(path, _passphrase(cloud, new["encryption_key_id"]), f"read -P {MARK} 1M 64k").stdout
    assert "read 65536/65536" in out and "Pattern verification failed" not in out
    # restoring into a volume that is not encrypted is refused
    plain = storage.volume()
    refused = storage.http.post(f"/backups/{backup['id']}/restore", json={"restore": {"volume_id": plain["id"]}})
    assert refused.status_code == 400 and "encrypted" in refused.text
    ok(storage.http.delete(f"/backups/{backup['id']}"), 202)
    storage.gone(f"/backups/{backup['id']}")
    assert _passphrase(cloud, backup["encryption_key_id"]) is None


def test_encryption_qemu_cannot_open_is_refused_when_a_volume_is_made(cinder_admin, storage):
    for spec, says in (({"provider": "plain"}, "LUKS only"), ({"cipher": "des-cbc-plain"}, "cipher"),
                       ({"key_size": 100}, "key size")):
        refused = storage.http.post("/volumes", json={"volume": {
            "size": 1, "volume_type": _encrypted_type(cinder_admin, **spec)}})
        assert refused.status_code == 400 and says in refused.text, refused.text
