import pytest
from sqlalchemy import Boolean, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from starlette.datastructures import QueryParams

from onestack.db.engine import Database
from onestack.http.errors import BadRequest, NotFound
from onestack.http.listing import apply_filters, apply_sort, page, parse_limit, sort_params


class Base(DeclarativeBase):
    pass


class Thing(Base):
    __tablename__ = "thing"
    id: Mapped[str] = mapped_column(String, primary_key=True)
    name: Mapped[str] = mapped_column(String)
    enabled: Mapped[bool] = mapped_column(Boolean)


FIELDS = {"name": "name", "enabled": "enabled"}


@pytest.fixture
def session(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'listing.db'}")  # onestack's engine: its LIKE is case-sensitive
    Base.metadata.create_all(db.engine)
    with Session(db.engine) as s:
        s.add_all([Thing(id="a", name="Alpha", enabled=True), Thing(id="b", name="beta", enabled=False),
                   Thing(id="c", name="gamma_1", enabled=True), Thing(id="d", name="gamma%2", enabled=True)])
        s.commit()
        yield s
    db.dispose()


def ids(session, query: str, sort: bool = False) -> list[str]:
    q = QueryParams(query)
    stmt = apply_filters(select(Thing), Thing, q, FIELDS)
    if sort:
        stmt = apply_sort(stmt, Thing, *sort_params(q), {"name": "name", "id": "id"})
    else:
        stmt = stmt.order_by(Thing.id)
    return [t.id for t in session.scalars(stmt)]


def test_exact_and_boolean_filters(session):
    assert ids(session, "name=beta") == ["b"]
    assert ids(session, "enabled=false") == ["b"]
    assert ids(session, "enabled=true&name=Alpha") == ["a"]


def test_operators_escape_wildcards(session):
    assert ids(session, "name__contains=a_1") == ["c"]
    assert ids(session, "name__contains=%25") == ["d"]
    assert ids(session, "name__istartswith=al") == ["a"]
    assert ids(session, "name__startswith=al") == []
    assert ids(session, "name__endswith=2") == ["d"]


def test_unknown_filters_are_ignored_and_bad_booleans_refused(session):
    assert ids(session, "colour=red") == ["a", "b", "c", "d"]
    with pytest.raises(BadRequest):
        ids(session, "enabled=perhaps")


def test_sort_keys_and_directions(session):
    # Byte order: "gamma_1" > "gamma%2" > "beta" > "Alpha".
    assert ids(session, "sort_key=name&sort_dir=desc", sort=True) == ["c", "d", "b", "a"]
    with pytest.raises(BadRequest):
        ids(session, "sort_key=secret", sort=True)
    with pytest.raises(BadRequest):
        ids(session, "sort_key=name&sort_dir=sideways", sort=True)
    assert ids(session, "sort=name:asc", sort=True) == ["a", "b", "d", "c"]
    assert ids(session, "sort=name", sort=True) == ["c", "d", "b", "a"]  # Glance's default direction


def test_limit_and_marker_pages(session):
    rows = session.scalars(select(Thing).order_by(Thing.id)).all()
    first, marker = page(rows, QueryParams("limit=2"), 2)
    assert [r.id for r in first] == ["a", "b"] and marker == "b"
    second, marker = page(rows, QueryParams(f"marker={marker}"), 2)
    assert [r.id for r in second] == ["c", "d"] and marker is None
    with pytest.raises(NotFound):
        page(rows, QueryParams("marker=zzz"), 2)


@pytest.mark.parametrize("raw", ["-1", "x", "1.5"])
def test_bad_limits(raw):
    with pytest.raises(BadRequest):
        parse_limit(QueryParams(f"limit={raw}"))


def test_limit_is_capped():
    assert parse_limit(QueryParams("limit=999999")) == 1000
    assert parse_limit(QueryParams(""), 50) == 50



def test_next_link_keeps_filters_and_moves_the_marker():
    from starlette.datastructures import QueryParams

    from onestack.http.listing import next_link, next_query

    q = QueryParams("name=a&marker=old&limit=2&sort_key=name")
    assert next_query(q, "new") == "name=a&sort_key=name&limit=2&marker=new"
    assert next_query(q, "new", limit=5) == "name=a&sort_key=name&limit=5&marker=new"
    assert next_link(lambda p: "http://h/v2" + p, "/things", q, "m") == \
        {"rel": "next", "href": "http://h/v2/things?name=a&sort_key=name&limit=2&marker=m"}
