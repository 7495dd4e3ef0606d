import pytest

from onestack.http.errors import BadRequest
from onestack.http.jsonbody import parse_json, validate

SCHEMA = {"type": "object", "properties": {"user": {"type": "object", "properties": {
    "name": {"type": "string", "minLength": 1}}, "required": ["name"]}}, "required": ["user"],
    "additionalProperties": False}


def test_valid_body_passes():
    validate({"user": {"name": "x"}}, SCHEMA)


@pytest.mark.parametrize("body", [None, [], {"user": {"name": 3}}, {"user": {}}, {"user": {"name": ""}},
                                  {"user": {"name": "x"}, "other": 1}])
def test_invalid_bodies_are_400(body):
    with pytest.raises(BadRequest):
        validate(body, SCHEMA)


def test_error_names_the_field():
    with pytest.raises(BadRequest) as err:
        validate({"user": {"name": 3}}, SCHEMA)
    assert "user.name" in err.value.message


@pytest.mark.parametrize("raw", [b"{", b"{'a': 1}", b"nul", b"\xff\xfe"])
def test_malformed_json_is_400(raw):
    with pytest.raises(BadRequest):
        parse_json(raw)


def test_empty_body_is_none():
    assert parse_json(b"  ") is None
