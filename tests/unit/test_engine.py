import fcntl
import os

from sqlalchemy import text

from onestack.db.engine import Database, WriterLock, normalise_url


def test_plain_postgresql_urls_use_the_shipped_driver():
    assert normalise_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalise_url("postgres://h/db") == "postgresql+psycopg://h/db"
    assert normalise_url("postgresql+psycopg://h/db") == "postgresql+psycopg://h/db"
    assert normalise_url("sqlite:////x.db") == "sqlite:////x.db"


def _refused_elsewhere(lock: WriterLock) -> bool:
    """Whether a forked child, through the same ``WriterLock`` object, finds the write lock taken."""
    pid = os.fork()
    if pid == 0:
        try:
            fcntl.flock(lock._own_fd(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            code = 1
        except BlockingIOError:
            code = 0
        os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


def test_a_write_holds_the_database_against_other_processes_forked_ones_too(tmp_path):
    """The writer lock is a lock between processes (API workers forked from one supervisor), so a process
    waits for another's write in the kernel, woken as it ends, rather than in SQLite's sleeping busy handler."""
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with db.write() as session:
            session.execute(text("create table t (a int)"))
            assert _refused_elsewhere(db._write_lock)
        assert not _refused_elsewhere(db._write_lock)
        with db.write() as session:  # taken again after the children's own attempts
            session.execute(text("insert into t values (1)"))
        with db.read() as session:
            assert session.execute(text("select count(*) from t")).scalar() == 1
    finally:
        db.dispose()
