"""/v3/{project_id}/messages (3.3): what went wrong with the project's volumes, snapshots and backups."""

from __future__ import annotations

from onestack.http.errors import NotFound
from onestack.http.routing import Call, Reply
from onestack.services.volume import views
from onestack.services.volume.api.paths import next_links, v3
from onestack.services.volume.service.messages import Messages


def messages(call: Call) -> Messages:
    if not call.version.at_least("3.3"):
        raise NotFound("The messages API needs microversion 3.3 or later.")
    return call.runtime.volume.messages


def index(call: Call) -> dict:
    found = messages(call).listing(call.ctx, call.query, call.version)
    return {"messages": [views.message(r, call.url) for r in found.rows],
            **next_links(call, "messages", found.next_marker)}


def show(call: Call) -> dict:
    return {"message": views.message(messages(call).show(call.ctx, call.path["message_id"]), call.url)}


def delete(call: Call) -> Reply:
    messages(call).delete(call.ctx, call.path["message_id"])
    return Reply(status=204)


ROUTES = [*v3("/messages", "GET", index), *v3("/messages/{message_id}", "GET", show),
          *v3("/messages/{message_id}", "DELETE", delete)]
