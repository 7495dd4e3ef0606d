"""The container image reader and unpacker, and the runtime configuration, on archives made here: no runc,
no root needed (owners are kept only as root)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from onestack.drivers.compute import DriverError, InstanceSpec
from onestack.drivers.runc import archive, bundle, images, layers
from onestack.guestimage import container


def entry(name: str, data: bytes | None = None, *, kind: bytes = tarfile.REGTYPE, link: str = "",
          mode: int = 0o644) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode, info.mtime = kind, link, mode, 1_700_000_000
    if kind == tarfile.DIRTYPE:
        info.mode = 0o755
    info.size = len(data or b"") if kind == tarfile.REGTYPE else 0
    return info, data or b""


def tar(*entries: tuple[tarfile.TarInfo, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as t:
        for info, data in entries:
            t.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return out.getvalue()


def apply(root: Path, *entries) -> None:
    layers.apply(io.BytesIO(tar(*entries)), root)


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def oci_layout(*layer_tars: bytes, config: dict | None = None, compress: bool = True) -> bytes:
    blobs = [gzip.compress(t, mtime=0) if compress else t for t in layer_tars]
    config_blob = json.dumps({"config": config or {"Cmd": ["/bin/sh"]},
                              "rootfs": {"type": "layers", "diff_ids": [digest(t) for t in layer_tars]}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "config": {"digest": digest(config_blob), "size": len(config_blob)},
                           "layers": [{"digest": digest(b), "size": len(b)} for b in blobs]}).encode()
    index = json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(manifest)}]}).encode()
    files = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", index)]
    files += [(f"blobs/sha256/{digest(b)[7:]}", b) for b in (config_blob, manifest, *blobs)]
    return tar(*(entry(name, data) for name, data in files))


def docker_save(*layer_tars: bytes, config: dict | None = None) -> bytes:
    config_blob = json.dumps({"config": config or {"Entrypoint": ["/app"]},
                              "rootfs": {"type": "layers", "diff_ids": [digest(t) for t in layer_tars]}}).encode()
    names = [f"{digest(t)[7:19]}/layer.tar" for t in layer_tars]
    manifest = json.dumps([{"Config": "config.json", "RepoTags": ["app:latest"], "Layers": names}]).encode()
    return tar(entry("manifest.json", manifest), entry("config.json", config_blob),
               *(entry(n, t) for n, t in zip(names, layer_tars, strict=True)))


# -- layers ---------------------------------------------------------------------------------------


def test_files_directories_symlinks_and_hard_links(tmp_path):
    apply(tmp_path, entry("bin", kind=tarfile.DIRTYPE), entry("bin/busybox", b"BB", mode=0o755),
          entry("bin/sh", kind=tarfile.SYMTYPE, link="/bin/busybox"), entry("bin/ash", kind=tarfile.LNKTYPE,
                                                                           link="bin/busybox"))
    assert (tmp_path / "bin/busybox").read_bytes() == b"BB"
    assert os.stat(tmp_path / "bin/busybox").st_mode & 0o777 == 0o755
    assert os.readlink(tmp_path / "bin/sh") == "/bin/busybox"
    assert os.stat(tmp_path / "bin/ash").st_ino == os.stat(tmp_path / "bin/busybox").st_ino


def test_whiteouts_remove_what_lower_layers_had(tmp_path):
    apply(tmp_path, entry("etc/a", b"1"), entry("etc/b", b"2"), entry("var/x/y", b"3"))
    apply(tmp_path, entry("etc/.wh.a"), entry("var/.wh.x"), entry(".wh.missing"))
    assert sorted(p.name for p in (tmp_path / "etc").iterdir()) == ["b"]
    assert not (tmp_path / "var/x").exists()
    assert not list(tmp_path.rglob(".wh.*")), "a whiteout marker was written as a file"


def test_an_opaque_directory_keeps_only_what_its_own_layer_adds(tmp_path):
    apply(tmp_path, entry("data/old1", b"o"), entry("data/old2", b"o"), entry("keep/me", b"k"))
    # the marker after an entry of the same layer: that entry must survive
    apply(tmp_path, entry("data/new", b"n"), entry("data/.wh..wh..opq"))
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["new"]
    assert (tmp_path / "keep/me").exists()


def test_a_later_layer_replaces_a_file_with_a_directory_and_back(tmp_path):
    apply(tmp_path, entry("x", b"file"))
    apply(tmp_path, entry("x", kind=tarfile.DIRTYPE), entry("x/inner", b"i"))
    assert (tmp_path / "x/inner").read_bytes() == b"i"
    apply(tmp_path, entry("x", b"file again"))
    assert (tmp_path / "x").read_bytes() == b"file again"


@pytest.mark.parametrize("name", ["../escape", "a/../../escape", "/../escape"])
def test_paths_that_climb_out_are_refused(tmp_path, name):
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(layers.LayerError, match="climbs out"):
        apply(root, entry(name, b"x"))
    assert not (tmp_path / "escape").exists()


def test_a_symlink_pointing_out_of_the_root_is_refused(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(layers.LayerError, match="points out of the root"):
        apply(root, entry("etc/link", kind=tarfile.SYMTYPE, link="../../outside"))


def test_writing_through_an_absolute_symlink_stays_inside_the_root(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    # "etc" names the host's directory if followed from the host; inside the root it means root/outside
    apply(root, entry("etc", kind=tarfile.SYMTYPE, link=str(outside)))
    apply(root, entry("etc/passwd", b"mine"))
    assert not (outside / "passwd").exists(), "the layer wrote outside the root"
    assert (root / str(outside).lstrip("/") / "passwd").read_bytes() == b"mine"


def test_a_hard_link_to_something_outside_or_missing_is_refused(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret").write_text("s")
    with pytest.raises(layers.LayerError):
        apply(root, entry("stolen", kind=tarfile.LNKTYPE, link="../secret"))
    apply(root, entry("d", kind=tarfile.DIRTYPE))
    with pytest.raises(layers.LayerError, match="not to a regular file"):
        apply(root, entry("hl", kind=tarfile.LNKTYPE, link="d"))
    assert not (root / "stolen").exists()


def test_device_nodes_are_not_made(tmp_path):
    apply(tmp_path, entry("dev/null", kind=tarfile.CHRTYPE), entry("fifo", kind=tarfile.FIFOTYPE))
    assert not (tmp_path / "dev/null").exists() and not (tmp_path / "fifo").exists()


# -- archives -------------------------------------------------------------------------------------


def test_an_oci_layout_with_two_layers(tmp_path):
    lower = tar(entry("etc/gone", b"g"), entry("etc/kept", b"k"))
    upper = tar(entry("etc/.wh.gone"), entry("app", b"#!/bin/sh\n", mode=0o755))
    (tmp_path / "image.tar").write_bytes(oci_layout(lower, upper, config={"Entrypoint": ["/app"]}))
    (tmp_path / "rootfs").mkdir()
    image = archive.unpack(tmp_path / "image.tar", tmp_path / "rootfs")
    assert image.format == "oci" and image.config["config"] == {"Entrypoint": ["/app"]}
    assert sorted(p.name for p in (tmp_path / "rootfs/etc").iterdir()) == ["kept"]


def test_a_docker_save_archive(tmp_path):
    (tmp_path / "image.tar").write_bytes(docker_save(tar(entry("app", b"x"))))
    (tmp_path / "rootfs").mkdir()
    image = archive.unpack(tmp_path / "image.tar", tmp_path / "rootfs")
    assert image.format == "docker" and image.config["config"]["Entrypoint"] == ["/app"]
    assert (tmp_path / "rootfs/app").read_bytes() == b"x"


def test_a_layer_that_does_not_match_its_digest_is_refused(tmp_path):
    good = tar(entry("app", b"x"))
    layout = oci_layout(good, compress=False)
    # change the layer's one data byte in place: same size, another digest
    blob = good.replace(b"x" + b"\0" * 511, b"y" + b"\0" * 511, 1)
    tampered = layout.replace(good, blob)
    assert tampered != layout
    (tmp_path / "image.tar").write_bytes(tampered)
    (tmp_path / "rootfs").mkdir()
    with pytest.raises(archive.ImageError, match="does not match its digest"):
        archive.unpack(tmp_path / "image.tar", tmp_path / "rootfs")


def test_what_is_no_image_is_refused(tmp_path):
    (tmp_path / "plain.tar").write_bytes(tar(entry("hello", b"x")))
    with pytest.raises(archive.ImageError, match="neither"):
        archive.unpack(tmp_path / "plain.tar", tmp_path)
    (tmp_path / "qcow2").write_bytes(b"QFI\xfb" + b"\0" * 1000)
    with pytest.raises(archive.ImageError, match="not a tar"):
        archive.unpack(tmp_path / "qcow2", tmp_path)


def test_the_cache_unpacks_once_and_keeps_no_partial_tree(tmp_path):
    (tmp_path / "image.tar").write_bytes(oci_layout(tar(entry("app", b"x"))))
    first = images.cached(str(tmp_path / "image.tar"), tmp_path / "cache")
    (first.rootfs / "marker").write_text("still the same tree")
    again = images.cached(str(tmp_path / "image.tar"), tmp_path / "cache")
    assert again.rootfs == first.rootfs and (again.rootfs / "marker").exists()
    assert [p.name for p in (tmp_path / "cache").iterdir() if p.name.startswith(".")] == []
    (tmp_path / "bad.tar").write_bytes(tar(entry("x", b"x")))
    with pytest.raises(DriverError, match="cannot use the image as a container image"):
        images.cached(str(tmp_path / "bad.tar"), tmp_path / "cache")
    assert [p.name for p in (tmp_path / "cache").iterdir() if p.name.startswith(".")] == []


def test_the_test_image_is_reproducible_and_readable(tmp_path):
    first, digest1 = container.layout()
    second, digest2 = container.layout()
    assert first == second and digest1 == digest2
    (tmp_path / "image.tar").write_bytes(first)
    (tmp_path / "rootfs").mkdir()
    image = archive.unpack(tmp_path / "image.tar", tmp_path / "rootfs")
    assert image.config["config"]["Entrypoint"] == ["/sbin/onestack-init"]
    assert os.readlink(tmp_path / "rootfs/bin/sh") == "/bin/busybox"
    assert container.MARKER in (tmp_path / "rootfs/sbin/onestack-init").read_text()


# -- runtime configuration -----------------------------------------------------------------------


def spec(**metadata) -> InstanceSpec:
    return InstanceSpec(uuid="u", name="instance-1", hostname="h", vcpus=2, memory_mb=128, root_gb=1,
                        metadata=metadata)


IMAGE = {"Entrypoint": ["/entry"], "Cmd": ["--serve"], "Env": ["PATH=/bin", "A=1"], "WorkingDir": "/srv",
         "User": "app"}


@pytest.fixture
def rootfs(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/home/app:/bin/sh\n")
    (tmp_path / "etc/group").write_text("root:x:0:\nstaff:x:50:\n")
    return tmp_path


def config(rootfs: Path, s: InstanceSpec, image: dict = IMAGE) -> dict:
    return bundle.runtime_config(s, image, rootfs, "/run/netns/ctr-u", {"/etc/hosts": Path("/x/hosts")}, "/o/u")


def test_the_image_config_gives_the_process(rootfs):
    process = config(rootfs, spec())["process"]
    assert process["args"] == ["/entry", "--serve"]
    assert process["cwd"] == "/srv" and process["user"] == {"uid": 1000, "gid": 1001}
    assert "A=1" in process["env"] and "PATH=/bin" in process["env"] and "HOME=/home/app" in process["env"]


def test_the_metadata_overrides_the_image(rootfs):
    process = config(rootfs, spec(container_cmd='["--port", "8080"]', container_workdir="/tmp",
                                  container_user="0:staff", container_env_A="2", container_env_B="x y"))["process"]
    assert process["args"] == ["/entry", "--port", "8080"]
    assert process["cwd"] == "/tmp" and process["user"] == {"uid": 0, "gid": 50}
    assert "A=2" in process["env"] and "B=x y" in process["env"]
    # an entrypoint of the metadata's drops the image's Cmd, as docker run --entrypoint does
    assert config(rootfs, spec(container_entrypoint="/bin/sh -c 'echo hi'"))["process"]["args"] == \
        ["/bin/sh", "-c", "echo hi"]


@pytest.mark.parametrize("metadata,message", [
    ({"container_user": "nobody"}, "not in the image's /etc/passwd"),
    ({"container_user": "0:wheel"}, "not in the image's /etc/group"),
    ({"container_cmd": "[1, 2]"}, "array of strings"),
    ({"container_cmd": "'unclosed"}, "cannot be split"),
    ({"container_workdir": "relative"}, "not an absolute path"),
])
def test_bad_overrides_are_refused(rootfs, metadata, message):
    with pytest.raises(DriverError, match=message):
        config(rootfs, spec(**metadata))


def test_an_image_with_no_command_is_refused(rootfs):
    with pytest.raises(DriverError, match="names no command"):
        config(rootfs, spec(), {})


def test_the_flavor_gives_the_limits_and_the_namespaces(rootfs):
    linux = config(rootfs, spec())["linux"]
    assert linux["resources"]["memory"]["limit"] == 128 * 2**20
    assert linux["resources"]["cpu"] == {"quota": 200_000, "period": 100_000}
    assert {"type": "network", "path": "/run/netns/ctr-u"} in linux["namespaces"]
    assert linux["cgroupsPath"] == "/o/u"
