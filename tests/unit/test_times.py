import datetime

import pytest

from onestack.http.errors import BadRequest
from onestack.http.times import parse_time, time_filters


def test_parse_time_accepts_z_offsets_and_naive():
    utc = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    assert parse_time("2026-01-02T03:04:05Z") == utc
    assert parse_time("2026-01-02T04:04:05+01:00") == utc
    assert parse_time("2026-01-02T03:04:05") == utc
    with pytest.raises(BadRequest):
        parse_time("bad.123Z")


def test_time_filters_compose():
    keep = time_filters("gte:2026-01-01T00:00:00Z,lt:2026-02-01T00:00:00Z", "created_at")
    inside = datetime.datetime(2026, 1, 15, tzinfo=datetime.UTC)
    outside = datetime.datetime(2026, 2, 15, tzinfo=datetime.UTC)
    assert all(op(inside, t) for op, t in keep)
    assert not all(op(outside, t) for op, t in keep)
    with pytest.raises(BadRequest):
        time_filters("gte:yesterday", "created_at")
