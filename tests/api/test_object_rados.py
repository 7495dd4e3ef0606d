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

import boto3  # noqa: F401 - s3_helpers needs it; imported here so a missing one fails loudly
import httpx
import pytest
from sqlalchemy import create_engine, text
from swiftclient import client as swiftclient
from swiftclient.exceptions import ClientException

from tests.api.helpers import member_of_new_project, wait
from tests.api.s3_helpers import ec2_credential, s3_client
from tests.cephcluster import long_test
from tests.cloudfixture import Cloud

pytestmark = [pytest.mark.ceph, pytest.mark.xdist_group("ceph")]
MiB = 1 << 20
STRIPE = 4 * MiB


@pytest.fixture(scope="module")
def rados_cloud(ceph_cluster, tmp_path_factory):
    """A server of its own keeping object bytes in the cluster's objects pool (10 s to give up on an OSD)."""
    settings = {"ceph": {**ceph_cluster.settings(), "object_store": True, "timeout": 10}}
    cloud = Cloud(tmp_path_factory.mktemp("rados-cloud"), settings=settings).start()
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


@long_test
def test_osd_stopped_mid_upload_is_a_503_and_nothing_appears(rados_cloud, ceph_cluster, member):
    project, user, _, _ = member
    url, token = swift_token(rados_cloud, project, user)
    auth = {"X-Auth-Token": token}
    assert httpx.put(f"{url}/o", headers=auth).status_code == 201
    assert httpx.put(f"{url}/o/kept", content=b"kept", headers=auth).status_code == 201
    assert httpx.put(f"{url}/o/gone", content=b"gone", headers=auth).status_code == 201
    before = pool_names(ceph_cluster)
    body = SlowBody(2 * STRIPE, 2 * STRIPE)
    upload = start_upload(rados_cloud, f"{url}/o/cut", token, body)
    wait(lambda: headless(pool_names(ceph_cluster) - before), 60, "the upload's first stripe in the pool")
    ceph_cluster.stop_osd()
    try:
        started = time.monotonic()
        body.release.set()
        upload["thread"].join(90)
        assert upload["response"].status_code == 503, upload["response"].text
        assert time.monotonic() - started < 60
        # reads fail the same clean way while the OSD is away
        assert httpx.get(f"{url}/o/kept", headers=auth, timeout=60).status_code == 503
        assert httpx.head(f"{url}/o/cut", headers=auth).status_code == 404
        # a delete needs only the database: its bytes wait for the cluster
        assert httpx.delete(f"{url}/o/gone", headers=auth, timeout=60).status_code == 204
    finally:
        ceph_cluster.start_osd()
    assert httpx.get(f"{url}/o/kept", headers=auth, timeout=60).content == b"kept"
    assert httpx.put(f"{url}/o/after", content=b"after", headers=auth, timeout=60).status_code == 201
    assert [e["name"] for e in httpx.get(f"{url}/o?format=json", headers=auth).json()] == ["after", "kept"]
    # what the cut upload wrote was never an object, and it and the deleted object's bytes went once the
    # cluster took a write again
    assert not headless(pool_names(ceph_cluster))
    assert_pool_matches_database(rados_cloud, ceph_cluster)


def test_up_refuses_an_object_pool_it_cannot_open(ceph_cluster, tmp_path):
    settings = {"ceph": {**ceph_cluster.settings(), "object_store": True, "pools": {"objects": "no-such-pool"}}}
    cloud = Cloud(tmp_path / "cloud", settings=settings)
    with pytest.raises(subprocess.CalledProcessError) as refused:
        cloud.start()
    said = refused.value.stdout + refused.value.stderr
    assert "object store's pool cannot be used" in said and "no-such-pool" in said, said
    assert not (tmp_path / "cloud" / "onestack.pid").exists()
