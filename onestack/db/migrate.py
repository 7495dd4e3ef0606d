"""Alembic, driven from code: ``upgrade`` brings any database to head.

Alembic is imported only when there is something to migrate: a start-up on a
current database reads one row and moves on (``HEAD`` names the newest
migration; a unit test keeps it equal to Alembic's own view).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from onestack.db.engine import Database

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD = "0032"


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


def upgrade(db: Database) -> None:
    if not is_current(db):
        from alembic import command

        command.upgrade(alembic_config(db), "head")
