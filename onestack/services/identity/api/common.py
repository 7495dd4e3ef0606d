"""What every identity handler needs: its service, the views for this request, checks for rows the
service loads, the resources served the standard way, and Keystone's reading of boolean query flags."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from onestack.http.resource import Resource
from onestack.http.routing import Call
from onestack.services.identity.policies import Check, authorize
from onestack.services.identity.service import IdentityService
from onestack.services.identity.views import Views


def identity(call: Call) -> IdentityService:
    return call.runtime.identity


def views(call: Call) -> Views:
    return Views(call.url())


def resource(path: str, key: str, id_: str, service: Callable[[IdentityService], Any],
             view: Callable[[Views, Any], dict]) -> Resource:
    """A resource whose create, show, update and delete authorize an action up front (``http.resource``):
    ``service`` picks the family of the identity service that holds it, ``view`` is its ``Views`` method."""
    return Resource(path, key, id_, service=lambda call: service(identity(call)),
                    view=lambda call, row: view(views(call), row),
                    authorize=lambda call, action: authorize(call.ctx, action))


def check(call: Call, action: str, *, missing_is_404: bool = False) -> Check:
    """``authorize`` against the target of a row the service loads first.  The caller is authenticated at
    once, so that no answer without a valid token depends on whether the row exists; a row that is not
    found is a 404 only to callers the rule lets through with no target, 403 to the rest (Keystone defers
    existence the same way: see ``api.IdentityAPI``).  ``missing_is_404``: a missing row is a 404 to anyone
    authenticated, as Keystone answers for trusts."""
    ctx = call.ctx
    call.request.state.unchecked = None if missing_is_404 else (ctx, action)

    def checked(target: dict) -> None:
        call.request.state.unchecked = None
        authorize(ctx, action, target)

    return checked


def owner(call: Call, action: str) -> str:
    """The user a ``/v3/users/{user_id}/...`` path names, once the caller may ``action`` on what is theirs."""
    user_id = call.path["user_id"]
    authorize(call.ctx, action, {"user_id": user_id})
    return user_id


def truthy(value: str | None) -> bool:
    return value is not None and value.lower() not in ("0", "false", "no", "off")
