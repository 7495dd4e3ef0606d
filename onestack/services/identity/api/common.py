"""What every identity handler needs: its service, the views for this request, checks for rows the
service loads, the resources served the standard way, the handlers that only call one service method
(plain lists, 204s, a user's own rows), and Keystone's reading of boolean query flags."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from onestack.http.resource import Resource
from onestack.http.routing import Call, Reply
from onestack.services.identity.policies import Check, authorize
from onestack.services.identity.service import IdentityService
from onestack.services.identity.views import Views


def identity(call: Call) -> IdentityService:
    return call.runtime.identity


def views(call: Call) -> Views:
    return Views(call.url())


def resource(path: str, key: str, id_: str, service: Callable[[IdentityService], Any],
             view: Callable[[Views, Any], dict], response: dict | None = None) -> Resource:
    """A resource whose create, show, update and delete authorize an action up front (``http.resource``):
    ``service`` picks the family of the identity service that holds it, ``view`` is its ``Views`` method,
    ``response`` the JSON Schema of what ``view`` renders."""
    return Resource(path, key, id_, service=lambda call: service(identity(call)),
                    view=lambda call, row: view(views(call), row),
                    authorize=lambda call, action: authorize(call.ctx, action), response=response)


def _named(handler: Callable[[Call], Any], method: Callable[..., Any]) -> Callable[[Call], Any]:
    handler.__name__ = method.__name__
    return handler


def path_ids(call: Call, names: tuple[str, ...]) -> list[str]:
    return [call.path[name] for name in names]


# Handlers built from a service method, which ``family`` picks from the identity service (attrgetter("roles")).
def no_content(family: Callable[[IdentityService], Any], action: str, method: Callable[..., Any],
               *ids: str) -> Callable[[Call], Reply]:
    """Authorize ``action``, call ``method(family, *the path's ids)``, answer 204: the PUT, HEAD and DELETE
    of a link between the rows a path names."""
    def handler(call: Call) -> Reply:
        authorize(call.ctx, action)
        method(family(identity(call)), *path_ids(call, ids))
        return Reply(status=204)
    return _named(handler, method)


def listing(family: Callable[[IdentityService], Any], action: str, key: str, view: Callable[[Views, Any], dict],
            method: Callable[[Any, Any], list]) -> Callable[[Call], dict]:
    """GET ``/v3/<key>``: authorize ``action``, list ``method(family, query)``, render each with ``view``."""
    def handler(call: Call) -> dict:
        authorize(call.ctx, action)
        v = views(call)
        rows = method(family(identity(call)), call.query)
        return v.collection(key, [view(v, row) for row in rows], key, str(call.query))
    handler.__name__ = f"list_{key}"
    return handler


def checked_no_content(family: Callable[[IdentityService], Any], action: str, method: Callable[..., Any],
                       *ids: str) -> Callable[[Call], Reply]:
    """``method(family, *the path's ids, check)``, which checks ``action`` against the row it loads; 204."""
    def handler(call: Call) -> Reply:
        method(family(identity(call)), *path_ids(call, ids), check(call, action))
        return Reply(status=204)
    return _named(handler, method)


def owned_show(family: Callable[[IdentityService], Any], key: str, view: Callable[[Views, Any], dict],
               action: str, method: Callable[[Any, str, str], Any], id_: str) -> Callable[[Call], dict]:
    """GET one of a user's own rows: ``method(family, user_id, the path's id_)`` rendered under ``key``."""
    def handler(call: Call) -> dict:
        return {key: view(views(call), method(family(identity(call)), owner(call, action), call.path[id_]))}
    return _named(handler, method)


def owned_delete(family: Callable[[IdentityService], Any], action: str, method: Callable[[Any, str, str], None],
                 id_: str) -> Callable[[Call], Reply]:
    """DELETE one of a user's own rows: ``method(family, user_id, the path's id_)``; 204."""
    def handler(call: Call) -> Reply:
        method(family(identity(call)), owner(call, action), call.path[id_])
        return Reply(status=204)
    return _named(handler, method)


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
