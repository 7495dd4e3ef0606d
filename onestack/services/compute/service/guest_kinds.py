"""Which kind of guest an instance is, a VM or a container, and what a container cannot do.

The kind follows the image the server is created from: a Glance ``container_format`` of ``docker`` (a
``docker save`` archive) or ``oci`` (an OCI image layout), or the image property ``hypervisor_type``
``container`` (Nova's name for the hypervisor an image needs), makes a container; anything else a VM.
It is kept on the instance: its host's driver for that kind runs it, and the scheduler places a
container only on a host that reports running containers.
"""

from __future__ import annotations

from onestack.drivers.compute import CONTAINER, VM
from onestack.http.errors import BadRequest, Conflict
from onestack.services.compute.models import Instance
from onestack.services.image.public import ImageInfo

CONTAINER_FORMATS = frozenset({"docker", "oci"})
CONTAINER_HYPERVISOR = "container"
# action -> why a container cannot take it (Nova's 409 for an action the instance cannot take now)
NOT_FOR_CONTAINERS = {
    "suspend": "runc saves no state without CRIU",
    "resume": "a container is never suspended",
    "rescue": "a container has no disk to rescue",
    "live-migration": "runc saves no state without CRIU",
}


def of_image(image: ImageInfo | None) -> str:
    if image is None:
        return VM
    if image.container_format in CONTAINER_FORMATS or \
            (image.properties or {}).get("hypervisor_type") == CONTAINER_HYPERVISOR:
        return CONTAINER
    return VM


def require_supported(instance: Instance, action: str) -> None:
    """Nova's 409 for an action a container cannot take."""
    if instance.guest_kind == CONTAINER and action in NOT_FOR_CONTAINERS:
        raise Conflict(f"Cannot '{action}' instance {instance.id}: it is a container "
                       f"({NOT_FOR_CONTAINERS[action]}).")


def require_same_kind(instance: Instance, image: ImageInfo | None) -> None:
    """A rebuild keeps the kind of guest: its host was chosen for it."""
    kind = of_image(image)
    if image is not None and kind != instance.guest_kind:
        raise BadRequest(f"Cannot rebuild instance {instance.id}, a {instance.guest_kind}, from image "
                         f"{image.id}, which makes a {kind}.")
