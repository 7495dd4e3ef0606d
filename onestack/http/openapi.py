"""An OpenAPI 3.1 description of a service, generated from its own route table.

Nothing here is written per service: every ``Endpoint`` becomes one operation per method, its path
parameters read from the Starlette path, its request body from the route's schema (for a ``Versioned``
schema the newest, with the versions it is in force from), and the call authenticated by ``X-Auth-Token``.
A route added later is described without anyone listing it, and the fuzzers read this document.
"""

from __future__ import annotations

import re
from typing import Any

from onestack.http.microversion import Version
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
        "responses": {str(ep.status): _success(ep), **_faults(service),
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


def _success(ep: Endpoint) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": "Success (other 2xx answers are the operation's own)."}
    if ep.response is not None:
        answer["content"] = {"application/json": {"schema": ep.response}}
    return answer


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
    """``OpenStack-API-Version``: the service's range, and the versions at which this route's schema changes."""
    mv = service.microversions
    versions = {mv.minimum, mv.maximum}
    if isinstance(ep.schema, Versioned):
        versions |= {Version.parse(key) for key in ep.schema}
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
