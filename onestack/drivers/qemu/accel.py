"""KVM or TCG, decided by trying: /dev/kvm can exist, open and create VMs yet fail to run guests.

On this kind of host (nested, restricted CPUID) KVM_CREATE_VM succeeds and a real-mode boot
sector even runs, but the Linux kernel stalls in its set-up code or QEMU stops with "KVM
internal error".  So the probe boots a real kernel with no root filesystem and ``panic=-1
-no-reboot``: QEMU exits by itself within a second on a working KVM; on a broken one it hangs
or reports an internal error and we fall back to TCG.  The answer holds for the host's current boot: it
is kept in ``/run/onestack`` (a tmpfs the next boot empties) when this process may write there, and in the
state dir, so neither a restart nor a new cloud on the same host probes again (a probe of a KVM that hangs
costs its whole ``PROBE_SECONDS``).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

QEMU = "qemu-system-x86_64"
PROBE_SECONDS = 8.0
HOST_STATE = Path("/run/onestack")


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown"


def _probe_kernel() -> Path | None:
    kernels = sorted(Path("/boot").glob("vmlinuz-*"))
    return kernels[-1] if kernels else None


def probe_kvm() -> tuple[bool, str]:
    """(usable, why) after running a throwaway guest under KVM."""
    if not Path("/dev/kvm").exists():
        return False, "no /dev/kvm"
    kernel = _probe_kernel()
    with tempfile.TemporaryDirectory(prefix="onestack-kvm-probe-") as tmp:
        stderr_path = Path(tmp) / "stderr"
        argv = [QEMU, "-accel", "kvm", "-nodefaults", "-no-user-config", "-display", "none", "-m", "128"]
        if kernel:
            argv += ["-no-reboot", "-kernel", str(kernel), "-append", "panic=-1 quiet"]
        else:  # without a kernel we can only see whether KVM creates a VM at all
            argv += ["-machine", "none", "-S"]
        with open(stderr_path, "wb") as err:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + PROBE_SECONDS
        try:
            while time.monotonic() < deadline:
                rc = proc.poll()
                errors = stderr_path.read_text(errors="replace")
                if "internal error" in errors or "emulation failure" in errors:
                    return False, "KVM internal error while booting a probe kernel"
                if rc is not None:
                    return (rc == 0, "a probe kernel ran under KVM" if rc == 0
                            else f"qemu -accel kvm failed: {errors.strip()[-200:]}")
                if not kernel and time.monotonic() > deadline - PROBE_SECONDS + 1:
                    return True, "KVM creates VMs (no kernel to probe further)"
                time.sleep(0.05)
            return False, f"a probe kernel made no progress under KVM in {PROBE_SECONDS:.0f}s"
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def choose(state_dir: Path) -> tuple[str, str]:
    """("kvm" | "tcg", why), probed once per host boot and remembered in ``/run/onestack`` and ``state_dir``."""
    boot_id = _boot_id()
    for place in (HOST_STATE, state_dir):
        try:
            known = json.loads((place / "accel.json").read_text())
            if known.get("boot_id") == boot_id:
                return known["accel"], known["why"]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
    usable, why = probe_kvm()
    accel = "kvm" if usable else "tcg"
    for place in (state_dir, HOST_STATE):
        try:
            _remember(place, {"boot_id": boot_id, "accel": accel, "why": why})
        except OSError:
            if place == state_dir:
                raise  # /run/onestack is a shortcut; the state dir is ours and must take it
    return accel, why


def _remember(place: Path, record: dict) -> None:
    place.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = place / f"accel.json.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(record))
    tmp.replace(place / "accel.json")
