"""Object Storage on RADOS, against the throwaway one-node cluster (``tests/cephcluster.py``) through the real
server and the real clients: with ``ceph.object_store`` on, python-swiftclient and boto3 put, read, range,
copy, list and delete objects (an SLO and an S3 multipart upload among them) whose bytes are RADOS objects in
the ``objects`` pool, listed here with the ``rados`` tool, not with onestack's own binding; the pool holds
exactly the blobs the database names.  An upload cut by ``kill -9`` leaves no object and its stripes are
removed by the sweeper at the next start; with the OSD stopped mid-upload the client gets a 503, nothing
appears, and once the OSD is back the store works again and the cut upload's stripes are gone."""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
import time
from pathlib import Path

import boto3  # noqa: F401 - s3_helpers needs it; imported here so a missing one fails loudly
import httpx
import pytest
from sqlalchemy import create_engine, text
from swiftclient import client as swiftclient
from swiftclient.exceptions import ClientException

from tests.api.helpers import member_of_new_project, ok, wait
from tests.api.s3_helpers import ec2_credential, s3_client
from tests.api.test_volumes_rbd import holds, write_rbd
from tests.api.volume_helpers import Project
from tests.cloudfixture import Cloud

pytestmark = [pytest.mark.ceph, pytest.mark.xdist_group("ceph")]
MiB = 1 << 20
STRIPE = 4 * MiB


@pytest.fixture(scope="module")
def rados_cloud(ceph_cluster, tmp_path_factory):
    """A server of its own keeping object bytes in the cluster's objects pool (10 s to give up on an OSD), its
    volume backups there too (through the Swift API), with a volume type ``rbd`` on the cluster."""
    settings = {"ceph": {**ceph_cluster.settings(), "object_store": True, "timeout": 10},
                "volume": {"backup_driver": "swift"}}
    cloud = Cloud(tmp_path_factory.mktemp("rados-cloud"), settings=settings).start()
    cloud.openstack("volume", "type", "create", "--property", "volume_backend_name=ceph", "rbd")
    yield cloud
    cloud.stop()


@pytest.fixture
def member(rados_cloud):
    with rados_cloud.client() as admin:
        project, user, _ = member_of_new_project(rados_cloud, admin)
        access, secret = ec2_credential(admin, user["id"], project["id"])
    return project, user, access, secret


def swift_of(cloud, project, user) -> swiftclient.Connection:
    return swiftclient.Connection(authurl=f"{cloud.auth_url}/v3", user=user["name"], key="secret-pass-1",
                                  auth_version="3", retries=0,
                                  os_options={"project_name": project["name"], "user_domain_name": "Default",
                                              "project_domain_name": "Default"})


def pool_names(cluster) -> set[str]:
    done = subprocess.run(["rados", "-c", cluster.conf, "--id", cluster.client, "-p", "objects", "ls"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def rados_get(cluster, name: str) -> bytes:
    done = subprocess.run(["rados", "-c", cluster.conf, "--id", cluster.client, "-p", "objects", "get", name, "-"],
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def db_blobs(cloud) -> dict[str, int]:
    """Every blob the database names, with its object's stored size."""
    engine = create_engine(f"sqlite:///{cloud.data_dir / 'onestack.db'}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT blob_id, blocks FROM object_object WHERE blob_id IS NOT NULL"))
            return {blob: len(blocks) // 4 for blob, blocks in rows}
    finally:
        engine.dispose()


def assert_pool_matches_database(cloud, cluster) -> None:
    """Each blob is its head plus one RADOS object per further 4 MiB stripe, and the pool holds nothing else."""
    expected: set[str] = set()
    for blob, blocks in db_blobs(cloud).items():
        stripes = max(1, -(-blocks // (STRIPE // MiB)))
        expected |= {blob} | {f"{blob}.{n:08x}" for n in range(1, stripes)}
    assert pool_names(cluster) == expected


def test_swift_client_story_with_bytes_in_the_pool(rados_cloud, ceph_cluster, member):
    project, user, _, _ = member
    conn = swift_of(rados_cloud, project, user)
    small, large = os.urandom(4096), os.urandom(9 * MiB + 123)
    conn.put_container("r")
    assert conn.put_object("r", "small", contents=small) == hashlib.md5(small).hexdigest()
    assert conn.put_object("r", "large", contents=large) == hashlib.md5(large).hexdigest()
    assert conn.head_object("r", "large")["content-length"] == str(len(large))
    assert conn.get_object("r", "small")[1] == small and conn.get_object("r", "large")[1] == large
    # a range across the first stripe's end, another inside the last stripe
    lo, hi = STRIPE - 10, STRIPE + 10
    assert conn.get_object("r", "large", headers={"Range": f"bytes={lo}-{hi}"})[1] == large[lo:hi + 1]
    assert conn.get_object("r", "large", headers={"Range": "bytes=-100"})[1] == large[-100:]
    # the bytes are the pool's: the large object's head holds its first 4 MiB
    blobs = db_blobs(rados_cloud)
    heads = [b for b in blobs if rados_get(ceph_cluster, b) == large[:STRIPE]]
    assert len(heads) == 1 and rados_get(ceph_cluster, f"{heads[0]}.00000002") == large[2 * STRIPE:]
    assert_pool_matches_database(rados_cloud, ceph_cluster)

    conn.copy_object("r", "large", destination="/r/large-copy")
    assert conn.get_object("r", "large-copy")[1] == large
    # a static large object of two segments
    conn.put_object("r", "seg/1", contents=large[:5 * MiB])
    conn.put_object("r", "seg/2", contents=large[5 * MiB:])
    conn.put_object("r", "slo", query_string="multipart-manifest=put", contents=(
        '[{"path": "/r/seg/1"}, {"path": "/r/seg/2"}]'))
    assert conn.get_object("r", "slo")[1] == large
    assert conn.get_object("r", "slo", headers={"Range": f"bytes={5 * MiB - 3}-{5 * MiB + 3}"})[1] == \
        large[5 * MiB - 3:5 * MiB + 4]
    _, listing = conn.get_container("r")
    assert [e["name"] for e in listing] == ["large", "large-copy", "seg/1", "seg/2", "slo", "small"]
    assert_pool_matches_database(rados_cloud, ceph_cluster)

    conn.delete_object("r", "slo", query_string="multipart-manifest=delete")
    for obj in ("large", "large-copy", "small"):
        conn.delete_object("r", obj)
    with pytest.raises(ClientException) as missing:
        conn.get_object("r", "large")
    assert missing.value.http_status == 404
    assert conn.get_container("r")[1] == [] and conn.head_container("r")["x-container-bytes-used"] == "0"
    assert_pool_matches_database(rados_cloud, ceph_cluster)
    conn.close()


def test_s3_story_with_copy_and_multipart(rados_cloud, ceph_cluster, member):
    _, _, access, secret = member
    s3 = s3_client(rados_cloud, access, secret)
    s3.create_bucket(Bucket="rbucket")
    s3.put_object(Bucket="rbucket", Key="k", Body=b"two" * 1000)
    assert s3.get_object(Bucket="rbucket", Key="k")["Body"].read() == b"two" * 1000
    assert s3.get_object(Bucket="rbucket", Key="k", Range="bytes=1-4")["Body"].read() == b"wotw"
    s3.copy_object(Bucket="rbucket", Key="k2", CopySource={"Bucket": "rbucket", "Key": "k"})
    assert s3.get_object(Bucket="rbucket", Key="k2")["Body"].read() == b"two" * 1000

    part1, part2 = os.urandom(5 * MiB), os.urandom(MiB)
    upload = s3.create_multipart_upload(Bucket="rbucket", Key="big")["UploadId"]
    etags = [s3.upload_part(Bucket="rbucket", Key="big", UploadId=upload, PartNumber=n, Body=body)["ETag"]
             for n, body in ((1, part1), (2, part2))]
    s3.complete_multipart_upload(Bucket="rbucket", Key="big", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": e} for n, e in zip((1, 2), etags, strict=True)]})
    assert s3.get_object(Bucket="rbucket", Key="big")["Body"].read() == part1 + part2
    assert s3.get_object(Bucket="rbucket", Key="big", Range=f"bytes={5 * MiB - 1}-{5 * MiB}")["Body"].read() == \
        part1[-1:] + part2[:1]
    assert_pool_matches_database(rados_cloud, ceph_cluster)
    for key in ("big", "k", "k2"):
        s3.delete_object(Bucket="rbucket", Key=key)
    assert s3.list_objects_v2(Bucket="rbucket")["KeyCount"] == 0
    assert_pool_matches_database(rados_cloud, ceph_cluster)


def test_versions_and_expiry(rados_cloud, ceph_cluster, member):
    project, user, _, _ = member
    conn = swift_of(rados_cloud, project, user)
    conn.put_container("old")
    conn.put_container("v", headers={"X-History-Location": "old"})
    conn.put_object("v", "doc", contents=b"first")
    conn.put_object("v", "doc", contents=b"second")
    assert conn.get_object("v", "doc")[1] == b"second"
    _, kept = conn.get_container("old")
    assert len(kept) == 1 and conn.get_object("old", kept[0]["name"])[1] == b"first"
    conn.delete_object("v", "doc")
    conn.delete_object("old", kept[0]["name"])
    conn.put_container("e")
    before = set(db_blobs(rados_cloud))
    conn.put_object("e", "brief", contents=b"x" * 5000, headers={"X-Delete-After": "1"})
    wait(lambda: not conn.get_container("e")[1], 30, "the expired object to leave the listing")
    wait(lambda: set(db_blobs(rados_cloud)) == before, 60, "the expirer to remove the row")
    assert_pool_matches_database(rados_cloud, ceph_cluster)
    conn.close()


class SlowBody:
    """A request body that sends ``before`` bytes, then waits until released (or the test ends)."""

    def __init__(self, before: int, after: int):
        self.before, self.after = before, after
        self.release = threading.Event()

    def __iter__(self):
        block = os.urandom(MiB)
        for _ in range(self.before // MiB):
            yield block
        self.release.wait(120)
        for _ in range(self.after // MiB):
            yield block


def start_upload(cloud, token_url: str, token: str, body: SlowBody) -> dict:
    outcome: dict = {}

    def run():
        try:
            outcome["response"] = httpx.put(token_url, content=iter(body), headers={"X-Auth-Token": token},
                                            timeout=120)
        except httpx.HTTPError as exc:
            outcome["error"] = exc
        outcome["ended"] = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    outcome["thread"] = thread
    return outcome


def headless(names: set[str]) -> set[str]:
    return {n for n in names if "." in n and n.split(".")[0] not in names}


def swift_token(cloud, project, user) -> tuple[str, str]:
    url, token = swift_of(cloud, project, user).get_auth()
    return url, token


def test_kill_9_mid_upload_leaves_no_object_and_the_sweeper_removes_its_stripes(rados_cloud, ceph_cluster,
                                                                                member):
    project, user, _, _ = member
    url, token = swift_token(rados_cloud, project, user)
    assert httpx.put(f"{url}/k", headers={"X-Auth-Token": token}).status_code == 201
    before = pool_names(ceph_cluster)
    body = SlowBody(3 * STRIPE, STRIPE)
    upload = start_upload(rados_cloud, f"{url}/k/cut", token, body)
    # stripes 1 and 2 are in the pool (stripe 0, the head, waits for the end)
    wait(lambda: len(headless(pool_names(ceph_cluster) - before)) >= 2, 60, "the upload's stripes in the pool")
    rados_cloud.kill_9()
    body.release.set()
    upload["thread"].join(60)
    assert "response" not in upload or upload["response"].status_code >= 500
    left = headless(pool_names(ceph_cluster))
    assert left
    rados_cloud.start()
    wait(lambda: not headless(pool_names(ceph_cluster)), 60, "the sweeper to remove the cut upload's stripes")
    listing = httpx.get(f"{url}/k", headers={"X-Auth-Token": token})
    assert listing.status_code == 204 and httpx.head(f"{url}/k/cut", headers={"X-Auth-Token": token}).status_code == 404
    assert_pool_matches_database(rados_cloud, ceph_cluster)


def test_rbd_volume_backups_live_in_the_objects_pool(rados_cloud, ceph_cluster):
    """Backups of RBD volumes into the object store on RADOS (``volume.backup_driver: swift``): a backup's
    chunks go through the Swift API into the objects pool, so a volume and its backups both live in the
    cluster (none under the data dir); a backup is the volume's ``rbd export-diff`` stream and an incremental
    one the diff since the last backup, each a small object here; a restore into another RBD volume brings
    the data back; deleting the backups empties the pool of them."""
    with rados_cloud.client() as admin:
        project = Project(rados_cloud, admin)
    volume = project.volume(volume_type="rbd", size=1)
    image = f"volume-{volume['id']}"
    write_rbd(ceph_cluster, image, 0x21)
    write_rbd(ceph_cluster, image, 0x22, offset=12 * MiB)
    before = pool_names(ceph_cluster)
    full = project.backup(volume["id"])
    assert full["object_count"] == 2  # the stream of the two 64 KiB written (one piece) and the manifest
    added = pool_names(ceph_cluster) - before
    assert len(added) == 2  # each a small object: one RADOS object apiece
    backups = rados_cloud.data_dir / "backups"
    assert not backups.exists() or not list(backups.rglob("*"))
    write_rbd(ceph_cluster, image, 0x23, offset=12 * MiB)
    increment = project.backup(volume["id"], incremental=True)
    assert increment["is_incremental"] is True and increment["object_count"] == 2
    assert len(pool_names(ceph_cluster) - before) == 4
    target = project.volume(volume_type="rbd", size=1)
    ok(project.http.post(f"/backups/{increment['id']}/restore", json={"restore": {"volume_id": target["id"]}}), 202)
    project.wait(target["id"], "available")
    assert holds(ceph_cluster, f"volume-{target['id']}", 0x21)
    assert holds(ceph_cluster, f"volume-{target['id']}", 0x23, offset=12 * MiB)
    for backup in (increment, full):
        ok(project.http.delete(f"/backups/{backup['id']}"), 202)
        project.gone(f"/backups/{backup['id']}")
    wait(lambda: not pool_names(ceph_cluster) - before, 60, "the backups' RADOS objects removed")
    for made in (volume, target):
        ok(project.http.delete(f"/volumes/{made['id']}"), 202)
        project.gone(f"/volumes/{made['id']}")


@pytest.mark.qemu
def test_osd_stopped_mid_operation_fails_each_client_clearly_and_nothing_is_half_made(rados_cloud, ceph_cluster,
                                                                                      member, tmp_path):
    """One OSD outage (stopped once, for every client of the cluster at once): an upload cut mid-way gets a
    503 and no object appears, reads get a 503, a delete needs only the database; an RBD volume's create ends
    in ``error`` within the configured timeout with the reason (a user message for the project) and the pool
    holds nothing of it; a guest whose disks are in Ceph fails to spawn with the reason, leaving no guest and
    no marker.  Once the OSD is back: the store works again and the cut upload's stripes are gone, a new
    volume is made as usual, and the same spawn makes every disk and the guest boots with them."""
    # imported here: these modules skip (with the reason) where QEMU or root is missing, this test with them
    from onestack.drivers.compute import DriverError
    from onestack.drivers.qemu import QemuDriver, accel
    from onestack.drivers.qemu.rbddisks import RBDDisks
    from onestack.drivers.volumerbd import Ceph
    from onestack.guestimage import build
    from tests.drivers.serial import unix_shell
    from tests.drivers.test_qemu_rbd import image_in_ceph
    from tests.drivers.test_qemu_rbd_moves import sees_its_disks
    from tests.drivers.test_qemu_volumes import spec_of

    project, user, _, _ = member
    url, token = swift_token(rados_cloud, project, user)
    auth = {"X-Auth-Token": token}
    assert httpx.put(f"{url}/o", headers=auth).status_code == 201
    assert httpx.put(f"{url}/o/kept", content=b"kept", headers=auth).status_code == 201
    assert httpx.put(f"{url}/o/gone", content=b"gone", headers=auth).status_code == 201
    with rados_cloud.client() as admin:
        volumes = Project(rados_cloud, admin)
    volumes_before = ceph_cluster.images("volumes")
    tiny_image = build.build()
    ceph = Ceph(ceph_cluster.conf, ceph_cluster.client, ceph_cluster.keyring, timeout=8)
    host = QemuDriver(tmp_path / "host", accel=accel.choose(Path.home() / ".cache" / "onestack")[0],
                      rbd_disks=RBDDisks(ceph, "vms"))
    with image_in_ceph(ceph_cluster, tiny_image) as image_id:
        spec = spec_of(tiny_image, image_path=None, image_rbd=f"images/{image_id}@snap", root_gb=1,
                       ephemeral_gb=1, swap_mb=64)
        before = pool_names(ceph_cluster)
        body = SlowBody(2 * STRIPE, 2 * STRIPE)
        upload = start_upload(rados_cloud, f"{url}/o/cut", token, body)
        wait(lambda: headless(pool_names(ceph_cluster) - before), 60, "the upload's first stripe in the pool")
        ceph_cluster.stop_osd()
        try:
            started = time.monotonic()
            body.release.set()
            created = ok(volumes.http.post("/volumes", json={"volume": {"size": 1, "volume_type": "rbd"}}),
                         202)["volume"]
            with pytest.raises(DriverError, match="did not answer"):
                host.spawn(spec)
            assert host.list_instances() == []
            assert not list((host.instances_dir / spec.uuid).glob("*.rbd"))
            upload["thread"].join(90)
            assert upload["response"].status_code == 503, upload["response"].text
            assert upload["ended"] - started < 60
            # reads fail the same clean way while the OSD is away
            assert httpx.get(f"{url}/o/kept", headers=auth, timeout=60).status_code == 503
            assert httpx.head(f"{url}/o/cut", headers=auth).status_code == 404
            # a delete needs only the database: its bytes wait for the cluster
            assert httpx.delete(f"{url}/o/gone", headers=auth, timeout=60).status_code == 204

            def errored():
                volume = ok(volumes.http.get(f"/volumes/{created['id']}"))["volume"]
                return volume if volume["status"] == "error" else None
            wait(errored, 60, "the create of an rbd volume to fail")
            messages = ok(volumes.http.get("/messages"))["messages"]
            assert [m["event_id"] for m in messages if m["resource_uuid"] == created["id"]]
        finally:
            ceph_cluster.start_osd()
        try:
            host.spawn(spec)  # the same spawn, once the OSD is back: every disk made
            assert {f"{spec.uuid}_disk", f"{spec.uuid}_disk.local", f"{spec.uuid}_disk.swap"} <= \
                ceph_cluster.images("vms")

            assert httpx.get(f"{url}/o/kept", headers=auth, timeout=60).content == b"kept"
            assert httpx.put(f"{url}/o/after", content=b"after", headers=auth, timeout=60).status_code == 201
            assert [e["name"] for e in httpx.get(f"{url}/o?format=json", headers=auth).json()] == ["after", "kept"]
            # what the cut upload wrote was never an object, and it and the deleted object's bytes went once
            # the cluster took a write again
            assert not headless(pool_names(ceph_cluster))
            assert_pool_matches_database(rados_cloud, ceph_cluster)

            assert ceph_cluster.images("volumes") == volumes_before  # nothing of the failed create
            again = volumes.volume(volume_type="rbd")
            assert f"volume-{again['id']}" in ceph_cluster.images("volumes")
            for volume in (again, created):
                ok(volumes.http.delete(f"/volumes/{volume['id']}"), 202)
            for volume in (again, created):
                volumes.gone(f"/volumes/{volume['id']}")
            assert ceph_cluster.images("volumes") == volumes_before

            shell = unix_shell(host.console_socket(spec.uuid, "serial")).ready(180)
            sees_its_disks(shell)
            shell.close()
        finally:
            host.destroy(spec.uuid)
        assert not {n for n in ceph_cluster.images("vms") if n.startswith(spec.uuid)}


def test_up_refuses_an_object_pool_it_cannot_open(ceph_cluster, tmp_path):
    settings = {"ceph": {**ceph_cluster.settings(), "object_store": True, "pools": {"objects": "no-such-pool"}}}
    cloud = Cloud(tmp_path / "cloud", settings=settings)
    with pytest.raises(subprocess.CalledProcessError) as refused:
        cloud.start()
    said = refused.value.stdout + refused.value.stderr
    assert "object store's pool cannot be used" in said and "no-such-pool" in said, said
    assert not (tmp_path / "cloud" / "onestack.pid").exists()
