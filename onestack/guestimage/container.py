"""onestack-tiny-container: a tiny OCI image (an image layout in a tar) built from Debian's busybox-static.

One layer: static busybox with a link per applet, ``/etc/passwd`` and ``/etc/group``, and the
entrypoint ``/sbin/onestack-init`` (``files/container-init``), which waits for the container's
address, prints ``onestack-tiny-container: up hostname=<h> addresses=<a,b|none>`` and serves that
line as its page with ``busybox httpd`` on port 80.  No registry is involved and the build is
reproducible (fixed owners and times, sorted entries, gzip without a time): the same busybox gives
the same bytes, so the digests do not change from build to build.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile
import tempfile
from pathlib import Path

from onestack.guestimage import build as vm_build
from onestack.guestimage.initramfs import BUSYBOX, FILES

IMAGE_NAME = "onestack-tiny-container"
FORMAT_VERSION = 1  # bump when the builder's output changes for the same busybox
FIXED_MTIME = 1_700_000_000
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
ENTRYPOINT = "sbin/onestack-init"
MARKER = "onestack-tiny-container: up"


@dataclasses.dataclass(frozen=True)
class BuiltContainerImage:
    path: Path
    size_bytes: int
    sha256: str
    manifest_digest: str
    built: bool  # False when the cached archive was reused


def _info(name: str, kind: bytes, mode: int, size: int = 0, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size, info.linkname = kind, mode, size, link
    info.mtime, info.uid, info.gid, info.uname, info.gname = FIXED_MTIME, 0, 0, "root", "root"
    return info


def _tar(entries: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for info, data in sorted(entries, key=lambda e: e[0].name):
            tar.addfile(info, io.BytesIO(data) if data else None)
    return out.getvalue()


def layer() -> bytes:
    """The image's one layer, uncompressed."""
    applets = subprocess.run([str(BUSYBOX), "--list-full"], capture_output=True, text=True,
                             check=True).stdout.split()
    busybox = BUSYBOX.read_bytes()
    files = {
        "bin/busybox": (busybox, 0o755),
        ENTRYPOINT: ((FILES / "container-init").read_bytes(), 0o755),
        "etc/passwd": (b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n", 0o644),
        "etc/group": (b"root:x:0:\nnogroup:x:65534:\n", 0o644),
    }
    entries = [(_info(name, tarfile.REGTYPE, mode, len(data)), data) for name, (data, mode) in files.items()]
    entries += [(_info(applet, tarfile.SYMTYPE, 0o777, link="/bin/busybox"), b"")
                for applet in applets if applet != "bin/busybox"]
    dirs = {"www", "tmp", "root", "proc", "sys", "dev", "etc"}
    for info, _ in list(entries):
        parent = os.path.dirname(info.name)
        while parent:
            dirs.add(parent)
            parent = os.path.dirname(parent)
    entries += [(_info(d, tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755), b"") for d in dirs]
    return _tar(entries)


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layout() -> tuple[bytes, str]:
    """(the OCI image layout as a tar, its manifest's digest)."""
    plain = layer()
    compressed = gzip.compress(plain, compresslevel=9, mtime=0)
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2023-11-14T22:13:20Z",
        "config": {"Entrypoint": ["/" + ENTRYPOINT], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
                   "WorkingDir": "/", "ExposedPorts": {"80/tcp": {}}},
        "rootfs": {"type": "layers", "diff_ids": [_digest(plain)]},
    }, sort_keys=True).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": CONFIG_TYPE, "digest": _digest(config), "size": len(config)},
        "layers": [{"mediaType": LAYER_TYPE, "digest": _digest(compressed), "size": len(compressed)}],
    }, sort_keys=True).encode()
    index = json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": MANIFEST_TYPE, "digest": _digest(manifest), "size": len(manifest),
        "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}, sort_keys=True).encode()
    blobs = [config, manifest, compressed]
    entries = [(_info("oci-layout", tarfile.REGTYPE, 0o644, 30), b'{"imageLayoutVersion":"1.0.0"}'),
               (_info("index.json", tarfile.REGTYPE, 0o644, len(index)), index),
               (_info("blobs", tarfile.DIRTYPE, 0o755), b""), (_info("blobs/sha256", tarfile.DIRTYPE, 0o755), b"")]
    entries += [(_info(f"blobs/sha256/{_digest(b)[7:]}", tarfile.REGTYPE, 0o644, len(b)), b) for b in blobs]
    return _tar(entries), _digest(manifest)


def build(cache_dir: Path | None = None, force: bool = False) -> BuiltContainerImage:
    """Build (or reuse) ``<cache_dir>/onestack-tiny-container.tar``; kept while busybox is the same."""
    cache_dir = (cache_dir or vm_build.default_cache_dir()).resolve()
    cache_dir.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256(f"{FORMAT_VERSION}".encode())
    for source in (BUSYBOX, FILES / "container-init", Path(__file__)):
        h.update(source.read_bytes())
    key = h.hexdigest()
    target, facts_file = cache_dir / f"{IMAGE_NAME}.tar", cache_dir / f"{IMAGE_NAME}.json"
    if not force and target.exists() and facts_file.exists():
        facts = json.loads(facts_file.read_text())
        if facts.get("build_key") == key:
            return BuiltContainerImage(target, facts["size_bytes"], facts["sha256"], facts["manifest_digest"], False)
    data, manifest_digest = layout()
    image = BuiltContainerImage(target, len(data), hashlib.sha256(data).hexdigest(), manifest_digest, True)
    # written beside the target and renamed: a reader (a parallel test worker) never sees half of it
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".build-") as tmp:
        (Path(tmp) / "image.tar").write_bytes(data)
        os.replace(Path(tmp) / "image.tar", target)
        facts = {"build_key": key, "size_bytes": image.size_bytes, "sha256": image.sha256,
                 "manifest_digest": manifest_digest}
        (Path(tmp) / "facts.json").write_text(json.dumps(facts, indent=2) + "\n")
        os.replace(Path(tmp) / "facts.json", facts_file)
    return image
