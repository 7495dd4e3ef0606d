"""Real guests on three joined QEMU hosts (namespaces running `onestack compute join`, PostgreSQL; the
controller's own fake host disabled): the scheduler picks each move's destination between the two hosts
that are not the source.  A live migration away from host-a with host-b disabled lands on host-c (the same
boot: what the guest wrote in RAM is there); an evacuation of host-c, killed and forced down, with host-a
disabled lands on host-b, booted again from the image, and when host-c's process comes back its power sync
stops the leftover QEMU no record wants there, so the server runs on exactly one host; a cold migration to
host-a, reverted, brings it back to host-b with what it wrote on its disk there.  (The evacuation's story was
a test of its own on two more hosts and one more guest: it is told here, on the guest these hosts already
boot.)"""

import signal

import pytest

from tests.api.helpers import name, ok, upload_image, wait
from tests.dataplane.test_multihost import two_qemu_hosts
from tests.dataplane.test_multihost_evacuate import qemu_pids
from tests.dataplane.test_multihost_migration import SECTOR, shell_of

pytestmark = [pytest.mark.dataplane, pytest.mark.xdist_group("dataplane"), pytest.mark.qemu, pytest.mark.postgres,
              pytest.mark.hosts]
V280 = {"X-OpenStack-Nova-API-Version": "2.80"}


def test_a_real_guest_moves_among_three_hosts_where_no_rule_forbids(tmp_path, tiny_image):
    with two_qemu_hosts(tmp_path, count=3) as three:
        nova, http = three.nova, three.http
        host_a, host_b, host_c = three.hosts
        services = {s["host"]: s["id"] for s in ok(nova.get("/os-services"))["services"]}

        def set_service(host: str, **body) -> None:
            ok(nova.put(f"/os-services/{services[host]}", json=body))

        def shown() -> dict:
            server = ok(nova.get(f"/servers/{server_id}", headers=V280))["server"]
            assert server["status"] != "ERROR", server.get("fault")
            return server

        def last_migration() -> dict:
            found = ok(nova.get("/os-migrations", params={"instance_uuid": server_id}, headers=V280))["migrations"]
            return max(found, key=lambda m: m["id"])

        image = upload_image(http, tiny_image.path)
        server_id = ok(nova.post("/servers", json={"server": {
            "name": name("mover"), "imageRef": image["id"], "flavorRef": "42", "networks": "none",
            "host": host_a.host}}, headers={"X-OpenStack-Nova-API-Version": "2.74"}), 202)["server"]["id"]
        wait(lambda: shown()["status"] == "ACTIVE", 300, "the server ACTIVE")
        assert shown()["OS-EXT-SRV-ATTR:host"] == host_a.host
        shell = shell_of(nova, server_id).ready(300)
        shell.run("echo kept-$((6*7)) > /tmp/marker")
        shell.close()

        # live, the scheduler's choice: host-b disabled -> host-c
        set_service(host_b.host, status="disabled")
        ok(nova.post(f"/servers/{server_id}/action", json={"os-migrateLive": {
            "host": None, "block_migration": "auto"}}, headers=V280), 202)
        wait(lambda: shown()["status"] != "MIGRATING", 300, "the live migration to end")
        migration = last_migration()
        assert (migration["status"], migration["dest_compute"]) == ("completed", host_c.host), migration
        assert shown()["OS-EXT-SRV-ATTR:host"] == host_c.host
        shell = shell_of(nova, server_id).ready(120)
        assert shell.run("cat /tmp/marker") == "kept-42"
        shell.close()

        # evacuate host-c (killed, its QEMU a daemon carrying on; forced down): host-a disabled -> host-b,
        # booted from the image again
        set_service(host_b.host, status="enabled")
        set_service(host_a.host, status="disabled")
        (leftover,) = qemu_pids(server_id)
        host_c.process.send_signal(signal.SIGKILL)
        host_c.process.wait(timeout=30)
        assert qemu_pids(server_id) == {leftover}, "a QEMU daemon outlives the process that started it"
        set_service(host_c.host, forced_down=True)
        answer = nova.post(f"/servers/{server_id}/action", json={"evacuate": {}}, headers=V280)
        assert answer.status_code == 200, answer.text
        moved = wait(lambda: (s := shown())["status"] == "ACTIVE" and s["OS-EXT-SRV-ATTR:host"] == host_b.host
                     and s, 300, "the server ACTIVE on host-b")
        assert moved["host_status"] == "UP"
        migration = last_migration()
        assert (migration["migration_type"], migration["status"], migration["dest_compute"]) == (
            "evacuation", "done", host_b.host)
        # made again from its image on the new host: a new boot, without what the old guest wrote in RAM
        shell = shell_of(nova, server_id).ready(300)
        assert "kept" not in shell.run("cat /tmp/marker 2>/dev/null || echo none")
        shell.run(f"echo on-disk-$((6*7)) | dd of=/dev/vda bs=512 seek={SECTOR} conv=fsync,notrunc")
        shell.close()
        both = qemu_pids(server_id)
        assert leftover in both and len(both) == 2, "until its host returns, the old guest still runs"

        # host-c's process comes back: its power sync stops the guest no record wants there
        host_c.restart()
        set_service(host_c.host, forced_down=False)
        wait(lambda: leftover not in qemu_pids(server_id), 120, "the returning host to stop the leftover guest")
        assert len(qemu_pids(server_id)) == 1
        server = shown()
        assert (server["status"], server["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", host_b.host)
        hypervisors = {h["hypervisor_hostname"]: h for h in ok(nova.get(
            "/os-hypervisors/detail", headers={"X-OpenStack-Nova-API-Version": "2.1"}))["hypervisors"]}
        assert (hypervisors[host_c.host]["running_vms"], hypervisors[host_b.host]["running_vms"]) == (0, 1)

        # cold, the scheduler's choice: host-a enabled again is the one candidate (host-c disabled); then
        # reverted, the guest is back on host-b with its own disk
        set_service(host_c.host, status="disabled")
        set_service(host_a.host, status="enabled")
        ok(nova.post(f"/servers/{server_id}/action", json={"migrate": None}, headers=V280), 202)
        wait(lambda: shown()["status"] == "VERIFY_RESIZE", 300, "the cold migration")
        assert shown()["OS-EXT-SRV-ATTR:host"] == host_a.host
        ok(nova.post(f"/servers/{server_id}/action", json={"revertResize": None}), 202)
        wait(lambda: shown()["status"] == "ACTIVE", 300, "the revert")
        assert shown()["OS-EXT-SRV-ATTR:host"] == host_b.host
        migration = last_migration()
        assert (migration["migration_type"], migration["status"]) == ("migration", "reverted"), migration
        shell = shell_of(nova, server_id).ready(300)
        assert shell.run(f"dd if=/dev/vda bs=512 skip={SECTOR} count=1 2>/dev/null | head -c 9") == "on-disk-4"
        shell.close()

        ok(nova.delete(f"/servers/{server_id}"), 204)
        wait(lambda: nova.get(f"/servers/{server_id}").status_code == 404, 120, "the server to go")
        wait(lambda: not qemu_pids(server_id), 120, "the guest gone after delete")
