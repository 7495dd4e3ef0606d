"""Filters, sorting and limit/marker pagination for every list endpoint.

A resource declares which query parameters filter which column
(``{"name": "name", "enabled": "enabled"}``); the helpers here turn the
query string into SQL once for all services.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlencode

from sqlalchemy import Boolean, DateTime, Integer, Select, and_, asc, desc, func, or_

from onestack.http.errors import BadRequest, NotFound
from onestack.http.numbers import decimal
from onestack.http.times import parse_time

OPERATORS = ("contains", "icontains", "startswith", "istartswith", "endswith", "iendswith", "equals", "iequals")
MAX_LIMIT = 1000


STRING: dict = {"type": "string"}
COUNT: dict = {"type": "integer", "minimum": 0}


def query_parameters(filters: Mapping[str, dict] | Iterable[str] = (), *, sort_keys: Iterable[str] = (),
                     sort: str | None = "pairs", paging: Iterable[str] = ("limit", "marker"),
                     operators: Iterable[str] = (), **others: dict) -> dict[str, dict]:
    """The query parameters a list route takes, name -> JSON Schema, for the route's ``query=`` (which the
    OpenAPI description publishes, so the fuzzer sends them).  Written from the same definitions the list
    reads: ``filters`` (names, or names with their schemas; a name alone takes any text), ``sort_keys`` (the
    sortable keys, as ``sort_key``/``sort_dir`` pairs or, with ``sort="glance"``, ``sort=key:dir,...``),
    ``paging`` (``limit``, ``marker``, ``offset``), the filters ``apply_filters`` also takes with an operator
    (``name__contains``: ``operators``) and any ``others`` the route reads."""
    # names with their schemas, or names alone (a filter table's keys: ``{"name": "name"}`` names a column)
    params = {name: schema if isinstance(schema, dict) else STRING for name, schema in filters.items()} if isinstance(
        filters, Mapping) else dict.fromkeys(filters, STRING)
    params.update({f"{name}__{op}": STRING for name in operators for op in OPERATORS})
    keys = sorted(sort_keys)
    if keys and sort == "pairs":
        params["sort_key"] = {"type": "array", "items": {"enum": keys}}
        params["sort_dir"] = {"type": "array", "items": {"enum": ["asc", "desc"]}}
    elif keys and sort == "glance":
        params["sort"] = {"type": "string", "pattern": f"^(({'|'.join(keys)})(:(asc|desc))?,?)+$"}
    for name in paging:
        params[name] = COUNT if name in ("limit", "offset") else STRING
    params.update(others)
    return params


def coerce_filter(column, value: str):
    """A query string's value as the column's type: PostgreSQL compares no integer or boolean with text, and
    neither database binds text to a time column or an integer beyond 64 bits (each was a 500)."""
    kind = getattr(column.type, "impl", column.type)  # a TypeDecorator's (``UTCDateTime``) own type
    if isinstance(kind, DateTime):
        return value if not isinstance(value, str) else parse_time(value, column.key)
    if isinstance(column.type, Integer):
        try:
            number = value if isinstance(value, int) else int(value)
        except ValueError:
            raise BadRequest(f"Expected an integer for filter, got '{value}'.") from None
        if not -(2**63) <= number < 2**63:  # SQLite binds no wider integer (an OverflowError, a 500)
            raise BadRequest(f"Expected an integer for filter, got '{value}'.")
        return number
    if isinstance(column.type, Boolean) and isinstance(value, str):
        lowered = value.lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        raise BadRequest(f"Expected a boolean for filter, got '{value}'.")
    if isinstance(value, bool | int) and not isinstance(column.type, Boolean):
        # a value a listing read as a number (Neutron's ``protocol=6``) for a column that holds text
        return str(value).lower() if isinstance(value, bool) else str(value)
    return value


def count_param(raw: str, message: str) -> int:
    """A non-negative count from a query parameter (``minRam``, ``size_min``): ASCII digits within what SQL
    binds (64 bits); a 400 with ``message`` otherwise."""
    count = decimal(raw)
    if count is None or count >= 2**63:
        raise BadRequest(message)
    return count


def apply_filters(stmt: Select, model, query, fields: dict[str, str]) -> Select:
    for key, value in query.multi_items():
        name, _, op = key.partition("__")
        if name not in fields or (op and op not in OPERATORS):
            continue
        column = getattr(model, fields[name])
        if not op:
            stmt = stmt.where(column == coerce_filter(column, value))
            continue
        insensitive = op.startswith("i")
        col = func.lower(column) if insensitive else column
        val = value.lower() if insensitive else value
        base = op[1:] if insensitive else op
        if base == "contains":
            stmt = stmt.where(col.contains(val, autoescape=True))
        elif base == "startswith":
            stmt = stmt.where(col.startswith(val, autoescape=True))
        elif base == "endswith":
            stmt = stmt.where(col.endswith(val, autoescape=True))
        else:
            stmt = stmt.where(col == val)
    return stmt


def sort_params(query) -> tuple[list[str], list[str]]:
    """Sort keys and directions from ``sort_key``/``sort_dir`` pairs or Glance's ``sort=key:dir,...``."""
    if "sort" in query:
        keys, dirs = [], []
        for part in query["sort"].split(","):
            key, _, direction = part.strip().partition(":")
            keys.append(key)
            dirs.append(direction or "desc")
        return keys, dirs
    return query.getlist("sort_key"), query.getlist("sort_dir")


def apply_sort(stmt: Select, model, keys: list[str], dirs: list[str], sortable: dict[str, str],
               default: str = "id", default_dir: str = "asc") -> Select:
    """Order by the requested keys (a missing direction repeats the last one); id last keeps pages stable."""
    keys = keys or [default]
    dirs = dirs or [default_dir]
    for i, key in enumerate(keys):
        if key not in sortable:
            raise BadRequest(f"Invalid sort key: {key}.")
        direction = dirs[i] if i < len(dirs) else dirs[-1]
        if direction not in ("asc", "desc"):
            raise BadRequest(f"Invalid sort direction: {direction}.")
        column = getattr(model, sortable[key])
        stmt = stmt.order_by(asc(column) if direction == "asc" else desc(column))
    if "id" not in keys:
        stmt = stmt.order_by(asc(model.id))
    return stmt


def parse_offset(query) -> int:
    """Nova's and Cinder's ``offset``: how many rows of the list to skip."""
    raw = query.get("offset", "0")
    offset = decimal(raw)
    if offset is None:
        raise BadRequest(f"Invalid offset: {raw}.")
    return offset


def parse_limit(query, default: int | None = None) -> int | None:
    raw = query.get("limit")
    if raw is None:
        return default
    try:
        limit = int(raw)
    except ValueError:
        raise BadRequest(f"Invalid limit: {raw}.") from None
    if limit < 0:
        raise BadRequest(f"Invalid limit: {raw}.")
    return min(limit, MAX_LIMIT)


def page(rows: list, query, limit: int | None, key=lambda r: r.id) -> tuple[list, str | None]:
    """Cut a sorted list at ``marker`` and ``limit``; returns the page and the next marker, if any."""
    marker = query.get("marker")
    if marker is not None:
        ids = [key(r) for r in rows]
        if marker not in ids:
            raise NotFound(f"Marker {marker} could not be found.")
        rows = rows[ids.index(marker) + 1:]
    if limit is not None and len(rows) > limit:
        return rows[:limit], key(rows[limit - 1]) if limit else None
    return rows, None


def after(order: list[tuple], values: list):
    """The SQL condition for rows that sort after a row whose ``order`` columns hold ``values`` (keyset
    pagination: a page costs the same at row 10 and at row 10,000).  Columns must not be null."""
    clauses = []
    for i, (column, direction) in enumerate(order):
        beyond = column < values[i] if direction == "desc" else column > values[i]
        clauses.append(and_(*(order[j][0] == values[j] for j in range(i)), beyond))
    # The first column's bound again, on its own: what lets the database seek into an index on the sort
    # columns instead of walking it from the start.
    first, direction = order[0]
    return and_(first <= values[0] if direction == "desc" else first >= values[0], or_(*clauses))


def seek(session, stmt: Select, model, order: list[tuple], marker: str | None, limit: int) -> list:
    """For a list in its default ``order`` (non-null columns, id last) filtered wholly in SQL: the marker's
    row, when the list shows it, then up to ``limit + 1`` rows after it -- what :func:`page` needs to cut
    the same page and see whether more follow, read without the whole table.  No marker row: []."""
    head: list = []
    if marker is not None:
        found = session.scalars(stmt.where(model.id == marker)).unique().first()
        if found is None:
            return []
        head = [found]
        stmt = stmt.where(after(order, [getattr(found, column.key) for column, _ in order]))
    return head + list(session.scalars(stmt.limit(limit + 1)).unique())


def next_query(query, marker: str, limit: int | None = None) -> str:
    """The query string of the page after this one: every filter and sort kept, ``marker`` moved on (and
    ``limit`` repeated where the service writes it back, as Neutron and Glance do)."""
    kept = [(k, v) for k, v in query.multi_items() if k not in ("marker", "limit")]
    if limit is not None:
        kept.append(("limit", limit))
    elif "limit" in query:
        kept.append(("limit", query["limit"]))
    return urlencode([*kept, ("marker", marker)])


def next_link(href_of_path, path: str, query, marker: str, limit: int | None = None) -> dict:
    """The ``{"rel": "next", "href": ...}`` link of Nova's and Neutron's ``*_links`` (``href_of_path`` makes
    an absolute URL of a path under the service, e.g. ``call.url``)."""
    return {"rel": "next", "href": href_of_path(f"{path}?{next_query(query, marker, limit)}")}


def page_links(key: str, href_of_path, path: str, query, marker: str | None) -> dict:
    """A page's ``{key}_links`` holding the next page's link, or nothing when no ``marker`` says more follow."""
    return {} if marker is None else {f"{key}_links": [next_link(href_of_path, path, query, marker)]}
