"""Alembic, driven from code: ``upgrade`` brings any database to head.

A new, empty database is not taken through every migration one by one: its tables are made at head from
the models (``create_all``, with the rows some migrations seed, ``db.base.seeded``) and it is stamped with
``HEAD``, in one transaction.  A database that has a revision goes through the migrations it lacks.
tests/storage/test_schema_at_head.py builds one of each and holds them equal, on SQLite and PostgreSQL.

Alembic is imported only when there is something to migrate: a start-up on a current database reads one
row and moves on (``HEAD`` names the newest migration; a unit test keeps it equal to Alembic's own view).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, inspect, text

from onestack.db.engine import Database

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD = "0041"


def alembic_config(db: Database):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = db.engine
    return cfg


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


def is_current(db: Database) -> bool:
    return current_revision(db) == HEAD


def upgrade(db: Database, models: MetaData | None = None) -> None:
    """Bring ``db`` to head.  Given ``models`` (every service's tables: ``registry.METADATA``), a database
    with no table at all is made at head from them; otherwise the migrations run."""
    if is_current(db):
        return
    if models is not None and not _tables(db):
        create_at_head(db, models)
    else:
        run_migrations(db)


def run_migrations(db: Database) -> None:
    """Every migration ``db`` lacks, one by one (how a database made by an older onestack reaches head)."""
    from alembic import command

    command.upgrade(alembic_config(db), "head")


def create_at_head(db: Database, models: MetaData) -> None:
    """The schema at head from the models, their seed rows, and the stamp, all or nothing."""
    with db.engine.begin() as conn:
        models.create_all(conn)
        # What `alembic stamp head` writes, without importing Alembic and reading every migration script
        # to learn a revision this module already names.
        version = Table("alembic_version", MetaData(), Column("version_num", String(32), nullable=False),
                        PrimaryKeyConstraint("version_num", name="alembic_version_pkc"))
        version.create(conn)
        conn.execute(version.insert(), {"version_num": HEAD})


def _tables(db: Database) -> list[str]:
    with db.engine.connect() as conn:
        return inspect(conn).get_table_names()
