"""A container's snapshot: its image as the host unpacked it, with the container's upper layer on top,
written as one container image file that the unpacker (``archive.py``) reads back.

The image has two layers: the cached image tree (the lower layer of every container of that image) and
the instance's overlayfs upper directory turned into an OCI layer.  overlayfs and the OCI layer format
say "deleted" differently, so the upper directory is translated while it is written:
- a whiteout (a character device 0/0) becomes an empty ``.wh.<name>`` entry;
- an opaque directory (xattr ``trusted.overlay.opaque`` = ``y``) gets a ``.wh..wh..opq`` entry, after
  which the directory's own entries are added (the unpacker keeps what the same layer adds);
- a directory renamed under ``redirect_dir`` or a file copied up metadata-only (``metacopy``) would need
  data from the lower layer: both features are off by default and a snapshot that meets one is refused.
The file is written in the format of the image the container came from (``docker``: a ``docker save``
archive; ``oci``: an OCI image layout in a tar), with the image's configuration (Entrypoint, Cmd, Env,
...) and its ``rootfs.diff_ids`` and ``history`` extended.  Layers are stored uncompressed, so a docker
layer's digest is its diff_id.  Everything is written beside the target and renamed onto it at the end:
a crash leaves no half image where the reader looks.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import shutil
import stat
import tarfile
import tempfile
from pathlib import Path

from onestack.drivers.compute import DriverError

OPAQUE_XATTR = "trusted.overlay.opaque"
# overlayfs features whose upper entries do not stand alone (see the module's docstring)
DEPENDENT_XATTRS = ("trusted.overlay.redirect", "trusted.overlay.metacopy")
WHITEOUT, OPAQUE = ".wh.", ".wh..wh..opq"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"


def _xattr(path: Path, name: str) -> bytes | None:
    try:
        return os.getxattr(path, name, follow_symlinks=False)
    except OSError:
        return None


def _empty(name: str, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mtime, info.mode = int(mtime), 0o644
    return info


def write_layer(tree: Path, out: tarfile.TarFile, overlay_upper: bool) -> None:
    """Every entry under ``tree`` into ``out`` as a layer: parents before children, hard links kept;
    sockets, FIFOs and device nodes left out (the runtime gives a container its devices).  With
    ``overlay_upper``, overlayfs's whiteouts and opaque directories are translated."""
    for folder, dirs, files in os.walk(tree):
        dirs.sort()
        base = Path(folder)
        relative = base.relative_to(tree).as_posix()
        prefix = "" if relative == "." else relative + "/"
        if overlay_upper and prefix:
            if any(_xattr(base, name) is not None for name in DEPENDENT_XATTRS):
                raise DriverError(f"cannot snapshot the container: /{relative} was renamed by overlayfs's redirect_dir")
            if _xattr(base, OPAQUE_XATTR) == b"y":
                out.addfile(_empty(prefix + OPAQUE, base.stat().st_mtime))
        for name in sorted(files) + [d for d in dirs if (base / d).is_symlink()]:
            path = base / name
            st = path.lstat()
            if overlay_upper and stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                out.addfile(_empty(prefix + WHITEOUT + name, st.st_mtime))
                continue
            if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
                continue
            if overlay_upper and stat.S_ISREG(st.st_mode) and _xattr(path, DEPENDENT_XATTRS[1]) is not None:
                raise DriverError(f"cannot snapshot the container: /{prefix}{name} was copied up metadata-only "
                                  "(overlayfs's metacopy)")
            info = out.gettarinfo(str(path), prefix + name)
            if info.isreg():
                with open(path, "rb") as data:
                    out.addfile(info, data)
            else:
                out.addfile(info)  # a symlink, or a hard link to a file added before
        for name in dirs:
            path = base / name
            if not path.is_symlink():
                out.addfile(out.gettarinfo(str(path), prefix + name))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def _layer_file(tree: Path, work: Path, overlay_upper: bool) -> tuple[Path, str]:
    handle, name = tempfile.mkstemp(dir=work, suffix=".layer.tar")
    os.close(handle)
    path = Path(name)
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as out:
        write_layer(tree, out, overlay_upper)
    return path, _sha256(path)


def _add_bytes(out: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, int(datetime.datetime.now().timestamp())
    out.addfile(info, io.BytesIO(data))


def _add_file(out: tarfile.TarFile, name: str, path: Path) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = path.stat().st_size, 0o644, int(path.stat().st_mtime)
    with open(path, "rb") as data:
        out.addfile(info, data)


def _config(base_config: dict, diff_ids: list[str], comment: str) -> bytes:
    config = json.loads(json.dumps(base_config))  # a copy
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    config.setdefault("architecture", "amd64")
    config.setdefault("os", "linux")
    config["created"] = now
    config["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
    config["history"] = [{"created": now, "created_by": "onestack: the image as unpacked on the host"},
                         {"created": now, "created_by": comment}]
    return json.dumps(config, sort_keys=True).encode()


def write(lower: Path, base_config: dict, image_format: str, upper: Path, target: Path, comment: str) -> None:
    """The snapshot of a container whose image tree is ``lower`` (configuration ``base_config``, read
    as ``image_format``) and whose own writes are ``upper``, as one image file at ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{target.name}.*"):  # an earlier write's, cut short by a crash
        shutil.rmtree(stale, ignore_errors=True)
    work = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        layers = [_layer_file(lower, work, overlay_upper=False), _layer_file(upper, work, overlay_upper=True)]
        config = _config(base_config, [digest for _, digest in layers], comment)
        partial = work / "image.tar"
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as out:
            if image_format == "docker":
                _docker(out, layers, config)
            else:
                _oci(out, layers, config)
        with open(partial, "rb+") as fh:
            os.fsync(fh.fileno())
        partial.replace(target)
    except OSError as exc:
        raise DriverError(f"cannot write the container's snapshot: {exc}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _hex(digest: str) -> str:
    return digest.split(":", 1)[1]


def _docker(out: tarfile.TarFile, layers: list[tuple[Path, str]], config: bytes) -> None:
    """``docker save``'s layout: ``<id>/layer.tar`` per layer, the config, ``manifest.json``."""
    names = []
    for path, digest in layers:
        names.append(f"{_hex(digest)}/layer.tar")
        _add_file(out, names[-1], path)
    config_name = f"{hashlib.sha256(config).hexdigest()}.json"
    _add_bytes(out, config_name, config)
    _add_bytes(out, "manifest.json", json.dumps([{"Config": config_name, "RepoTags": None, "Layers": names}]).encode())


def _oci(out: tarfile.TarFile, layers: list[tuple[Path, str]], config: bytes) -> None:
    """An OCI image layout: every blob under ``blobs/sha256`` by its digest, ``index.json``, ``oci-layout``."""
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": CONFIG_TYPE, "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": LAYER_TYPE, "digest": digest, "size": path.stat().st_size} for path, digest in layers],
    }, sort_keys=True).encode()
    manifest_digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    _add_bytes(out, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    for path, digest in layers:
        _add_file(out, f"blobs/sha256/{_hex(digest)}", path)
    _add_bytes(out, f"blobs/sha256/{_hex(config_digest)}", config)
    _add_bytes(out, f"blobs/sha256/{_hex(manifest_digest)}", manifest)
    _add_bytes(out, "index.json", json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": MANIFEST_TYPE, "digest": manifest_digest, "size": len(manifest),
         "platform": {"os": "linux", "architecture": "amd64"}}]}).encode())
