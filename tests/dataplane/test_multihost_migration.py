"""Live migration through the API between two joined QEMU hosts (namespaces of this machine running
`onestack compute join`, as in test_multihost): the guest's memory moves over the underlay between the
hosts' tunnel addresses, its disk is mirrored, its port's binding follows it (an inactive binding on the
destination, activated at switch-over), and its serial console (through the controller's proxy and the new
host's link) shows the same running system.  Then a cold migration back
copies its disk over NBD: what it wrote there is there after it boots on the first host."""

import httpx
import pytest

from tests.api.helpers import name, ok, upload_image, wait
from tests.dataplane.test_multihost import two_qemu_hosts
from tests.drivers import serial

pytestmark = [pytest.mark.dataplane, pytest.mark.xdist_group("dataplane"), pytest.mark.qemu, pytest.mark.postgres]
V280 = {"X-OpenStack-Nova-API-Version": "2.80"}
SECTOR = 1_500_000  # past the tiny image's filesystem, inside its 1 GiB disk


def shell_of(nova: httpx.Client, server_id: str) -> serial.Shell:
    url = ok(nova.post(f"/servers/{server_id}/remote-consoles", json={
        "remote_console": {"protocol": "serial", "type": "serial"}}))["remote_console"]["url"]
    return serial.websocket_shell(url)


def test_a_qemu_guest_live_migrates_between_two_joined_hosts(tmp_path, tiny_image):
    with two_qemu_hosts(tmp_path) as two:
        hosts, nova, http, (tunnel_a, tunnel_b) = two.hosts, two.nova, two.http, two.tunnels
        image = upload_image(http, tiny_image.path)
        net = ok(http.post("/network/v2.0/networks", json={"network": {"name": name("net")}}), 201)["network"]
        ok(http.post("/network/v2.0/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                              "cidr": "10.79.2.0/24", "enable_dhcp": False}}),
           201)
        server_id = ok(nova.post("/servers", json={"server": {
            "name": name("mover"), "imageRef": image["id"], "flavorRef": "42",
            "networks": [{"uuid": net["id"]}]}}), 202)["server"]["id"]

        def settled():
            shown = ok(nova.get(f"/servers/{server_id}"))["server"]
            assert shown["status"] != "ERROR", shown.get("fault")
            return shown if shown["status"] == "ACTIVE" else None

        source = wait(settled, 120, "the server ACTIVE")["OS-EXT-SRV-ATTR:host"]
        shell = shell_of(nova, server_id).ready(300)
        shell.run("echo kept-$((6*7)) > /tmp/marker")
        shell.run(f"echo on-disk-$((6*7)) | dd of=/dev/vda bs=512 seek={SECTOR} conv=fsync,notrunc")
        before = float(shell.run("cut -d' ' -f1 /proc/uptime"))
        shell.close()

        ok(nova.post(f"/servers/{server_id}/action",
                     json={"os-migrateLive": {"host": None, "block_migration": "auto"}}, headers=V280), 202)
        moved = wait(lambda: (s := ok(nova.get(f"/servers/{server_id}"))["server"])["status"] != "MIGRATING"
                     and s, 300, "the live migration to end")
        (migration,) = ok(nova.get("/os-migrations", params={"instance_uuid": server_id},
                                   headers=V280))["migrations"]
        assert migration["status"] == "completed", (migration, moved.get("fault"))
        dest = moved["OS-EXT-SRV-ATTR:host"]
        assert dest != source and moved["status"] == "ACTIVE"
        assert migration["dest_host"] == str(tunnel_b if dest == "host-b" else tunnel_a)
        (port,) = ok(http.get("/network/v2.0/ports", params={"device_id": server_id}))["ports"]
        assert port["binding:host_id"] == dest
        # the destination's binding, made INACTIVE before the move, activated; the source's gone
        bindings = ok(http.get(f"/network/v2.0/ports/{port['id']}/bindings"))["bindings"]
        assert [(b["host"], b["status"]) for b in bindings] == [(dest, "ACTIVE")]

        shell = shell_of(nova, server_id).ready(120)  # now through the destination's link
        assert shell.run("cat /tmp/marker") == "kept-42"
        assert float(shell.run("cut -d' ' -f1 /proc/uptime")) > before  # the same boot, carried on
        shell.close()

        # cold, back to the first host: its disk copied over NBD, the guest booted there, then confirmed
        ok(nova.post(f"/servers/{server_id}/action", json={"migrate": {"host": source}},
                     headers={"X-OpenStack-Nova-API-Version": "2.56"}), 202)
        resized = wait(lambda: (s := ok(nova.get(f"/servers/{server_id}"))["server"])["status"]
                       in ("VERIFY_RESIZE", "ERROR") and s, 300, "the cold migration")
        assert resized["status"] == "VERIFY_RESIZE", resized.get("fault")
        assert resized["OS-EXT-SRV-ATTR:host"] == source
        ok(nova.post(f"/servers/{server_id}/action", json={"confirmResize": None}), 204)
        wait(settled, 120, "the server ACTIVE after the confirmation")
        shell = shell_of(nova, server_id).ready(300)
        assert shell.run(f"dd if=/dev/vda bs=512 skip={SECTOR} count=1 2>/dev/null | head -c 9") == "on-disk-4"
        shell.close()
        ok(nova.delete(f"/servers/{server_id}"), 204)
        wait(lambda: nova.get(f"/servers/{server_id}").status_code == 404, 120, "the server to go")
        assert [h.stop() for h in hosts] == [0, 0]
