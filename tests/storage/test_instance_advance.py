"""The reconciler writes an instance's next state (``InstanceRecords.advance_to``) only if its task is still the
one the step began from, and a failed step's ERROR (``error``) only if no delete overtook it, each compared
where the row is written.  On PostgreSQL nothing serialises the reconciler
with an API worker: a delete that overtakes a boot (the task set to ``deleting`` between the step's read and
its write) must not be overwritten by the boot's next state.  The test lands that other write just before the
reconciler's UPDATE reaches the database (on SQLite the write lock keeps it out until the step commits)."""

from __future__ import annotations

import threading

from sqlalchemy import event, update

from onestack import registry
from onestack.db.engine import Database
from onestack.db.migrate import upgrade
from onestack.services.compute.models import Instance
from onestack.services.compute.models import states as st
from onestack.services.compute.reconcile.records import InstanceRecords


def a_booting_instance(db: Database) -> str:
    with db.write() as session:
        session.add(Instance(id="i-1", number=1, project_id="p", user_id="u", name="a", hostname="a",
                             reservation_id="r", vm_state=st.BUILDING, task_state=st.SCHEDULING))
    return "i-1"


def deleted_meanwhile(db: Database, instance_id: str, write):
    """``write()``'s outcome, the API's delete of the instance committed by another connection just as
    ``write``'s UPDATE of the instance begins (PostgreSQL; SQLite's write lock keeps it out)."""
    other = Database(db.url)
    landed = threading.Event()

    def delete_first(_conn, _cursor, statement, *_):
        # the API's delete, committed by another connection as the reconciler's write of the instance begins
        if statement.lstrip().startswith(f"UPDATE {Instance.__tablename__} ") and not landed.is_set():
            landed.set()
            if not db.is_sqlite:
                with other.write() as session:
                    session.execute(update(Instance).where(Instance.id == instance_id)
                                    .values(task_state=st.DELETING))

    event.listen(db.engine, "before_cursor_execute", delete_first)
    try:
        written = write()
    finally:
        event.remove(db.engine, "before_cursor_execute", delete_first)
        other.dispose()
    assert landed.is_set()
    return written


def test_a_task_set_by_another_writer_is_not_overwritten_by_the_steps_next_state(db):
    upgrade(db, registry.METADATA)
    instance_id = a_booting_instance(db)
    written = deleted_meanwhile(db, instance_id, lambda: InstanceRecords(db).advance_to(
        instance_id, st.SCHEDULING, host="h1", task_state=st.NETWORKING))
    with db.read() as session:
        row = session.get(Instance, instance_id)
    if db.is_sqlite:  # nothing came in between: the step's write is the row
        assert written is not None and (written.task_state, written.host) == (st.NETWORKING, "h1")
        assert (row.task_state, row.host) == (st.NETWORKING, "h1")
    else:  # the delete came first: the step wrote nothing and says so
        assert written is None
        assert (row.task_state, row.host) == (st.DELETING, None)


def test_a_step_moves_the_row_on_and_hands_it_back_as_written(db):
    upgrade(db, registry.METADATA)
    instance_id = a_booting_instance(db)
    records = InstanceRecords(db)
    written = records.advance_to(instance_id, st.SCHEDULING, host="h1", task_state=st.NETWORKING)
    assert (written.id, written.host, written.task_state, written.vm_state) == (
        instance_id, "h1", st.NETWORKING, st.BUILDING)
    # a step from a task the row no longer has writes nothing
    assert records.advance_to(instance_id, st.SCHEDULING, task_state=st.SPAWNING) is None
    with db.read() as session:
        assert session.get(Instance, instance_id).task_state == st.NETWORKING


def test_a_failed_step_does_not_undo_a_delete_that_overtook_it(db):
    upgrade(db, registry.METADATA)
    instance_id = a_booting_instance(db)
    deleted_meanwhile(db, instance_id, lambda: InstanceRecords(db).error(instance_id, "No valid host was found.", ""))
    with db.read() as session:
        row = session.get(Instance, instance_id)
    if db.is_sqlite:  # nothing came in between: the failure is recorded
        assert (row.vm_state, row.task_state, row.fault["message"]) == (st.ERROR, None, "No valid host was found.")
    else:  # the delete stays the instance's task, to be carried out
        assert (row.vm_state, row.task_state, row.fault) == (st.BUILDING, st.DELETING, None)
