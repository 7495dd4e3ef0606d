"""The real `openstack volume ...` CLI and python-cinderclient against Block Storage."""

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.clients import sdk_connection


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def cli(cloud, *args: str, os_cloud: str = "onestack") -> dict | list:
    return json.loads(cloud.openstack(*args, "-f", "json", cloud=os_cloud).stdout)


def wait_status(cloud, kind: str, ident: str, status: str, os_cloud: str = "onestack") -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shown = cli(cloud, "volume", *(["snapshot"] if kind == "snapshot" else []), "show", ident,
                    os_cloud=os_cloud)
        if shown["status"] == status:
            return shown
        time.sleep(0.3)
    raise AssertionError(f"{kind} {ident} never became {status}")


def test_volume_story_with_the_openstack_cli(cloud):
    vol = name("cli-vol")
    made = cli(cloud, "volume", "create", "--size", "1", vol)
    assert made["name"] == vol and made["size"] == 1
    wait_status(cloud, "volume", vol, "available")
    assert vol in {v["Name"] for v in cli(cloud, "volume", "list")}
    cloud.openstack("volume", "set", "--size", "2", "--property", "tier=gold", vol, cloud="onestack")
    shown = wait_status(cloud, "volume", vol, "available")
    assert shown["size"] == 2 and "gold" in json.dumps(shown["properties"])
    snap = name("cli-snap")
    cli(cloud, "volume", "snapshot", "create", "--volume", vol, snap)
    wait_status(cloud, "snapshot", snap, "available")
    restored = name("cli-restored")
    cli(cloud, "volume", "create", "--snapshot", snap, "--size", "3", restored)
    assert wait_status(cloud, "volume", restored, "available")["size"] == 3
    refused = cloud.openstack("volume", "delete", vol, cloud="onestack", check=False)
    assert refused.returncode != 0 and "dependent snapshots" in refused.stderr
    cloud.openstack("volume", "delete", restored, cloud="onestack")
    cloud.openstack("volume", "snapshot", "delete", snap, cloud="onestack")
    deadline = time.monotonic() + 30  # a snapshot being deleted still holds its volume, as in Cinder
    while time.monotonic() < deadline and snap in {s["Name"] for s in cli(cloud, "volume", "snapshot", "list")}:
        time.sleep(0.3)
    cloud.openstack("volume", "delete", vol, cloud="onestack")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and {vol, restored} & {v["Name"] for v in cli(cloud, "volume", "list")}:
        time.sleep(0.3)
    assert not {vol, restored} & {v["Name"] for v in cli(cloud, "volume", "list")}


def test_types_and_quotas_with_the_openstack_cli(cloud):
    kind = name("cli-type")
    made = cli(cloud, "volume", "type", "create", "--property", "tier=fast", "--private", kind,
               os_cloud="onestack-admin")
    assert made["name"] == kind and made["is_public"] is False
    demo = cloud.openstack("volume", "type", "list", cloud="onestack").stdout
    assert kind not in demo
    cloud.openstack("volume", "type", "set", "--project", "demo", kind, cloud="onestack-admin")
    assert kind in cloud.openstack("volume", "type", "list", cloud="onestack").stdout
    refused = cloud.openstack("volume", "type", "create", name("nope"), cloud="onestack", check=False)
    assert refused.returncode != 0 and "403" in refused.stderr
    quotas = cli(cloud, "quota", "show", "--volume", "demo", os_cloud="onestack-admin")
    rows = {r["Resource"]: r["Limit"] for r in quotas} if isinstance(quotas, list) else quotas
    assert rows["volumes"] == 10 and rows["gigabytes"] == 1000
    cloud.openstack("volume", "type", "delete", kind, cloud="onestack-admin")


def cinder_cli(cloud, *args: str, os_cloud: str = "onestack") -> subprocess.CompletedProcess:
    """python-cinderclient's `cinder` command, with the clouds.yaml entry's credentials."""
    entry = cloud.clouds[os_cloud]
    env = {**cloud.env, "OS_AUTH_URL": entry["auth"]["auth_url"], "OS_USERNAME": entry["auth"]["username"],
           "OS_PASSWORD": entry["auth"]["password"], "OS_PROJECT_NAME": entry["auth"]["project_name"],
           "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
           "OS_VOLUME_API_VERSION": "3.67"}
    exe = shutil.which("cinder", path=str(Path(sys.executable).parent)) or "cinder"
    return subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=120)


def test_python_cinderclient(cloud):
    vol = name("cinder-vol")
    made = cinder_cli(cloud, "create", "--name", vol, "1")
    assert made.returncode == 0, made.stderr
    deadline = time.monotonic() + 30
    while "available" not in cinder_cli(cloud, "show", vol).stdout and time.monotonic() < deadline:
        time.sleep(0.3)
    listed = cinder_cli(cloud, "list")
    assert listed.returncode == 0 and vol in listed.stdout and "available" in listed.stdout
    extended = cinder_cli(cloud, "extend", vol, "2")
    assert extended.returncode == 0, extended.stderr
    version = cinder_cli(cloud, "version-list")
    assert "3.68" in version.stdout, version.stderr
    bad = cinder_cli(cloud, "create", "--name", name("bad"), "0")
    assert bad.returncode != 0 and "500" not in bad.stderr
    cinder_cli(cloud, "delete", vol)
    assert os.environ.get("OS_CLOUD") is None  # the client saw only the variables given above


def test_openstacksdk_block_storage(cloud):
    conn = sdk_connection(cloud)
    try:
        volume = conn.block_storage.create_volume(size=1, name=name("sdk-vol"), metadata={"by": "sdk"})
        volume = conn.block_storage.wait_for_status(volume, "available", wait=30, interval=0.3)
        assert volume.metadata == {"by": "sdk"} and volume.volume_type == "__DEFAULT__"
        snapshot = conn.block_storage.create_snapshot(volume_id=volume.id, name=name("sdk-snap"))
        snapshot = conn.block_storage.wait_for_status(snapshot, "available", wait=30, interval=0.3)
        clone = conn.block_storage.create_volume(snapshot_id=snapshot.id, name=name("sdk-clone"))
        clone = conn.block_storage.wait_for_status(clone, "available", wait=30, interval=0.3)
        assert clone.snapshot_id == snapshot.id and clone.size == 1
        assert {v.id for v in conn.block_storage.volumes()} >= {volume.id, clone.id}
        limits = conn.block_storage.get_limits()
        assert limits.absolute.total_volumes_used >= 2
        conn.block_storage.delete_volume(clone, cascade=False)
        conn.block_storage.wait_for_delete(clone, wait=30, interval=0.3)
        conn.block_storage.delete_volume(volume, cascade=True)
        conn.block_storage.wait_for_delete(volume, wait=30, interval=0.3)
        assert conn.block_storage.find_snapshot(snapshot.id) is None
    finally:
        conn.close()


def wait_image(cloud, ident: str, status: str = "active") -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        shown = cli(cloud, "image", "show", ident)
        if shown["status"] == status:
            return shown
        time.sleep(0.3)
    raise AssertionError(f"image {ident} never became {status}")


def test_volumes_from_and_to_images_with_the_clis(cloud, tmp_path):
    source = tmp_path / "tiny.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(source), "1G"], check=True)
    img = name("cli-img")
    cli(cloud, "image", "create", "--file", str(source), "--disk-format", "qcow2", "--container-format", "bare",
        "--property", "os_distro=tiny", img)
    vol = name("cli-bootable")
    cli(cloud, "volume", "create", "--image", img, "--size", "1", "--bootable", vol)
    shown = wait_status(cloud, "volume", vol, "available")
    assert shown["bootable"] in (True, "true") and "tiny" in json.dumps(shown["volume_image_metadata"])
    uploaded = name("cli-uploaded")
    cli(cloud, "image", "create", "--volume", vol, "--disk-format", "qcow2", uploaded)
    assert wait_image(cloud, uploaded)["disk_format"] == "qcow2"
    wait_status(cloud, "volume", vol, "available")
    # python-cinderclient: image metadata and upload-to-image.
    assert cinder_cli(cloud, "image-metadata", vol, "set", "hw_rng_model=virtio").returncode == 0
    shown = cinder_cli(cloud, "image-metadata-show", vol)
    assert shown.returncode == 0 and "hw_rng_model" in shown.stdout and "os_distro" in shown.stdout
    again = name("cinder-uploaded")
    done = cinder_cli(cloud, "upload-to-image", "--disk-format", "raw", vol, again)
    assert done.returncode == 0 and again in done.stdout, done.stderr
    assert wait_image(cloud, again)["disk_format"] == "raw"
    wait_status(cloud, "volume", vol, "available")
    cloud.openstack("volume", "delete", vol, cloud="onestack")
    for image in (img, uploaded, again):
        cloud.openstack("image", "delete", image, cloud="onestack")


def wait_backup(cloud, ident: str, status: str = "available") -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        shown = cli(cloud, "volume", "backup", "show", ident)
        if shown["status"] == status:
            return shown
        time.sleep(0.3)
    raise AssertionError(f"backup {ident} never became {status}")


def test_backup_delete_and_restore_with_the_clis(cloud):
    vol = name("cli-backed")
    cli(cloud, "volume", "create", "--size", "1", vol)
    shown = wait_status(cloud, "volume", vol, "available")
    data = cloud.data_dir / "volumes" / f"volume-{shown['id']}.qcow2"
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x4d 0 1M", str(data)], check=True,
                   capture_output=True)
    full = name("cli-full")
    cli(cloud, "volume", "backup", "create", "--name", full, vol)
    wait_backup(cloud, full)
    incr = name("cli-incr")
    cli(cloud, "volume", "backup", "create", "--incremental", "--name", incr, vol)
    assert wait_backup(cloud, incr)["is_incremental"] in (True, "True")
    cloud.openstack("volume", "delete", vol, cloud="onestack")
    deadline = time.monotonic() + 30
    while vol in {v["Name"] for v in cli(cloud, "volume", "list")} and time.monotonic() < deadline:
        time.sleep(0.3)
    restored = name("cli-restored")
    cli(cloud, "volume", "backup", "restore", incr, restored)
    back = wait_status(cloud, "volume", restored, "available")
    out = subprocess.run(["qemu-io", "-r", "-U", "-f", "qcow2", "-c", "read -P 0x4d 0 1M",
                          str(cloud.data_dir / "volumes" / f"volume-{back['id']}.qcow2")], capture_output=True,
                         text=True).stdout
    assert "Pattern verification failed" not in out and "read 1048576/1048576" in out
    # python-cinderclient: restore into the existing volume, list, delete.
    restore = cinder_cli(cloud, "backup-restore", "--volume", restored, full)
    assert restore.returncode == 0, restore.stderr
    wait_status(cloud, "volume", restored, "available")
    listed = cinder_cli(cloud, "backup-list")
    assert listed.returncode == 0 and full in listed.stdout and incr in listed.stdout
    refused = cinder_cli(cloud, "backup-delete", full)
    assert "Incremental backups exist" in refused.stdout + refused.stderr
    for backup in (incr, full):
        wait_backup(cloud, backup)
        assert cinder_cli(cloud, "backup-delete", backup).returncode == 0
        deadline = time.monotonic() + 30
        while backup in cinder_cli(cloud, "backup-list").stdout and time.monotonic() < deadline:
            time.sleep(0.3)
    cloud.openstack("volume", "delete", restored, cloud="onestack")


def test_retype_transfers_and_qos_with_the_clis(cloud):
    kind = name("cli-gold")
    cli(cloud, "volume", "type", "create", kind, os_cloud="onestack-admin")
    qos = name("cli-qos")
    made = cli(cloud, "volume", "qos", "create", "--consumer", "front-end", "--property", "total_iops_sec=200",
               qos, os_cloud="onestack-admin")
    assert made["consumer"] == "front-end" and "200" in json.dumps(made["properties"])
    cloud.openstack("volume", "qos", "associate", qos, kind, cloud="onestack-admin")
    shown = cli(cloud, "volume", "qos", "show", qos, os_cloud="onestack-admin")
    assert kind in json.dumps(shown["associations"])
    vol = name("cli-retyped")
    cli(cloud, "volume", "create", "--size", "1", vol)
    wait_status(cloud, "volume", vol, "available")
    cloud.openstack("volume", "set", "--type", kind, "--retype-policy", "never", vol, cloud="onestack")
    assert wait_status(cloud, "volume", vol, "available")["type"] == kind
    # The demo project gives the volume away; the admin project takes it.
    offer = cli(cloud, "volume", "transfer", "request", "create", vol)
    assert offer["auth_key"] and offer["volume_id"]
    listed = cli(cloud, "volume", "transfer", "request", "list")
    assert offer["id"] in {t["ID"] for t in listed}
    cli(cloud, "volume", "transfer", "request", "accept", "--auth-key", offer["auth_key"], offer["id"],
        os_cloud="onestack-admin")
    assert vol not in {v["Name"] for v in cli(cloud, "volume", "list")}
    assert cli(cloud, "volume", "show", vol, os_cloud="onestack-admin")["status"] == "available"
    # python-cinderclient: retype back, a transfer back to demo, QoS keys.
    assert cinder_cli(cloud, "retype", vol, "__DEFAULT__", os_cloud="onestack-admin").returncode == 0
    created = cinder_cli(cloud, "transfer-create", vol, os_cloud="onestack-admin")
    assert created.returncode == 0, created.stderr
    fields = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in created.stdout.splitlines()
              if line.startswith("|") and line.count("|") >= 3}
    accepted = cinder_cli(cloud, "transfer-accept", fields["id"], fields["auth_key"])
    assert accepted.returncode == 0, accepted.stderr
    assert vol in {v["Name"] for v in cli(cloud, "volume", "list")}
    keys = cinder_cli(cloud, "qos-key", made["id"], "set", "read_bytes_sec=1024", os_cloud="onestack-admin")
    assert keys.returncode == 0, keys.stderr
    assert "read_bytes_sec" in cinder_cli(cloud, "qos-show", made["id"], os_cloud="onestack-admin").stdout
    cloud.openstack("volume", "qos", "disassociate", "--volume-type", kind, qos, cloud="onestack-admin")
    cloud.openstack("volume", "qos", "delete", qos, cloud="onestack-admin")
    cloud.openstack("volume", "delete", vol, cloud="onestack")
    cloud.openstack("volume", "type", "delete", kind, cloud="onestack-admin")


def kind_id(cloud, kind: str) -> str:
    return cli(cloud, "volume", "type", "show", kind, os_cloud="onestack-admin")["id"]


def test_encryption_types_and_groups_with_the_openstack_cli(cloud):
    admin = "onestack-admin"
    kind = name("cli-enc")
    cli(cloud, "volume", "type", "create", "--encryption-provider", "luks", "--encryption-cipher", "aes-xts-plain64",
        "--encryption-key-size", "256", "--encryption-control-location", "front-end", kind, os_cloud=admin)
    shown = cli(cloud, "volume", "type", "show", "--encryption-type", kind, os_cloud=admin)
    assert "aes-xts-plain64" in json.dumps(shown["encryption"]) and "luks" in json.dumps(shown["encryption"])
    cloud.openstack("volume", "type", "set", "--encryption-key-size", "128", kind, cloud=admin)
    assert "128" in json.dumps(cli(cloud, "volume", "type", "show", "--encryption-type", kind,
                                   os_cloud=admin)["encryption"])
    cloud.openstack("volume", "type", "unset", "--encryption-type", kind, cloud=admin)
    assert not cli(cloud, "volume", "type", "show", "--encryption-type", kind, os_cloud=admin).get("encryption")
    # a group of this type's volumes (group snapshots: tests/api/test_volumes_groups.py), deleted with them
    v314 = ("--os-volume-api-version", "3.14")
    group_type = name("cli-gt")
    cli(cloud, *v314, "volume", "group", "type", "create", group_type, os_cloud=admin)
    group = cli(cloud, *v314, "volume", "group", "create", "--volume-group-type", group_type, "--volume-type", kind,
                "--name", name("cli-group"), os_cloud=admin)
    group = {k.lower(): v for k, v in group.items()}  # this command's columns are headed "ID", "Status"...
    assert group["status"] == "available" and group["volume types"] == [kind_id(cloud, kind)]
    volume = cli(cloud, *v314, "volume", "create", "--size", "1", "--type", kind, name("cli-gvol"), os_cloud=admin)
    wait_status(cloud, "volume", volume["id"], "available", os_cloud=admin)
    # the openstack CLI adds no volume to a group: python-cinderclient does
    added = cinder_cli(cloud, "group-update", "--add-volumes", volume["id"], group["id"], os_cloud=admin)
    assert added.returncode == 0, added.stderr
    assert cli(cloud, *v314, "volume", "show", volume["id"], os_cloud=admin)["group_id"] == group["id"]
    deadline = time.monotonic() + 30
    cloud.openstack(*v314, "volume", "group", "delete", "--force", group["id"], cloud=admin)
    while group["id"] in cloud.openstack(*v314, "volume", "group", "list", cloud=admin).stdout:
        assert time.monotonic() < deadline, "the group never went"
        time.sleep(0.3)
    assert cloud.openstack("volume", "show", volume["id"], cloud=admin, check=False).returncode != 0
    cloud.openstack(*v314, "volume", "group", "type", "delete", group_type, cloud=admin)
    cloud.openstack("volume", "type", "delete", kind, cloud=admin)


def test_revert_to_a_snapshot_with_the_openstack_cli(cloud):
    """`openstack volume revert` (3.40): to the latest snapshot, refused by the API for an older one."""
    vol, first, latest = name("cli-rev"), name("cli-rev-s1"), name("cli-rev-s2")
    cli(cloud, "volume", "create", "--size", "1", vol)
    wait_status(cloud, "volume", vol, "available")
    for snap in (first, latest):
        cli(cloud, "volume", "snapshot", "create", "--volume", vol, snap)
        wait_status(cloud, "snapshot", snap, "available")
    v340 = ("--os-volume-api-version", "3.40")
    older = cloud.openstack(*v340, "volume", "revert", first, cloud="onestack", check=False)
    assert older.returncode != 0 and "not the latest" in older.stderr, older.stderr
    cloud.openstack(*v340, "volume", "revert", latest, cloud="onestack")
    wait_status(cloud, "volume", vol, "available")
    # without a version asked, openstacksdk (under the CLI) negotiates one the revert has
    cloud.openstack("volume", "revert", latest, cloud="onestack")
    wait_status(cloud, "volume", vol, "available")
    assert wait_status(cloud, "snapshot", latest, "available")["volume_id"] == cli(cloud, "volume", "show", vol)["id"]
    for snap in (latest, first):
        cloud.openstack("volume", "snapshot", "delete", snap, cloud="onestack")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and cli(cloud, "volume", "snapshot", "list", "--volume", vol):
        time.sleep(0.3)
    cloud.openstack("volume", "delete", vol, cloud="onestack")
