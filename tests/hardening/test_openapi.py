"""Every service's OpenAPI description: generated from its route table, valid, served at its root."""

from __future__ import annotations

import httpx
import pytest
from openapi_spec_validator import validate

from onestack.http.openapi import document, openapi_path
from onestack.http.routing import BODY_METHODS, Versioned
from onestack.registry import services

SERVICES = {s.name: s for s in services()}


def operation(doc: dict, path: str, method: str) -> dict:
    item = doc["paths"][openapi_path(path)]
    return item.get(method.lower()) or item["x-additional-operations"][method]


@pytest.mark.parametrize("name", SERVICES)
def test_every_route_is_an_operation_of_a_valid_document(name):
    service = SERVICES[name]
    doc = document(service)
    validate(doc)
    described = {(path, key) for path, item in doc["paths"].items() for key in item if key != "x-additional-operations"}
    described |= {(path, key.lower()) for path, item in doc["paths"].items()
                  for key in item.get("x-additional-operations", {})}
    routed = {(openapi_path(e.path), m.lower()) for e in service.endpoints for m in e.methods}
    assert described == routed
    for ep in service.endpoints:
        for method in ep.methods:
            op = operation(doc, ep.path, method)
            assert {p["name"] for p in op["parameters"] if p["in"] == "path"} == set(
                seg[1:-1].split(":")[0] for seg in ep.path.split("/") if seg.startswith("{"))
            if method not in BODY_METHODS:
                assert "requestBody" not in op
            elif ep.stream_body:
                assert list(op["requestBody"]["content"]) == ["application/octet-stream"]
            elif isinstance(ep.schema, Versioned):
                newest = max(ep.schema, key=lambda v: tuple(map(int, v.split("."))))
                assert op["requestBody"]["content"]["application/json"]["schema"] == (ep.schema[newest] or {})
                assert op["requestBody"]["x-schema-versions"][-1] == newest
            elif ep.schema is not None:
                assert op["requestBody"]["content"]["application/json"]["schema"] is ep.schema
    assert len({op["operationId"] for item in doc["paths"].values() for op in _ops(item)}) == sum(
        len(e.methods) for e in service.endpoints)


def _ops(item: dict):
    yield from (op for key, op in item.items() if key != "x-additional-operations")
    yield from item.get("x-additional-operations", {}).values()


def test_each_service_serves_its_description_at_its_root(cloud):
    """No token needed; Swift's catch-all under /object-store/v1 and Keystone's routes leave it alone."""
    for service in SERVICES.values():
        resp = httpx.get(f"{cloud.url}{service.prefix}/openapi.json", timeout=30)
        assert resp.status_code == 200, (service.prefix, resp.text)
        assert resp.headers["content-type"] == "application/json"
        assert resp.json() == document(service), service.prefix
        assert resp.json()["servers"] == [{"url": service.prefix}]


def test_microversioned_bodies_name_the_version_their_schema_is_from():
    doc = document(SERVICES["compute"])
    op = doc["paths"]["/v2.1/servers"]["post"]
    header = next(p for p in op["parameters"] if p["name"] == "OpenStack-API-Version")
    assert "compute 2.1" in header["schema"]["enum"] and "compute latest" in header["schema"]["enum"]
    assert op["requestBody"]["x-schema-versions"][0] == "2.1"
    assert doc["info"]["x-microversions"]["minimum"] == "2.1"
    swift = document(SERVICES["object-store"])
    assert "COPY" in swift["paths"]["/v1/{rest}"]["x-additional-operations"]
