"""Rescue and unrescue: the server boots a rescue image (its own image unless one is named) with its
own disk kept aside, so that a broken guest can be repaired; unrescue boots it normally again.

Drivers have no separate rescue call: a rescue is the hard reboot that builds the guest again from
a spec naming the rescue image (the QEMU driver boots a disk made from it, the server's root disk second),
and unrescue the hard reboot from the server's own spec.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from onestack.http.context import Context
from onestack.http.errors import BadRequest
from onestack.services.compute.models import Instance
from onestack.services.compute.models import states as st
from onestack.services.compute.service.servers import Servers

RESCUE_IMAGE = "rescue_image"
RESCUE_STATES = (st.ACTIVE, st.STOPPED, st.ERROR)


def rescue(servers: Servers, session: Session, ctx: Context, instance: Instance, image_ref: str | None,
           request_id: str) -> None:
    if not instance.image_ref:  # Nova before 2.87 (stable device rescue is not provided)
        raise BadRequest(f"Cannot rescue a volume-backed instance {instance.id}")
    if image_ref:
        image_ref = image_ref.rstrip("/").rsplit("/", 1)[-1]
        servers.admission.check_image(ctx, image_ref, instance.flavor)
    servers.start_task(session, ctx, instance, "rescue", st.RESCUING, request_id, RESCUE_STATES,
                               task_args={RESCUE_IMAGE: image_ref or instance.image_ref})


def unrescue(servers: Servers, session: Session, ctx: Context, instance: Instance, request_id: str) -> None:
    servers.start_task(session, ctx, instance, "unrescue", st.UNRESCUING, request_id, (st.RESCUED,),
                               task_args={})
