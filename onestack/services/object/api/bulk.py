"""Requests acting on many objects at once, answered with one report (Swift's bulk middleware's shape):
the deletion of a static large object with its segments, ``?bulk-delete`` and ``?extract-archive``."""

from __future__ import annotations

from starlette.responses import Response

from onestack.http import errors
from onestack.services.object import views
from onestack.services.object.api.request import Swift, reply


def delete_paths(req: Swift, paths: list[tuple[str, str | None]]) -> Response:
    """Delete each (container, object) of this account (an object of None: the container itself); every
    item is authorized on its own, and a failed one is listed, not fatal."""
    deleted = missing = 0
    problems: list[tuple[str, str]] = []
    for container, name in paths:
        shown = f"/{container}/{name}" if name is not None else f"/{container}"
        try:
            if name is None:
                req.authorize("own", req.account, container)
                req.svc.delete_container(req.account, container)
            else:
                req.authorize("write", req.account, container)
                req.svc.delete_object(req.account, container, name)
            deleted += 1
        except errors.NotFound:
            missing += 1
        except errors.APIError as err:
            problems.append((views.quote_path(shown), views.status_line(err.status)))
    return report(req, {"Number Deleted": deleted, "Number Not Found": missing}, problems, "delete")


def report(req: Swift, fields: dict, problems: list[tuple[str, str]], root: str) -> Response:
    """200, with the outcome inside: ``Response Status`` is 400 when any item failed (as Swift answers)."""
    status = views.status_line(400 if problems else 200)
    fields = {**fields, "Response Status": status, "Response Body": ""}
    kind = req.bulk_type()
    return reply(200, body=views.bulk_body(kind, fields, problems, root), content_type=kind)
