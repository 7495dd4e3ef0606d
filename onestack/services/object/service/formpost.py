"""Form posts, as Swift's formpost middleware takes them: a browser's ``multipart/form-data`` POST to
``/v1/<account>/<container>[/<prefix>]`` uploads each file of the form as ``<prefix><its filename>``, with no
token.  The form is signed like a temp URL, under the same keys and digests: the HMAC of
``<path>\\n<redirect>\\n<max_file_size>\\n<max_file_count>\\n<expires>``.
"""

from __future__ import annotations

import dataclasses
import time

from onestack.http import errors
from onestack.services.object.service import tempurl

CAPABILITIES = {"allowed_digests": sorted(tempurl.DIGESTS)}
VALUE_LIMIT = 4096  # the most of a field's value that is read


class Refused(errors.Unauthorized):
    def __init__(self, reason: str):
        super().__init__(f"FormPost: {reason}")


def invalid(reason: str) -> errors.BadRequest:
    return errors.BadRequest(f"FormPost: {reason}")


def integer(fields: dict[str, str], name: str, label: str | None = None) -> int:
    try:
        return int(fields.get(name) or 0)
    except ValueError:
        raise invalid(f"{label or name} not an integer") from None


@dataclasses.dataclass(frozen=True)
class Form:
    """What the signed fields allow."""

    max_file_size: int
    max_file_count: int
    delete_at: int | None


def check(fields: dict[str, str], keys: list[str], paths: list[str], now: float | None = None) -> Form:
    """The form's limits once its fields are sound, unexpired and signed under one of ``keys`` for one of
    ``paths`` (the path as the client sent it, with and without the service's prefix); 400 or 401."""
    if not keys:
        raise Refused("Invalid Signature")
    max_file_size = integer(fields, "max_file_size")
    max_file_count = integer(fields, "max_file_count")
    now = time.time() if now is None else now
    delete_at = None
    if "x_delete_at" in fields:
        delete_at = integer(fields, "x_delete_at", "x_delete_at")
    if "x_delete_after" in fields:
        delete_at = int(now) + integer(fields, "x_delete_after", "x_delete_after")
    if integer(fields, "expires", "expired") < now:
        raise Refused("Form Expired")
    signed = "\n".join((fields.get("redirect") or "", fields.get("max_file_size") or "0",
                        fields.get("max_file_count") or "0", fields.get("expires") or "0"))
    if not tempurl.signs(fields.get("signature", ""), keys, [f"{path}\n{signed}".encode() for path in paths]):
        raise Refused("Invalid Signature")
    return Form(max_file_size, max_file_count, delete_at)
