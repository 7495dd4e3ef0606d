"""Every service's OpenAPI description: generated from its route table, valid, served at its root."""

from __future__ import annotations

import httpx
import jsonschema
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


def _success_schema(doc: dict, path: str, method: str, status: str) -> dict:
    return operation(doc, path, method)["responses"][status]["content"]["application/json"]["schema"]


def test_network_and_image_routes_declare_their_success_bodies(cloud):
    """Generated from Neutron's attribute tables and Glance's published image schema: a real resource fits
    its declared body, and one without a required attribute (or with a property of the wrong type) does not.
    The fuzzer checks every success against the same schemas (tests/hardening/fuzz.py)."""
    network_doc, image_doc = document(SERVICES["network"]), document(SERVICES["image"])
    token = cloud.token()
    headers = {"X-Auth-Token": token}
    made = httpx.post(f"{cloud.url}/network/v2.0/networks", headers=headers, timeout=30,
                      json={"network": {"name": "described"}})
    assert made.status_code == 201, made.text
    net_id = made.json()["network"]["id"]
    try:
        created = _success_schema(network_doc, "/v2.0/networks", "POST", "201")
        jsonschema.validate(made.json(), created)
        shown = httpx.get(f"{cloud.url}/network/v2.0/networks/{net_id}", headers=headers, timeout=30).json()
        one = _success_schema(network_doc, "/v2.0/networks/{id}", "GET", "200")
        jsonschema.validate(shown, one)
        listed = httpx.get(f"{cloud.url}/network/v2.0/networks", headers=headers, timeout=30).json()
        jsonschema.validate(listed, _success_schema(network_doc, "/v2.0/networks", "GET", "200"))
        assert {"id", "name", "status", "subnets", "admin_state_up", "mtu", "revision_number"} <= set(
            one["properties"]["network"]["required"])
        for broken in ({k: v for k, v in shown["network"].items() if k != "status"},
                       {**shown["network"], "mtu": "1500"}):
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate({"network": broken}, one)
        # admin-only attributes are described but not required (a member does not see them)
        assert "provider:network_type" in one["properties"]["network"]["properties"]
        assert "provider:network_type" not in one["properties"]["network"]["required"]
    finally:
        httpx.delete(f"{cloud.url}/network/v2.0/networks/{net_id}", headers=headers, timeout=30)

    image = httpx.post(f"{cloud.url}/image/v2/images", headers=headers, timeout=30,
                       json={"name": "described", "disk_format": "raw", "container_format": "bare"})
    assert image.status_code == 201, image.text
    try:
        declared = _success_schema(image_doc, "/v2/images/{image_id}", "GET", "200")
        # the same document Glance publishes at /v2/schemas/image
        assert declared == httpx.get(f"{cloud.url}/image/v2/schemas/image", headers=headers, timeout=30).json()
        jsonschema.validate(image.json(), _success_schema(image_doc, "/v2/images", "POST", "201"))
        jsonschema.validate(httpx.get(f"{cloud.url}/image/v2/images", headers=headers, timeout=30).json(),
                            _success_schema(image_doc, "/v2/images", "GET", "200"))
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**image.json(), "min_disk": "0"}, declared)
    finally:
        httpx.delete(f"{cloud.url}/image/v2/images/{image.json()['id']}", headers=headers, timeout=30)
