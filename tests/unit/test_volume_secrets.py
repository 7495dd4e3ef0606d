"""An encrypted volume's passphrase on its way to QEMU: carried sealed over the host link, never in a spec file,
a repr, a command line or a log line."""

import dataclasses
import json
import logging

import pytest

from onestack.drivers import specfile
from onestack.drivers.compute import DriverError, InstanceSpec, VolumeDisk
from onestack.drivers.qemu import volumes
from onestack.drivers.remote import wire
from onestack.redact import Redactor

SECRET = "ab" * 32
DISK = VolumeDisk(volume_id="0b5e8c52-1c1f-4a43-9a8e-2f3e0c6c2d11", path="/v/vol.qcow2", encrypted=True, secret=SECRET)


def test_the_host_link_carries_the_secret_sealed_and_a_repr_never_shows_it():
    body = json.dumps(wire.encode_args("attach_volume", (DISK,), "link-secret"))
    assert SECRET not in body  # sealed with the host's link secret: the HTTP between hosts never shows it
    (decoded,) = wire.decode_args("attach_volume", json.loads(body), "link-secret")
    assert decoded.secret == SECRET and decoded.encrypted
    with pytest.raises(ValueError):
        wire.decode_args("attach_volume", json.loads(body), "another-host's-secret")
    spec = InstanceSpec("u", "n", "h", 1, 64, 1, volumes=(DISK,))
    for method, args in (("power_on", (spec,)), ("prepare_incoming", (spec, "192.0.2.2"))):
        sent = json.dumps(wire.encode_args(method, args, "link-secret"))
        assert SECRET not in sent
        assert wire.decode_args(method, json.loads(sent), "link-secret")[0].volumes[0].secret == SECRET
    assert SECRET not in repr(DISK) and SECRET not in repr(InstanceSpec("u", "n", "h", 1, 64, 1, volumes=(DISK,)))


def test_a_spec_file_keeps_no_secret(tmp_path):
    spec = InstanceSpec("u", "n", "h", 1, 64, 1, volumes=(DISK,))
    specfile.save(tmp_path / "spec.json", spec)
    assert SECRET not in (tmp_path / "spec.json").read_text()
    (loaded,) = specfile.load(tmp_path / "spec.json").volumes
    assert loaded.encrypted and loaded.secret is None
    assert loaded == DISK  # the secret is not part of what a disk is: a reloaded spec still matches
    assert specfile.as_dict(spec)["volumes"][0]["secret"] == SECRET  # what the host link sends keeps it


def test_qemu_opens_it_with_a_secret_object_read_from_a_pipe():
    args = volumes.argv(DISK, 7)
    assert SECRET not in " ".join(args)
    assert "secret,id=sec-0b5e8c521c1f4a439a8e2f3e,file=/dev/fd/7,format=raw" in args
    node = json.loads(args[args.index("-blockdev") + 1])
    assert node["encrypt"] == {"format": "luks", "key-secret": "sec-0b5e8c521c1f4a439a8e2f3e"}
    with pytest.raises(DriverError):
        volumes.argv(DISK)  # no pipe: refused rather than started without its key
    with pytest.raises(DriverError):
        volumes.secret_of(dataclasses.replace(DISK, secret=None))
    clear = dataclasses.replace(DISK, encrypted=False, secret=None)
    assert "encrypt" not in json.loads(volumes.argv(clear)[3])


def test_a_log_line_quoting_a_disk_as_sent_masks_the_secret():
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "sent %s", (dataclasses.asdict(DISK),), None)
    Redactor().filter(record)
    assert SECRET not in record.getMessage()


def test_a_host_without_the_master_key_opens_no_key_and_makes_none(tmp_path):
    """A joined host whose key directory is not the controller's: the key does not open, with the reason, and
    no master key of its own appears (which would open nothing); given the controller's directory
    (``volume.key_dir``), it opens."""
    from onestack.db.base import Base
    from onestack.db.engine import Database
    from onestack.services.volume.service.keys import KeyManager

    db = Database(f"sqlite:///{tmp_path / 'keys.db'}")
    Base.metadata.create_all(db.engine)
    try:
        controller = KeyManager(tmp_path / "controller-keys")
        with db.write() as session:
            key_id = controller.create(session)
        with db.read() as session:
            passphrase = controller.secret_of(session, key_id)
            joined = KeyManager(tmp_path / "joined-keys")
            with pytest.raises(KeyError, match="no master key"):
                joined.secret_of(session, key_id)
            assert not (tmp_path / "joined-keys").exists()
            assert KeyManager(tmp_path / "controller-keys").secret_of(session, key_id) == passphrase
    finally:
        db.dispose()
