"""Snapshots of containers: the upper layer written over the image, read back by the unpacker.

The first tests build an overlayfs upper directory by hand (whiteouts are device nodes and opaque
directories carry a trusted xattr, so they need root, not runc); the last one takes a real container
under runc: a file written inside it through ``runc exec`` is in a new container booted from the
snapshot, and a file it deleted is not.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest

from onestack.drivers.compute import DriverError, InstanceSpec, PowerState
from onestack.drivers.runc import RuncDriver, archive, network, runtime, snapshot
from onestack.guestimage import container

if os.geteuid() != 0:
    pytest.skip("whiteouts (device nodes) and trusted xattrs need root", allow_module_level=True)

CONFIG = {"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"], "Env": ["A=1"]},
          "rootfs": {"type": "layers", "diff_ids": []}}


def lower_and_upper(tmp_path: Path) -> tuple[Path, Path]:
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    for folder in ("etc", "var/cache/old", "bin"):
        (lower / folder).mkdir(parents=True)
    (lower / "etc/keep").write_text("kept\n")
    (lower / "etc/gone").write_text("deleted in the container\n")
    (lower / "var/cache/old/stale").write_text("hidden by an opaque directory\n")
    (lower / "bin/tool").write_text("#!/bin/sh\n")
    os.symlink("/bin/tool", lower / "bin/alias")
    (upper / "etc").mkdir(parents=True)
    (upper / "etc/new").write_text("written by the container\n")
    os.link(upper / "etc/new", upper / "etc/new-link")
    os.mknod(upper / "etc/gone", 0o600 | 0o020000, os.makedev(0, 0))  # overlayfs's whiteout
    (upper / "var/cache/old").mkdir(parents=True)
    os.setxattr(upper / "var/cache/old", snapshot.OPAQUE_XATTR, b"y")  # emptied, then refilled
    (upper / "var/cache/old/fresh").write_text("new in the opaque directory\n")
    os.symlink("../etc/new", upper / "var/pointer")
    return lower, upper


@pytest.mark.parametrize("image_format", ["oci", "docker"])
def test_the_snapshot_is_the_upper_layer_over_the_image(tmp_path, image_format):
    lower, upper = lower_and_upper(tmp_path)
    target = tmp_path / "out" / "snapshot.tar"
    snapshot.write(lower, CONFIG, image_format, upper, target, "test")
    assert [p.name for p in target.parent.iterdir()] == ["snapshot.tar"], "work files left beside the image"
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    image = archive.unpack(target, rootfs)  # the layers' digests are checked on the way
    assert image.format == image_format
    assert image.config["config"] == CONFIG["config"], "the image's Cmd and Env are kept"
    assert len(image.config["rootfs"]["diff_ids"]) == len(image.layers) == 2
    assert (rootfs / "etc/keep").read_text() == "kept\n"
    assert (rootfs / "etc/new").read_text() == "written by the container\n"
    assert (rootfs / "etc/new").stat().st_ino == (rootfs / "etc/new-link").stat().st_ino, "the hard link"
    assert not (rootfs / "etc/gone").exists(), "the whiteout did not delete the file"
    assert sorted(p.name for p in (rootfs / "var/cache/old").iterdir()) == ["fresh"], "the opaque directory"
    assert os.readlink(rootfs / "var/pointer") == "../etc/new"
    assert os.readlink(rootfs / "bin/alias") == "/bin/tool"
    with tarfile.open(target) as whole:
        assert not any(stat_char(m) for m in whole.getmembers()), "a device node in the image"


def stat_char(member: tarfile.TarInfo) -> bool:
    return member.ischr() or member.isblk()


def test_a_redirected_directory_is_refused_and_nothing_is_left(tmp_path):
    lower, upper = lower_and_upper(tmp_path)
    os.setxattr(upper / "var/cache/old", "trusted.overlay.redirect", b"/var/cache/elsewhere")
    target = tmp_path / "out" / "snapshot.tar"
    with pytest.raises(DriverError, match="redirect_dir"):
        snapshot.write(lower, CONFIG, "oci", upper, target, "test")
    assert list(target.parent.iterdir()) == [], "a half image or work files were left"


def run_in(driver: RuncDriver, uuid_: str, script: str) -> subprocess.CompletedProcess:
    return subprocess.run(driver.runc._argv("exec", uuid_, "/bin/sh", "-c", script), capture_output=True, text=True,
                          timeout=30)


@pytest.mark.skipif(not runtime.installed(), reason="runc is not installed (make install installs it)")
def test_a_container_booted_from_a_snapshot_has_the_files_the_first_one_wrote(tmp_path):
    driver = RuncDriver(tmp_path / "state")
    first = InstanceSpec(uuid=str(uuid.uuid4()), name="instance-000000d1", hostname="first", vcpus=1, memory_mb=64,
                         root_gb=1, image_path=str(container.build().path))
    second = None
    try:
        driver.spawn(first)
        assert driver.instance_info(first.uuid).power_state == PowerState.RUNNING
        wrote = run_in(driver, first.uuid, "mkdir -p /data && echo kept-by-the-snapshot > /data/note && rm /etc/group")
        assert wrote.returncode == 0, wrote.stderr
        target = tmp_path / "snapshots" / "image"
        assert driver.snapshot(first.uuid, str(target)) == "raw"
        assert driver.instance_info(first.uuid).power_state == PowerState.RUNNING, "the container stayed frozen"
        with tarfile.open(target) as whole:
            assert "index.json" in whole.getnames(), "the snapshot of an oci image is an oci layout"

        second = InstanceSpec(**{**first.__dict__, "uuid": str(uuid.uuid4()), "hostname": "second",
                                 "image_path": str(target)})
        driver.spawn(second)
        assert driver.instance_info(second.uuid).power_state == PowerState.RUNNING
        read = run_in(driver, second.uuid, "cat /data/note; test -e /etc/group && echo group-is-back; "
                                           "test -x /sbin/onestack-init && echo image-is-there")
        assert read.stdout.split() == ["kept-by-the-snapshot", "image-is-there"], read.stdout + read.stderr

        driver.power_off(first.uuid, timeout=5)  # a stopped container's upper layer, unmounted
        again = tmp_path / "snapshots" / "again"
        driver.snapshot(first.uuid, str(again))
        rootfs = tmp_path / "unpacked"
        rootfs.mkdir()
        archive.unpack(again, rootfs)
        assert (rootfs / "data/note").read_text() == "kept-by-the-snapshot\n"
    finally:
        for spec in (first, second):
            if spec is not None:
                driver.destroy(spec.uuid)
                subprocess.run(["ip", "netns", "del", network.netns_name(spec.uuid)], capture_output=True)


@pytest.mark.skipif(not runtime.installed(), reason="runc is not installed (make install installs it)")
def test_a_container_frozen_by_a_snapshot_whose_process_died_is_thawed(tmp_path):
    from onestack.drivers.runc.driver import _process_token

    driver = RuncDriver(tmp_path / "state")
    spec = InstanceSpec(uuid=str(uuid.uuid4()), name="instance-000000d3", hostname="frozen", vcpus=1, memory_mb=64,
                        root_gb=1, image_path=str(container.build().path))
    try:
        driver.spawn(spec)
        marker = driver._dir(spec.uuid).frozen_for_snapshot
        # frozen by this (live) process: a snapshot under way, left frozen
        marker.write_text(_process_token(os.getpid()))
        driver.runc.pause(spec.uuid)
        assert driver.instance_info(spec.uuid).power_state == PowerState.PAUSED
        # the freezing process is gone (a kill -9 mid-snapshot): the next look thaws it
        marker.write_text("4194300 1")  # a pid above any the kernel hands out here, with a start time of its own
        assert driver.instance_info(spec.uuid).power_state == PowerState.RUNNING
        assert driver.runc.status(spec.uuid) == "running" and not marker.exists()
        # a container the user paused (no marker) stays paused
        driver.pause(spec.uuid)
        assert driver.instance_info(spec.uuid).power_state == PowerState.PAUSED
    finally:
        driver.destroy(spec.uuid)
        subprocess.run(["ip", "netns", "del", network.netns_name(spec.uuid)], capture_output=True)


@pytest.mark.skipif(not runtime.installed(), reason="runc is not installed (make install installs it)")
def test_the_snapshot_of_a_docker_save_container_is_a_docker_save_archive(tmp_path):
    from onestack.guestimage.initramfs import BUSYBOX
    from tests.drivers.test_runc_image import docker_save, entry, tar

    layer = tar(entry("bin", kind=tarfile.DIRTYPE), entry("bin/busybox", BUSYBOX.read_bytes(), mode=0o755))
    image = tmp_path / "docker.tar"
    image.write_bytes(docker_save(layer, config={"Entrypoint": ["/bin/busybox", "sleep", "3600"], "Env": ["K=v"]}))
    driver = RuncDriver(tmp_path / "state")
    first = InstanceSpec(uuid=str(uuid.uuid4()), name="instance-000000d5", hostname="docker-first", vcpus=1,
                         memory_mb=64, root_gb=1, image_path=str(image))
    second = None
    try:
        driver.spawn(first)
        wrote = subprocess.run(driver.runc._argv("exec", first.uuid, "/bin/busybox", "sh", "-c",
                                                 "echo from-docker > /note"), capture_output=True, text=True)
        assert wrote.returncode == 0, wrote.stderr
        target = tmp_path / "snapshot"
        driver.snapshot(first.uuid, str(target))
        with tarfile.open(target) as whole:
            assert "manifest.json" in whole.getnames() and "index.json" not in whole.getnames()
        second = InstanceSpec(**{**first.__dict__, "uuid": str(uuid.uuid4()), "image_path": str(target)})
        driver.spawn(second)
        read = subprocess.run(driver.runc._argv("exec", second.uuid, "/bin/busybox", "sh", "-c", "cat /note; echo $K"),
                              capture_output=True, text=True)
        assert read.stdout.split() == ["from-docker", "v"], read.stdout + read.stderr
    finally:
        for spec in (first, second):
            if spec is not None:
                driver.destroy(spec.uuid)
                subprocess.run(["ip", "netns", "del", network.netns_name(spec.uuid)], capture_output=True)
