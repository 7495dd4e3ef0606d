"""Reading a container image from one file: a ``docker save`` archive or an OCI image layout in a tar.

Both are tars of JSON documents and layer tars; what differs is where the documents are.
- ``docker save`` (Glance's container_format ``docker``): ``manifest.json`` lists the config file and
  the layers (uncompressed tars whose sha256 are the config's ``rootfs.diff_ids``).
- OCI layout (container_format ``oci``): ``oci-layout``, ``index.json`` pointing at a manifest (or an
  index of manifests per platform) in ``blobs/<algorithm>/<hex>``, each blob named by its digest.
Every layer is checked against its digest while it is applied.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import tarfile
from pathlib import Path
from typing import IO

from onestack.drivers.runc import layers

MANIFEST_TYPES = ("application/vnd.oci.image.manifest.v1+json",
                  "application/vnd.docker.distribution.manifest.v2+json")
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
PLATFORM = {"os": "linux", "architecture": "amd64"}


class ImageError(ValueError):
    """The file is no container image this reader understands, or it is damaged or hostile."""


@dataclasses.dataclass(frozen=True)
class Layer:
    member: str  # its name in the archive
    digest: str  # "sha256:<hex>" of the bytes stored there


@dataclasses.dataclass(frozen=True)
class Image:
    format: str  # "docker" or "oci", as Glance's container_format names them
    config: dict  # the image configuration (its "config" holds Entrypoint, Cmd, Env, WorkingDir, User)
    layers: tuple[Layer, ...]


class _Hashing:
    """A reader that hashes what passes through it."""

    def __init__(self, raw: IO[bytes]):
        self.raw = raw
        self.hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.hash.update(data)
        return data

    def drain(self) -> str:
        while self.read(1 << 20):
            pass
        return "sha256:" + self.hash.hexdigest()


def _member(archive: tarfile.TarFile, name: str) -> tarfile.TarInfo:
    name = name[2:] if name.startswith("./") else name
    for candidate in (name, f"./{name}"):
        try:
            member = archive.getmember(candidate)
        except KeyError:
            continue
        if member.isreg():
            return member
    raise ImageError(f"the archive has no file {name!r}")


def _json(archive: tarfile.TarFile, name: str) -> dict:
    data = archive.extractfile(_member(archive, name))
    assert data is not None
    try:
        return json.loads(data.read())
    except ValueError as exc:
        raise ImageError(f"{name} is not JSON: {exc}") from exc


def _blob(digest: str) -> str:
    algorithm, _, hexdigest = digest.partition(":")
    if algorithm != "sha256" or not hexdigest or not all(c in "0123456789abcdef" for c in hexdigest):
        raise ImageError(f"unsupported or malformed digest {digest!r}")
    return f"blobs/sha256/{hexdigest}"


def _read_docker(archive: tarfile.TarFile) -> Image:
    manifest = _json(archive, "manifest.json")
    if not isinstance(manifest, list) or not manifest:
        raise ImageError("manifest.json lists no image")
    entry = manifest[0]
    config = _json(archive, entry["Config"])
    diff_ids = config.get("rootfs", {}).get("diff_ids", [])
    if len(diff_ids) != len(entry.get("Layers", [])):
        raise ImageError("the config's diff_ids do not match the manifest's layers")
    return Image("docker", config, tuple(Layer(name, digest) for name, digest in zip(entry["Layers"], diff_ids, strict=True)))


def _pick_manifest(archive: tarfile.TarFile, descriptors: list[dict]) -> dict:
    for descriptor in descriptors:
        platform = descriptor.get("platform")
        if platform and any(platform.get(k) != v for k, v in PLATFORM.items()):
            continue
        if descriptor.get("mediaType") in INDEX_TYPES:
            return _pick_manifest(archive, _json(archive, _blob(descriptor["digest"])).get("manifests", []))
        if descriptor.get("mediaType", MANIFEST_TYPES[0]) in MANIFEST_TYPES:
            return _json(archive, _blob(descriptor["digest"]))
    raise ImageError("the image layout has no linux/amd64 image manifest")


def _read_oci(archive: tarfile.TarFile) -> Image:
    index = _json(archive, "index.json")
    manifest = _pick_manifest(archive, index.get("manifests", []))
    config = _json(archive, _blob(manifest["config"]["digest"]))
    found = tuple(Layer(_blob(d["digest"]), d["digest"]) for d in manifest.get("layers", []))
    return Image("oci", config, found)


def read(archive: tarfile.TarFile) -> Image:
    names = set(archive.getnames())
    if "index.json" in names or "./index.json" in names:
        image = _read_oci(archive)
    elif "manifest.json" in names or "./manifest.json" in names:
        image = _read_docker(archive)
    else:
        raise ImageError("neither a docker save archive (manifest.json) nor an OCI image layout (index.json)")
    if not isinstance(image.config.get("config", {}), dict):
        raise ImageError("the image configuration is malformed")
    return image


def open_archive(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, mode="r:*")
    except (OSError, tarfile.TarError) as exc:
        raise ImageError(f"the image is not a tar archive: {exc}") from exc


def unpack(path: Path, rootfs: Path) -> Image:
    """Apply the image at ``path`` to the empty directory ``rootfs``, layer by layer; its description."""
    with open_archive(path) as archive:
        image = read(archive)
        for layer in image.layers:
            data = archive.extractfile(_member(archive, layer.member))
            assert data is not None
            stored = _Hashing(data)
            head = data.read(4)
            data.seek(0)
            if head == ZSTD_MAGIC:
                raise ImageError(f"layer {layer.digest} is zstd-compressed, which is not supported (gzip or none)")
            try:
                layers.apply(stored, rootfs)  # type: ignore[arg-type]
            except (layers.LayerError, gzip.BadGzipFile, EOFError) as exc:
                raise ImageError(f"layer {layer.digest}: {exc}") from exc
            if stored.drain() != layer.digest:
                raise ImageError(f"layer {layer.member} does not match its digest {layer.digest}")
    return image
