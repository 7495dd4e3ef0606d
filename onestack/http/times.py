"""Times as clients send them, and the ``op:time`` filters OpenStack list calls accept."""

from __future__ import annotations

import datetime
import operator
import re
from collections.abc import Callable

from onestack.http.errors import BadRequest

OPS: dict[str, Callable] = {"lt": operator.lt, "lte": operator.le, "gt": operator.gt, "gte": operator.ge,
                            "eq": operator.eq, "neq": operator.ne}
_FILTER = re.compile(r"^(lt|lte|gt|gte|eq|neq):(.+)$")


def parse_time(text: str, field: str = "expires_at") -> datetime.datetime:
    """An ISO-8601 time (``Z``, an offset, or naive meaning UTC) as an aware UTC datetime, else 400."""
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise BadRequest(f"Invalid {field}: {text}.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def time_filters(value: str, field: str) -> list[tuple[Callable, datetime.datetime]]:
    """``gte:2016-04-18T21:38:54Z,lt:...`` as (operator, time) pairs; a bare time means ``eq``.

    The operators work on datetimes and on SQLAlchemy columns alike.
    """
    pairs = []
    for part in value.split(","):
        m = _FILTER.match(part)
        op, when = (m.group(1), m.group(2)) if m else ("eq", part)
        pairs.append((OPS[op], parse_time(when, field)))
    return pairs
