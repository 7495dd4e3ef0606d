"""Rescue and unrescue: the server boots a rescue image (its own image unless one is named) with its
own disk kept aside, so that a broken guest can be repaired; unrescue boots it normally again.

Drivers have no separate rescue call: a rescue is the hard reboot that builds the guest again from
a spec naming the rescue image, and unrescue the hard reboot from the server's own spec.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from onestack.http.context import Context
from onestack.services.compute.models import Instance
from onestack.services.compute.models import states as st

RESCUE_IMAGE = "rescue_image"
RESCUE_STATES = (st.ACTIVE, st.STOPPED, st.ERROR)


def rescue(compute, session: Session, ctx: Context, instance: Instance, image_ref: str | None,
           request_id: str) -> None:
    if image_ref:
        image_ref = image_ref.rstrip("/").rsplit("/", 1)[-1]
        compute.check_image(ctx, image_ref, instance.flavor)
    compute.servers.start_task(session, ctx, instance, "rescue", st.RESCUING, request_id, RESCUE_STATES,
                               task_args={RESCUE_IMAGE: image_ref or instance.image_ref})


def unrescue(compute, session: Session, ctx: Context, instance: Instance, request_id: str) -> None:
    compute.servers.start_task(session, ctx, instance, "unrescue", st.UNRESCUING, request_id, (st.RESCUED,),
                               task_args={})


class RescueSteps:
    def __init__(self, engine):
        self.engine = engine
        self.compute = engine.compute

    def _boot(self, instance: Instance, task: str, image_ref: str | None, vm_state: str, event: str) -> None:
        driver = self.compute.hosts.driver(instance.host)
        driver.reboot(self.engine.spec(instance, image_ref=image_ref), hard=True)
        power = driver.instance_info(instance.id).power_state
        self.engine._advance(instance.id, task, vm_state=vm_state, task_state=None, power_state=int(power))
        self.engine._event(instance.id, None, event, "Success")

    def rescue(self, instance: Instance) -> None:
        self._boot(instance, st.RESCUING, instance.task_args.get(RESCUE_IMAGE), st.RESCUED, "compute_rescue_instance")

    def unrescue(self, instance: Instance) -> None:
        self._boot(instance, st.UNRESCUING, None, st.ACTIVE, "compute_unrescue_instance")


def steps(engine) -> dict:
    rescue_steps = RescueSteps(engine)
    return {st.RESCUING: rescue_steps.rescue, st.UNRESCUING: rescue_steps.unrescue}
