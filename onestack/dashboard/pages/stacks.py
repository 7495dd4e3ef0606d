"""Orchestration: stacks whose status refreshes itself; launch from pasted template text, an uploaded
file or a URL (``template_url``: the cloud fetches it, with its own defences, never the dashboard), in two
steps: the template is checked by Heat's ``POST /validate`` and its parameters become a form
(types, defaults, allowed values, ranges and lengths, hidden ones as password fields, in the template's
parameter groups' order); a stack's page with a picture of its resources by dependency, its resources,
events and outputs, live; an update of its parameters (PATCH); delete."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import ApiError
from onestack.dashboard.pages.instances import status_class
from onestack.dashboard.web import Page, panel

# Heat's own default max_template_size
MAX_TEMPLATE_BYTES = 512 * 1024
EVENTS_SHOWN = 50


def stack_class(status: str) -> str:
    status = (status or "").upper()
    if status.endswith("_FAILED"):
        return "bad"
    if status.endswith("_COMPLETE"):
        return "off" if status.startswith(("SUSPEND", "DELETE")) else "ok"
    return status_class(status)


def _stack_path(stack: dict) -> str:
    return f"/stacks/{quote(stack['stack_name'], safe='')}/{stack['id']}"


async def _stacks(page: Page) -> dict:
    found = (await page.cloud.get("orchestration", "/stacks", sort_keys="created_at", sort_dir="desc"))["stacks"]
    return {"rows": [{"id": s["id"], "name": s["stack_name"], "status": s["stack_status"],
                      "status_class": stack_class(s["stack_status"]), "reason": s.get("stack_status_reason") or "",
                      "created": (s.get("creation_time") or "")[:19], "description": s.get("description") or "",
                      "path": _stack_path(s)} for s in found]}


@panel()
async def stacks(page: Page) -> Response:
    return page.render("stacks.html", title="Stacks", **await _stacks(page))


@panel()
async def stack_rows(page: Page) -> Response:
    return page.fragment("_stack_rows.html", **await _stacks(page))


@panel()
async def launch_form(page: Page) -> Response:
    return page.render("stack_launch.html", title="Launch stack", step=1, fields=[], template="", values={},
                       stack_name="", error="", template_url="")


def _field(name: str, param: dict) -> dict:
    """One parameter of ``/validate``'s answer as a form field."""
    kind = param.get("Type", "String")
    field = {"name": name, "label": param.get("Label") or name, "description": param.get("Description") or "",
             "type": kind, "hidden": str(param.get("NoEcho", "false")).lower() == "true",
             "required": "Default" not in param, "default": param.get("Default"),
             "choices": [str(v) for v in param.get("AllowedValues") or []],
             "min": param.get("MinValue"), "max": param.get("MaxValue"),
             "minlength": param.get("MinLength"), "maxlength": param.get("MaxLength"),
             "pattern": param.get("AllowedPattern") or ""}
    default = field["default"]
    if default is None:
        field["value"] = ""
    elif kind == "Json" and not isinstance(default, str):
        field["value"] = json.dumps(default)
    elif kind == "CommaDelimitedList" and isinstance(default, list):
        field["value"] = ",".join(str(v) for v in default)
    elif kind == "Boolean":
        field["value"] = "true" if str(default).lower() in ("true", "1", "yes", "on", "t", "y") else "false"
    else:
        field["value"] = str(default)
    if field["hidden"]:
        field["value"] = ""  # a hidden default is never sent to the browser; left empty, it is kept
    return field


def _source(template: str, template_url: str) -> dict:
    """The template part of a request: the URL when one is given (Heat fetches it), else the text."""
    return {"template_url": template_url} if template_url else {"template": template}


async def _fields(page: Page, template: str, template_url: str = "") -> list[dict]:
    answer = await page.cloud.post("orchestration", "/validate", _source(template, template_url))
    params = (answer or {}).get("Parameters") or {}
    order: list[str] = []
    for group in (answer or {}).get("ParameterGroups") or []:
        order += [p for p in group.get("parameters") or [] if p in params and p not in order]
    order += [p for p in params if p not in order]
    return [_field(p, params[p]) for p in order]


async def _template_text(page: Page) -> str:
    upload = page.form.files.get("template_file")
    if upload is not None:
        data = await upload.read(MAX_TEMPLATE_BYTES + 1)
        if len(data) > MAX_TEMPLATE_BYTES:
            raise ApiError(413, f"The template is larger than {MAX_TEMPLATE_BYTES // 1024} KiB.")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(400, "The template file is not UTF-8 text.") from None
    return page.form.get("template")


@panel(back="/stacks/launch")
async def parameters_step(page: Page) -> Response:
    """Step 2: the template checked by Heat, and its parameters as a form."""
    template, stack_name = await _template_text(page), page.form.get("stack_name")
    template_url = "" if template.strip() else (page.form.get("template_url") or "").strip()
    if not template.strip() and not template_url:
        raise ApiError(400, "Paste a template, choose a template file or give its URL.")
    try:
        fields = await _fields(page, template, template_url)
    except ApiError as err:
        return page.render("stack_launch.html", 400, title="Launch stack", step=1, fields=[], template=template,
                           stack_name=stack_name, values={}, error=err.message, template_url=template_url)
    return page.render("stack_launch.html", title="Launch stack", step=2, fields=fields, template=template,
                       stack_name=stack_name, values={}, error="", template_url=template_url)


@panel(back="/stacks/launch")
async def launch(page: Page) -> Response:
    form = page.form
    template, stack_name = form.get("template"), form.get("stack_name")
    template_url = "" if (template or "").strip() else (form.get("template_url") or "").strip()
    fields = await _fields(page, template, template_url)
    parameters = {}
    for field in fields:
        value = form.get(f"param.{field['name']}")
        if value == "" and not field["required"]:
            continue  # the template's default
        parameters[field["name"]] = value
    body = {"stack_name": stack_name, **_source(template, template_url), "parameters": parameters,
            "disable_rollback": not form.get("rollback"), "timeout_mins": form.int("timeout_mins", 60)}
    try:
        if not stack_name:
            raise ApiError(400, "A stack needs a name.")
        created = await page.cloud.post("orchestration", "/stacks", body)
    except ApiError as err:
        # back to the parameter form with what was typed (never the hidden values), and Heat's message
        values = {f["name"]: form.get(f"param.{f['name']}") for f in fields if not f["hidden"]}
        return page.render("stack_launch.html", 400, title="Launch stack", step=2, fields=fields, template=template,
                           stack_name=stack_name, values=values, error=err.message, template_url=template_url)
    stack = {"stack_name": stack_name, "id": created["stack"]["id"]}
    return page.done(f"Launching stack {stack_name}.", _stack_path(stack))


BOX_W, BOX_H, GAP_X, GAP_Y = 230, 58, 60, 16


def picture(resources: list[dict]) -> dict:
    """The resources laid out left to right by dependency (a resource right of everything it needs),
    with a line from each to what requires it: boxes and lines for the SVG."""
    names = {r["resource_name"] for r in resources}
    needs: dict[str, set[str]] = {n: set() for n in names}
    for r in resources:
        for later in r.get("required_by") or []:
            if later in needs:
                needs[later].add(r["resource_name"])
    depth: dict[str, int] = {}

    def level(name: str, seen: frozenset = frozenset()) -> int:
        if name not in depth:
            depth[name] = 1 + max((level(n, seen | {name}) for n in needs[name] if n not in seen), default=-1)
        return depth[name]

    columns: dict[int, list[dict]] = {}
    for r in sorted(resources, key=lambda r: r["resource_name"]):
        columns.setdefault(level(r["resource_name"]), []).append(r)
    boxes = {}
    for col, members in columns.items():
        for row, r in enumerate(members):
            boxes[r["resource_name"]] = {"name": r["resource_name"], "type": r["resource_type"],
                                         "status": r["resource_status"], "status_class": r["status_class"],
                                         "x": 10 + col * (BOX_W + GAP_X), "y": 10 + row * (BOX_H + GAP_Y)}
    lines = [{"x1": boxes[a]["x"] + BOX_W, "y1": boxes[a]["y"] + BOX_H // 2, "x2": boxes[b]["x"],
              "y2": boxes[b]["y"] + BOX_H // 2} for b in sorted(needs) for a in sorted(needs[b])]
    return {"boxes": list(boxes.values()), "lines": lines, "box_w": BOX_W, "box_h": BOX_H,
            "width": 20 + len(columns) * (BOX_W + GAP_X) - GAP_X if columns else 400,
            "height": 20 + max((len(m) for m in columns.values()), default=1) * (BOX_H + GAP_Y) - GAP_Y}


async def _detail(page: Page) -> dict:
    path = f"/stacks/{quote(page.request.path_params['name'], safe='')}/{page.request.path_params['id']}"
    shown, resources, events = await asyncio.gather(
        page.cloud.get("orchestration", path), page.cloud.get("orchestration", f"{path}/resources"),
        page.cloud.get("orchestration", f"{path}/events", sort_dir="desc", limit=EVENTS_SHOWN))
    stack = shown["stack"]
    rows = [{**r, "status_class": stack_class(r["resource_status"])} for r in resources["resources"]]
    return {"picture": picture(rows),
        "stack": stack, "status_class": stack_class(stack["stack_status"]), "stack_path": _stack_path(stack),
        "resources": sorted(rows, key=lambda r: r["resource_name"]),
        "events": [{**e, "status_class": stack_class(e["resource_status"])} for e in events["events"]],
        "outputs": [{**o, "shown": o["output_value"] if isinstance(o.get("output_value"), str)
                     else json.dumps(o.get("output_value"))} for o in stack.get("outputs") or []],
        "parameters": {k: v for k, v in (stack.get("parameters") or {}).items() if not k.startswith("OS::")},
    }


@panel()
async def stack(page: Page) -> Response:
    detail = await _detail(page)
    return page.render("stack.html", title=f"Stack {detail['stack']['stack_name']}", **detail)


@panel()
async def stack_live(page: Page) -> Response:
    return page.fragment("_stack_live.html", **await _detail(page))


def _stack_api_path(page: Page) -> str:
    return f"/stacks/{quote(page.request.path_params['name'], safe='')}/{page.request.path_params['id']}"


async def _update_fields(page: Page) -> tuple[dict, list[dict]]:
    """The stack, and its template's parameters as a form filled with the values it has now."""
    path = _stack_api_path(page)
    shown, template = await asyncio.gather(page.cloud.get("orchestration", path),
                                           page.cloud.get("orchestration", f"{path}/template"))
    fields = await _fields(page, json.dumps(template))
    current = shown["stack"].get("parameters") or {}
    for field in fields:
        if field["name"] in current and not field["hidden"]:
            field["value"] = str(current[field["name"]])
        field["required"] = False  # what is left empty keeps its value (PATCH)
    return shown["stack"], fields


@panel()
async def update_form(page: Page) -> Response:
    stack, fields = await _update_fields(page)
    return page.render("stack_update.html", title=f"Update stack {stack['stack_name']}", stack=stack, fields=fields,
                       stack_path=_stack_path(stack), values={}, error="")


@panel(back="/stacks")
async def update(page: Page) -> Response:
    """A PATCH update: the same template, the parameters changed; Heat keeps what is not sent."""
    stack, fields = await _update_fields(page)
    parameters = {f["name"]: page.form.get(f"param.{f['name']}") for f in fields
                  if page.form.get(f"param.{f['name']}") != ""}
    try:
        await page.cloud.call("PATCH", "orchestration", _stack_api_path(page), json={"parameters": parameters})
    except ApiError as err:
        values = {f["name"]: page.form.get(f"param.{f['name']}") for f in fields if not f["hidden"]}
        return page.render("stack_update.html", 400, title=f"Update stack {stack['stack_name']}", stack=stack,
                           fields=fields, stack_path=_stack_path(stack), values=values, error=err.message)
    return page.done(f"Updating stack {stack['stack_name']}.", _stack_path(stack))


ACTIONS = {"suspend": "Suspending", "resume": "Resuming", "check": "Checking"}


@panel(back="/stacks")
async def stack_action(page: Page) -> Response:
    """Suspend, resume or check: Heat's stack action; the page then follows its status."""
    verb = page.request.path_params["verb"]
    if verb not in ACTIONS:
        raise ApiError(404, f"No stack action {verb}")
    name, stack_id = page.request.path_params["name"], page.request.path_params["id"]
    await page.cloud.post("orchestration", f"{_stack_api_path(page)}/actions", {verb: None})
    return page.done(f"{ACTIONS[verb]} stack {name}.", f"/stacks/{quote(name, safe='')}/{stack_id}")


@panel(back="/stacks")
async def delete_stack(page: Page) -> Response:
    name, stack_id = page.request.path_params["name"], page.request.path_params["id"]
    await page.cloud.delete("orchestration", f"/stacks/{quote(name, safe='')}/{stack_id}")
    return page.done(f"Deleting stack {name}.", "/stacks")


def routes() -> list[Route]:
    return [Route("/stacks", stacks, methods=["GET"]), Route("/stacks", launch, methods=["POST"]),
            Route("/stacks/rows", stack_rows, methods=["GET"]),
            Route("/stacks/launch", launch_form, methods=["GET"]),
            Route("/stacks/launch", parameters_step, methods=["POST"]),
            Route("/stacks/{name}/{id}", stack, methods=["GET"]),
            Route("/stacks/{name}/{id}/live", stack_live, methods=["GET"]),
            Route("/stacks/{name}/{id}/update", update_form, methods=["GET"]),
            Route("/stacks/{name}/{id}/update", update, methods=["POST"]),
            Route("/stacks/{name}/{id}/action/{verb}", stack_action, methods=["POST"]),
            Route("/stacks/{name}/{id}/delete", delete_stack, methods=["POST"])]
