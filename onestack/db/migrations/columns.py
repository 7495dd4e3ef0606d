"""What the migrations write again and again: a column of each common type (NOT NULL unless it says
``nullable=True``), the columns many tables share, and tables whose keys, constraints and indexes take the
names ``db.base.NAMING`` gives them (``pk_<table>``, ``fk_<table>_<column>_<referred table>``,
``uq_<table>_<first column>``, ``ix_<table>_<column>``).

A released migration must build the same schema for ever, so a function here never changes what it
returns: a table that needs another shape writes its columns out, or a new function is added.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from onestack.db.base import UTCDateTime

# A constraint named after the table it is declared in, which create_table hands it.
Named = Callable[[str], sa.Constraint]


def create_table(name: str, *parts: sa.Column | Named, primary_key: Sequence[str] = ("id",),
                 indexes: Sequence[str | tuple[str, list[str]]] = ()) -> None:
    """``op.create_table`` with its primary key, then its indexes in the order given: a column's name for
    ``ix_<table>_<column>``, or ``(index name, columns)`` for an index named otherwise."""
    op.create_table(name, *(p if isinstance(p, sa.Column) else p(name) for p in parts),
                    sa.PrimaryKeyConstraint(*primary_key, name=op.f(f"pk_{name}")))
    for index in indexes:
        if isinstance(index, str):
            op.create_index(op.f(f"ix_{name}_{index}"), name, [index], unique=False)
        else:
            op.create_index(index[0], name, index[1], unique=False)


def foreign_key(column: str, target: str, ondelete: str | None = None) -> Named:
    """``column`` refers to ``target`` (``table.column``)."""
    referred = target.partition(".")[0]
    return lambda table: sa.ForeignKeyConstraint([column], [target], ondelete=ondelete,
                                                 name=op.f(f"fk_{table}_{column}_{referred}"))


def unique(*columns: str, name: str | None = None) -> Named:
    """The columns together are unique; named after the first unless ``name`` says otherwise."""
    return lambda table: sa.UniqueConstraint(*columns, name=name or op.f(f"uq_{table}_{columns[0]}"))


def string(name: str, length: int, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _of(kind: type[sa.types.TypeEngine]) -> Callable[..., sa.Column]:
    """The column maker of a type that takes no arguments."""
    def column(name: str, *, nullable: bool = False) -> sa.Column:
        return sa.Column(name, kind(), nullable=nullable)
    return column


text = _of(sa.Text)
integer = _of(sa.Integer)
big_integer = _of(sa.BigInteger)
boolean = _of(sa.Boolean)
json = _of(sa.JSON)
timestamp = _of(UTCDateTime)  # a moment in UTC


def string_id(length: int) -> sa.Column:
    return string("id", length)


def serial_id() -> sa.Column:
    return sa.Column("id", sa.Integer(), autoincrement=True, nullable=False)


def project_id() -> sa.Column:
    return string("project_id", 64)


def user_id() -> sa.Column:
    return string("user_id", 64)


def description() -> sa.Column:
    """The free text most resources take, absent until given."""
    return text("description", nullable=True)


def extra() -> sa.Column:
    """Keystone's extra attributes: whatever else a client sent with the resource."""
    return json("extra")


def timestamps(*, updated_nullable: bool = False) -> list[sa.Column]:
    return [timestamp("created_at"), timestamp("updated_at", nullable=updated_nullable)]


def standard_attributes() -> list[sa.Column]:
    """What Neutron gives every resource: id, owner, name, description, timestamps, revision number."""
    return [string_id(36), project_id(), string("name", 255), string("description", 255), *timestamps(),
            big_integer("revision_number")]


def quota_class() -> list[sa.Column]:
    """A quota class's limit of one resource (Nova's and Cinder's ``default`` class)."""
    return [string("class_name", 255), string("resource", 255), integer("hard_limit")]
