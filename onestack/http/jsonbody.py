"""Reading and validating JSON request bodies."""

from __future__ import annotations

import jsonschema
import orjson
from starlette.requests import Request

from onestack.http.errors import BadRequest, PayloadTooLarge


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, refused with 413 once it passes ``limit`` (chunked bodies included)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(raw: bytes):
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"Malformed request body: {exc}") from None


_validators: dict[int, jsonschema.Draft4Validator] = {}


def first_error(body, schema: dict) -> jsonschema.ValidationError | None:
    """The most relevant way ``body`` breaks ``schema``, or None; services that word 400s their own way
    (Nova) start from it.

    Schemas are module constants, so their validators are built once and kept by identity.
    """
    validator = _validators.get(id(schema))
    if validator is None:
        validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
        _validators[id(schema)] = validator
    return jsonschema.exceptions.best_match(validator.iter_errors(body))


def validate(body, schema: dict) -> None:
    """Raise 400 naming the first offending field, as Keystone's validator does."""
    error = first_error(body, schema)
    if error is None:
        return
    where = ".".join(str(p) for p in error.absolute_path)
    detail = f"'{where}': {error.message}" if where else error.message
    raise BadRequest(f"Invalid input for field/attribute {where or 'body'}. {detail}")
