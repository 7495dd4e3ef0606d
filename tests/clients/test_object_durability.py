"""The object store across kill -9 and damaged disks: listed objects are whole, unlisted files go,
damaged bytes are never served."""

import hashlib
import os
import sqlite3
import subprocess
import sys
import threading
import time

import httpx
import pytest

from tests.api.helpers import wait
from tests.cloudfixture import Cloud


@pytest.fixture
def store_cloud(tmp_path):
    cloud = Cloud(tmp_path / "data").start()
    yield cloud
    cloud.stop()


def swift_client(cloud) -> httpx.Client:
    issued = cloud.issue()
    project = issued.json()["token"]["project"]["id"]
    return httpx.Client(base_url=f"{cloud.url}/object-store/v1/AUTH_{project}",
                        headers={"X-Auth-Token": issued.headers["X-Subject-Token"]}, timeout=30)


def blob_of(cloud, name: str) -> str:
    with sqlite3.connect(cloud.data_dir / "onestack.db") as db:
        return db.execute("SELECT blob_id FROM object_object WHERE name = ?", (name,)).fetchone()[0]


def blob_path(cloud, blob_id: str):
    return cloud.data_dir / "objects" / "data" / blob_id[:2] / blob_id


def test_kill_9_during_uploads_leaves_listings_and_files_agreeing(store_cloud):
    cloud = store_cloud
    swift = swift_client(cloud)
    assert swift.put("/c").status_code == 201
    for i in range(5):
        assert swift.put(f"/c/kept{i}", content=os.urandom(1000 + i)).status_code == 201
    stalled = threading.Event()

    def slow_body():
        yield b"x" * 65536
        stalled.set()
        time.sleep(30)
        yield b"never"

    stored = []

    def upload(path, body):
        try:
            if swift.put(path, content=body).status_code == 201:
                stored.append(path)
        except httpx.HTTPError:
            pass  # the server died under us: that is the point

    threading.Thread(target=upload, args=("/c/stalled", slow_body()), daemon=True).start()
    busy = [threading.Thread(target=lambda n=n: [upload(f"/c/busy{n}-{i}", os.urandom(50_000)) for i in range(50)],
                             daemon=True) for n in range(3)]
    for thread in busy:
        thread.start()
    assert stalled.wait(15)
    wait(lambda: len(stored) >= 3, 15, "the busy uploads to be flowing")  # so the kill lands among writes
    cloud.kill_9()
    # a crash between a blob's rename and its row's commit, and a blob lost under a listed object
    orphan = blob_path(cloud, "ab" + "0" * 30)
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"orphan")
    blob_path(cloud, blob_of(cloud, "kept0")).unlink()
    cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")
    swift = swift_client(cloud)
    tmp = cloud.data_dir / "objects" / "tmp"
    wait(lambda: not list(tmp.iterdir()) and not orphan.exists(), 20, "the sweep after restart")
    wait(lambda: "kept0" not in swift.get("/c").text.splitlines(), 20, "the lost object to be dropped")
    listing = swift.get("/c", params={"format": "json"}).json()
    names = {o["name"] for o in listing}
    assert {"kept1", "kept2", "kept3", "kept4"} <= names and "stalled" not in names
    head = swift.head("/c").headers
    assert head["X-Container-Object-Count"] == str(len(listing))
    assert head["X-Container-Bytes-Used"] == str(sum(o["bytes"] for o in listing))
    for entry in listing:
        got = swift.get(f"/c/{entry['name']}")
        assert got.status_code == 200 and hashlib.md5(got.content).hexdigest() == entry["hash"]
    on_disk = {p.name for p in (cloud.data_dir / "objects" / "data").rglob("*") if p.is_file()}
    assert on_disk == {blob_of(cloud, n) for n in names}


def test_damaged_bytes_are_an_error_never_content(store_cloud):
    cloud = store_cloud
    swift = swift_client(cloud)
    swift.put("/c")
    small, large = os.urandom(5000), os.urandom(3 * 1024 * 1024)
    swift.put("/c/small", content=small)
    swift.put("/c/large", content=large)
    for name, offset in (("small", 10), ("large", 1024 * 1024 + 5)):
        path = blob_path(cloud, blob_of(cloud, name))
        raw = bytearray(path.read_bytes())
        raw[offset] ^= 0x40
        path.write_bytes(raw)
    resp = swift.get("/c/small")
    assert resp.status_code == 503 and small[:100] not in resp.content
    received = bytearray()
    with pytest.raises(httpx.HTTPError):  # noqa: PT012 - the stream breaks part-way
        with swift.stream("GET", "/c/large") as stream:
            assert stream.status_code == 200
            for chunk in stream.iter_raw():
                received += chunk
    assert len(received) <= 1024 * 1024 and bytes(received) == large[:len(received)]
    first_block = swift.get("/c/large", headers={"Range": "bytes=0-99"})
    assert first_block.status_code == 206 and first_block.content == large[:100]
    assert swift.get("/c/large", headers={"Range": "bytes=1048576-1048600"}).status_code == 503
    swift.put("/c/intact", content=b"fine")
    audit = subprocess.run([sys.executable, "-m", "onestack.services.object.reconcile.auditor", str(cloud.data_dir)],
                           capture_output=True, text=True, env=cloud.env, timeout=60)
    assert audit.returncode == 1, audit.stderr
    assert sorted(audit.stdout.splitlines()[:2]) == ["quarantined: large", "quarantined: small"]
    assert swift.get("/c").text.splitlines() == ["intact"]
    assert swift.head("/c").headers["X-Container-Bytes-Used"] == "4"
    assert len(list((cloud.data_dir / "objects" / "quarantine").iterdir())) == 2


def test_kill_9_right_after_acknowledged_puts_loses_none(store_cloud):
    """Concurrent small PUTs are committed in groups (several requests' rows in one transaction): every PUT
    answered 201 before a kill -9 must read back whole after the restart, and nothing listed is partial."""
    cloud = store_cloud
    swift = swift_client(cloud)
    assert swift.put("/g").status_code == 201
    acknowledged: dict[str, str] = {}
    enough = threading.Event()

    def uploads(n: int) -> None:
        with httpx.Client(base_url=str(swift.base_url), headers=dict(swift.headers), timeout=30) as mine:
            for i in range(10_000):
                body = os.urandom(4096 + n * 7 + i % 5)
                try:
                    if mine.put(f"/g/o{n}-{i}", content=body).status_code == 201:
                        acknowledged[f"o{n}-{i}"] = hashlib.md5(body).hexdigest()
                except httpx.HTTPError:
                    return  # the server died under us
                if len(acknowledged) >= 200:
                    enough.set()

    writers = [threading.Thread(target=uploads, args=(n,), daemon=True) for n in range(8)]
    for thread in writers:
        thread.start()
    assert enough.wait(120), f"only {len(acknowledged)} PUTs were answered"
    cloud.kill_9()  # the writers are mid-request: some rows were in a group not yet committed
    for thread in writers:
        thread.join(30)
    answered = dict(acknowledged)  # every 201 a client got was sent before the kill
    cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")
    swift = swift_client(cloud)
    for name, md5 in answered.items():
        got = swift.get(f"/g/{name}")
        assert got.status_code == 200, f"acknowledged {name} answered {got.status_code} after the restart"
        assert hashlib.md5(got.content).hexdigest() == md5 == got.headers["ETag"]
    listing = swift.get("/g", params={"format": "json"}).json()
    assert {e["name"] for e in listing} >= set(answered)
    for entry in listing:  # what was not acknowledged is either absent or whole
        assert hashlib.md5(swift.get(f"/g/{entry['name']}").content).hexdigest() == entry["hash"]
    head = swift.head("/g").headers
    assert head["X-Container-Object-Count"] == str(len(listing))
    assert head["X-Container-Bytes-Used"] == str(sum(e["bytes"] for e in listing))
