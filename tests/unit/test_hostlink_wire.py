"""The host link's signatures: a call is taken only with the host's secret, unchanged and fresh."""

from onestack.drivers.compute import NIC, InstanceInfo, PowerState, VolumeDisk
from onestack.drivers.remote import wire

SECRET = "s" * 64
PATH = wire.call_path("host-a", "0a1b2c3d", "console_output")


def test_a_signed_call_is_taken_within_a_minute_of_being_made():
    headers = wire.sign(SECRET, "POST", PATH, b'{"length": 5}', now=1000.0)
    assert wire.verify(SECRET, "POST", PATH, b'{"length": 5}', headers, now=1059.0)
    assert not wire.verify(SECRET, "POST", PATH, b'{"length": 5}', headers, now=1061.0)


def test_another_secret_body_path_or_method_breaks_the_signature():
    headers = wire.sign(SECRET, "POST", PATH, b"{}", now=1000.0)
    assert not wire.verify("t" * 64, "POST", PATH, b"{}", headers, now=1000.0)
    assert not wire.verify(SECRET, "POST", PATH, b'{"length": 1}', headers, now=1000.0)
    assert not wire.verify(SECRET, "POST", wire.call_path("host-b", "0a1b2c3d", "console_output"), b"{}",
                           headers, now=1000.0)
    assert not wire.verify(SECRET, "GET", PATH, b"{}", headers, now=1000.0)
    assert not wire.verify(SECRET, "POST", PATH, b"{}", {}, now=1000.0)
    assert not wire.verify(SECRET, "POST", PATH, b"{}", {**headers, wire.TIME_HEADER: "soon"}, now=1000.0)


def test_arguments_and_answers_come_back_as_the_driver_gave_them():
    nic = NIC("port-1", "fa:16:3e:00:00:01", "tapport-1", 1450)
    assert wire.decode_args("attach_interface", wire.encode_args("attach_interface", (nic,))) == (nic,)
    assert wire.decode_args("console_output", wire.encode_args("console_output", (None,))) == (None,)
    disk = VolumeDisk("vol-1", "/data/volumes/volume-vol-1.qcow2", read_only=True, throttle={"iops-total": 100})
    assert wire.decode_args("attach_volume", wire.encode_args("attach_volume", (disk,))) == (disk,)
    assert wire.decode_args("detach_volume", wire.encode_args("detach_volume", ("vol-1",))) == ("vol-1",)
    info = InstanceInfo(PowerState.PAUSED, 2, 256)
    assert wire.decode_result("instance_info", wire.encode_result(info)) == info


def test_a_live_migrations_destination_half_travels_with_its_spec():
    from onestack.drivers.compute import NIC, InstanceSpec
    from onestack.drivers.remote import wire

    spec = InstanceSpec(uuid="u1", name="instance-1", hostname="vm", vcpus=1, memory_mb=64, root_gb=1,
                        nics=(NIC("p1", "fa:16:3e:00:00:01", "tapp1"),), metadata={"k": "v"})
    body = wire.encode_args("prepare_incoming", (spec, "192.0.2.2"))
    assert wire.decode_args("prepare_incoming", body) == (spec, "192.0.2.2")
    assert {"prepare_incoming", "finish_incoming", "abort_incoming"} <= set(wire.CALLS)
    assert "live_migrate" not in wire.CALLS  # the source's half is its own engine's
    assert wire.decode_args("power_on", wire.encode_args("power_on", (spec,))) == (spec,)
