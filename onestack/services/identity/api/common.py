"""What every identity handler needs: the service, views, policy, listing."""

from __future__ import annotations

import datetime

from sqlalchemy import Select

from onestack.db.base import utcnow
from onestack.http.errors import BadRequest
from onestack.http.listing import apply_filters
from onestack.http.policy import enforce
from onestack.http.routing import Call
from onestack.http.times import parse_time
from onestack.services.identity.policies import RULES
from onestack.services.identity.service import IdentityService
from onestack.services.identity.views import Views


def identity(call: Call) -> IdentityService:
    return call.runtime.identity


def views(call: Call) -> Views:
    return Views(call.url())


def authorize(call: Call, action: str, target: dict | None = None) -> None:
    enforce(call.ctx, action, RULES[action], target)


def truthy(value: str | None) -> bool:
    return value is not None and value.lower() not in ("0", "false", "no", "off")


ALWAYS_RESERVED = ("id", "links")


def extra_attributes(body: dict, known, reserved=ALWAYS_RESERVED) -> dict:
    """Attributes a client sent that the resource does not define: Keystone keeps and returns them."""
    return {k: v for k, v in body.items() if k not in known and k not in reserved}


def merge_extra(row, body: dict, known, reserved=ALWAYS_RESERVED) -> None:
    extra = extra_attributes(body, known, reserved)
    if extra:
        row.extra = {**(row.extra or {}), **extra}


def filtered(call: Call, stmt: Select, model, fields: dict[str, str]) -> Select:
    """Keystone's list filters: exact match, ``__contains``/``__startswith``/... on names."""
    return apply_filters(stmt, model, call.query, fields)


def future_expiry(text: str | None) -> datetime.datetime | None:
    """An optional ``expires_at``, which must lie ahead."""
    if text is None:
        return None
    moment = parse_time(text)
    if moment <= utcnow():
        raise BadRequest("expires_at must be in the future.")
    return moment
