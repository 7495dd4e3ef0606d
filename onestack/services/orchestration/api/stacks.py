"""Stacks: list, create, show, update, delete, the lookup by name, and a stack's template, environment,
files, outputs and actions."""

from __future__ import annotations

from onestack.http.errors import BadRequest, NotFound
from onestack.http.listing import parse_limit
from onestack.http.routing import Call, Reply, route
from onestack.services.orchestration import responses, schemas
from onestack.services.orchestration.api.paths import (
    PARTS,
    STACK,
    V1,
    orchestration,
    project,
    redirect,
    stack,
    v1,
    views,
)
from onestack.services.orchestration.service import listing as stack_listing
from onestack.services.orchestration.views import snapshot as snapshot_view


def list_stacks(call: Call) -> dict:
    svc = orchestration(call)
    rows = svc.listing(call.ctx, project(call), call.query)
    rows = stack_listing.filtered(rows, call.query)
    count = len(rows)
    rows = stack_listing.sorted_page(rows, call.query, parse_limit(call.query))
    v = views(call)
    everyone = stack_listing.flag(call.query.get("global_tenant"))
    body: dict = {"stacks": [v.stack_summary(s, with_project=everyone) for s in rows]}
    if stack_listing.flag(call.query.get("with_count")):
        body["count"] = count
    return body


def create_stack(call: Call) -> Reply:
    created = orchestration(call).create(call.ctx, project(call), call.body)
    v = views(call)
    return Reply({"stack": v.stack_ref(created)}, 201, {"Location": call.url(v.stack_path(created))})


def preview_stack(call: Call) -> dict:
    svc = orchestration(call)
    previewed = svc.create(call.ctx, project(call), call.body, preview=True)
    definition = svc.definition(previewed)
    v = views(call)
    body = v.stack(previewed, definition.shown_parameters(), None)
    body["resources"] = [{"resource_name": name, "resource_type": d.type, "resource_identity": {},
                          "required_by": sorted(n for n, deps in definition.requires.items() if name in deps),
                          "properties": {}, "metadata": d.metadata}
                         for name, d in definition.template.resources.items()]
    return {"stack": body}


def _redirect_to_stack(call: Call, tail: str) -> Reply:
    found = orchestration(call).find(call.ctx, project(call), call.path["stack_name"], "stacks:lookup")
    target = views(call).stack_path(found) + tail
    if call.request.url.query:
        target += f"?{call.request.url.query}"
    return redirect(call, target)


def lookup(call: Call) -> Reply:
    """``/stacks/<name or id>``: 302 to the stack's full path, whatever the method (clients follow it)."""
    return _redirect_to_stack(call, "")


def lookup_part(part: str):
    def lookup_stack_part(call: Call) -> Reply:
        rest = call.path.get("rest")
        return _redirect_to_stack(call, f"/{part}" + (f"/{rest}" if rest else ""))

    return lookup_stack_part


def show_stack(call: Call) -> dict:
    svc = orchestration(call)
    found = stack(call, "stacks:show")
    definition = svc.definition(found)
    resolve = str(call.query.get("resolve_outputs", "true")).lower() not in ("false", "0", "no")
    outputs = svc.outputs(found) if resolve else None
    return {"stack": views(call).stack(found, definition.shown_parameters(), outputs)}


def update_stack(call: Call) -> Reply:
    orchestration(call).update(call.ctx, stack(call, "stacks:show"), call.body, patch=False)
    return Reply(None, 202)


def patch_stack(call: Call) -> Reply:
    orchestration(call).update(call.ctx, stack(call, "stacks:show"), call.body, patch=True)
    return Reply(None, 202)


def _preview_update(call: Call, patch: bool) -> dict:
    """``PUT|PATCH .../preview``: what the update would do, resource by resource, as Heat's
    ``resource_changes`` (nothing changes); ``?show_nested=true`` adds the nested stacks' resources."""
    svc = orchestration(call)
    found = stack(call, "stacks:show")
    planned = svc.preview_update(call.ctx, found, call.body, patch=patch,
                                 show_nested=stack_listing.flag(call.query.get("show_nested")))
    v = views(call)
    changes: dict[str, list[dict]] = {kind: [] for kind in ("added", "deleted", "replaced", "updated", "unchanged")}
    for change in planned:
        where = change.stack
        if change.row is None:  # not made yet: Heat shows it as a resource in INIT
            entry = {"resource_name": change.name, "logical_resource_id": change.name, "physical_resource_id": "",
                     "resource_type": change.type, "resource_status": "INIT_COMPLETE",
                     "resource_status_reason": "", "required_by": change.required_by, "description": "",
                     "attributes": {}, "metadata": change.metadata}
            if where.parent_resource:
                entry["parent_resource"] = where.parent_resource
        else:
            entry = v.resource(where, change.row, change.required_by, detail=True)
        entry["resource_identity"] = {"tenant": where.project_id, "stack_name": where.name,
                                      "stack_id": where.id, "path": f"/resources/{change.name}"}
        entry["stack_identity"] = {"tenant": where.project_id, "stack_name": where.name,
                                   "stack_id": where.id, "path": ""}
        entry["stack_name"] = where.name
        changes[change.kind].append(entry)
    return {"resource_changes": changes}


def preview_update(call: Call) -> dict:
    return _preview_update(call, patch=False)


def preview_update_patch(call: Call) -> dict:
    return _preview_update(call, patch=True)


def delete_stack(call: Call) -> Reply:
    orchestration(call).delete(call.ctx, stack(call, "stacks:show"))
    return Reply(None, 204)


def abandon_stack(call: Call) -> dict:
    """``DELETE .../abandon``: the stack's data (what ``adopt_stack_data`` takes); the stack is forgotten,
    its resources' things stay."""
    return orchestration(call).abandon(call.ctx, stack(call, "stacks:show"))


def take_snapshot(call: Call) -> dict:
    name = (call.body or {}).get("name")
    taken = orchestration(call).take_snapshot(call.ctx, stack(call, "stacks:show"), name)
    return snapshot_view(taken)


def list_snapshots(call: Call) -> dict:
    found = stack(call, "stacks:show")
    return {"snapshots": [snapshot_view(t) for t in orchestration(call).snapshots(call.ctx, found)]}


def show_snapshot(call: Call) -> dict:
    found = stack(call, "stacks:show")
    return {"snapshot": snapshot_view(orchestration(call).snapshot(call.ctx, found, call.path["snapshot_id"]))}


def delete_snapshot(call: Call) -> Reply:
    orchestration(call).delete_snapshot(call.ctx, stack(call, "stacks:show"), call.path["snapshot_id"])
    return Reply(None, 204)


def restore_snapshot(call: Call) -> Reply:
    orchestration(call).restore_snapshot(call.ctx, stack(call, "stacks:show"), call.path["snapshot_id"])
    return Reply(None, 202)


def template(call: Call) -> dict:
    return stack(call, "stacks:template").template


def environment(call: Call) -> dict:
    return stack(call, "stacks:environment").environment


def files(call: Call) -> dict:
    return stack(call, "stacks:files").files


def outputs(call: Call) -> dict:
    found = stack(call, "stacks:list_outputs")
    return {"outputs": [{"output_key": o["output_key"], "description": o["description"]}
                        for o in orchestration(call).outputs(found)]}


def output(call: Call) -> dict:
    found = stack(call, "stacks:show_output")
    for entry in orchestration(call).outputs(found):
        if entry["output_key"] == call.path["output_key"]:
            return {"output": entry}
    raise NotFound(f"Specified output key {call.path['output_key']} not found.", kind="NotFound")


def actions(call: Call) -> Reply:
    action = next(iter(call.body))
    found = stack(call, "stacks:show")
    if action in ("cancel_update", "cancel_without_rollback"):
        orchestration(call).cancel_update(call.ctx, found, rollback=action == "cancel_update")
        return Reply(None, 200)
    if action in ("suspend", "resume", "check"):
        orchestration(call).act(call.ctx, found, action)
        return Reply(None, 200)
    raise BadRequest(f"Invalid action {action} specified")


ROUTES = [
    v1("/stacks", "GET", list_stacks, response=responses.STACKS),
    v1("/stacks/detail", "GET", list_stacks, response=responses.STACKS),
    v1("/stacks", "POST", create_stack, schema=schemas.stack_create, status=201,
       response=responses.STACK_CREATED),
    v1("/stacks/preview", "POST", preview_stack, schema=schemas.stack_create, response=responses.STACK_PREVIEW),
    *[route(f"{V1}/stacks/{{stack_name}}", method, lookup) for method in ("GET", "PUT", "PATCH", "DELETE")],
    *[route(f"{V1}/stacks/{{stack_name}}/{part}{rest}", method, lookup_part(part))
      for part in PARTS for rest in ("", "/{rest:path}") for method in ("GET", "POST", "PUT", "PATCH", "DELETE")],
    route(STACK, "GET", show_stack, response=responses.STACK),
    route(STACK, "PUT", update_stack, schema=schemas.stack_update, status=202),
    route(STACK, "PATCH", patch_stack, schema=schemas.stack_update, status=202),
    route(STACK, "DELETE", delete_stack, status=204),
    route(f"{STACK}/preview", "PUT", preview_update, schema=schemas.stack_update),
    route(f"{STACK}/preview", "PATCH", preview_update_patch, schema=schemas.stack_update),
    route(f"{STACK}/abandon", "DELETE", abandon_stack),
    route(f"{STACK}/snapshots", "POST", take_snapshot, schema=schemas.snapshot_create,
          response=responses.SNAPSHOT_TAKEN),
    route(f"{STACK}/snapshots", "GET", list_snapshots, response=responses.SNAPSHOTS),
    route(f"{STACK}/snapshots/{{snapshot_id}}", "GET", show_snapshot, response=responses.SNAPSHOT),
    route(f"{STACK}/snapshots/{{snapshot_id}}", "DELETE", delete_snapshot, status=204),
    route(f"{STACK}/snapshots/{{snapshot_id}}/restore", "POST", restore_snapshot, status=202),
    route(f"{STACK}/template", "GET", template),
    route(f"{STACK}/environment", "GET", environment),
    route(f"{STACK}/files", "GET", files),
    route(f"{STACK}/outputs", "GET", outputs, response=responses.OUTPUTS),
    route(f"{STACK}/outputs/{{output_key}}", "GET", output, response=responses.OUTPUT),
    route(f"{STACK}/actions", "POST", actions, schema=schemas.stack_action),
]
