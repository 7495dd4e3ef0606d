"""What every identity handler needs: its service, the views for this request, checks for rows the
service loads, and Keystone's reading of boolean query flags."""

from __future__ import annotations

from onestack.http.routing import Call
from onestack.services.identity.policies import Check, authorize
from onestack.services.identity.service import IdentityService
from onestack.services.identity.views import Views


def identity(call: Call) -> IdentityService:
    return call.runtime.identity


def views(call: Call) -> Views:
    return Views(call.url())


def check(call: Call, action: str) -> Check:
    """``authorize`` against the target of a row the service loads first (404 before 403, as Keystone)."""
    return lambda target: authorize(call.ctx, action, target)


def truthy(value: str | None) -> bool:
    return value is not None and value.lower() not in ("0", "false", "no", "off")
