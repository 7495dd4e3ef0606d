"""A real guest through the compute API: `server create` starts QEMU, the tiny image boots, reads its
config drive, runs its user data, and its boot log is what `os-getConsoleOutput` shows; onestack can
restart under it, and a guest that dies is reported SHUTOFF.  One story on one cloud and one guest (a
second one booted from its snapshot), from `make up`'s registration to `down --purge`: booting a guest is
most of its time."""

import base64
import subprocess
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.api.helpers import console_output, name, ok, wait
from tests.cloudfixture import Cloud
from tests.drivers import serial

pytestmark = pytest.mark.qemu
NOVA = {"X-OpenStack-Nova-API-Version": "2.1"}
V231 = {"X-OpenStack-Nova-API-Version": "2.31"}


def qemu_running(server_id: str) -> bool:
    return subprocess.run(["pgrep", "-f", f"qemu-system.*{server_id}"], capture_output=True).returncode == 0


def finished(log: str) -> str | None:
    return log if "user-data exit=" in log else None


def links() -> str:
    return subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout


def console_url(nova, server_id: str, protocol: str, kind: str) -> str:
    body = {"remote_console": {"protocol": protocol, "type": kind}}
    reply = ok(nova.post(f"/servers/{server_id}/remote-consoles", json=body, headers=V231))["remote_console"]
    assert (reply["protocol"], reply["type"]) == (protocol, kind)
    return reply["url"]


def check_consoles(nova, server_id: str) -> None:
    """The serial console through the websocket proxy is the guest's shell, both ways; VNC answers RFB;
    the token is an admin's to inspect, and a made-up one opens nothing."""
    url = console_url(nova, server_id, "serial", "serial")
    token = parse_qs(urlsplit(url).query)["token"][0]
    assert serial.shell_answers(url)
    shown = ok(nova.get(f"/os-console-auth-tokens/{token}", headers=V231))["console"]
    assert shown["instance_uuid"] == server_id and shown["internal_access_path"].startswith("unix:")
    page = console_url(nova, server_id, "vnc", "novnc")
    assert "noVNC" in httpx.get(page, timeout=30).text
    path = unquote(parse_qs(urlsplit(page).query)["path"][0])
    base = urlsplit(page)
    # a browser on the console page's own site may open it; a page of another site, with the same token, may not
    with connect(f"ws://{base.netloc}/{path}", subprotocols=["binary"], origin=f"http://{base.netloc}",
                 open_timeout=30) as ws:
        assert ws.recv(timeout=30).startswith(b"RFB 003.")
    # websockify's own path with the token in a cookie, as noVNC before 1.1 and Tempest's console client ask
    cookie = {"Cookie": f"token={parse_qs(urlsplit(path).query)['token'][0]}"}
    with connect(f"ws://{base.netloc}/websockify", subprotocols=["binary"], additional_headers=cookie,
                 open_timeout=30) as ws:
        assert ws.recv(timeout=30).startswith(b"RFB 003.")
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://{base.netloc}/{path}", origin="http://attacker.example", open_timeout=30)
    assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus):
        connect(url.replace(token, "00000000-0000-0000-0000-000000000000"), open_timeout=30)


def boot_tiny(nova, image_id: str, network_id: str, server_name: str) -> str:
    body = {"server": {"name": server_name, "imageRef": image_id, "flavorRef": "42", "config_drive": True,
                       "networks": [{"uuid": network_id}]}}
    server_id = ok(nova.post("/servers", json=body), 202)["server"]["id"]
    active = wait(lambda: (s := ok(nova.get(f"/servers/{server_id}"))["server"])["status"] in ("ACTIVE", "ERROR")
                  and s, 120, f"{server_name} ACTIVE")
    assert active["status"] == "ACTIVE", active.get("fault")
    return server_id


def markers(nova, server_id: str) -> int:
    return console_output(nova, server_id).count("onestack-tiny: up")


def test_a_guest_from_registration_through_restarts_reboots_and_a_snapshot_to_purge(tmp_path, tiny_image):
    """One guest's story on a cloud of its own (it restarts the cloud, kills QEMU and purges the cloud):
    `make up`'s registration; the guest boots from the registered image, reads its config drive, runs its
    user data; its consoles; it outlives a restart of onestack; a QEMU that dies is SHUTOFF and starts again;
    stop and start; a soft reboot boots it again; a snapshot boots as a new server; a delete takes the guest
    and its taps; `down --purge` leaves no QEMU, tap, disk or data dir of the cloud."""
    data_dir = tmp_path / "data"
    cloud = Cloud(data_dir, settings={"compute": {"driver": "qemu"}}).start()
    headers = {"X-Auth-Token": cloud.token()}
    nova = httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={**headers, **NOVA}, timeout=120)
    servers: list[str] = []
    try:
        assert "registered" in cloud.onestack("image", "register").stdout
        assert "already registered" in cloud.onestack("image", "register").stdout
        with httpx.Client(base_url=cloud.url, headers=headers, timeout=120) as http:
            (image,) = ok(http.get("/image/v2/images", params={"name": "onestack-tiny"}))["images"]
            assert (image["visibility"], image["disk_format"], image["status"]) == ("public", "qcow2", "active")
            net = ok(http.post("/network/v2.0/networks", json={"network": {"name": name("net")}}), 201)["network"]
            ok(http.post("/network/v2.0/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                                  "cidr": "10.77.0.0/24"}}), 201)
        key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEz6mXv7gGZ0Q2hZJb0bE2mEnp8xkq2uYtfdWlQd8tUm test@onestack"
        ok(nova.post("/os-keypairs", json={"keypair": {"name": "k", "public_key": key}}))
        script = base64.b64encode(b"#!/bin/sh\necho user-data-ran-$((6*7))\n").decode()
        body = {"server": {"name": "Tiny One", "imageRef": image["id"], "flavorRef": "42", "key_name": "k",
                           "config_drive": True, "user_data": script, "networks": [{"uuid": net["id"]}]}}
        server_id = ok(nova.post("/servers", json=body), 202)["server"]["id"]
        servers.append(server_id)
        active = wait(lambda: (s := ok(nova.get(f"/servers/{server_id}"))["server"])["status"] in ("ACTIVE", "ERROR")
                      and s, 120, "ACTIVE")
        assert active["status"] == "ACTIVE", active.get("fault")
        assert qemu_running(server_id)
        ports = ok(httpx.get(f"{cloud.url}/network/v2.0/ports", params={"device_id": server_id},
                             headers=headers))["ports"]
        taps = [f"tap{p['id'][:11]}" for p in ports]
        assert taps and all(tap in links() for tap in taps)
        log = wait(lambda: finished(console_output(nova, server_id)), 180, "the guest's user data to finish")
        assert "onestack-tiny: up hostname=tiny-one" in log and "source=config-drive" in log and "keys=1" in log
        assert "user-data-ran-42" in log
        check_consoles(nova, server_id)
        # Restarting onestack leaves the guest running and manageable.
        cloud.stop()
        assert qemu_running(server_id)
        cloud.start()
        assert ok(nova.get(f"/servers/{server_id}"))["server"]["status"] == "ACTIVE"
        # A guest whose QEMU dies is SHUTOFF after the next power-state sync, and starts again.
        subprocess.run(["pkill", "-9", "-f", f"qemu-system.*{server_id}"], check=True)
        wait(lambda: ok(nova.get(f"/servers/{server_id}"))["server"]["status"] == "SHUTOFF", 60,
             "the power-state sync to notice")
        ok(nova.post(f"/servers/{server_id}/action", json={"os-start": None}), 202)
        wait(lambda: ok(nova.get(f"/servers/{server_id}"))["server"]["status"] == "ACTIVE", 120, "ACTIVE")
        # booted (its ACPI daemon listening) before the stop: a guest still booting ignores the power button,
        # and the stop would wait out its whole timeout before pulling the plug
        wait(lambda: markers(nova, server_id) >= 2, 180, "the guest's second boot")
        ok(nova.post(f"/servers/{server_id}/action", json={"os-stop": None}), 202)
        wait(lambda: ok(nova.get(f"/servers/{server_id}"))["server"]["status"] == "SHUTOFF", 120, "SHUTOFF")
        assert not qemu_running(server_id)
        ok(nova.post(f"/servers/{server_id}/action", json={"os-start": None}), 202)
        wait(lambda: ok(nova.get(f"/servers/{server_id}"))["server"]["status"] == "ACTIVE", 120, "ACTIVE again")
        assert qemu_running(server_id)
        wait(lambda: markers(nova, server_id) >= 3, 180, "the guest's third boot")
        # a soft reboot boots the guest again
        ok(nova.post(f"/servers/{server_id}/action", json={"reboot": {"type": "SOFT"}}), 202)
        wait(lambda: markers(nova, server_id) >= 4, 180, "the marker of the guest's boot after the soft reboot")
        assert ok(nova.get(f"/servers/{server_id}"))["server"]["status"] == "ACTIVE"
        # a snapshot boots as a new server
        reply = nova.post(f"/servers/{server_id}/action", json={"createImage": {"name": "first-snap"}},
                          headers={"X-OpenStack-Nova-API-Version": "2.45"})
        snapshot = ok(reply, 202)["image_id"]
        wait(lambda: httpx.get(f"{cloud.url}/image/v2/images/{snapshot}", headers=headers).json()["status"]
             == "active", 180, "the snapshot to be active")
        second = boot_tiny(nova, snapshot, net["id"], "second")
        servers.append(second)
        wait(lambda: markers(nova, second) >= 1, 180, "the marker of the guest booted from the snapshot")
        assert "hostname=second" in console_output(nova, second)
        ports = ok(httpx.get(f"{cloud.url}/network/v2.0/ports", headers=headers))["ports"]
        second_taps = [f"tap{p['id'][:11]}" for p in ports if p["device_id"] == second]
        assert len(second_taps) == 1 and all(tap in links() for tap in second_taps)
        # a delete takes the guest and its taps
        ok(nova.delete(f"/servers/{server_id}"), 204)
        wait(lambda: nova.get(f"/servers/{server_id}").status_code == 404, 120, "the server to go")
        assert not qemu_running(server_id)
        assert not any(tap in links() for tap in taps)  # the guest's taps went with it
        assert qemu_running(second)
        # the purge takes the guest still running
        purged = cloud.purge()
        assert "removed every guest" in purged.stdout, purged.stdout + purged.stderr
        assert not any(qemu_running(s) for s in servers)
        assert not any(tap in links() for tap in taps + second_taps)
        assert not data_dir.exists()  # disks, config drives and every other file of the cloud went with it
    finally:
        nova.close()
        if data_dir.exists():  # a failed run still leaves no guest behind
            cloud.purge(check=False)
