"""Property tests of the parsers every service shares: list filters, sort keys, limits, offsets and markers
(onestack/http/listing.py) and microversion headers (onestack/http/microversion.py).

Each property holds for any text a client can send: the parser answers or raises the API's own 4xx error,
never a Python error that would surface as a 500.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import Boolean, Integer, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from starlette.datastructures import Headers, QueryParams

from onestack.http import listing
from onestack.http.errors import APIError, BadRequest, NotAcceptable, NotFound
from onestack.http.microversion import Microversions, Version
from onestack.services.network import schemas as network_schemas
from tests.unit.properties import bounded

# Query-string text: any unicode a URL can carry once decoded (digits of every script included, since
# str.isdigit and int() disagree on some of them).
text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
numberish = st.one_of(text, st.integers(-10**30, 10**30).map(str), st.sampled_from(["²", "٣", "1_0", " 7 ", "+5", "-0"]))


class Base(DeclarativeBase):
    pass


class Row(Base):
    __tablename__ = "rows"
    id: Mapped[str] = mapped_column(String, primary_key=True)
    name: Mapped[str] = mapped_column(String)
    size: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean)


FIELDS = {"name": "name", "size": "size", "enabled": "enabled"}
SORTABLE = {"id": "id", "name": "name", "size": "size"}


@pytest.fixture(scope="module")
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add_all([Row(id=f"r{i}", name=f"n{i % 3}", size=i, enabled=i % 2 == 0) for i in range(6)])
        s.commit()
        yield s


# The text operators (name__contains) on the text field; every field, known or not, plain or with a bad one.
filter_keys = st.one_of(
    st.sampled_from([f"name__{op}" for op in listing.OPERATORS]),
    st.one_of(st.sampled_from(sorted(FIELDS)), text).flatmap(lambda name: st.sampled_from([name, f"{name}__bogus"])))


@given(st.integers(-10**30, 10**30))
@example(10**20)  # already an integer (Neutron's filters are parsed by the attribute's type): was let through
@bounded(100)
def test_an_integer_filter_fits_the_column_or_is_400(session, number):
    try:
        value = listing.coerce_filter(Row.size, number)
    except BadRequest:
        assert not -(2**63) <= number < 2**63
        return
    session.scalars(select(Row).where(Row.size == value)).all()


@given(st.lists(st.tuples(filter_keys, numberish), max_size=4))
@example([("size", "99999999999999999999")])  # beyond a 64-bit column: was OverflowError from the driver
@bounded(150)
def test_filters_run_or_answer_400(session, pairs):
    """Any filter query becomes a statement the database runs, or a 400 -- nothing else escapes."""
    try:
        stmt = listing.apply_filters(select(Row), Row, QueryParams(pairs), FIELDS)
    except BadRequest:
        return
    rows = session.scalars(stmt).all()
    for key, value in pairs:  # an exact filter on a known field holds on every row returned
        if key == "name":
            assert all(r.name == value for r in rows)


sort_keys = st.one_of(st.sampled_from(sorted(SORTABLE)), text)
directions = st.one_of(st.sampled_from(["asc", "desc"]), text)


@given(st.lists(sort_keys, max_size=4), st.lists(directions, max_size=4))
@bounded(150)
def test_sort_keys_that_parse_name_only_allowed_columns(session, keys, dirs):
    query = QueryParams([*(("sort_key", k) for k in keys), *(("sort_dir", d) for d in dirs)])
    got_keys, got_dirs = listing.sort_params(query)
    try:
        stmt = listing.apply_sort(select(Row), Row, got_keys, got_dirs, SORTABLE)
    except BadRequest:
        assert any(k not in SORTABLE for k in got_keys) or any(d not in ("asc", "desc") for d in got_dirs)
        return
    assert all(k in SORTABLE for k in got_keys)
    ids = [r.id for r in session.scalars(stmt)]
    assert sorted(ids) == sorted(f"r{i}" for i in range(6))  # ordering never drops or repeats a row


@given(text)
@bounded(150)
def test_glance_sort_parameter(session, raw):
    keys, dirs = listing.sort_params(QueryParams([("sort", raw)]))
    assert len(keys) == len(dirs) == len(raw.split(","))
    try:
        listing.apply_sort(select(Row), Row, keys, dirs, SORTABLE)
    except BadRequest:
        return
    assert all(k in SORTABLE for k in keys) and all(d in ("asc", "desc") for d in dirs)


@given(numberish)
@example("²")  # str.isdigit() is true for a superscript two, int() refuses it: was a ValueError
@bounded(200)
def test_offset_is_a_count_or_400(raw):
    try:
        offset = listing.parse_offset(QueryParams([("offset", raw)]))
    except BadRequest:
        return
    assert raw.isascii() and offset == int(raw) >= 0


@given(numberish)
@example("9" * 20)  # Nova's minRam, Glance's size_min: beyond 64 bits was SQLite's OverflowError
@bounded(200)
def test_a_count_parameter_fits_sql_or_is_400(session, raw):
    try:
        count = listing.count_param(raw, "bad")
    except BadRequest:
        return
    assert 0 <= count < 2**63 and str(count) == raw.lstrip("0") or count == 0
    session.scalars(select(Row).where(Row.size >= count)).all()


@given(numberish)
@bounded(200)
def test_limit_is_bounded_or_400(raw):
    try:
        limit = listing.parse_limit(QueryParams([("limit", raw)]))
    except BadRequest:
        return
    assert 0 <= limit <= listing.MAX_LIMIT


class Item:
    def __init__(self, i):
        self.id = f"id{i}"


@given(st.integers(0, 12), st.one_of(st.none(), st.integers(0, 12).map(lambda i: f"id{i}"), text),
       st.one_of(st.none(), st.integers(0, 15)))
@bounded(150)
def test_marker_pages_follow_the_marker(count, marker, limit):
    rows = [Item(i) for i in range(count)]
    query = QueryParams([("marker", marker)] if marker is not None else [])
    try:
        got, following = listing.page(rows, query, limit)
    except NotFound:
        assert marker not in [r.id for r in rows]
        return
    start = 0 if marker is None else [r.id for r in rows].index(marker) + 1
    assert [r.id for r in got] == [r.id for r in rows[start:start + (limit if limit is not None else count)]]
    if following is not None:  # the next page starts right after this one
        assert following == got[-1].id


# -- microversions -----------------------------------------------------------------------------------

versions = st.builds(Version, st.integers(1, 10**6), st.integers(0, 10**6))


@given(versions)
@bounded(200)
def test_version_formatted_then_parsed_is_itself(version):
    assert Version.parse(str(version)) == version
    assert version.at_least(str(version))


@given(text)
@bounded(300)
def test_version_text_parses_or_answers_400(raw):
    try:
        version = Version.parse(raw)
    except BadRequest:
        return
    assert version.major >= 1 and version.minor >= 0
    assert Version.parse(str(version)) == version


COMPUTE = Microversions("compute", Version(2, 1), Version(2, 96), ("X-OpenStack-Nova-API-Version",))
header_values = st.one_of(
    text,
    st.builds(lambda service, v: f"{service} {v}", st.sampled_from(["compute", "COMPUTE", "volume", ""]),
              st.one_of(text, versions.map(str), st.just("latest"))),
)


@given(st.lists(st.tuples(st.sampled_from(["OpenStack-API-Version", "X-OpenStack-Nova-API-Version"]),
                          header_values), max_size=3))
@bounded(300)
def test_negotiation_gives_a_supported_version_or_4xx(headers):
    raw = [(k.lower().encode(), v.encode()) for k, v in headers]
    try:
        version = COMPUTE.negotiate(Headers(raw=raw))
    except (BadRequest, NotAcceptable) as err:
        assert isinstance(err, APIError) and 400 <= err.status < 500
        return
    assert COMPUTE.minimum <= version <= COMPUTE.maximum
    shown = COMPUTE.response_headers(version)
    assert shown["OpenStack-API-Version"] == f"compute {version}"


# -- Neutron's filters and sort keys, from a resource's attribute table (onestack/http/attrmap.py) -----

TABLES = [network_schemas.NETWORKS, network_schemas.SUBNETS, network_schemas.PORTS, network_schemas.ROUTERS]
attr_keys = st.one_of(st.sampled_from(sorted({name for t in TABLES for name in t.attrs})),
                      st.sampled_from(["sort_key", "sort_dir", "fields", "limit"]), text)


@given(st.sampled_from(TABLES), st.lists(st.tuples(attr_keys, numberish), max_size=4))
@example(network_schemas.NETWORKS, [("mtu", "²")])  # isdigit() but not int(): was a ValueError, a 500
@example(network_schemas.NETWORKS, [("mtu", "--5")])  # lstrip("-") took both signs: a ValueError too
@example(network_schemas.NETWORKS, [("mtu", "1" * 5000)])  # beyond int()'s 4300 digits: a ValueError too
@bounded(300)
def test_neutron_filters_and_sort_keys_parse_or_answer_400(table, pairs):
    query = QueryParams(pairs)
    try:
        found = table.filters(query)
        order = table.sort(query)
    except BadRequest as err:
        assert err.status == 400
        return
    for name, values in found.items():  # only filterable, visible attributes, each value of its type
        attr = table.attrs[name]
        assert attr.filter and attr.visible
        kinds = (attr.schema or {}).get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        for value in values:
            assert isinstance(value, str | bool | int) or value is None
            if isinstance(value, int) and not isinstance(value, bool):
                assert "integer" in kinds
    for key, direction in order:
        assert table.attrs[key].sort and table.attrs[key].visible and direction in ("asc", "desc")
