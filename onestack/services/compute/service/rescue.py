"""Rescue and unrescue: the server boots a rescue image (its own image unless one is named) with its
own disk kept aside, so that a broken guest can be repaired; unrescue boots it normally again.

Drivers have no separate rescue call: a rescue is the hard reboot that builds the guest again from
a spec naming the rescue image (the QEMU driver boots a disk made from it, the server's root disk second),
and unrescue the hard reboot from the server's own spec.

A rescue image with ``hw_rescue_device`` or ``hw_rescue_bus`` asks for Nova's stable device rescue: the guest
keeps every disk where it was and the rescue disk is added last, on that bus, booted first.  From 2.87 it also
rescues a volume-backed server, when the image names both (as Nova requires).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from onestack.drivers.compute import RESCUE_DEVICES
from onestack.http.context import Context
from onestack.http.errors import BadRequest
from onestack.http.microversion import Version, at_least
from onestack.services.compute.models import Instance
from onestack.services.compute.models import states as st
from onestack.services.compute.service.servers import Servers

RESCUE_IMAGE = "rescue_image"
RESCUE_DEVICE = "rescue_device"  # a stable device rescue's [device, bus]; absent for the rescue before it
RESCUE_STATES = (st.ACTIVE, st.STOPPED, st.ERROR)
VOLUME_BACKED_SINCE = "2.87"


def rescue(servers: Servers, session: Session, ctx: Context, instance: Instance, image_ref: str | None,
           request_id: str, version: Version) -> None:
    volume_backed = not instance.image_ref
    flavor = {**instance.flavor, "disk": 0} if volume_backed else instance.flavor  # a volume's root, not the flavor's
    if image_ref:
        image_ref = image_ref.rstrip("/").rsplit("/", 1)[-1]
        image = servers.admission.check_image(ctx, image_ref, flavor)
    else:  # its own image, only read for its properties, as Nova reads the instance's image meta: it may have
        # gone or been deactivated since the boot, and its cached data rescues the server still
        image_ref = instance.image_ref
        image = servers.admission.images.find(image_ref) if image_ref else None
    properties = image.properties if image else {}
    device, bus = properties.get("hw_rescue_device"), properties.get("hw_rescue_bus")
    if volume_backed and not (at_least(version, VOLUME_BACKED_SINCE) and device and bus):
        raise BadRequest(f"Instance {instance.id} cannot be rescued: Cannot rescue a volume-backed instance")
    stable = None
    if device or bus:
        stable = [device or "disk", bus or "virtio"]  # what Nova's libvirt driver takes for the one not named
        if tuple(stable) not in RESCUE_DEVICES:
            raise BadRequest(f"Instance {instance.id} cannot be rescued: the rescue image asks for a {stable[0]} on "
                             f"the {stable[1]} bus, which is not supported")
    servers.start_task(session, ctx, instance, "rescue", st.RESCUING, request_id, RESCUE_STATES,
                       task_args={RESCUE_IMAGE: image_ref, RESCUE_DEVICE: stable})


def unrescue(servers: Servers, session: Session, ctx: Context, instance: Instance, request_id: str) -> None:
    servers.start_task(session, ctx, instance, "unrescue", st.UNRESCUING, request_id, (st.RESCUED,),
                               task_args={})
