"""What a driver is told about a guest: the instance row as an ``InstanceSpec``, with its NICs, the file of
the image it boots from (or its boot volume), its config drive and its volumes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from onestack.drivers import configdrive
from onestack.drivers.compute import DriverError, InstanceSpec, VolumeDisk
from onestack.services.compute.models import Instance
from onestack.services.compute.models import states as st
from onestack.services.compute.service import guest_metadata
from onestack.services.compute.service.networking import InstanceNetworking
from onestack.services.compute.service.rescue import RESCUE_DEVICE, RESCUE_IMAGE
from onestack.services.compute.service.shelving import SHELVED_IMAGE
from onestack.services.image.public import Images
from onestack.services.network.public import PortInfo


class GuestSpecs:
    def __init__(self, networking: InstanceNetworking, images: Images, config_drives: Path,
                 volumes: Callable[[str], tuple[VolumeDisk, ...]] = lambda _instance_id: (), *,
                 clones_in_ceph: bool = False):
        """``volumes``: an instance's volume disks, its boot volume first; ``clones_in_ceph``: guests' root
        disks are clones of their images in Ceph (``images_type: rbd``), so an image there needs no local copy
        (one kept only there has none)."""
        self.clones_in_ceph = clones_in_ceph
        self.networking = networking
        self.images = images
        self.config_drives = config_drives
        self.volumes = volumes

    def spec(self, instance: Instance, flavor: dict | None = None, image_ref: str | None = None,
             ports: list[PortInfo] | None = None, rescue_image_ref: str | None = None) -> InstanceSpec:
        """The guest as the instance row describes it; ``flavor`` and ``image_ref`` override the row's
        (a resize reverting to the old flavor, a rebuild's new image); ``ports``: its ports, when the
        caller has just read them; ``rescue_image_ref``: the image a rescue boots (a rescued guest's, from its
        row, when not given, unless it is being unrescued)."""
        flavor = flavor or instance.flavor
        nics = self.networking.nics(instance, ports)
        shelved = None if image_ref else (instance.task_args or {}).get(SHELVED_IMAGE)
        image_ref = image_ref or shelved or instance.image_ref
        volumes = self.volumes(instance.id)
        # only a host that clones root disks in Ceph reads the image's copy there
        image_rbd = self.images.rbd_location(image_ref) if image_ref and self.clones_in_ceph else None
        rescue_image_path = self._rescue_image_path(rescue_image_ref) if rescue_image_ref else None
        if rescue_image_ref is None and instance.vm_state == st.RESCUED and instance.task_state != st.UNRESCUING:
            # rescued already: its rescue disk is made, so an image deleted since does not matter
            rescued_from = (instance.task_args or {}).get(RESCUE_IMAGE)
            rescue_image_path = (self.images.file_path(rescued_from) if rescued_from else None) or ""
        # the rescue's task arguments stay on the row while it is rescued
        stable = (instance.task_args or {}).get(RESCUE_DEVICE) if rescue_image_path is not None else None
        device, bus = stable or (None, None)
        return InstanceSpec(
            uuid=instance.id, name=f"instance-{instance.number:08x}", hostname=instance.hostname,
            vcpus=flavor["vcpus"], memory_mb=flavor["ram"], root_gb=flavor["disk"],
            ephemeral_gb=flavor.get("ephemeral", 0), swap_mb=flavor.get("swap", 0),
            image_path=self.images.file_path(image_ref) if image_ref and not image_rbd else None, image_format=None,
            image_rbd=image_rbd, flatten_root=bool(shelved),
            nics=tuple(nics), config_drive=self._config_drive(instance), metadata=instance.metadata_,
            guest_kind=instance.guest_kind, volumes=volumes,
            rescue_image_path=rescue_image_path, rescue_device=device, rescue_bus=bus)

    def _rescue_image_path(self, image_ref: str) -> str:
        """The rescue image's data on this machine: a rescue needs a file to make its disk from (failing here
        is better than a guest reported rescued that booted its own disk)."""
        path = self.images.file_path(image_ref)
        if path is None:
            raise DriverError(f"Instance cannot be rescued: the rescue image {image_ref} has no data on this host")
        return path

    def _config_drive(self, instance: Instance) -> str | None:
        """The instance's config-2 ISO, written afresh (cheap, and always what the row says now)."""
        if not instance.config_drive:
            return None
        path = self.config_drive_path(instance.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        configdrive.build(path, guest_metadata.config_drive_files(guest_metadata.guest(self.networking, instance)))
        return str(path)

    def config_drive_path(self, instance_id: str) -> Path:
        return self.config_drives / f"{instance_id}.iso"
