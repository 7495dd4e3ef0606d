"""Where volumes' data live: the file backend (qcow2 files under DATA_DIR/volumes, always there), the further
file backends ``volume.file_backends`` names (each a directory of its own, as Cinder's multi-backend runs
several volume services on one host) and, when ``ceph.conf`` is set, the RBD backend (images in the Ceph pool
``ceph.pools.volumes``).

A volume's backend is chosen once, at creation, from its type's ``volume_backend_name`` extra spec (or
``volume.default_backend`` when the type names none), and kept on the row: a volume made from a snapshot
or another volume lives where its source does, so a clone is always a copy-on-write child on the same
backend.  A name no backend answers to fails the create as Cinder's scheduler does ("No valid backend").
"""

from __future__ import annotations

from pathlib import Path

from onestack.config import Settings
from onestack.drivers.volumefiles import VolumeFileError, VolumeFiles
from onestack.drivers.volumerbd import Ceph, VolumeRBD
from onestack.services.volume.service.keys import KeyManager
from onestack.services.volume.service.types import BACKEND_CAPABILITIES

FILE = "file"


def backend_for(extra_specs: dict, default: str) -> str:
    """The backend a new volume of a type with these extra specs is made on (the name bare or, as Cinder's
    capabilities filter reads it too, ``capabilities:``-scoped)."""
    named = extra_specs.get("volume_backend_name") or extra_specs.get("capabilities:volume_backend_name")
    return named or default or FILE


class VolumeStores:
    def __init__(self, settings: Settings):
        self.files = VolumeFiles(settings.data_dir / "volumes")
        # every file backend by name, the first one ``file``
        self.file_stores: dict[str, VolumeFiles] = {FILE: self.files}
        for name, directory in (settings.volume.file_backends or {}).items():
            if name != FILE:
                self.file_stores[name] = VolumeFiles(Path(directory) if directory
                                                     else settings.data_dir / f"volumes-{name}")
        # the keys of encrypted volumes and their backups, wrapped with a master key kept beside the data
        self.keys = KeyManager(Path(settings.volume.key_dir) if settings.volume.key_dir
                               else settings.data_dir / "volume-keys")
        self.default = settings.volume.default_backend or FILE
        self.settings = settings.volume
        self.ceph: Ceph | None = None
        self.rbd: VolumeRBD | None = None
        self.rbd_name = settings.ceph.volume_backend_name
        if settings.ceph.conf:
            self.ceph = Ceph(settings.ceph.conf, settings.ceph.client, settings.ceph.keyring,
                             settings.ceph.timeout)
            self.rbd = VolumeRBD(self.ceph, settings.ceph.pools["volumes"], settings.data_dir / "volumes")
            self.image_pool = settings.ceph.pools.get("images", "images")

    def names(self) -> list[str]:
        return list(self.file_stores) + ([self.rbd_name] if self.rbd is not None else [])

    def backend_for(self, extra_specs: dict) -> str:
        return backend_for(extra_specs, self.default)

    def of(self, backend: str | None) -> VolumeFiles | VolumeRBD:
        """The driver of ``backend`` (None: the file backend of rows made before backends existed)."""
        if backend in (None, FILE):
            return self.files
        if backend in self.file_stores:
            return self.file_stores[backend]
        if self.rbd is not None and backend == self.rbd_name:
            return self.rbd
        raise VolumeFileError(f"No valid backend was found: no volume backend is named {backend!r} "
                              f"(this cloud has {', '.join(self.names())})")

    def capabilities(self, backend: str) -> dict:
        """What the scheduler matches a type's extra specs against on ``backend`` (one the cloud lacks is
        refused when its volume is made, naming it)."""
        if self.is_rbd(backend):
            return {**BACKEND_CAPABILITIES, "volume_backend_name": backend, "storage_protocol": "ceph"}
        return {**BACKEND_CAPABILITIES, "volume_backend_name": backend}

    def is_file(self, backend: str | None) -> bool:
        return backend is None or backend in self.file_stores

    def is_rbd(self, backend: str | None) -> bool:
        return self.rbd is not None and backend == self.rbd_name
