"""Glance's ``swift`` image store (``image_swift_store.enabled``): image data kept as objects of the cloud's
own Object Storage, in the image service's account, in Glance's layout (container ``glance``, an object per
image, large images as DLO segments); uploads, imports, downloads, deletes and copy-image between the
``file`` and ``swift`` stores, over HTTP with openstacksdk, the objects seen through swiftclient as the
image service's user; a ``kill -9`` mid-upload leaves nothing behind after the restart."""

import contextlib
import hashlib
import json
import os
import threading
import time

import httpx
import openstack
import pytest
import swiftclient
import yaml

from tests.cloudfixture import Cloud

MiB = 1 << 20


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    # 1 MiB segments above 1 MiB, so a few MiB show Glance's segmented layout
    made = Cloud(tmp_path_factory.mktemp("image-swift"), settings={"image_swift_store": {
        "enabled": True, "large_object_size": 1, "large_object_chunk_size": 1},
        "image_import": {"enabled_methods": ["glance-direct", "web-download", "copy-image"]}}).start()
    yield made
    made.stop()


@pytest.fixture(scope="module")
def conn(cloud):
    auth = cloud.clouds["onestack"]["auth"]
    made = openstack.connection.Connection(auth_url=auth["auth_url"], username="demo", password=auth["password"],
                                           project_name="demo", user_domain_name="Default",
                                           project_domain_name="Default", region_name="RegionOne")
    yield made
    made.close()


@pytest.fixture(scope="module")
def admin_conn(cloud):
    auth = cloud.clouds["onestack-admin"]["auth"]
    made = openstack.connection.Connection(auth_url=auth["auth_url"], username="admin", password=auth["password"],
                                           project_name="admin", user_domain_name="Default",
                                           project_domain_name="Default", region_name="RegionOne")
    yield made
    made.close()


def glance_objects(cloud) -> swiftclient.Connection:
    """swiftclient as the image service's own user, in its project's account."""
    secrets = yaml.safe_load((cloud.data_dir / "bootstrap-secrets.yaml").read_text())
    return swiftclient.Connection(authurl=cloud.auth_url + "/v3", user="glance", key=secrets["glance_password"],
                                  auth_version="3", os_options={
                                      "project_name": "service", "project_domain_name": "Default",
                                      "user_domain_name": "Default"})


def names(cloud, image_id: str) -> list[str]:
    with contextlib.closing(glance_objects(cloud)) as swift:
        try:
            _, listed = swift.get_container("glance", prefix=image_id, full_listing=True)
        except swiftclient.ClientException as exc:
            if exc.http_status == 404:
                return []
            raise
    return sorted(o["name"] for o in listed)


def upload(cloud, conn, data: bytes, store: str | None) -> dict:
    image = conn.image.create_image(name="s", disk_format="raw", container_format="bare")
    headers = {"X-Auth-Token": conn.session.get_token(), "Content-Type": "application/octet-stream"}
    if store:
        headers["X-Image-Meta-Store"] = store
    resp = httpx.put(f"{cloud.url}/image/v2/images/{image.id}/file", content=data, headers=headers, timeout=120)
    assert resp.status_code == 204, resp.text
    return conn.image.get_image(image.id)


def stores_of(image) -> str | None:
    """The image's ``stores`` (openstacksdk keeps a field it does not model among its properties)."""
    return image.properties.get("stores")


def wait_for(check, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_swift_is_a_store(conn):
    stores = {s.id for s in conn.image.stores()}
    assert stores == {"file", "swift"}


def test_upload_download_delete_in_the_swift_store(cloud, conn):
    data = os.urandom(int(2.5 * MiB))
    image = upload(cloud, conn, data, "swift")
    assert image.status == "active" and stores_of(image) == "swift"
    assert image.checksum == hashlib.md5(data).hexdigest()
    # Glance's layout: 1 MiB segments, then the manifest under the image's id
    assert names(cloud, image.id) == [image.id, f"{image.id}-00001", f"{image.id}-00002", f"{image.id}-00003"]
    with contextlib.closing(glance_objects(cloud)) as swift:
        headers, body = swift.get_object("glance", image.id)
    assert headers["x-object-manifest"] == f"glance/{image.id}-" and body == data
    assert not (cloud.data_dir / "images" / image.id).exists()  # the file store does not hold it
    got = conn.image.download_image(image)
    assert got.content == data
    ranged = httpx.get(f"{cloud.url}/image/v2/images/{image.id}/file", timeout=60, headers={
        "X-Auth-Token": conn.session.get_token(), "Range": "bytes=1048000-1048999"})
    assert ranged.status_code == 206 and ranged.content == data[1048000:1049000]
    conn.image.delete_image(image)
    assert names(cloud, image.id) == []


def test_small_image_is_one_object_and_unknown_store_is_refused(cloud, conn):
    data = os.urandom(1000)
    image = upload(cloud, conn, data, "swift")
    assert names(cloud, image.id) == [image.id]
    refused = conn.image.create_image(name="bad", disk_format="raw", container_format="bare")
    resp = httpx.put(f"{cloud.url}/image/v2/images/{refused.id}/file", content=b"x", timeout=30, headers={
        "X-Auth-Token": conn.session.get_token(), "Content-Type": "application/octet-stream",
        "X-Image-Meta-Store": "nowhere"})
    assert resp.status_code == 400 and "nowhere" in resp.text
    assert conn.image.get_image(refused.id).status == "queued"
    # where the data is, is the service's own bookkeeping: no client sets it
    with pytest.raises(openstack.exceptions.ForbiddenException):
        conn.image.update_image(image, os_onestack_stores="file")
    with pytest.raises(openstack.exceptions.ForbiddenException):
        conn.image.create_image(name="forged", disk_format="raw", container_format="bare",
                                os_onestack_stores="swift")
    assert stores_of(conn.image.get_image(image.id)) == "swift"


def test_import_to_swift_and_copy_image_file_to_swift(cloud, conn, admin_conn):
    data = os.urandom(3 * MiB + 7)
    imported = conn.image.create_image(name="imp", data=data, disk_format="raw", container_format="bare",
                                       use_import=True, stores=["swift"], wait=True, timeout=120)
    imported = wait_for(lambda: (i := conn.image.get_image(imported.id)).status == "active" and i)
    assert stores_of(imported) == "swift" and len(names(cloud, imported.id)) == 5
    assert conn.image.download_image(imported).content == data
    in_file = upload(cloud, conn, data, None)
    assert stores_of(in_file) == "file" and names(cloud, in_file.id) == []
    # copy-image is an admin's (Glance's default copy_image policy)
    asked = admin_conn.image.import_image(admin_conn.image.get_image(in_file.id), method="copy-image",
                                          stores=["swift"])
    assert asked.status_code == 202
    copied = wait_for(lambda: stores_of(i := conn.image.get_image(in_file.id)) == "file,swift" and i)
    assert copied.status == "active" and len(names(cloud, in_file.id)) == 5
    with contextlib.closing(glance_objects(cloud)) as swift:
        assert swift.get_object("glance", in_file.id)[1] == data
    # and back: an image only in swift copied into the file store
    asked = admin_conn.image.import_image(admin_conn.image.get_image(imported.id), method="copy-image",
                                          stores=["file"])
    assert asked.status_code == 202
    back = wait_for(lambda: stores_of(i := conn.image.get_image(imported.id)) == "file,swift" and i)
    assert (cloud.data_dir / "images" / back.id).read_bytes() == data
    # a store that already holds it: Glance's 400
    resp = httpx.post(f"{cloud.url}/image/v2/images/{in_file.id}/import", timeout=30,
                      headers={"X-Auth-Token": admin_conn.session.get_token()},
                      json={"method": {"name": "copy-image"}, "stores": ["swift"]})
    assert resp.status_code == 400
    conn.image.delete_image(in_file)
    assert names(cloud, in_file.id) == [] and not (cloud.data_dir / "images" / in_file.id).exists()


def test_an_admin_deletes_an_image_from_one_of_its_stores_but_never_the_last(cloud, conn, admin_conn):
    """``DELETE /v2/stores/{store}/{image}`` (API 2.10) through openstacksdk: Glance's checks in its order."""
    data = os.urandom(MiB + 3)
    image = upload(cloud, conn, data, None)
    admin_conn.image.import_image(admin_conn.image.get_image(image.id), method="copy-image", stores=["swift"])
    wait_for(lambda: stores_of(conn.image.get_image(image.id)) == "file,swift")

    def refused(client, store: str, image_id: str) -> httpx.Response:
        return httpx.delete(f"{cloud.url}/image/v2/stores/{store}/{image_id}", timeout=30,
                            headers={"X-Auth-Token": client.session.get_token()})

    # the owner's member may not drop a location (Glance's delete_image_location is an admin's)
    assert refused(conn, "file", image.id).status_code == 403
    assert refused(admin_conn, "nowhere", image.id).status_code == 409  # no such store here
    assert refused(admin_conn, "file", "no-such-image").status_code == 404
    admin_conn.image.delete_image(image.id, store="file")
    kept = conn.image.get_image(image.id)
    assert stores_of(kept) == "swift" and kept.status == "active"
    assert not (cloud.data_dir / "images" / image.id).exists()  # the file store's copy is gone
    assert conn.image.download_image(kept).content == data  # read from swift now
    gone = refused(admin_conn, "file", image.id)  # the last store left: deleting the image is the way
    assert gone.status_code == 403 and "only store" in gone.text
    assert names(cloud, image.id) == [image.id, f"{image.id}-00001", f"{image.id}-00002"]

    # in both stores again, then out of swift: its objects go, the file stays
    admin_conn.image.import_image(admin_conn.image.get_image(image.id), method="copy-image", stores=["file"])
    wait_for(lambda: stores_of(conn.image.get_image(image.id)) == "file,swift")
    admin_conn.image.delete_image(image.id, store="swift")
    assert stores_of(conn.image.get_image(image.id)) == "file" and names(cloud, image.id) == []
    assert refused(admin_conn, "swift", image.id).status_code == 403  # one store: the only-store rule first
    assert conn.image.download_image(conn.image.get_image(image.id)).content == data
    conn.image.delete_image(image)


def test_a_store_is_kept_for_an_image_that_is_not_active(cloud, conn, admin_conn):
    queued = conn.image.create_image(name="q", disk_format="raw", container_format="bare")
    resp = httpx.delete(f"{cloud.url}/image/v2/stores/file/{queued.id}", timeout=30,
                        headers={"X-Auth-Token": admin_conn.session.get_token()})
    assert resp.status_code == 409 and "not 'active'" in resp.text
    conn.image.delete_image(queued)


def test_kill_9_mid_upload_to_swift_leaves_nothing(cloud, conn):
    image = conn.image.create_image(name="cut", disk_format="raw", container_format="bare")
    token = conn.session.get_token()
    data = os.urandom(48 * MiB)

    def send():
        try:
            httpx.put(f"{cloud.url}/image/v2/images/{image.id}/file", content=data, timeout=120, headers={
                "X-Auth-Token": token, "Content-Type": "application/octet-stream", "X-Image-Meta-Store": "swift"})
        except httpx.HTTPError:
            pass  # the server died under it

    sender = threading.Thread(target=send)
    sender.start()
    # killed while the segments go into Object Storage: some are there, the manifest is not
    before = wait_for(lambda: (found := names(cloud, image.id)) and f"{image.id}-00002" in found and found, 120)
    cloud.kill_9()
    sender.join(60)
    assert image.id not in before  # segments were there, the manifest was not yet
    cloud.start()
    conn.session.auth.invalidate()
    assert conn.image.get_image(image.id).status == "queued"
    wait_for(lambda: names(cloud, image.id) == [], 60)  # the sweep removed the orphaned segments
    assert not (cloud.data_dir / "images" / image.id).exists()
    assert not list((cloud.data_dir / "images").glob(".*.partial"))


def test_the_openstack_cli_copies_an_image_into_swift_and_back_out(cloud, tmp_path):
    """``openstack image stores list``, ``image import --method copy-image --store swift``, ``image save``
    and ``image delete``, as the admin (copy-image is an admin's)."""
    listed = json.loads(cloud.openstack("image", "stores", "list", "-f", "json").stdout)
    assert {s["ID"] for s in listed} == {"file", "swift"}
    data = os.urandom(2 * MiB + 3)
    (tmp_path / "in.raw").write_bytes(data)
    made = json.loads(cloud.openstack("image", "create", "--file", str(tmp_path / "in.raw"), "--disk-format", "raw",
                                      "--container-format", "bare", "cli-image", "-f", "json").stdout)
    cloud.openstack("image", "import", made["id"], "--method", "copy-image", "--store", "swift")
    wait_for(lambda: json.loads(cloud.openstack("image", "show", made["id"], "-f", "json").stdout)
             ["properties"].get("stores") == "file,swift")
    assert names(cloud, made["id"]) == [made["id"], f"{made['id']}-00001", f"{made['id']}-00002",
                                        f"{made['id']}-00003"]
    cloud.openstack("image", "save", "--file", str(tmp_path / "out.raw"), made["id"])
    assert (tmp_path / "out.raw").read_bytes() == data
    cloud.openstack("image", "delete", made["id"])
    assert names(cloud, made["id"]) == []


def test_a_server_boots_from_an_image_only_in_swift(cloud, conn):
    """Compute builds guests from files: an image only in the swift store is fetched into the file store
    when a server is built from it (a cache the image's stores do not name)."""
    data = os.urandom(MiB + 5)
    image = upload(cloud, conn, data, "swift")
    assert not (cloud.data_dir / "images" / image.id).exists()
    flavor = conn.compute.find_flavor("m1.tiny")
    server = conn.compute.create_server(name="from-swift", image_id=image.id, flavor_id=flavor.id, networks="none")
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=120)
    assert (cloud.data_dir / "images" / image.id).read_bytes() == data
    assert stores_of(conn.image.get_image(image.id)) == "swift"
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=120)
    conn.image.delete_image(image)
    assert names(cloud, image.id) == [] and not (cloud.data_dir / "images" / image.id).exists()
