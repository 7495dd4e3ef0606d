"""Crash anywhere, lose nothing: a mixed workload through the public APIs while the server is `kill -9`ed.

A few client threads (each with its own seeded random stream) make and remove identity grants, images
(uploads and web-download imports, every byte of a known checksum), networks, subnets, ports, routers and
floating IPs, servers on the fake driver, volumes made from an image, attached and snapshotted, objects
(static large objects too) and small stacks.  A killer thread `kill -9`s the server's process group at
random moments and starts the same cloud again.  Every write's outcome is written down as its client saw
it: told it succeeded, told it failed, or cut off without an answer.  After the last restart, once the
reconcilers have settled, ``invariants`` checks what must hold whatever moment the kills struck; see
docs/hardening.md#chaos.

Run it with ``make chaos`` (CHAOS_KILLS, CHAOS_SECONDS, CHAOS_SEED) or briefly in tests/hardening/test_chaos.py.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import http.server
import os
import random
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import yaml

from tests.api.helpers import grant, make_project, make_user, ok

PASSWORD = "secret-pass-1"
GUESTS_PER_TENANT = 2  # real QEMU guests alive at once per project (TCG on 2 cores)
CONTAINERS_PER_TENANT = 3  # runc containers alive at once per project
STACK = yaml.safe_dump({
    "heat_template_version": "2018-08-31",
    "resources": {"word": {"type": "OS::Heat::RandomString", "properties": {"length": 8}},
                  "net": {"type": "OS::Neutron::Net", "properties": {"name": {"get_attr": ["word", "value"]}}}},
    "outputs": {"net": {"value": {"get_resource": "net"}}},
})
SERVER_TRANSITIONAL = {"BUILD", "REBUILD", "RESIZE", "MIGRATING", "REBOOT", "HARD_REBOOT", "PASSWORD"}
VOLUME_TRANSITIONAL = {"creating", "deleting", "attaching", "detaching", "downloading", "uploading",
                       "extending", "reserved", "retyping", "backing-up", "restoring-backup",
                       "maintenance", "awaiting-transfer"}
SNAPSHOT_TRANSITIONAL = {"creating", "deleting", "restoring", "unmanaging", "backing-up"}
BACKUP_TRANSITIONAL = {"creating", "deleting", "restoring"}
IMAGE_TRANSITIONAL = {"saving", "importing", "uploading", "pending_delete"}


class Cut(Exception):
    """The server went away under a request (or was down when it was made)."""


@dataclasses.dataclass
class Told:
    """What a client was told of one write: 'ok', 'failed' or 'cut' (no answer)."""

    kind: str
    key: str
    told: str
    sha256: str | None = None
    size: int = 0
    status: int = 0
    extra: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Report:
    kills: int = 0
    operations: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    outcomes: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    checked: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    violations: list[str] = dataclasses.field(default_factory=list)
    settle_seconds: float = 0.0
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [f"chaos: {self.kills} kill -9s in {self.seconds:.0f}s, {sum(self.operations.values())} operations "
               f"({', '.join(f'{k} {v}' for k, v in sorted(self.operations.items()))})",
               f"chaos: writes told ok/failed/cut: {dict(sorted(self.outcomes.items()))}; "
               f"settled {self.settle_seconds:.0f}s after the last restart",
               f"chaos: invariants checked: {sum(self.checked.values())} "
               f"({', '.join(f'{k} {v}' for k, v in sorted(self.checked.items()))})",
               f"chaos: {len(self.violations)} violations"]
        return out + [f"  VIOLATION {v}" for v in self.violations]


class Payloads(http.server.ThreadingHTTPServer):
    """A web server on 127.0.0.1 holding the bytes web-download imports fetch."""

    daemon_threads = True

    def __init__(self):
        self.blobs: dict[str, bytes] = {}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(handler):  # noqa: N802
                data = self.blobs.get(handler.path)
                if data is None:
                    handler.send_error(404)
                    return
                handler.send_response(200)
                handler.send_header("Content-Length", str(len(data)))
                handler.end_headers()
                handler.wfile.write(data)

            def log_message(handler, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def url(self, path: str, data: bytes) -> str:
        self.blobs[path] = data
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class Chaos:
    def __init__(self, cloud, seed: int = 19, kills: int = 3, seconds: float = 30.0, threads: int = 3,
                 dataplane: bool = False, guest_image: Path | None = None, container_image: Path | None = None,
                 vms: bool = True):
        """``guest_image``: the cloud runs real QEMU guests booted from it (a bootable image, so a volume
        detach is answered by a guest kernel), at most ``GUESTS_PER_TENANT`` at a time per project.
        ``container_image``: container servers (runc, on a QEMU host) booted from it too, at most
        ``CONTAINERS_PER_TENANT`` at a time per project, stopped, started and deleted.  ``vms=False``: no
        VM servers at all (a QEMU host without a bootable image, for a cheap run of containers only)."""
        self.dataplane = dataplane
        self.guest_image = guest_image
        self.container_image = container_image
        self.vms = vms
        self.cloud, self.seed, self.kills, self.seconds, self.threads = cloud, seed, kills, seconds, threads
        self.report = Report()
        self.told: list[Told] = []
        self.lock = threading.Lock()
        self.up = threading.Event()
        self.up.set()
        # cleared (under ``lock``) to hold the clients between two operations; ``active`` counts those under way
        self.calm = threading.Event()
        self.calm.set()
        self.active = 0
        self.stop = threading.Event()
        self.payloads = Payloads()

    # ---- the server's life

    def pid(self) -> int:
        return int((self.cloud.data_dir / "onestack.pid").read_text())

    def kill(self) -> None:
        self.up.clear()
        pid = self.pid()
        os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            try:
                if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                    break
            except OSError:
                break
            time.sleep(0.05)
        self.report.kills += 1

    def restart(self) -> None:
        self.cloud.onestack("up", "--bind", f"127.0.0.1:{self.cloud.port}", "--detach", "--no-user-clouds")
        self.up.set()

    def killer(self, rng: random.Random) -> None:
        from tests.hardening import invariants

        gap = self.seconds / self.kills
        # With real guests, the kernel's firewall is checked against the database after every restart, not only
        # the last: no new operation starts from just before the kill until the check is done (the operations
        # under way are cut by the kill as ever, or finish), so the rows hold still while it compares.
        check_each = self.dataplane and self.guest_image is not None
        for n in range(self.kills):
            time.sleep(rng.uniform(0.4, 1.2) * gap)
            if n == self.kills - 1:
                # the last kill lands in the middle of whatever the clients are doing; they stop there
                self.kill()
                self.stop.set()
                self.restart()
                continue
            if check_each:
                with self.lock:
                    self.calm.clear()
            self.kill()
            self.restart()
            if check_each:
                self.wait_for_quiet()
                invariants.check_firewall_rules(self, f"after restart {n + 1}")
                self.calm.set()

    def wait_for_quiet(self, timeout: float = 240) -> None:
        """Until no operation is under way (a server's boot is waited for up to 180 s)."""
        deadline = time.monotonic() + timeout
        while self.active and time.monotonic() < deadline:
            time.sleep(0.2)
        if self.active:
            self.violation(f"{self.active} operations still under way {timeout:.0f}s after a restart")

    # ---- clients

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.cloud.url, headers={"X-Auth-Token": token}, timeout=60)

    def send(self, c: httpx.Client, method: str, path: str, **kw) -> httpx.Response:
        if not self.up.is_set():
            raise Cut()
        try:
            resp = c.request(method, path, **kw)
        except (httpx.TransportError, httpx.StreamError) as exc:
            raise Cut() from exc
        if resp.status_code >= 500:
            if not self.up.is_set() and resp.status_code in (502, 503):
                raise Cut()
            self.violation(f"{method} {path} answered {resp.status_code}: {resp.text[:300]}")
        return resp

    def read(self, c: httpx.Client, path: str, **kw) -> httpx.Response:
        """A GET that waits out restarts (reads are safe to repeat)."""
        while True:
            self.up.wait()
            try:
                return self.send(c, "GET", path, **kw)
            except Cut:
                if self.stop.is_set():
                    raise
                time.sleep(0.2)

    def violation(self, text: str) -> None:
        with self.lock:
            self.report.violations.append(text)

    def note(self, kind: str, key: str, told: str, **kw) -> Told:
        t = Told(kind, key, told, **kw)
        with self.lock:
            self.told.append(t)
            self.report.outcomes[f"{kind} {told}" + (f" {t.status}" if told == "failed" else "")] += 1
        return t

    def wait_for(self, c: httpx.Client, path: str, field: Callable[[dict], str], want: set[str],
                 fail: set[str], timeout: float = 60) -> str | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stop.is_set():
            resp = self.read(c, path)
            if resp.status_code == 404:
                return None
            state = field(resp.json())
            if state in want or state in fail:
                return state
            time.sleep(0.3)
        return None

    # ---- setup

    def prepare(self) -> None:
        cloud = self.cloud
        self.admin = self.client(cloud.token())
        with cloud.client() as keystone:
            self.tenants = []
            for _ in range(2):
                project, user = make_project(keystone), make_user(keystone, PASSWORD)
                grant(keystone, project["id"], user["id"], "member")
                token = cloud.token(user["name"], PASSWORD, project["name"])
                self.tenants.append({"project": project, "user": user, "token": token})
        a = self.admin
        ext = ok(a.post("/network/v2.0/networks", json={"network": {
            "name": "chaos-ext", "router:external": True, "provider:network_type": "vxlan"}}), 201)["network"]
        ok(a.post("/network/v2.0/subnets", json={"subnet": {
            "network_id": ext["id"], "ip_version": 4, "cidr": "203.0.113.0/24", "enable_dhcp": False}}), 201)
        self.ext = ext["id"]
        self.image_data = random.Random(self.seed).randbytes(96 * 1024)
        image = ok(a.post("/image/v2/images", json={"name": "chaos-tiny", "disk_format": "raw",
                                                     "container_format": "bare", "visibility": "public"}), 201)
        ok(a.put(f"/image/v2/images/{image['id']}/file", content=self.image_data,
                 headers={"Content-Type": "application/octet-stream"}), 204)
        self.note("image", image["id"], "ok", sha256=hashlib.sha256(self.image_data).hexdigest(),
                  size=len(self.image_data))
        self.image = self.server_image = image["id"]
        if self.guest_image is not None:
            guest = ok(a.post("/image/v2/images", json={"name": "chaos-guest", "disk_format": "qcow2",
                                                         "container_format": "bare", "visibility": "public"}), 201)
            ok(a.put(f"/image/v2/images/{guest['id']}/file", content=self.guest_image.read_bytes(),
                     headers={"Content-Type": "application/octet-stream"}), 204)
            self.server_image = guest["id"]
        if self.container_image is not None:
            box = ok(a.post("/image/v2/images", json={"name": "chaos-container", "disk_format": "raw",
                                                       "container_format": "oci", "visibility": "public"}), 201)
            ok(a.put(f"/image/v2/images/{box['id']}/file", content=self.container_image.read_bytes(),
                     headers={"Content-Type": "application/octet-stream"}), 204)
            self.container_server_image = box["id"]
        for t in self.tenants:
            with self.client(t["token"]) as c:
                net = ok(c.post("/network/v2.0/networks", json={"network": {"name": "chaos-home"}}), 201)["network"]
                ok(c.post("/network/v2.0/subnets", json={"subnet": {
                    "network_id": net["id"], "ip_version": 4, "cidr": "10.250.0.0/24"}}), 201)
                t["net"] = net["id"]
                t["container"] = "chaos"
                ok(c.put(f"/object-store/v1/AUTH_{t['project']['id']}/chaos"), 201)
                t["subnets"] = 0

    # ---- the workload

    def worker(self, n: int) -> None:
        rng = random.Random(f"{self.seed}-{n}")
        tenant = self.tenants[n % len(self.tenants)]
        ops = [self.op_identity, self.op_image, self.op_network, self.op_server, self.op_volume,
               self.op_object, self.op_stack, self.op_container]
        weights = [2, 3, 2, 2 if self.vms else 0, 2, 3, 1, 2 if self.container_image is not None else 0]
        with self.client(tenant["token"]) as c:
            while not self.stop.is_set():
                op = rng.choices(ops, weights)[0]
                if not self._begin():
                    continue
                self.report.operations[op.__name__[3:]] += 1
                try:
                    self.up.wait()
                    op(rng, c, tenant)
                except Cut:
                    pass
                finally:
                    with self.lock:
                        self.active -= 1

    def _begin(self) -> bool:
        """Wait until the clients may go on; counts the operation as under way (False: the run stopped)."""
        while not self.stop.is_set():
            self.calm.wait(timeout=1)
            with self.lock:
                if self.calm.is_set():
                    self.active += 1
                    return True
        return False

    def op_identity(self, rng: random.Random, c: httpx.Client, tenant: dict) -> None:
        a = self.admin
        r = self.send(a, "POST", "/identity/v3/users", json={"user": {
            "name": f"chaos-u-{rng.getrandbits(40):x}", "password": PASSWORD}})
        if r.status_code != 201:
            return
        user = r.json()["user"]["id"]
        pid = tenant["project"]["id"]
        role = self.role()
        try:
            r = self.send(a, "PUT", f"/identity/v3/projects/{pid}/users/{user}/roles/{role}")
        except Cut:
            self.note("grant", f"{pid}/{user}/{role}", "cut")
            raise
        self.note("grant", f"{pid}/{user}/{role}", "ok" if r.status_code == 204 else "failed", status=r.status_code)
        if rng.random() < 0.3:
            try:
                r = self.send(a, "DELETE", f"/identity/v3/users/{user}")
            except Cut:
                self.note("user-delete", user, "cut")
                raise
            self.note("user-delete", user, "ok" if r.status_code == 204 else "failed", status=r.status_code)

    def role(self) -> str:
        if not hasattr(self, "_role"):
            self._role = self.read(self.admin, "/identity/v3/roles", params={"name": "reader"}).json()["roles"][0]["id"]
        return self._role

    def op_image(self, rng: random.Random, c: httpx.Client, tenant: dict) -> None:
        if rng.random() < 0.2:
            self.delete_one(c, "image", "/image/v2/images/{}", 204)
            return
        data = rng.randbytes(rng.randint(16, 1024) * 1024)
        r = self.send(c, "POST", "/image/v2/images", json={"name": "chaos-img", "disk_format": "raw",
                                                            "container_format": "bare"})
        if r.status_code != 201:
            return
        iid = r.json()["id"]
        sha = hashlib.sha256(data).hexdigest()
        web = rng.random() < 0.3
        try:
            if web:
                uri = self.payloads.url(f"/{iid}", data)
                r = self.send(c, "POST", f"/image/v2/images/{iid}/import", json={
                    "method": {"name": "web-download", "uri": uri}})
                told = "accepted" if r.status_code == 202 else "failed"
            else:
                r = self.send(c, "PUT", f"/image/v2/images/{iid}/file", content=data,
                              headers={"Content-Type": "application/octet-stream"})
                told = "ok" if r.status_code == 204 else "failed"
        except Cut:
            self.note("image", iid, "cut", sha256=sha, size=len(data))
            raise
        self.note("image", iid, told, status=r.status_code, sha256=sha, size=len(data), extra={"web": web, "owner": c.headers["X-Auth-Token"]})

    def delete_one(self, c: httpx.Client, kind: str, path: str, status: int) -> None:
        """Deletes one of this client's acknowledged ``kind``s (never the image servers boot from)."""
        token = c.headers["X-Auth-Token"]
        with self.lock:
            mine = [t for t in self.told if t.kind == kind and t.told in ("ok", "accepted")
                    and t.extra.get("owner") == token and t.key != self.image]
            gone = {t.key for t in self.told if t.kind == f"{kind}-delete"}
        mine = [t for t in mine if t.key not in gone]
        if not mine:
            return
        t = mine[len(mine) // 2]
        try:
            r = self.send(c, "DELETE", path.format(t.key))
        except Cut:
            self.note(f"{kind}-delete", t.key, "cut")
            raise
        self.note(f"{kind}-delete", t.key, "ok" if r.status_code == status else "failed", status=r.status_code)

    def op_network(self, rng: random.Random, c: httpx.Client, tenant: dict) -> None:
        n = "/network/v2.0"
        if rng.random() < 0.3 and tenant.get("estates"):
            estate = tenant["estates"].pop(0)
            for method, path, body in (
                    ("PUT", f"{n}/floatingips/{estate['fip']}", {"floatingip": {"port_id": None}}),
                    ("DELETE", f"{n}/floatingips/{estate['fip']}", None),
                    ("PUT", f"{n}/routers/{estate['router']}/remove_router_interface", {"subnet_id": estate["subnet"]}),
                    ("DELETE", f"{n}/routers/{estate['router']}", None),
                    ("DELETE", f"{n}/ports/{estate['port']}", None),
                    ("DELETE", f"{n}/networks/{estate['net']}", None)):
                self.send(c, method, path, json=body)
            return
        tenant["subnets"] += 1
        k = tenant["subnets"] % 250
        estate = {}
        r = self.send(c, "POST", f"{n}/networks", json={"network": {"name": "chaos-net"}})
        if r.status_code != 201:
            return
        estate["net"] = r.json()["network"]["id"]
        r = self.send(c, "POST", f"{n}/subnets", json={"subnet": {
            "network_id": estate["net"], "ip_version": 4, "cidr": f"10.{(self.tenants.index(tenant) + 1) * 10}.{k}.0/24"}})
        if r.status_code != 201:
            return
        estate["subnet"] = r.json()["subnet"]["id"]
        r = self.send(c, "POST", f"{n}/ports", json={"port": {"network_id": estate["net"]}})
        estate["port"] = r.json()["port"]["id"]
        r = self.send(c, "POST", f"{n}/routers", json={"router": {
            "name": "chaos-r", "external_gateway_info": {"network_id": self.ext}}})
        if r.status_code != 201:
            return
        estate["router"] = r.json()["router"]["id"]
        self.send(c, "PUT", f"{n}/routers/{estate['router']}/add_router_interface", json={"subnet_id": estate["subnet"]})
        r = self.send(c, "POST", f"{n}/floatingips", json={"floatingip": {
            "floating_network_id": self.ext, "port_id": estate["port"]}})
        if r.status_code == 201:
            estate["fip"] = r.json()["floatingip"]["id"]
            tenant.setdefault("estates", []).append(estate)

    def op_server(self, rng: random.Random, c: httpx.Client, tenant: dict) -> None:
        servers = tenant.setdefault("servers", [])
        crowded = self.guest_image is not None and len(servers) >= GUESTS_PER_TENANT
        if servers and (crowded or rng.random() < 0.3):
            sid = servers.pop(rng.randrange(len(servers)))
            try:
                r = self.send(c, "DELETE", f"/compute/v2.1/servers/{sid}")
            except Cut:
                self.note("server-delete", sid, "cut")
                raise
            self.note("server-delete", sid, "ok" if r.status_code == 204 else "failed", status=r.status_code)
            return
        r = self.send(c, "POST", "/compute/v2.1/servers", json={"server": {
            "name": "chaos-vm", "imageRef": self.server_image, "flavorRef": "1" if self.guest_image is None else "42",
            "networks": [{"uuid": tenant["net"]}]}})
        if r.status_code != 202:
            return
        sid = r.json()["server"]["id"]
        self.note("server", sid, "ok")
        if self.wait_for(c, f"/compute/v2.1/servers/{sid}", lambda b: b["server"]["status"], {"ACTIVE"},
                         {"ERROR"}, timeout=60 if self.guest_image is None else 180) == "ACTIVE":
            servers.append(sid)

    def op_container(self, rng: random.Random, c: httpx.Client, tenant: dict) -> None:
        """A container server (runc) made, stopped, started or deleted; its processes outlive the killed
        server by design (the next one adopts them), so a kill anywhere here may leave an orphan."""
        mine = tenant.setdefault("containers", [])
        s = "/compute/v2.1/servers"
        if mine and (len(mine) >= CONTAINERS_PER_TENANT or rng.random() < 0.3):
            sid = mine.pop(rng.randrange(len(mine)))
            try:
                r = self.send(c, "DELETE", f"{s}/{sid}")
            except Cut:
                self.note("server-delete", sid, "cut")
                raise
            self.note("server-delete", sid, "ok" if r.status_code == 204 else "failed", status=r.status_code)
            return
        if mine and rng.random() < 0.4:
            sid = mine[rng.randrange(len(mine))]
            status = self.read(c, f"{s}/{sid}").json().get("server", {}).get("status")
            action, want = {"ACTIVE": ("os-stop", "SHUTOFF"), "SHUTOFF": ("os-start", "ACTIVE")}.get(status, (None, None))
            if action is not None:
                r = self.send(c, "POST", f"{s}/{sid}/action", json={action: None})
                if r.status_code == 202:
                    self.wait_for(c, f"{s}/{sid}", lambda b: b["server"]["status"], {want}, {"ERROR"})
            return
        r = self.send(c, "POST", s, json={"server": {
            "name": "chaos-ctr", "imageRef": self.container_server_image, "flavorRef": "42",
            "networks": [{"uuid": tenant["net"]}]}})
        if r.status_code != 202:
            return
        sid = r.json()["server"]["id"]
        self.note("server", sid, "ok")
        mine.append(sid)  # deleted later whatever became of it: an ERROR container is deleted too
        self.wait_for(c, f"{s}/{sid}", lambda b: b["server"]["status"], {"ACTIVE"}, {"ERROR"})

    def op_volume(self, rng: random.Random, c: httpx.Client, tenant: dict) -> None:
        pid = tenant["project"]["id"]
        v = f"/volume/v3/{pid}"
        if rng.random() < 0.25:
            self.drop_volume(c, tenant, v)
            return
        body = {"size": 1, "name": "chaos-vol"}
        if rng.random() < 0.5:
            body["imageRef"] = self.image
        r = self.send(c, "POST", f"{v}/volumes", json={"volume": body})
        if r.status_code != 202:
            return
        vid = r.json()["volume"]["id"]
        self.note("volume", vid, "ok", extra={"image": body.get("imageRef"), "owner": c.headers["X-Auth-Token"]})
        if self.wait_for(c, f"{v}/volumes/{vid}", lambda b: b["volume"]["status"], {"available"},
                         {"error"}) != "available":
            return
        servers = tenant.get("servers") or []
        if servers and rng.random() < 0.6:
            sid = servers[rng.randrange(len(servers))]
            r = self.send(c, "POST", f"/compute/v2.1/servers/{sid}/os-volume_attachments",
                          json={"volumeAttachment": {"volumeId": vid}})
            if r.status_code == 200:
                self.wait_for(c, f"{v}/volumes/{vid}", lambda b: b["volume"]["status"], {"in-use"}, {"error"})
        r = self.send(c, "POST", f"{v}/snapshots", json={"snapshot": {"volume_id": vid, "force": True}})
        if r.status_code == 202:
            snap = r.json()["snapshot"]["id"]
            self.wait_for(c, f"{v}/snapshots/{snap}", lambda b: b["snapshot"]["status"], {"available"}, {"error"})
            if rng.random() < 0.4:
                self.send(c, "DELETE", f"{v}/snapshots/{snap}")
        if rng.random() < 0.3:
            self.backup_and_restore(c, v, vid, body.get("imageRef"))

    def backup_and_restore(self, c: httpx.Client, v: str, vid: str, image: str | None) -> None:
        """A backup of the volume (into the store on disk) restored into a new volume: the restore turns the
        backup's data into that volume's file, which then holds the volume's data (the image's, for a
        volume made from one, checked as any volume from an image is). The backup is deleted after."""
        r = self.send(c, "POST", f"{v}/backups", json={"backup": {"volume_id": vid, "force": True}})
        if r.status_code != 202:
            return
        bid = r.json()["backup"]["id"]
        if self.wait_for(c, f"{v}/backups/{bid}", lambda b: b["backup"]["status"], {"available"}, {"error"},
                         timeout=120) == "available":
            r = self.send(c, "POST", f"{v}/backups/{bid}/restore", json={"restore": {"name": "chaos-restored"}})
            if r.status_code == 202:
                restored = r.json()["restore"]["volume_id"]
                self.note("volume", restored, "ok", extra={"image": image, "owner": c.headers["X-Auth-Token"]})
                with self.lock:
                    self.report.outcomes["restore ok"] += 1
                self.wait_for(c, f"{v}/volumes/{restored}", lambda b: b["volume"]["status"], {"available"},
                              {"error", "error_restoring"}, timeout=120)
                self.wait_for(c, f"{v}/backups/{bid}", lambda b: b["backup"]["status"], {"available"}, {"error"})
        self.send(c, "DELETE", f"{v}/backups/{bid}")

    def drop_volume(self, c: httpx.Client, tenant: dict, v: str) -> None:
        """Detaches one of the project's volumes if attached, deletes its snapshots, then deletes it."""
        volumes = self.read(c, f"{v}/volumes/detail").json()["volumes"]
        settled = [vol for vol in volumes if vol["status"] in ("available", "in-use", "error")]
        if not settled:
            return
        vol = settled[len(settled) // 2]
        for a in vol["attachments"]:
            self.send(c, "DELETE", f"/compute/v2.1/servers/{a['server_id']}/os-volume_attachments/{vol['id']}")
            self.wait_for(c, f"{v}/volumes/{vol['id']}", lambda b: b["volume"]["status"], {"available"}, {"error"})
        for snap in self.read(c, f"{v}/snapshots", params={"volume_id": vol["id"]}).json()["snapshots"]:
            self.send(c, "DELETE", f"{v}/snapshots/{snap['id']}")
        self.wait_for(c, f"{v}/snapshots?volume_id={vol['id']}",
                      lambda b: "none" if not b["snapshots"] else "some", {"none"}, set(), timeout=30)
        try:
            r = self.send(c, "DELETE", f"{v}/volumes/{vol['id']}")
        except Cut:
            self.note("volume-delete", vol["id"], "cut")
            raise
        self.note("volume-delete", vol["id"], "ok" if r.status_code == 202 else "failed", status=r.status_code)

    def op_object(self, rng: random.Random, c: httpx.Client, tenant: dict) -> None:
        base = f"/object-store/v1/AUTH_{tenant['project']['id']}/{tenant['container']}"
        name = f"o-{rng.getrandbits(48):x}"
        if rng.random() < 0.15:
            self.delete_one(c, "object", "{}", 204)
            return
        if rng.random() < 0.3:
            parts = [rng.randbytes(rng.randint(64, 512) * 1024) for _ in range(3)]
            segments = []
            for i, part in enumerate(parts):
                r = self.send(c, "PUT", f"{base}/{name}-seg/{i:04d}", content=part)
                if r.status_code != 201:
                    return
                segments.append({"path": f"{tenant['container']}/{name}-seg/{i:04d}",
                                 "etag": hashlib.md5(part, usedforsecurity=False).hexdigest(),
                                 "size_bytes": len(part)})
            data = b"".join(parts)
            try:
                r = self.send(c, "PUT", f"{base}/{name}", params={"multipart-manifest": "put"}, json=segments)
            except Cut:
                self.note("object", f"{base}/{name}", "cut", sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                          extra={"owner": c.headers["X-Auth-Token"]})
                raise
        else:
            data = rng.randbytes(rng.randint(1, 1536) * 1024)
            try:
                r = self.send(c, "PUT", f"{base}/{name}", content=data,
                              headers={"ETag": hashlib.md5(data, usedforsecurity=False).hexdigest()})
            except Cut:
                self.note("object", f"{base}/{name}", "cut", sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                          extra={"owner": c.headers["X-Auth-Token"]})
                raise
        self.note("object", f"{base}/{name}", "ok" if r.status_code == 201 else "failed", status=r.status_code,
                  sha256=hashlib.sha256(data).hexdigest(), size=len(data), extra={"owner": c.headers["X-Auth-Token"]})

    def op_stack(self, rng: random.Random, c: httpx.Client, tenant: dict) -> None:
        o = f"/orchestration/v1/{tenant['project']['id']}"
        stacks = tenant.setdefault("stacks", [])
        if rng.random() < 0.4 and stacks:
            name, sid = stacks.pop(0)
            self.send(c, "DELETE", f"{o}/stacks/{name}/{sid}")
            return
        name = f"chaos-{rng.getrandbits(32):x}"
        r = self.send(c, "POST", f"{o}/stacks", json={"stack_name": name, "template": STACK})
        if r.status_code == 201:
            stacks.append((name, r.json()["stack"]["id"]))

    # ---- the run

    def run(self) -> Report:
        started = time.monotonic()
        self.prepare()
        rng = random.Random(self.seed)
        workers = [threading.Thread(target=self.worker, args=(n,), daemon=True) for n in range(self.threads)]
        for w in workers:
            w.start()
        self.killer(rng)
        for w in workers:
            w.join(timeout=120)
        self.admin.headers["X-Auth-Token"] = self.cloud.token()
        settle = time.monotonic()
        self.settle()
        self.report.settle_seconds = time.monotonic() - settle
        from tests.hardening import invariants
        invariants.check(self)
        self.report.seconds = time.monotonic() - started
        self.payloads.shutdown()
        return self.report

    def settle(self, timeout: float = 90) -> None:
        """Waits until nothing is in a transitional state (the check of that invariant follows)."""
        from tests.hardening import invariants
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not invariants.transitional(self):
                return
            time.sleep(1)


def db(cloud) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{cloud.data_dir / 'onestack.db'}?mode=ro", uri=True, timeout=30)
