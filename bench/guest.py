"""Guest boot: onestack-tiny created through the compute API of a cloud on the QEMU driver (create →
ACTIVE, create → marker line on the serial console) and spawned by the QemuDriver alone (spawn →
marker), beside a bare qemu-system-x86_64 of the same image with the same machine flags, and beside
onestack-tiny-container created through the same API (a container instance under runc: create → ACTIVE,
create → its marker in its console log; createImage → the snapshot image active; the serial console asked
for → a shell's first answer through the websocket proxy), interleaved in the same run; and the RSS of an idle guest's QEMU.  No NIC and no config drive: only the boot path is
measured (a NIC would wait for DHCP, which is the network's to answer).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from bench.compute import Client, _token
from bench.targets import Onestack, rss_mb
from onestack.drivers.compute import InstanceSpec
from onestack.drivers.qemu import QemuDriver, accel
from onestack.drivers.runc import runtime
from onestack.guestimage import build, container

MARKER = b"onestack-tiny: up"
MEMORY_MB = 256  # flavor 42, m1.nano
API_VERSION = {"X-OpenStack-Nova-API-Version": "2.37"}  # networks "none"


def _wait_marker(log: Path, started: float, timeout: float = 120, marker: bytes = MARKER) -> float:
    while time.monotonic() - started < timeout:
        if log.exists() and marker in log.read_bytes():
            return time.monotonic() - started
        time.sleep(0.02)
    raise TimeoutError(f"no marker in {log} after {timeout}s")


def _driver_boot(driver: QemuDriver, image: Path) -> tuple[float, float]:
    spec = InstanceSpec(uuid=str(uuid.uuid4()), name="bench", hostname="bench", vcpus=1, memory_mb=MEMORY_MB,
                        root_gb=1, image_path=str(image), image_format="qcow2")
    started = time.monotonic()
    driver.spawn(spec)
    try:
        seconds = _wait_marker(driver.instances_dir / spec.uuid / "console.log", started)
        time.sleep(3)  # idle: the guest has nothing left to do
        pid = int((driver.instances_dir / spec.uuid / "qemu.pid").read_text())
        return seconds, rss_mb([pid])
    finally:
        driver.destroy(spec.uuid)


def _api_boot(api: Client, target: Onestack, image_id: str, is_container: bool = False) -> tuple[float, float]:
    """(create → ACTIVE, create → marker) in seconds; the marker is watched in the console log QEMU (or the
    container's runc) writes."""
    body = {"server": {"name": "bench", "imageRef": image_id, "flavorRef": "42", "networks": "none"}}
    started = time.monotonic()
    server_id = api.call("POST", "/compute/v2.1/servers", body, API_VERSION)["server"]["id"]
    try:
        active = api.wait_active(server_id, API_VERSION, started, 120, 0.05)
        instances = target.data_dir / "compute" / ("runc" if is_container else "") / "instances"
        marker = _wait_marker(instances / server_id / "console.log", started,
                              marker=container.MARKER.encode() if is_container else MARKER)
        return active, marker
    finally:
        api.call("DELETE", f"/compute/v2.1/servers/{server_id}", headers=API_VERSION)
        while (instances / server_id).exists():
            time.sleep(0.1)


def _container_snapshot_and_console(api: Client, image_id: str) -> tuple[float, float]:
    """(createImage → the snapshot image active, remote console asked → a shell's first answer through the
    websocket proxy) in seconds, on one running container."""
    from websockets.sync.client import connect

    body = {"server": {"name": "bench-container", "imageRef": image_id, "flavorRef": "42", "networks": "none"}}
    server_id = api.call("POST", "/compute/v2.1/servers", body, API_VERSION)["server"]["id"]
    snapshot_id = None
    try:
        api.wait_active(server_id, API_VERSION, time.monotonic(), 120, 0.05)
        started = time.monotonic()
        snapshot_id = api.call("POST", f"/compute/v2.1/servers/{server_id}/action", {"createImage": {
            "name": "bench-snapshot"}}, {"X-OpenStack-Nova-API-Version": "2.45"})["image_id"]
        while api.call("GET", f"/image/v2/images/{snapshot_id}")["status"] != "active":
            if time.monotonic() - started > 120:
                raise RuntimeError(f"snapshot {snapshot_id} is not active")
            time.sleep(0.02)
        snapshot = time.monotonic() - started
        started = time.monotonic()
        url = api.call("POST", f"/compute/v2.1/servers/{server_id}/remote-consoles", {"remote_console": {
            "protocol": "serial", "type": "serial"}}, API_VERSION)["remote_console"]["url"]
        with connect(url, open_timeout=30) as ws:
            ws.send(b"echo con$((6*7))sole\n")
            seen = b""
            while b"con42sole" not in seen:
                if time.monotonic() - started > 60:
                    raise RuntimeError("no shell on the container's console")
                seen += ws.recv(timeout=60)
        return snapshot, time.monotonic() - started
    finally:
        api.call("DELETE", f"/compute/v2.1/servers/{server_id}", headers=API_VERSION)
        if snapshot_id:
            api.call("DELETE", f"/image/v2/images/{snapshot_id}")


def _bare_boot(image: Path, accel_name: str, work: Path) -> float:
    """The same disk layout and flags as the driver's command line, QEMU in the foreground."""
    overlay = work / "bare.qcow2"
    log = work / "bare.log"
    overlay.unlink(missing_ok=True)
    log.unlink(missing_ok=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(image), str(overlay), "1G"],
                   check=True)
    argv = [accel.QEMU, "-machine", f"pc,accel={accel_name}", "-smp", "1", "-m", str(MEMORY_MB),
            "-nodefaults", "-no-user-config", "-display", "none", "-rtc", "base=utc",
            "-chardev", f"file,id=console,path={log}", "-device", "isa-serial,chardev=console",
            "-drive", f"file={overlay},format=qcow2,if=none,id=drive0,discard=unmap",
            "-device", "virtio-blk-pci,drive=drive0,id=disk0,bootindex=0"]
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return _wait_marker(log, started)
    finally:
        proc.kill()
        proc.wait()


def measure(quick: bool) -> dict:
    image = build.build()
    rounds = 2 if quick else 5
    target = Onestack({"compute": {"driver": "qemu"}}, name="onestack-guest")
    target.start()
    try:
        target._run("image", "register")  # what make up does
        api = Client(target.base, _token(target))
        image_id = api.call("GET", "/image/v2/images?name=onestack-tiny")["images"][0]["id"]
        runs_containers = runtime.installed() and os.geteuid() == 0  # as compute.containers "auto" decides
        container_id = api.call("GET", f"/image/v2/images?name={container.IMAGE_NAME}")["images"][0]["id"]
        with tempfile.TemporaryDirectory(prefix="onestack-bench-guest-") as tmp:
            work = Path(tmp)
            accel_name, why = accel.choose(Path.home() / ".cache" / "onestack")
            driver = QemuDriver(work / "state", accel=accel_name)
            api_active, api_marker, driver_runs, rss, bare_runs = [], [], [], [], []
            container_active, container_marker, container_snapshot, container_console = [], [], [], []
            for _ in range(rounds):  # interleaved so every side sees the same machine load
                active, marker = _api_boot(api, target, image_id)
                api_active.append(active)
                api_marker.append(marker)
                if runs_containers:
                    active, marker = _api_boot(api, target, container_id, is_container=True)
                    container_active.append(active)
                    container_marker.append(marker)
                    snapshot, console = _container_snapshot_and_console(api, container_id)
                    container_snapshot.append(snapshot)
                    container_console.append(console)
                seconds, resident = _driver_boot(driver, image.path)
                driver_runs.append(seconds)
                rss.append(resident)
                bare_runs.append(_bare_boot(image.path, accel_name, work))
            assert not any((work / "state" / "instances").iterdir()), "destroy left files behind"
    finally:
        target.stop()
    bare_median = statistics.median(bare_runs)

    def series(name: str, runs: list[float]) -> dict:
        return {f"{name}_median": round(statistics.median(runs), 2), name: [round(s, 2) for s in runs]}

    return {
        "image_bytes": image.size_bytes, "accel": accel_name, "accel_reason": why, "memory_mb": MEMORY_MB,
        **series("api_create_to_active_seconds", api_active), **series("api_create_to_marker_seconds", api_marker),
        **series("driver_boot_seconds", driver_runs), **series("bare_qemu_boot_seconds", bare_runs),
        "api_over_bare": round(statistics.median(api_marker) / bare_median, 2),
        "driver_over_bare": round(statistics.median(driver_runs) / bare_median, 2),
        "idle_guest_rss_mb_median": statistics.median(rss),
        **({**series("container_create_to_active_seconds", container_active),
            **series("container_create_to_marker_seconds", container_marker),
            **series("container_create_image_to_active_seconds", container_snapshot),
            **series("container_console_to_shell_answer_seconds", container_console),
            "vm_over_container_marker": round(statistics.median(api_marker) / statistics.median(container_marker), 1)}
           if container_marker else {"container": "runc cannot run containers on this machine"}),
    }


def table(found: dict) -> str:
    return "\n".join([
        f"guest boot ({found['accel']}, onestack-tiny {found['image_bytes'] / 2**20:.1f} MiB, {found['memory_mb']} MB RAM)",
        f"  API create → ACTIVE (s)              {found['api_create_to_active_seconds_median']:>8}",
        f"  API create → marker (s)              {found['api_create_to_marker_seconds_median']:>8}",
        f"  via QemuDriver, spawn → marker (s)   {found['driver_boot_seconds_median']:>8}",
        f"  bare qemu-system-x86_64 (s)          {found['bare_qemu_boot_seconds_median']:>8}",
        f"  API create → marker / bare           {found['api_over_bare']:>8}x",
        f"  driver / bare                        {found['driver_over_bare']:>8}x",
        f"  idle guest QEMU RSS (MB)             {found['idle_guest_rss_mb_median']:>8}",
        *([f"  container: API create → ACTIVE (s)   {found['container_create_to_active_seconds_median']:>8}",
           f"  container: API create → marker (s)   {found['container_create_to_marker_seconds_median']:>8}",
           f"  VM marker / container marker         {found['vm_over_container_marker']:>8}x",
           f"  container: createImage → active (s)  {found['container_create_image_to_active_seconds_median']:>8}",
           f"  container: console → shell (s)       {found['container_console_to_shell_answer_seconds_median']:>8}"]
          if "container_create_to_marker_seconds_median" in found else [f"  container: {found.get('container')}"]),
    ])


if __name__ == "__main__":
    import json

    result = measure(quick=True)
    print(json.dumps(result, indent=2))
    print(table(result))
