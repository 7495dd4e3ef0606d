"""``/tags`` under every taggable resource (Neutron's standard-attr-tag)."""

from __future__ import annotations

from onestack.http.errors import BadRequest, NotFound
from onestack.http.routing import Call, Reply, route
from onestack.services.network.schemas import TAG, TAGS_BODY
from onestack.services.network.service.collection import Collection


def routes(cls: type[Collection]) -> list:
    plural = cls.plural
    base = f"/v2.0/{cls.path or plural}/{{id}}/tags"

    def of(call: Call) -> Collection:
        return call.runtime.network.collection(plural)

    def change(call: Call, edit) -> list[str]:
        return of(call).edit_tags(call.ctx, call.path["id"], edit)

    def current(call: Call) -> list[str]:
        return of(call).read_tags(call.ctx, call.path["id"])

    def one(call: Call) -> str:
        tag = call.path["tag"]
        if not tag or len(tag) > TAG["maxLength"] or "," in tag or "/" in tag:
            raise BadRequest(f"Invalid tag '{tag}'", kind="InvalidInput")
        return tag

    def list_tags(call: Call) -> dict:
        return {"tags": current(call)}

    def replace_tags(call: Call) -> dict:
        wanted = list(dict.fromkeys(call.body["tags"]))
        return {"tags": change(call, lambda _: wanted)}

    def delete_tags(call: Call) -> Reply:
        change(call, lambda _: [])
        return Reply(status=204)

    def has_tag(call: Call) -> Reply:
        if one(call) not in current(call):
            raise NotFound(f"Tag {call.path['tag']} could not be found.", kind="TagNotFound")
        return Reply(status=204)

    def add_tag(call: Call) -> Reply:
        tag = one(call)
        change(call, lambda tags: tags if tag in tags else [*tags, tag])
        return Reply(status=201)

    def delete_tag(call: Call) -> Reply:
        tag = one(call)

        def remove(tags: list[str]) -> list[str]:
            if tag not in tags:
                raise NotFound(f"Tag {tag} could not be found.", kind="TagNotFound")
            return [t for t in tags if t != tag]

        change(call, remove)
        return Reply(status=204)

    return [route(base, "GET", list_tags), route(base, "PUT", replace_tags, schema=TAGS_BODY),
            route(base, "DELETE", delete_tags), route(f"{base}/{{tag}}", "GET", has_tag),
            route(f"{base}/{{tag}}", "PUT", add_tag), route(f"{base}/{{tag}}", "DELETE", delete_tag)]
