"""onestack up / down / status, bootstrap files, key rotation, and the same server on PostgreSQL."""

import os
import shutil
import signal
import stat
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import yaml

from tests.api.helpers import upload_image, wait
from tests.cloudfixture import Cloud, gone
from tests.pgtools import scratch_database


def test_up_status_down_and_restart_keep_state(tmp_path):
    cloud = Cloud(tmp_path / "data")
    cloud.start()
    try:
        assert cloud.onestack("status").returncode == 0
        assert cloud.onestack("up", "--detach", "--no-user-clouds").returncode == 0  # already up: no second server
        token = cloud.token()
        admin = cloud.client(token)
        project = admin.post("/projects", json={"project": {"name": "survivor"}}).json()["project"]
        cloud.onestack("down")
        assert cloud.onestack("status", check=False).returncode == 3
        cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")
        # Fernet tokens are stateless: the old token still works after a restart.
        got = httpx.get(f"{cloud.auth_url}/v3/projects/{project['id']}", headers={"X-Auth-Token": token})
        assert got.status_code == 200
    finally:
        cloud.stop()


def test_a_server_whose_data_dir_is_removed_and_made_again_stops(tmp_path):
    """What a test run's fresh temporary directory does to a cloud an interrupted earlier run left serving:
    its data dir removed, and a new one made at the same path.  The old server, which would otherwise act on
    the new one's guests (its hosts' sync destroys guests its deleted database does not know), stops."""
    cloud = Cloud(tmp_path / "data").start()
    pid = int((cloud.data_dir / "onestack.pid").read_text())
    try:
        shutil.rmtree(cloud.data_dir)
        cloud.data_dir.mkdir()
        wait(lambda: gone(pid), 30, "the server on the removed data dir to stop")
    finally:
        if not gone(pid):
            os.kill(pid, signal.SIGKILL)


def test_up_on_a_port_another_server_answers_fails_instead_of_taking_it_for_its_own(tmp_path):
    """Another onestack already serving on the port answers ``up --detach``'s readiness probe at once: the
    new server, whose bind fails, must not be reported up (a test cloud whose port a restarted cloud took
    went on to ask the other cloud for tokens with its own passwords)."""
    first = Cloud(tmp_path / "first").start()
    try:
        second = Cloud(tmp_path / "second")
        second.port = first.port
        second.home.mkdir(parents=True, exist_ok=True)
        (second.data_dir / "onestack.yaml").write_text(yaml.safe_dump(second.settings))
        refused = second.onestack("up", "--bind", f"127.0.0.1:{second.port}", "--detach", "--no-user-clouds",
                                  check=False)
        assert refused.returncode == 1, refused.stdout
        assert "onestack exited with" in refused.stdout
        assert "address already in use" in (second.data_dir / "onestack.log").read_text().lower()
        assert not (second.data_dir / "onestack.pid").exists()
        assert first.token()  # the server that held the port serves on
    finally:
        first.stop()


def test_bootstrap_files_are_private_and_user_clouds_are_merged(tmp_path):
    cloud = Cloud(tmp_path / "data")
    user_config = cloud.home / ".config/openstack/clouds.yaml"
    user_config.parent.mkdir(parents=True)
    user_config.write_text(yaml.safe_dump({"clouds": {"elsewhere": {"auth": {"auth_url": "http://x"}}}}))
    cloud.home.mkdir(parents=True, exist_ok=True)
    (cloud.data_dir / "onestack.yaml").write_text(yaml.safe_dump(cloud.settings))
    cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach")
    try:
        for name in ("clouds.yaml", "openrc-admin", "openrc-demo", "bootstrap-secrets.yaml"):
            mode = stat.S_IMODE(os.stat(cloud.data_dir / name).st_mode)
            assert mode == 0o600, name
        merged = yaml.safe_load(user_config.read_text())["clouds"]
        assert set(merged) >= {"elsewhere", "onestack", "onestack-admin"}
        assert merged["elsewhere"] == {"auth": {"auth_url": "http://x"}}
        openrc = (cloud.data_dir / "openrc-admin").read_text()
        assert f"OS_AUTH_URL={cloud.auth_url}" in openrc and "OS_PROJECT_NAME=admin" in openrc
        assert cloud.token()
    finally:
        cloud.stop()


def test_key_rotation_keeps_issued_tokens_valid(cloud):
    token = cloud.token()
    cloud.onestack("keys", "rotate")
    new = cloud.token()
    for t in (token, new):
        resp = httpx.get(f"{cloud.auth_url}/v3/auth/tokens", headers={"X-Auth-Token": new, "X-Subject-Token": t})
        assert resp.status_code == 200


@pytest.mark.postgres
def test_server_on_postgresql(tmp_path):
    with scratch_database() as url:
        cloud = Cloud(tmp_path / "data", database=url)
        try:
            cloud.start()
            admin = cloud.client()
            project = admin.post("/projects", json={"project": {"name": "on-pg"}})
            assert project.status_code == 201
            assert admin.post("/projects", json={"project": {"name": "on-pg"}}).status_code == 409
            # PostgreSQL enforces column lengths SQLite ignores: still a 400, never a 500.
            too_long = admin.post("/users", json={"user": {"name": "long", "email": "e" * 300}})
            assert too_long.status_code == 400, too_long.text
            listed = admin.get("/projects", params={"name": "on-pg"}).json()["projects"]
            assert [p["id"] for p in listed] == [project.json()["project"]["id"]]
            assert cloud.openstack("token", "issue").returncode == 0
        finally:
            cloud.stop()


def test_tokens_never_reach_the_log(cloud):
    token = cloud.token()
    httpx.get(f"{cloud.auth_url}/v3/auth/tokens", headers={"X-Auth-Token": token, "X-Subject-Token": token})
    httpx.get(f"{cloud.auth_url}/v3/users", headers={"X-Auth-Token": token})

    def logged() -> str | None:
        text = (cloud.data_dir / "onestack.log").read_text()
        return text if '"path":"/identity/v3/users"' in text else None

    log = wait(logged, 10, "the access log's line for /v3/users")  # written once the answer has gone
    assert token not in log  # it tells nothing of the token


def test_kill_9_during_writes_loses_no_committed_row_and_leaves_no_half_row(tmp_path):
    import concurrent.futures

    cloud = Cloud(tmp_path / "data").start()
    admin = cloud.client()
    created: list[str] = []

    def create(i: int) -> None:
        resp = admin.post("/projects", json={"project": {"name": f"k9-{i}", "tags": ["a", "b"]}})
        if resp.status_code == 201:
            created.append(resp.json()["project"]["id"])

    pid = int((cloud.data_dir / "onestack.pid").read_text())
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(create, i) for i in range(40)]
        deadline = time.monotonic() + 30
        while len(created) < 10 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert len(created) >= 10
        os.kill(pid, signal.SIGKILL)
        concurrent.futures.wait(futures)
    try:
        cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")
        admin = cloud.client()
        projects = admin.get("/projects").json()["projects"]
        by_id = {p["id"]: p for p in projects if p["name"].startswith("k9-")}
        assert set(created) <= set(by_id)  # every acknowledged write survived
        assert all(p["tags"] == ["a", "b"] and p["domain_id"] == "default" for p in by_id.values())
    finally:
        cloud.stop()


@pytest.mark.postgres
def test_two_api_processes_share_one_postgresql(tmp_path):
    """Scale-out: a revocation made through one process is honoured by the other within its poll interval."""
    with scratch_database() as url:
        first, second = Cloud(tmp_path / "a", database=url), Cloud(tmp_path / "b", database=url)
        try:
            first.start()
            # API processes of one cloud share its token keys and bootstrap secrets, as Keystone nodes do.
            second.data_dir.mkdir(parents=True)
            shutil.copytree(first.data_dir / "fernet-keys", second.data_dir / "fernet-keys")
            shutil.copy(first.data_dir / "bootstrap-secrets.yaml", second.data_dir / "bootstrap-secrets.yaml")
            second.start()
            token = first.token()
            url_b = f"{second.auth_url}/v3/auth/tokens"
            headers = {"X-Auth-Token": second.token(), "X-Subject-Token": token}
            assert httpx.get(url_b, headers=headers).status_code == 200
            revoke = {"X-Auth-Token": token, "X-Subject-Token": token}
            assert httpx.delete(f"{first.auth_url}/v3/auth/tokens", headers=revoke).status_code == 204
            deadline = time.monotonic() + 5
            while httpx.get(url_b, headers=headers).status_code == 200 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert httpx.get(url_b, headers=headers).status_code == 404
        finally:
            first.stop()
            second.stop()


def test_password_expiry_and_change_upon_first_use(tmp_path):
    """With change_password_upon_first_use, a password an admin set has expired until its owner changes it."""
    rules = {**Cloud(tmp_path).settings["security_compliance"], "change_password_upon_first_use": True,
             "password_expires_days": 90}
    cloud = Cloud(tmp_path / "data", settings={"security_compliance": rules}).start()
    try:
        admin = cloud.client()
        user = admin.post("/users", json={"user": {"name": "newcomer", "password": "first-pass-1"}}).json()["user"]
        expired = cloud.issue("newcomer", "first-pass-1", project=None)
        assert expired.status_code == 401 and "expired" in expired.json()["error"]["message"]
        change = {"user": {"original_password": "first-pass-1", "password": "second-pass-2"}}
        resp = httpx.post(f"{cloud.auth_url}/v3/users/{user['id']}/password", json=change)
        assert resp.status_code == 204
        token = cloud.issue("newcomer", "second-pass-2", project=None)
        assert token.status_code == 201
        expires_at = token.json()["token"]["user"]["password_expires_at"]
        assert expires_at is not None and expires_at > time.strftime("%Y-%m-%dT%H:%M:%S")
    finally:
        cloud.stop()


def test_kill_9_mid_upload_leaves_no_half_image(tmp_path):
    """An upload cut by kill -9: after restart the image waits for data again and no partial file remains."""
    import threading

    cloud = Cloud(tmp_path / "data").start()
    try:
        glance = httpx.Client(base_url=f"{cloud.url}/image", headers={"X-Auth-Token": cloud.token()}, timeout=30)
        image = glance.post("/v2/images", json={"disk_format": "raw", "container_format": "bare"}).json()
        sent = threading.Event()

        def slow_body():
            for _ in range(4):
                yield b"x" * 65536
            sent.set()
            time.sleep(30)  # the server dies while waiting for the rest
            yield b"never"

        def send():
            try:
                glance.put(f"/v2/images/{image['id']}/file", content=slow_body(),
                           headers={"Content-Type": "application/octet-stream"})
            except httpx.HTTPError:
                pass  # the server died under us: that is the point

        uploader = threading.Thread(target=send, daemon=True)
        uploader.start()
        assert sent.wait(15)
        # The upload is under way once its partial file exists (the status turns to saving just before).
        deadline = time.monotonic() + 10
        while not list((cloud.data_dir / "images").glob(".*.partial")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list((cloud.data_dir / "images").glob(".*.partial"))
        assert glance.get(f"/v2/images/{image['id']}").json()["status"] == "saving"
        os.kill(int((cloud.data_dir / "onestack.pid").read_text()), signal.SIGKILL)
        # As if a crash had also come between deleting an image's row and its file:
        (cloud.data_dir / "images" / "0e4d5b40-0000-4000-8000-000000000000").write_bytes(b"orphan")
        cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")
        glance = httpx.Client(base_url=f"{cloud.url}/image", headers={"X-Auth-Token": cloud.token()}, timeout=30)
        shown = glance.get(f"/v2/images/{image['id']}").json()
        assert shown["status"] == "queued" and shown["size"] is None and shown["checksum"] is None
        assert list((cloud.data_dir / "images").iterdir()) == []
        assert glance.put(f"/v2/images/{image['id']}/file", content=b"whole",
                          headers={"Content-Type": "application/octet-stream"}).status_code == 204
        assert glance.get(f"/v2/images/{image['id']}/file").content == b"whole"
    finally:
        cloud.stop()


def test_kill_9_mid_stage_and_mid_import_leaves_no_half_image(tmp_path):
    """kill -9 while data is staged and while a web-download import runs: after restart neither image is
    active, no partial data remains, the import's task failed and both images can take data again."""
    import http.server
    import threading

    arrived = threading.Event()

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(10 * 65536))
            self.end_headers()
            self.wfile.write(b"y" * 65536)
            self.wfile.flush()
            arrived.set()
            time.sleep(30)  # the server dies while waiting for the rest

        def log_message(self, *args):
            pass

    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    cloud = Cloud(tmp_path / "data").start()
    octets = {"Content-Type": "application/octet-stream"}
    try:
        glance = httpx.Client(base_url=f"{cloud.url}/image", headers={"X-Auth-Token": cloud.token()}, timeout=30)
        staged = glance.post("/v2/images", json={"disk_format": "raw", "container_format": "bare"}).json()
        fetched = glance.post("/v2/images", json={"disk_format": "raw", "container_format": "bare"}).json()
        sent = threading.Event()

        def slow_body():
            for _ in range(4):
                yield b"x" * 65536
            sent.set()
            time.sleep(30)
            yield b"never"

        def send():
            try:
                glance.put(f"/v2/images/{staged['id']}/stage", content=slow_body(), headers=octets)
            except httpx.HTTPError:
                pass  # the server died under us: that is the point

        threading.Thread(target=send, daemon=True).start()
        assert sent.wait(15)
        uri = f"http://127.0.0.1:{web.server_address[1]}/disk"
        resp = glance.post(f"/v2/images/{fetched['id']}/import", json={"method": {"name": "web-download", "uri": uri}})
        assert resp.status_code == 202 and arrived.wait(15)
        deadline = time.monotonic() + 10
        while (len(list((cloud.data_dir / "staging").glob(".*.partial"))) + len(list(
                (cloud.data_dir / "images").glob(".*.partial")))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert glance.get(f"/v2/images/{staged['id']}").json()["status"] == "uploading"
        assert glance.get(f"/v2/images/{fetched['id']}").json()["status"] == "importing"
        os.kill(int((cloud.data_dir / "onestack.pid").read_text()), signal.SIGKILL)
        cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")
        glance = httpx.Client(base_url=f"{cloud.url}/image", headers={"X-Auth-Token": cloud.token()}, timeout=30)
        for image in (staged, fetched):
            shown = glance.get(f"/v2/images/{image['id']}").json()
            assert shown["status"] == "queued" and shown["size"] is None and shown["checksum"] is None
        assert glance.get(f"/v2/images/{fetched['id']}").json()["os_glance_failed_import"] == "file"
        task = glance.get(f"/v2/images/{fetched['id']}/tasks").json()["tasks"][0]
        assert task["status"] == "failure" and "interrupted" in task["message"]
        assert list((cloud.data_dir / "images").iterdir()) == []
        assert list((cloud.data_dir / "staging").iterdir()) == []
        assert glance.put(f"/v2/images/{staged['id']}/stage", content=b"whole", headers=octets).status_code == 204
        assert glance.post(f"/v2/images/{staged['id']}/import",
                           json={"method": {"name": "glance-direct"}}).status_code == 202
        deadline = time.monotonic() + 15
        while glance.get(f"/v2/images/{staged['id']}").json()["status"] != "active" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert glance.get(f"/v2/images/{staged['id']}/file").content == b"whole"
    finally:
        cloud.stop()
        web.shutdown()


def test_two_workers_share_sqlite_and_die_with_their_parent(tmp_path):
    """Two serving processes on one SQLite file: concurrent writes all land, none collide, and
    kill -9 of the parent takes the workers with it."""
    cloud = Cloud(tmp_path / "data", settings={"workers": 2}).start()
    try:
        parent = int((cloud.data_dir / "onestack.pid").read_text())
        workers = [int(p) for p in subprocess.run(["pgrep", "-P", str(parent)], capture_output=True,
                                                  text=True).stdout.split()]
        assert len(workers) == 2
        headers = {"X-Auth-Token": cloud.token()}
        base = f"{cloud.url}/network/v2.0"
        net = httpx.post(f"{base}/networks", json={"network": {"name": "w"}}, headers=headers).json()["network"]
        httpx.post(f"{base}/subnets", headers=headers, json={"subnet": {
            "network_id": net["id"], "ip_version": 4, "cidr": "10.0.0.0/24", "enable_dhcp": False}}).raise_for_status()

        def create(_):
            with httpx.Client(headers=headers, timeout=60) as c:  # a new connection lands on either worker
                return c.post(f"{base}/ports", json={"port": {"network_id": net["id"]}})

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(create, range(40)))
        assert [r.status_code for r in answers] == [201] * 40
        addresses = {r.json()["port"]["fixed_ips"][0]["ip_address"] for r in answers}
        assert len(addresses) == 40
        os.kill(parent, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(alive(w) for w in workers):
            time.sleep(0.1)
        assert not any(alive(w) for w in workers)
    finally:
        cloud.stop()


def test_every_worker_reaches_the_guests_of_the_hosts_their_supervisor_runs(tmp_path):
    """With two workers the hosts run in the supervisor: whichever worker takes a call that needs a guest
    (console output, diagnostics, an interface) makes it through the host link."""
    cloud = Cloud(tmp_path / "data", settings={"workers": 2}).start()
    try:
        headers = {"X-Auth-Token": cloud.token(), "OpenStack-API-Version": "compute 2.48"}
        nova, neutron = f"{cloud.url}/compute/v2.1", f"{cloud.url}/network/v2.0"
        with httpx.Client(headers=headers, timeout=60) as c:
            image = upload_image(httpx.Client(base_url=cloud.url, headers=headers, timeout=60))
            net = c.post(f"{neutron}/networks", json={"network": {"name": "w"}}).json()["network"]
            c.post(f"{neutron}/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                          "cidr": "10.0.0.0/24"}}).raise_for_status()
            server = c.post(f"{nova}/servers", json={"server": {"name": "w", "imageRef": image["id"],
                                                                "flavorRef": "1", "networks": "none"}})
            server_id = server.json()["server"]["id"]
            wait(lambda: c.get(f"{nova}/servers/{server_id}").json()["server"]["status"] == "ACTIVE", 60,
                 "the server ACTIVE")

        def ask(_):
            with httpx.Client(headers=headers, timeout=60) as fresh:  # a new connection lands on either worker
                return (fresh.post(f"{nova}/servers/{server_id}/action", json={"os-getConsoleOutput": {}}),
                        fresh.get(f"{nova}/servers/{server_id}/diagnostics"))

        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(ask, range(12)))
        assert [(out.status_code, diag.status_code) for out, diag in answers] == [(200, 200)] * 12
        assert all(out.json()["output"] for out, _ in answers)
        assert {diag.json()["state"] for _, diag in answers} == {"running"}
        with httpx.Client(headers=headers, timeout=60) as c:
            attached = c.post(f"{nova}/servers/{server_id}/os-interface",
                              json={"interfaceAttachment": {"net_id": net["id"]}})
            assert attached.status_code == 200, attached.text
    finally:
        cloud.stop()


def alive(pid: int) -> bool:
    """Running, not merely a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False
