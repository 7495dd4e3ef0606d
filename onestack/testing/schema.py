"""The database every test cloud starts from: Alembic's head, made once per process.

Making a new SQLite file at head takes a tenth of a second; copying the bytes of one already made takes a
millisecond.  It is made as ``onestack up`` makes a new database (``db.migrate.upgrade`` with every service's
tables: ``create_all`` and a stamp), so a test cloud's schema is exactly a new cloud's.  Nothing is left on
disk: the file is read into memory and its directory removed.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from onestack import registry
from onestack.db.engine import Database
from onestack.db.migrate import upgrade


@functools.cache
def migrated() -> bytes:
    """The bytes of a SQLite database file at the migrations' head."""
    with tempfile.TemporaryDirectory(prefix="onestack-schema-") as tmp:
        path = Path(tmp) / "onestack.db"
        db = Database(f"sqlite:///{path}")
        try:
            upgrade(db, registry.METADATA)
        finally:
            db.dispose()  # the last connection's close folds the write-ahead log into the file
        if path.with_name(path.name + "-wal").exists():
            raise RuntimeError("the migrated database still has a write-ahead log; its file alone is incomplete")
        return path.read_bytes()


def write(path: Path) -> None:
    """A database at head in ``path``."""
    path.write_bytes(migrated())
