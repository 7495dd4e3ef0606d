"""How the reconciler writes back what it did: the instance's next state, and the events that close the
actions the API recorded (``os-instance-actions``)."""

from __future__ import annotations

import logging

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from onestack.db.base import utcnow
from onestack.db.engine import Database
from onestack.services.compute.models import Instance
from onestack.services.compute.models import states as st
from onestack.services.compute.service.servers import close_action

LOG = logging.getLogger("onestack.compute.reconcile")


class InstanceRecords:
    def __init__(self, db: Database):
        self.db = db

    def advance(self, instance_id: str, expected_task: str | None, *,
                event: tuple[str | None, str, str] | None = None, **changes) -> bool:
        """Write the outcome unless the task changed meanwhile (a delete overtook a boot, say); ``event``
        (action or None for the latest, event, result) closes the action in the same transaction."""
        return self.advance_to(instance_id, expected_task, event=event, **changes) is not None

    def advance_to(self, instance_id: str, expected_task: str | None, *,
                   event: tuple[str | None, str, str] | None = None, **changes) -> Instance | None:
        """``advance``, answering with the row as written (detached: what the next step starts from without
        reading it again), or None when the task had changed and nothing was written."""
        with self.db.write() as session:
            if changes:
                # One conditional UPDATE answering with the row: the task is compared where the row is written,
                # so a task another process set meanwhile (a delete overtaking a boot, on PostgreSQL) is never
                # overwritten, and no read comes first.
                instance = session.scalars(
                    update(Instance).where(Instance.id == instance_id, Instance.task_state == expected_task)
                    .values(**changes).returning(Instance),
                    execution_options={"synchronize_session": False}).one_or_none()
            else:
                instance = session.get(Instance, instance_id)
                if instance is not None and instance.task_state != expected_task:
                    instance = None
            if instance is not None and event is not None:
                self._record_event(session, instance, *event)
            return instance

    def error(self, instance_id: str, message: str, details: str, code: int = 500) -> None:
        """The instance in ERROR with its fault, unless a delete overtook the failed step: the delete goes on
        (compared where the row is written, as ``advance_to`` does)."""
        LOG.info("instance %s failed: %s", instance_id, message)
        fault = {"code": code, "message": message, "details": details,
                 "created": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")}
        with self.db.write() as session:
            instance = session.scalars(
                update(Instance).where(Instance.id == instance_id,
                                       or_(Instance.task_state.is_(None), Instance.task_state != st.DELETING))
                .values(vm_state=st.ERROR, task_state=None, fault=fault).returning(Instance),
                execution_options={"synchronize_session": False}).one_or_none()
            if instance is not None:
                self._record_event(session, instance, None, "compute_error", "Error", details)

    def event(self, instance_id: str, action: str | None, event: str, result: str, details: str = "") -> None:
        """Close the instance's latest action (or the latest of kind ``action``) with one event."""
        with self.db.write() as session:
            instance = session.get(Instance, instance_id)
            if instance is not None:
                self._record_event(session, instance, action, event, result, details)

    @staticmethod
    def _record_event(session: Session, instance: Instance, action: str | None, event: str, result: str,
                      details: str = "") -> None:
        close_action(session, instance, action, event, result, details)
