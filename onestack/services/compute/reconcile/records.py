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
        reading it again), or None when the task had changed and nothing was written.  ``changes``: at least one
        column (every step writes its next task)."""
        with self.db.write() as session:
            instance = _written(session, instance_id, Instance.task_state == expected_task, changes)
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
            not_deleting = or_(Instance.task_state.is_(None), Instance.task_state != st.DELETING)
            instance = _written(session, instance_id, not_deleting,
                                {"vm_state": st.ERROR, "task_state": None, "fault": fault})
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


def _written(session: Session, instance_id: str, condition, values: dict) -> Instance | None:
    """The instance as one conditional UPDATE wrote ``values`` (no read first), or None when ``condition`` no
    longer held: compared where the row is written, so a task another process set meanwhile (a delete
    overtaking a boot, on PostgreSQL) is never overwritten."""
    return session.scalars(update(Instance).where(Instance.id == instance_id, condition).values(**values)
                           .returning(Instance), execution_options={"synchronize_session": False}).one_or_none()
