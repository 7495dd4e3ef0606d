"""Evacuate with real guests: a joined QEMU host's `compute join` process is killed (its QEMU, a daemon,
carries on), the admin forces its service down and evacuates the server, which boots again from its image on
the other joined host; when the dead host's process comes back, its power sync finds the guest no record
wants there and stops that QEMU, so the server runs on exactly one host."""

import signal
from pathlib import Path

import pytest

from tests.api.helpers import name, ok, upload_image, wait
from tests.dataplane.test_multihost import two_qemu_hosts
from tests.dataplane.test_multihost_migration import shell_of

pytestmark = [pytest.mark.dataplane, pytest.mark.xdist_group("dataplane"), pytest.mark.qemu, pytest.mark.postgres]


def qemu_pids(server_id: str) -> set[int]:
    """The QEMU processes of this machine running the guest ``server_id`` (whatever host started them)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # gone meanwhile
        if argv and argv[0].endswith(b"qemu-system-x86_64") and server_id.encode() in argv:
            found.add(int(entry.name))
    return found


def test_a_dead_hosts_qemu_guest_is_evacuated_and_its_leftover_stopped_when_the_host_returns(tmp_path, tiny_image):
    with two_qemu_hosts(tmp_path) as two:
        nova, http, hosts = two.nova, two.http, two.hosts
        image = upload_image(http, tiny_image.path)
        server_id = ok(nova.post("/servers", json={"server": {
            "name": name("evacuee"), "imageRef": image["id"], "flavorRef": "42", "networks": "none"}}),
            202)["server"]["id"]

        def shown() -> dict:
            server = ok(nova.get(f"/servers/{server_id}"))["server"]
            assert server["status"] != "ERROR", server.get("fault")
            return server

        source = wait(lambda: (s := shown())["status"] == "ACTIVE" and s, 120, "the server ACTIVE")[
            "OS-EXT-SRV-ATTR:host"]
        dead, alive = (hosts[0], hosts[1]) if source == "host-a" else (hosts[1], hosts[0])
        (leftover,) = qemu_pids(server_id)
        shell = shell_of(nova, server_id).ready(300)
        shell.run("echo before > /tmp/marker")
        shell.close()

        dead.process.send_signal(signal.SIGKILL)
        dead.process.wait(timeout=30)
        assert qemu_pids(server_id) == {leftover}, "a QEMU daemon outlives the process that started it"
        services = {s["host"]: s for s in ok(nova.get("/os-services"))["services"]}
        ok(nova.put(f"/os-services/{services[dead.host]['id']}", json={"forced_down": True}))
        answer = nova.post(f"/servers/{server_id}/action", json={"evacuate": {}})
        assert answer.status_code == 200, answer.text

        moved = wait(lambda: (s := shown())["status"] == "ACTIVE" and s["OS-EXT-SRV-ATTR:host"] == alive.host
                     and s, 300, "the server ACTIVE on the other host")
        assert moved["host_status"] == "UP"
        (migration,) = ok(nova.get("/os-migrations", params={"instance_uuid": server_id}))["migrations"]
        assert (migration["migration_type"], migration["status"], migration["dest_compute"]) == (
            "evacuation", "done", alive.host)
        # made again from its image on the new host: a new boot, without what the old guest wrote in RAM
        shell = shell_of(nova, server_id).ready(300)
        assert "before" not in shell.run("cat /tmp/marker 2>/dev/null || echo none")
        shell.close()
        both = qemu_pids(server_id)
        assert leftover in both and len(both) == 2, "until its host returns, the old guest still runs"

        dead.restart()
        ok(nova.put(f"/os-services/{services[dead.host]['id']}", json={"forced_down": False}))
        wait(lambda: leftover not in qemu_pids(server_id), 120, "the returning host to stop the leftover guest")
        assert len(qemu_pids(server_id)) == 1
        server = shown()
        assert (server["status"], server["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", alive.host)
        hypervisors = {h["hypervisor_hostname"]: h for h in ok(nova.get(
            "/os-hypervisors/detail", headers={"X-OpenStack-Nova-API-Version": "2.1"}))["hypervisors"]}
        assert (hypervisors[dead.host]["running_vms"], hypervisors[alive.host]["running_vms"]) == (0, 1)

        ok(nova.delete(f"/servers/{server_id}"), 204)
        wait(lambda: not qemu_pids(server_id), 120, "the guest gone after delete")
