"""A new database made at head from the models is the database the migrations build, on SQLite and PostgreSQL.

``onestack up`` makes a new database with ``create_all`` and a stamp instead of running every migration; an
older one still goes through the migrations.  Both must end in the same schema, down to index names, server
defaults and the rows migrations seed, or a cloud made one way would differ from one made the other.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from sqlalchemy import DateTime, MetaData, inspect, select

from onestack import registry
from onestack.db.engine import Database
from onestack.db.migrate import HEAD, alembic_config, current_revision, run_migrations, upgrade
from tests.pgtools import scratch_database


@contextlib.contextmanager
def _database(backend: str, tmp_path, name: str) -> Iterator[Database]:
    if backend == "sqlite":
        urls = contextlib.nullcontext(f"sqlite:///{tmp_path / name}.db")
    else:
        urls = scratch_database("onestack_schema")
    with urls as url:
        db = Database(url)
        try:
            yield db
        finally:
            db.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request) -> str:
    return request.param


def _default(value: str | None) -> str | None:
    """A server default as the database shows it, less the quoting and casts one spelling adds: SQLite keeps
    the text given (``'0'``, ``0``), PostgreSQL a typed expression (``'vm'::character varying``)."""
    if value is None:
        return None
    value = value.split("::")[0].strip("'\"")
    return {"0": "false", "1": "true"}.get(value, value)


def _schema(db: Database) -> dict:
    """Everything the database says about each table, each part keyed so that order does not matter."""
    inspector = inspect(db.engine)
    dialect = db.engine.dialect
    schema = {}
    for table in sorted(inspector.get_table_names()):
        columns = {c["name"]: (c["type"].compile(dialect=dialect), c["nullable"], _default(c["default"]))
                   for c in inspector.get_columns(table)}
        pk = inspector.get_pk_constraint(table)
        schema[table] = {
            "columns": columns,
            "primary key": (pk["name"], tuple(pk["constrained_columns"])),
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                              for i in inspector.get_indexes(table)),
            "unique": sorted((u["name"], tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)),
            "foreign keys": sorted((f["name"], tuple(f["constrained_columns"]), f["referred_table"],
                                    tuple(f["referred_columns"]), f["options"].get("ondelete"))
                                   for f in inspector.get_foreign_keys(table)),
            "checks": sorted((c["name"], c["sqltext"]) for c in inspector.get_check_constraints(table)),
        }
    return schema


def _rows(db: Database) -> dict[str, list[tuple]]:
    """Every row of every table; a moment is only said to be there or not (each build has its own now)."""
    tables = MetaData()
    tables.reflect(db.engine)
    found = {}
    with db.engine.connect() as conn:
        for table in tables.sorted_tables:
            rows = []
            for row in conn.execute(select(table)).mappings():
                rows.append(tuple(sorted(
                    (key, (value is not None) if isinstance(table.c[key].type, DateTime) else value)
                    for key, value in row.items())))
            found[table.name] = sorted(rows, key=repr)
    return found


def _differences(what: str, built, made) -> list[str]:
    """Each item the migrations' database and the one made at head do not share, one line each."""
    if isinstance(built, dict):
        return [f"{what} {key}: migrations {built.get(key)!r}, at head {made.get(key)!r}"
                for key in sorted(built.keys() | made.keys()) if built.get(key) != made.get(key)]
    if isinstance(built, list):
        return ([f"{what}: only the migrations' {item!r}" for item in built if item not in made]
                + [f"{what}: only at head {item!r}" for item in made if item not in built])
    return [f"{what}: migrations {built!r}, at head {made!r}"] if built != made else []


def test_a_database_made_at_head_is_the_one_the_migrations_build(backend, tmp_path):
    with _database(backend, tmp_path, "migrated") as migrated, _database(backend, tmp_path, "at-head") as at_head:
        run_migrations(migrated)
        upgrade(at_head, registry.METADATA)
        assert current_revision(migrated) == current_revision(at_head) == HEAD

        built, made = _schema(migrated), _schema(at_head)
        assert sorted(built) == sorted(made), "the two hold different tables"
        differ = [line for table in built for part in built[table]
                  for line in _differences(f"{table} {part}", built[table][part], made[table][part])]
        assert not differ, "\n".join(differ)
        seeded = _rows(migrated)
        assert seeded["volume_type"] and seeded["image_metadef_resource_type"]
        assert _rows(at_head) == seeded


def test_alembic_takes_a_database_made_at_head_as_current(backend, tmp_path):
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    with _database(backend, tmp_path, "at-head") as db:
        upgrade(db, registry.METADATA)
        with db.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == HEAD
        command.upgrade(alembic_config(db), "head")  # nothing to do: no migration runs on made tables
        assert current_revision(db) == HEAD


def test_a_database_with_a_revision_goes_through_the_migrations(backend, tmp_path):
    from alembic import command

    with _database(backend, tmp_path, "older") as db:
        command.upgrade(alembic_config(db), "0027")
        with db.engine.begin() as conn:  # a row of the older cloud, which a remade schema would lose
            conn.exec_driver_sql("INSERT INTO volume_type (id, name, is_public, extra_specs, created_at) "
                                 "VALUES ('t1', 'gold', true, '{}', '2020-01-01 00:00:00')")
        upgrade(db, registry.METADATA)
        assert current_revision(db) == HEAD
        assert "volume_group" in inspect(db.engine).get_table_names()  # made by 0031
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT name FROM volume_type WHERE id = 't1'").scalar_one() == "gold"
