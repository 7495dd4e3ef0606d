"""What travels on the host link: signed requests, arguments and answers as JSON, and errors by name.

A request carries the time it was made and an HMAC-SHA256, keyed with the host's link secret, of its
method, path, time and body digest; the host takes it within ``MAX_SKEW`` seconds of its own clock.
Only a process that can read the host's row in the cloud's database knows the secret.  An encrypted volume's
passphrase in a call (a hot-plug, a spec to start) is sealed with a key derived from that secret (AES-GCM, the
volume id bound in), so it never crosses the link in clear.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import os
import time

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from onestack.drivers import specfile
from onestack.drivers.compute import (
    NIC,
    ConsoleUnavailable,
    DriverError,
    InstanceInfo,
    PowerState,
    VolumeDisk,
)

TIME_HEADER = "X-Onestack-Link-Time"
SIGNATURE_HEADER = "X-Onestack-Link-Signature"
MAX_SKEW = 60.0

# the calls one process may make on another's drivers: everything else a host's own engine does
CALLS = ("console_output", "set_admin_password", "instance_info", "attach_interface", "detach_interface",
         "attach_volume", "detach_volume", "extend_volume", "snapshot_volume", "set_volume_limits",
         "swap_volume",
         "console_socket",
         # a live migration's destination half, which the source's engine drives
         "prepare_incoming", "finish_incoming", "abort_incoming",
         # a cold migration's source half, which the destination's engine asks for, and the source's copy
         # destroyed (or released: a root disk in Ceph stays) at confirm or started again at revert
         "export_disks", "end_export", "destroy", "release", "power_on")
# calls whose arguments name the instance themselves (a spec), so the path's uuid is not passed again
SPEC_CALLS = ("prepare_incoming", "power_on")
ERRORS: dict[str, type[Exception]] = {"DriverError": DriverError, "ConsoleUnavailable": ConsoleUnavailable}


class LinkError(DriverError):
    """The host could not be reached or did not answer as a host does: for the caller, a driver that
    failed."""


def _mac(secret: str, method: str, path: str, stamp: str, body: bytes) -> str:
    message = f"{method}\n{path}\n{stamp}\n{hashlib.sha256(body).hexdigest()}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, method: str, path: str, body: bytes = b"", now: float | None = None) -> dict[str, str]:
    stamp = f"{time.time() if now is None else now:.3f}"
    return {TIME_HEADER: stamp, SIGNATURE_HEADER: _mac(secret, method, path, stamp, body)}


def verify(secret: str, method: str, path: str, body: bytes, headers, now: float | None = None) -> bool:
    stamp, signature = headers.get(TIME_HEADER, ""), headers.get(SIGNATURE_HEADER, "")
    try:
        skew = abs((time.time() if now is None else now) - float(stamp))
    except ValueError:
        return False
    return skew <= MAX_SKEW and hmac.compare_digest(_mac(secret, method, path, stamp, body), signature)


def call_path(host: str, uuid: str, method: str) -> str:
    return f"/hosts/{host}/instances/{uuid}/{method}"


def console_path(host: str, uuid: str, kind: str) -> str:
    return f"/hosts/{host}/instances/{uuid}/console/{kind}"


def _volume_key(link_secret: str) -> AESGCM:
    """The key sealing encrypted volumes' passphrases on the link (derived from the host's link secret, so
    the plain HTTP between hosts never carries a passphrase in clear)."""
    return AESGCM(hashlib.sha256(b"onestack volume secrets\0" + link_secret.encode()).digest())


def _seal(disks: list[dict], link_secret: str) -> list[dict]:
    for disk in disks:
        if disk.get("secret"):
            nonce = os.urandom(12)
            sealed = _volume_key(link_secret).encrypt(nonce, disk["secret"].encode(), disk["volume_id"].encode())
            disk["secret"] = {"sealed": base64.b64encode(nonce + sealed).decode()}
    return disks


def _unseal(disks: list[dict], link_secret: str) -> list[dict]:
    for disk in disks:
        if isinstance(disk.get("secret"), dict):
            raw = base64.b64decode(disk["secret"]["sealed"])
            try:
                disk["secret"] = _volume_key(link_secret).decrypt(raw[:12], raw[12:], disk["volume_id"].encode()
                                                                  ).decode()
            except InvalidTag:
                raise ValueError(f"the key of volume {disk['volume_id']} does not open with this link") from None
    return disks


def _spec_out(spec, link_secret: str) -> dict:
    body = specfile.as_dict(spec)
    _seal(body["volumes"], link_secret)
    return body


def _spec_in(body: dict, link_secret: str):
    body = dict(body)
    body["volumes"] = _unseal([dict(v) for v in body.get("volumes", ())], link_secret)
    return specfile.from_dict(body)


def encode_args(method: str, args: tuple, link_secret: str = "") -> dict:
    """The call's arguments as JSON; encrypted volumes' passphrases sealed with ``link_secret``."""
    if method in ("attach_interface", "detach_interface"):
        return {"nic": dataclasses.asdict(args[0])}
    if method == "attach_volume":
        return {"disk": _seal([dataclasses.asdict(args[0])], link_secret)[0]}
    if method == "detach_volume":
        return {"volume_id": args[0]}
    if method == "extend_volume":
        return {"volume_id": args[0], "size_bytes": args[1]}
    if method == "snapshot_volume":
        return {"volume_id": args[0], "overlay_path": args[1]}
    if method == "swap_volume":
        return {"volume_id": args[0], "disk": _seal([dataclasses.asdict(args[1])], link_secret)[0]}
    if method == "set_volume_limits":
        return {"volume_id": args[0], "throttle": dict(args[1])}
    if method == "console_output":
        return {"length": args[0]}
    if method == "set_admin_password":
        return {"password": args[0]}
    if method == "console_socket":
        return {"kind": args[0]}
    if method == "prepare_incoming":
        return {"spec": _spec_out(args[0], link_secret), "address": args[1]}
    if method == "export_disks":
        return {"address": args[0]}
    if method == "power_on":
        return {"spec": _spec_out(args[0], link_secret)}
    return {}


def decode_args(method: str, body: dict, link_secret: str = "") -> tuple:
    if method in ("attach_interface", "detach_interface"):
        return (NIC(**body["nic"]),)
    if method == "attach_volume":
        return (VolumeDisk(**_unseal([dict(body["disk"])], link_secret)[0]),)
    if method == "detach_volume":
        return (body["volume_id"],)
    if method == "extend_volume":
        return (body["volume_id"], int(body["size_bytes"]))
    if method == "snapshot_volume":
        return (body["volume_id"], str(body["overlay_path"]))
    if method == "swap_volume":
        return (body["volume_id"], VolumeDisk(**_unseal([dict(body["disk"])], link_secret)[0]))
    if method == "set_volume_limits":
        return (body["volume_id"], {str(k): int(v) for k, v in dict(body["throttle"]).items()})
    if method == "console_output":
        return (body.get("length"),)
    if method == "set_admin_password":
        return (body["password"],)
    if method == "console_socket":
        return (body["kind"],)
    if method == "prepare_incoming":
        return (_spec_in(body["spec"], link_secret), body["address"])
    if method == "export_disks":
        return (body["address"],)
    if method == "power_on":
        return (_spec_in(body["spec"], link_secret),)
    return ()


def encode_result(value) -> object:
    if isinstance(value, InstanceInfo):
        return {"power_state": int(value.power_state), "vcpus": value.vcpus, "memory_mb": value.memory_mb}
    return value


def decode_result(method: str, value) -> object:
    if method == "instance_info":
        return InstanceInfo(PowerState(value["power_state"]), value["vcpus"], value["memory_mb"])
    return value
