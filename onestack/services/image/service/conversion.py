"""Glance's ``image_conversion`` import plugin: an imported image's data converted by qemu-img to one format
(``image_import.conversion_format``, raw by default: what RBD clones need, so a qcow2 cloud image imported
into a cloud with a Ceph image store boots and makes volumes without a copy).

It runs after the data is in the store and inspected (a qcow2 with a backing or data file never reaches
qemu-img convert), before the image is published: the converted data replace the original through the
store's durable write (partial file, fsync, rename), and the image's ``disk_format``, size, checksums and
virtual size are those of the converted data, as Glance records them.  A crash mid-conversion leaves a
``.partial`` file that start-up removes, and the image is settled as any interrupted import.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

from onestack.config import ImageImport
from onestack.http.errors import BadRequest
from onestack.services.image.service.files import CHUNK, FileStore, Written
from onestack.services.image.service.inspect import INSPECTED, QEMU_NAMES, inspect

PLUGIN = "image_conversion"
# qemu-img convert of a large image on a loaded host
TIMEOUT = 3600


def wanted(rules: ImageImport, disk_format: str | None) -> bool:
    """Whether an import of ``disk_format`` is converted: the plugin on, and a format qemu-img reads (and
    inspection checked) that is not already the target one (ISOs and the like are stored as they are, as
    Glance's plugin leaves formats it does not convert)."""
    return (PLUGIN in rules.plugins and disk_format in INSPECTED
            and disk_format != rules.conversion_format)


def convert(store: FileStore, image_id: str, source_format: str, target_format: str,
            max_size: int) -> tuple[Written, int | None]:
    """The image's data converted in place; what was written and the new virtual size."""
    source = store.path(image_id)
    # a dot-file ending .partial: start-up's discard_partials removes it if the process dies here
    converted = source.with_name(f".{image_id}.converted.partial")
    try:
        done = subprocess.run(["qemu-img", "convert", "-q", "-f", QEMU_NAMES.get(source_format, source_format),
                               "-O", QEMU_NAMES.get(target_format, target_format), str(source), str(converted)],
                              capture_output=True, text=True, timeout=TIMEOUT)
        if done.returncode != 0:
            raise BadRequest(f"Image conversion from {source_format} to {target_format} failed: "
                             f"{done.stderr.strip()[-300:]}")
        written = store.write(image_id, _chunks(converted), max_size)
    finally:
        converted.unlink(missing_ok=True)
    return written, inspect(store.path(image_id), target_format)


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk
