"""An OpenAPI 3.1 description of a service, generated from its own route table.

Nothing here is written per service: every ``Endpoint`` becomes one operation per method, its path
parameters read from the Starlette path, its request body from the route's schema (for a ``Versioned``
schema the newest, with the versions it is in force from), its success statuses and bodies from the route's
``status`` and ``response`` (each status with its versions' body where they are ``Versioned``), and the call
authenticated by ``X-Auth-Token``.
A route added later is described without anyone listing it, and the fuzzers read this document.
"""

from __future__ import annotations

import re
from typing import Any

from onestack.http.microversion import Version, pick
from onestack.http.routing import BODY_METHODS, Endpoint, Service, Versioned

# Starlette's converters, and onestack's ``anypath``, as JSON Schema (the paths take slashes, ``anypath``
# newlines too; a description says so).
_CONVERTERS = {"str": {"type": "string"}, "path": {"type": "string"}, "anypath": {"type": "string"},
               "int": {"type": "integer", "minimum": 0},
               "float": {"type": "number", "minimum": 0}, "uuid": {"type": "string", "format": "uuid"}}
_PARAM = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?}")
# The methods an OpenAPI 3.1 path item holds; any other (Swift's COPY) goes under ``x-additional-operations``,
# as OpenAPI 3.2 names it.
_OPENAPI_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
SECURITY_SCHEME = "keystone"


def openapi_path(starlette_path: str) -> str:
    """``/v1/{rest:path}`` -> ``/v1/{rest}``."""
    return _PARAM.sub(lambda m: "{" + m.group(1) + "}", starlette_path)


def document(service: Service) -> dict[str, Any]:
    """The service's description; ``servers`` is its prefix, so the document works under any host."""
    mv = service.microversions
    paths: dict[str, dict[str, Any]] = {}
    for ep in service.endpoints:
        item = paths.setdefault(openapi_path(ep.path), {})
        for method in ep.methods:
            key = method.lower()
            slot = item if key in _OPENAPI_METHODS else item.setdefault("x-additional-operations", {})
            # Starlette answers the first route that matches: a later duplicate is unreachable.
            slot.setdefault(key if key in _OPENAPI_METHODS else method, _operation(service, ep, method))
    info: dict[str, Any] = {"title": f"onestack {service.name}", "version": str(mv.maximum) if mv else "1.0"}
    if mv:
        info["x-microversions"] = {"service": mv.service, "minimum": str(mv.minimum), "maximum": str(mv.maximum),
                                   "headers": ["OpenStack-API-Version", *mv.legacy_headers]}
    return {
        "openapi": "3.1.0",
        "info": info,
        "servers": [{"url": service.prefix}],
        "security": [{SECURITY_SCHEME: []}],
        "components": {"securitySchemes": {SECURITY_SCHEME: {
            "type": "apiKey", "in": "header", "name": "X-Auth-Token",
            "description": "A Keystone token (POST /identity/v3/auth/tokens)."}}},
        "paths": paths,
    }


def _operation(service: Service, ep: Endpoint, method: str) -> dict[str, Any]:
    path = openapi_path(ep.path)
    op: dict[str, Any] = {
        "operationId": f"{service.name}:{method.lower()}:{path}",
        "summary": ep.fn.__name__.replace("_", " ").strip(),
        "parameters": [_path_parameter(name, converter) for name, converter in _PARAM.findall(ep.path)],
        "responses": {**_successes(service, ep), **_faults(service),
                      "default": {"description": "Another answer of the operation's own (a redirect, another 2xx)."}},
    }
    doc = (ep.fn.__doc__ or "").strip().split("\n\n")[0]
    if doc:
        op["description"] = " ".join(doc.split())
    if ep.public:
        op["security"] = []  # no token asked (version discovery, issuing a token)
    op["parameters"] += [_query_parameter(name, schema) for name, schema in (ep.query or {}).items()]
    if service.microversions:
        op["parameters"].append(_version_header(service, ep))
    if method in BODY_METHODS:
        op["requestBody"] = _request_body(ep)
    return op


def _faults(service: Service) -> dict[str, Any]:
    """Every 4xx and 5xx is an error in the service's fault format (Nova's ``{"itemNotFound": ...}``, Neutron's
    ``NeutronError``, Keystone's ``error``, Swift's text)."""
    content = service.fault_content()
    return {kind: {"description": f"{what} in the {service.name} service's fault format.",
                   **({"content": content} if content else {})}
            for kind, what in (("4XX", "A client error"), ("5XX", "A server error"))}


def _successes(service: Service, ep: Endpoint) -> dict[str, Any]:
    """The success status, with its body's schema if the route declares one.  A route whose status or body
    changes with the microversion (``Versioned``) declares each status it answers, with the body of the
    versions that answer it (``x-microversions`` says which), so an answer is checked against its own."""
    spans = _spans(service, ep)
    statuses: dict[int, list[tuple[str, dict | None]]] = {}
    for versions, status, body in spans:
        statuses.setdefault(status, []).append((versions, body))
    answers: dict[str, Any] = {}
    for status, held in statuses.items():
        answer: dict[str, Any] = {"description": "Success (other 2xx answers are the operation's own)."}
        bodies: list[dict] = []
        for _, body in held:
            if body is not None and body not in bodies:
                bodies.append(body)
        if bodies:
            answer["content"] = {"application/json": {"schema": bodies[0] if len(bodies) == 1 else
                                                      {"anyOf": bodies}}}
        if len(spans) > 1:
            answer["x-microversions"] = [versions for versions, _ in held]
            ranges = [versions for versions, _ in held]
            plural = "s" if len(ranges) > 1 or "-" in ranges[0] else ""
            answer["description"] = f"Success at microversion{plural} {', '.join(ranges)}."
        answers[str(status)] = answer
    return answers


def _spans(service: Service, ep: Endpoint) -> list[tuple[str, int, dict | None]]:
    """``(versions, status, body schema)`` for each range of the service's microversions over which the route's
    status and body stay the same (one span, versions "", for a route whose neither is ``Versioned``)."""
    changes = _change_points(ep.status, ep.response)
    mv = service.microversions
    if not changes:
        return [("", ep.status, ep.response)]
    if mv is None:
        raise ValueError(f"{ep.path}: a Versioned status or response in a service without microversions")
    starts = sorted({mv.minimum, *(v for v in changes if mv.minimum < v <= mv.maximum)})
    spans = []
    for i, start in enumerate(starts):
        status = pick(ep.status, start) if isinstance(ep.status, Versioned) else ep.status
        body = pick(ep.response, start) if isinstance(ep.response, Versioned) else ep.response
        if status is None:
            raise ValueError(f"{ep.path}: its Versioned status starts above {mv.minimum}")
        spans.append((_range(start, starts[i + 1] if i + 1 < len(starts) else None, mv.maximum), status, body))
    return spans


def _range(start: Version, following: Version | None, maximum: Version) -> str:
    """``2.1``, ``1.0-1.19``, ``2.2-2.96``: from ``start`` to the version before ``following`` (or the newest)."""
    if following is None:
        end = str(maximum)
    elif following.minor:
        end = str(Version(following.major, following.minor - 1))
    else:
        return f"{start}-<{following}"
    return str(start) if end == str(start) else f"{start}-{end}"


def _change_points(*values: Any) -> set[Version]:
    """The versions at which the ``Versioned`` ones among ``values`` change."""
    return {Version.parse(key) for value in values if isinstance(value, Versioned) for key in value}


def _path_parameter(name: str, converter: str) -> dict[str, Any]:
    param = {"name": name, "in": "path", "required": True, "schema": dict(_CONVERTERS[converter or "str"])}
    if converter == "path":
        param["description"] = "The rest of the path; it may hold slashes."
    elif converter == "anypath":
        param["description"] = "The rest of the path; it may hold slashes and newlines."
    return param


def _query_parameter(name: str, schema: dict) -> dict[str, Any]:
    # an array is the key repeated (``sort_key=a&sort_key=b``), as the lists read it
    param = {"name": name, "in": "query", "required": False, "schema": schema}
    if schema.get("type") == "array":
        param.update(style="form", explode=True)
    return param


def _version_header(service: Service, ep: Endpoint) -> dict[str, Any]:
    """``OpenStack-API-Version``: the service's range, and the versions at which this route's request schema,
    success status or body changes."""
    mv = service.microversions
    # where its request schema, its status or its body changes, so each is drawn
    versions = {mv.minimum, mv.maximum, *_change_points(ep.schema, ep.status, ep.response)}
    values = [f"{mv.service} {v}" for v in sorted(v for v in versions if mv.minimum <= v <= mv.maximum)]
    return {"name": "OpenStack-API-Version", "in": "header", "required": False,
            "description": f"The microversion, {mv.minimum} to {mv.maximum} (or 'latest'); without it "
                           f"{mv.minimum}.",
            "schema": {"type": "string", "enum": [*values, f"{mv.service} latest"]}}


def _request_body(ep: Endpoint) -> dict[str, Any]:
    if ep.stream_body:
        # read as it arrives, never parsed
        return {"required": False, "content": {"application/octet-stream": {
            "schema": {"type": "string", "contentMediaType": "application/octet-stream"}}}}
    schema = _newest(ep.schema)
    # A route without a schema (or none from its newest version) parses the JSON and its handler judges it.
    body: dict[str, Any] = {"required": schema is not None,
                            "content": {"application/json": {"schema": {} if schema is None else schema}}}
    if isinstance(ep.schema, Versioned):
        keys = sorted(ep.schema, key=Version.parse)
        body["x-schema-versions"] = keys
        body["description"] = (f"The schema in force from {keys[-1]}; the body is checked against the newest "
                               f"schema whose version is not above the negotiated one (from {', '.join(keys)}).")
    return body


def _newest(schema: dict | Versioned | None) -> dict | None:
    if isinstance(schema, Versioned):
        return schema[max(schema, key=Version.parse)]
    return schema
