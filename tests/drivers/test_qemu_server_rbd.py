"""Everything in Ceph, through the openstack CLI and real guests: a raw image uploaded to the image service is
kept in the cluster (``images/<id>@snap``); a server booted from it with ``compute.images_type: rbd`` has
its root disk as a clone of it (``vms/<uuid>_disk``); an RBD volume added to the server is written by the
guest, removed, and its bytes are in the cluster; the server keeps its disk through shelve and unshelve;
deleting the server and the volume leaves the pools as they were.  The stories share one server (one for
``ceph.image_store_only``)."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest

from tests.api.helpers import ok, wait
from tests.cloudfixture import Cloud
from tests.drivers.test_qemu_migration import SECTOR
from tests.drivers.test_qemu_server_volumes import CLI_VERSION, active, cli, shell, volume_status

pytestmark = [pytest.mark.qemu, pytest.mark.ceph, pytest.mark.xdist_group("ceph")]


@pytest.fixture(scope="module")
def rbd_cloud(ceph_cluster, tmp_path_factory):
    """One server for the module's stories that boot from images in Ceph (compute.images_type rbd), a qcow2
    imported converted to raw (image_conversion), with a volume type ``rbd`` on the cluster."""
    settings = {"compute": {"driver": "qemu", "images_type": "rbd"}, "ceph": ceph_cluster.settings(),
                "image_import": {"plugins": ["image_conversion"]}}
    cloud = Cloud(tmp_path_factory.mktemp("data"), settings=settings).start()
    cloud.openstack("volume", "type", "create", "--property", "volume_backend_name=ceph", "rbd")
    yield cloud
    cloud.stop()


def test_a_server_on_an_rbd_root_disk_writes_an_rbd_volume_and_keeps_its_disk_through_shelve(rbd_cloud,
                                                                                             ceph_cluster,
                                                                                             tiny_image, tmp_path):
    """The server's root disk is a clone of the image in Ceph; an RBD volume added to it is written by the
    guest, removed, and its bytes are in the cluster.  The guest writes a marker to its root disk; shelve
    offloads it to a raw snapshot image kept in the cluster (the disk removed); unshelve boots it from a
    flattened clone of that snapshot, and the marker is there."""
    cloud = rbd_cloud
    token = cloud.token()
    nova = httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": token}, timeout=120)
    glance = httpx.Client(base_url=f"{cloud.url}/image/v2", headers={"X-Auth-Token": token}, timeout=60)
    vms_before, volumes_before = ceph_cluster.images("vms"), ceph_cluster.images("volumes")
    images_before = ceph_cluster.images("images")
    console = None
    try:
        raw = tmp_path / "tiny.raw"
        subprocess.run(["qemu-img", "convert", "-q", "-O", "raw", str(tiny_image.path), str(raw)], check=True)
        image = cli(cloud, "image", "create", "--disk-format", "raw", "--container-format", "bare", "--public",
                    "--file", str(raw), "tiny-raw")
        assert ok(glance.get(f"/images/{image['id']}"))["stores"] == "file,rbd"
        server = cli(cloud, *CLI_VERSION, "server", "create", "--image", "tiny-raw", "--flavor", "m1.nano",
                     "--nic", "none", "vm1")
        volume = cli(cloud, "volume", "create", "--type", "rbd", "--size", "1", "v1")  # while the guest boots
        active(nova, server["id"])
        root = json.loads(ceph_cluster.rbd("info", "--format", "json", f"vms/{server['id']}_disk"))
        assert (root["parent"]["pool"], root["parent"]["image"]) == ("images", image["id"])

        wait(lambda: volume_status(cloud, "v1") == "available", 60, "v1 available")
        console = shell(nova, server["id"])
        assert console.run("ls /sys/block").split() == ["vda"]
        cloud.openstack(*CLI_VERSION, "server", "add", "volume", "vm1", "v1")
        wait(lambda: "vdb" in console.run("ls /sys/block"), 60, "the guest to see the RBD volume")
        assert console.run("echo carried-by-rbd | dd of=/dev/vdb conv=fsync 2>/dev/null && echo written") \
            == "written"
        cloud.openstack(*CLI_VERSION, "server", "remove", "volume", "vm1", "v1")
        wait(lambda: volume_status(cloud, "v1") == "available", 60, "v1 available after the detach")
        exported = tmp_path / "v1.raw"
        ceph_cluster.rbd("export", "--no-progress", f"volumes/volume-{volume['id']}", str(exported))
        assert exported.read_bytes()[:15] == b"carried-by-rbd\n"

        assert console.run(f"echo rbd-marker-$((6*7)) | dd of=/dev/vda bs=512 seek={SECTOR} conv=fsync,notrunc "
                           "2>/dev/null && echo written") == "written"
        console.close()
        console = None
        ok(nova.post(f"/servers/{server['id']}/action", json={"shelve": None}), 202)
        shelved = wait(lambda: (s := ok(nova.get(f"/servers/{server['id']}"))["server"])["status"]
                       in ("SHELVED_OFFLOADED", "ERROR") and s, 180, "SHELVED_OFFLOADED")
        assert shelved["status"] == "SHELVED_OFFLOADED", shelved.get("fault")
        assert f"{server['id']}_disk" not in ceph_cluster.images("vms")
        [snapshot] = ok(glance.get("/images", params={"name": "vm1-shelved"}))["images"]
        assert (snapshot["disk_format"], snapshot["status"]) == ("raw", "active")
        assert snapshot["id"] in ceph_cluster.images("images")  # the offload is kept in Ceph

        ok(nova.post(f"/servers/{server['id']}/action", json={"unshelve": None}), 202)
        active(nova, server["id"])
        root = json.loads(ceph_cluster.rbd("info", "--format", "json", f"vms/{server['id']}_disk"))
        assert "parent" not in root  # flattened: the shelved snapshot can go
        console = shell(nova, server["id"])
        assert console.run(f"dd if=/dev/vda bs=512 skip={SECTOR} count=1 2>/dev/null | head -c 13") \
            == "rbd-marker-42"
    finally:
        if console is not None:
            console.close()
        cloud.openstack("server", "delete", "--wait", "vm1", check=False)
        cloud.openstack("volume", "delete", "v1", check=False)
        wait(lambda: ceph_cluster.images("volumes") == volumes_before, 60, "the volume's image gone")
        wait(lambda: ceph_cluster.images("vms") == vms_before, 60, "the root disk gone")
        cloud.openstack("image", "delete", "tiny-raw", check=False)
        wait(lambda: ceph_cluster.images("images") == images_before, 60, "the images' RBD copies gone")
        nova.close()
        glance.close()


def test_a_qcow2_imported_boots_a_server_whose_disks_are_all_in_ceph(rbd_cloud, ceph_cluster, tiny_image):
    """A user's story through the openstack CLI: a qcow2 cloud image imported (``openstack image create
    --import``) is converted to raw and kept in the cluster; a server of a flavor with ephemeral and swap
    disks boots on a clone of it with its ephemeral and swap disks in the vms pool too (no disk file on the
    host); deleting the server removes all three."""
    cloud = rbd_cloud
    nova = httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": cloud.token()}, timeout=120)
    vms_before = ceph_cluster.images("vms")
    console = None
    try:
        image_id = cloud.openstack("image", "create", "--import", "--disk-format", "qcow2", "--container-format",
                                   "bare", "--public", "--file", str(tiny_image.path), "-f", "value", "-c", "id",
                                   "tiny-qcow2").stdout.strip()

        def kept_in_ceph():
            shown = httpx.get(f"{cloud.url}/image/v2/images/{image_id}", headers={"X-Auth-Token": cloud.token()})
            return shown.json() if shown.json().get("stores") == "file,rbd" else None
        assert wait(kept_in_ceph, 120, "the imported image in the rbd store")["disk_format"] == "raw"
        cloud.openstack("flavor", "create", "--ram", "192", "--disk", "1", "--vcpus", "1", "--ephemeral", "1",
                        "--swap", "64", "eph")
        server = cli(cloud, *CLI_VERSION, "server", "create", "--image", "tiny-qcow2", "--flavor", "eph",
                     "--nic", "none", "vm-eph")
        active(nova, server["id"])
        disks = {f"{server['id']}_disk", f"{server['id']}_disk.local", f"{server['id']}_disk.swap"}
        assert ceph_cluster.images("vms") - vms_before == disks
        root = json.loads(ceph_cluster.rbd("info", "--format", "json", f"vms/{server['id']}_disk"))
        assert (root["parent"]["pool"], root["parent"]["image"]) == ("images", image_id)
        instance_dir = cloud.data_dir / "compute" / "instances" / server["id"]
        assert not [p.name for p in instance_dir.iterdir() if p.name.startswith("disk")]
        console = shell(nova, server["id"])
        assert console.run("ls /sys/block").split() == ["vda", "vdb", "vdc"]
        assert console.run("dd if=/dev/vdb bs=1 skip=1144 count=10 2>/dev/null") == "ephemeral0"
    finally:
        if console is not None:
            console.close()
        cloud.openstack("server", "delete", "--wait", "vm-eph", check=False)
        wait(lambda: ceph_cluster.images("vms") == vms_before, 60, "the server's disks gone")
        cloud.openstack("image", "delete", "tiny-qcow2", check=False)
        nova.close()


def test_images_only_in_ceph_boot_clones_and_a_qcow2_boots_from_a_raw_copy(ceph_cluster, tiny_image, tmp_path):
    """With ``ceph.image_store_only`` a raw image's data are only ``images/<id>@snap`` (no file under the data
    dir); a server boots on a clone of it and no host copy of the image is made.  A qcow2 image (kept as a
    file: the cluster keeps raw data only) boots a server whose root disk is a raw copy of it in the vms
    pool, not a clone (Nova's rbd backend imports what it cannot clone).  Both guests answer on their
    consoles; deleting them empties the pool."""
    settings = {"compute": {"driver": "qemu", "images_type": "rbd"},
                "ceph": {**ceph_cluster.settings(), "image_store_only": True}}
    cloud = Cloud(tmp_path / "data", settings=settings).start()
    token = cloud.token()
    nova = httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers={"X-Auth-Token": token}, timeout=120)
    vms_before = ceph_cluster.images("vms")
    try:
        raw = tmp_path / "tiny.raw"
        subprocess.run(["qemu-img", "convert", "-q", "-O", "raw", str(tiny_image.path), str(raw)], check=True)
        raw_image = cli(cloud, "image", "create", "--disk-format", "raw", "--container-format", "bare", "--public",
                        "--file", str(raw), "tiny-only-rbd")
        qcow2_image = cli(cloud, "image", "create", "--disk-format", "qcow2", "--container-format", "bare",
                          "--public", "--file", str(tiny_image.path), "tiny-qcow2-file")
        stores = {i: httpx.get(f"{cloud.url}/image/v2/images/{i}", headers={"X-Auth-Token": token}).json()["stores"]
                  for i in (raw_image["id"], qcow2_image["id"])}
        assert stores == {raw_image["id"]: "rbd", qcow2_image["id"]: "file"}
        assert not (cloud.data_dir / "images" / raw_image["id"]).exists()
        servers = {}
        for image, vm in ((raw_image, "vm-clone"), (qcow2_image, "vm-copy")):
            servers[vm] = cli(cloud, *CLI_VERSION, "server", "create", "--image", image["name"], "--flavor",
                              "m1.nano", "--nic", "none", vm)
        for server in servers.values():
            active(nova, server["id"])
            console = shell(nova, server["id"])
            assert console.run("ls /sys/block").split() == ["vda"]
            console.close()
        clone = json.loads(ceph_cluster.rbd("info", "--format", "json", f"vms/{servers['vm-clone']['id']}_disk"))
        assert (clone["parent"]["pool"], clone["parent"]["image"]) == ("images", raw_image["id"])
        copy = json.loads(ceph_cluster.rbd("info", "--format", "json", f"vms/{servers['vm-copy']['id']}_disk"))
        assert "parent" not in copy
        # the image only in Ceph was never fetched to the host (no file, no base copy of it)
        assert not (cloud.data_dir / "images" / raw_image["id"]).exists()
        based = [p for d in tmp_path.rglob("_base") for p in d.iterdir() if not p.name.startswith(".")]
        assert len(based) == 1  # the qcow2's, which its raw copy was converted from
        assert not list(tmp_path.rglob(f"{servers['vm-clone']['id']}/disk"))
    finally:
        for vm in ("vm-clone", "vm-copy"):
            cloud.openstack("server", "delete", "--wait", vm, check=False)
        wait(lambda: ceph_cluster.images("vms") == vms_before, 60, "the root disks gone")
        for image in ("tiny-only-rbd", "tiny-qcow2-file"):
            cloud.openstack("image", "delete", image, check=False)
        cloud.stop()
