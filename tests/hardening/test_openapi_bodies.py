"""What the OpenAPI descriptions declare of answers and query strings, checked against real answers.

- Error bodies: every operation declares its service's fault format for 4XX and 5XX; a real 404 of each JSON
  service fits it, and another service's fault does not.
- Query strings: the list routes publish the filters, sort keys and paging their listing reads.
- Success bodies of Compute, Block Storage, Identity, Placement and Orchestration: real resources fit them;
  and where Tempest (the conformance venv's, ``make conformance``) is on the machine, the same bodies fit
  Tempest's own response schemas at the base microversion, and every key Tempest requires is required here too.
- A status that changes with the microversion (a key pair's creation, a resource provider's): each status is
  declared with the body of the versions that answer it, and real answers have that status and body.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import jsonschema
import pytest
import yaml

from onestack.http.openapi import document, openapi_path
from onestack.registry import services

SERVICES = {s.name: s for s in services()}
ROOT = Path(__file__).resolve().parents[2]


def _op(service: str, path: str, method: str = "GET") -> dict:
    return document(SERVICES[service])["paths"][openapi_path(path)][method.lower()]


def _declared(service: str, path: str, method: str, status: str) -> dict:
    return _op(service, path, method)["responses"][status]["content"]["application/json"]["schema"]


# one path of each JSON service that answers 404 for an id that does not exist
MISSING = {"compute": "/v2.1/servers/{server_id}", "block-storage": "/v3/volumes/{volume_id}",
           "identity": "/v3/users/{user_id}", "network": "/v2.0/networks/{id}", "image": "/v2/images/{image_id}",
           "placement": "/resource_providers/{uuid}", "orchestration": "/v1/{project_id}/stacks/{stack_name}"}
PREFIX = {name: s.prefix for name, s in SERVICES.items()}


def test_every_operation_declares_its_services_fault_body():
    for name, service in SERVICES.items():
        for item in document(service)["paths"].values():
            for key, op in item.items():
                if key == "x-additional-operations":
                    continue
                content = op["responses"]["4XX"]["content"]
                assert op["responses"]["5XX"]["content"] == content
                if name in MISSING:
                    assert content["application/json"]["schema"] is service.fault.schema
    # Swift's and S3's faults are text, not JSON
    assert list(_op("object-store", "/info")["responses"]["4XX"]["content"]) == ["text/html"]
    assert list(_op("s3", "/")["responses"]["4XX"]["content"]) == ["application/xml"]


def test_real_faults_fit_their_declared_body_and_not_another_services(cloud):
    headers = {"X-Auth-Token": cloud.token()}
    bodies = {}
    for name, path in MISSING.items():
        filled = re.sub(r"{[a-z_]+}", lambda _: str(uuid.uuid4()), path)
        resp = httpx.get(f"{cloud.url}{PREFIX[name]}{filled}", headers=headers, timeout=30)
        assert 400 <= resp.status_code < 500, (name, resp.status_code, resp.text)
        jsonschema.validate(resp.json(), _declared(name, path, "GET", "4XX"))
        bodies[name] = resp.json()
    # each shape is the service's own: Nova's refuses Neutron's, Keystone's refuses Nova's, and so on
    for name, other in (("compute", "network"), ("identity", "compute"), ("network", "identity"),
                        ("image", "placement"), ("placement", "compute"), ("orchestration", "image")):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bodies[other], _declared(name, MISSING[name], "GET", "4XX"))
    # a 401 from the token gate is in the fault format too
    resp = httpx.get(f"{cloud.url}/compute/v2.1/servers", timeout=30)
    assert resp.status_code == 401
    jsonschema.validate(resp.json(), _declared("compute", "/v2.1/servers", "GET", "4XX"))


def _query(service: str, path: str) -> dict[str, dict]:
    return {p["name"]: p["schema"] for p in _op(service, path)["parameters"] if p["in"] == "query"}


def test_list_routes_publish_the_query_parameters_their_listing_reads():
    servers = _query("compute", "/v2.1/servers/detail")
    assert {"name", "status", "changes-since", "all_tenants", "limit", "marker"} <= set(servers)
    assert "display_name" in servers["sort_key"]["items"]["enum"] and "bogus" not in servers["sort_key"]["items"]["enum"]
    assert {"minRam", "minDisk", "is_public"} <= set(_query("compute", "/v2.1/flavors"))
    networks = _query("network", "/v2.0/networks")
    assert networks["shared"] == {"type": "boolean"} and networks["mtu"] == {"type": "integer"}
    assert "name" in networks["fields"]["items"]["enum"] and "tags-any" in networks
    volumes = _query("block-storage", "/v3/volumes")
    assert {"name", "name~", "metadata", "sort", "offset", "with_count", "all_tenants"} <= set(volumes)
    users = _query("identity", "/v3/users")
    assert {"name", "name__contains", "enabled", "domain_id", "password_expires_at"} <= set(users)
    assert "limit" not in users  # Keystone pages nothing
    assert {"member_of", "resources", "in_tree", "required"} <= set(_query("placement", "/resource_providers"))
    # a route that reads no query string declares none
    assert not _query("compute", "/v2.1/servers/{server_id}")


def _tempest_python() -> Path | None:
    """The conformance venv's python (this checkout's, else the main checkout's), if Tempest is in it."""
    common = subprocess.run(["git", "rev-parse", "--git-common-dir"], cwd=ROOT, capture_output=True, text=True)
    main = (ROOT / common.stdout.strip()).resolve().parent if common.returncode == 0 else ROOT
    for base in (ROOT, main):
        python = base / ".conformance/venv/bin/python"
        if python.exists() and list((base / ".conformance/venv/lib").glob("python3*/site-packages/tempest")):
            return python
    return None


def _tempest_schemas(names: dict[str, str]) -> dict[str, dict]:
    """Tempest's response schemas, read by the conformance venv's own python (never imported here)."""
    python = _tempest_python()
    if python is None:
        pytest.skip("Tempest is not installed (make conformance installs it)")
    program = ("import importlib, json, sys\nout = {}\nfor key, ref in json.loads(sys.argv[1]).items():\n"
               "    module, name = ref.rsplit('.', 1)\n"
               "    out[key] = getattr(importlib.import_module(module), name)['response_body']\n"
               "print(json.dumps(out))")
    done = subprocess.run([str(python), "-c", program, json.dumps(names)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def _entity(schema: dict, key: str) -> dict:
    entity = schema["properties"][key]
    return entity["items"] if entity.get("type") == "array" else entity


COMPUTE = "tempest.lib.api_schema.response.compute.v2_1."
VOLUME = "tempest.lib.api_schema.response.volume."
# ours (service, path, method, status, key) -> Tempest's schema
COMPARED = {
    ("compute", "/v2.1/servers", "POST", "202", "server"): COMPUTE + "servers.create_server_with_admin_pass",
    ("compute", "/v2.1/servers", "GET", "200", "servers"): COMPUTE + "servers.list_servers",
    ("compute", "/v2.1/servers/{server_id}", "GET", "200", "server"): COMPUTE + "servers.get_server",
    ("compute", "/v2.1/servers/detail", "GET", "200", "servers"): COMPUTE + "servers.list_servers_detail",
    ("compute", "/v2.1/flavors", "GET", "200", "flavors"): COMPUTE + "flavors.list_flavors",
    ("compute", "/v2.1/flavors/detail", "GET", "200", "flavors"): COMPUTE + "flavors.list_flavors_details",
    ("compute", "/v2.1/flavors/{flavor_id}", "GET", "200", "flavor"):
        COMPUTE + "flavors.create_update_get_flavor_details",
    ("compute", "/v2.1/os-keypairs/{name}", "GET", "200", "keypair"): COMPUTE + "keypairs.get_keypair",
    ("compute", "/v2.1/os-keypairs", "POST", "200", "keypair"): COMPUTE + "keypairs.create_keypair",
    ("block-storage", "/v3/volumes/{volume_id}", "GET", "200", "volume"): VOLUME + "volumes.show_volume",
    ("block-storage", "/v3/volumes", "POST", "202", "volume"): VOLUME + "volumes.create_volume",
    ("block-storage", "/v3/volumes", "GET", "200", "volumes"): VOLUME + "volumes.list_volumes_no_detail",
    ("block-storage", "/v3/volumes/detail", "GET", "200", "volumes"): VOLUME + "volumes.list_volumes_with_detail",
    ("block-storage", "/v3/snapshots/{snapshot_id}", "GET", "200", "snapshot"): VOLUME + "snapshots.show_snapshot",
    ("block-storage", "/v3/snapshots/detail", "GET", "200", "snapshots"):
        VOLUME + "snapshots.list_snapshots_with_detail",
    ("block-storage", "/v3/types/{type_id}", "GET", "200", "volume_type"): VOLUME + "volume_types.show_volume_type",
}


def test_declared_bodies_require_every_key_tempest_requires():
    """Tempest's schemas are the spec: a key it requires of every body is required here; its types agree."""
    tempest = _tempest_schemas({"|".join(k): v for k, v in COMPARED.items()})
    for (service, path, method, status, key), _ in COMPARED.items():
        theirs = _entity(tempest["|".join((service, path, method, status, key))], key)
        ours = _entity(_declared(service, path, method, status), key)
        missing = set(theirs.get("required", [])) - set(ours["required"])
        assert not missing, (service, path, method, missing)
        for prop, schema in theirs["properties"].items():
            if "type" in schema and "type" in ours["properties"].get(prop, {}):
                kinds = lambda s: {s["type"]} if isinstance(s["type"], str) else set(s["type"])  # noqa: E731
                assert kinds(ours["properties"][prop]) >= kinds(schema) - {"null"} or kinds(
                    ours["properties"][prop]) == kinds(schema), (service, path, prop)


def _wait(client: httpx.Client, path: str, key: str, status: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = client.get(path).json()[key]
        if body["status"] == status:
            return body
        time.sleep(0.2)
    raise AssertionError(f"{path} stayed {body['status']}")


def test_real_bodies_fit_the_declared_schemas_and_tempests(cloud):
    """Real answers at the base microversion (Tempest's schemas are that version's) fit both."""
    tempest = _tempest_schemas({"|".join(k): v for k, v in COMPARED.items()}) if _tempest_python() else {}
    headers = {"X-Auth-Token": cloud.token()}
    answers: dict[tuple, dict] = {}
    with httpx.Client(base_url=cloud.url, headers=headers, timeout=60) as http:
        # compute: a server without networks (2.37) on the fake driver, a flavor, a key pair
        image = http.post("/image/v2/images", json={"name": "described", "disk_format": "raw",
                                                     "container_format": "bare"}).json()["id"]
        assert http.put(f"/image/v2/images/{image}/file", content=b"\0" * 4096,
                        headers={"Content-Type": "application/octet-stream"}).status_code == 204
        made = http.post("/compute/v2.1/servers", headers={"OpenStack-API-Version": "compute 2.37"}, json={
            "server": {"name": "described", "imageRef": image, "flavorRef": "1", "networks": "none"}})
        answers[("compute", "/v2.1/servers", "POST", "202", "server")] = made.json()
        assert made.status_code == 202, made.text
        server_id = made.json()["server"]["id"]
        try:
            _wait(http, f"/compute/v2.1/servers/{server_id}", "server", "ACTIVE")
            answers[("compute", "/v2.1/servers/{server_id}", "GET", "200", "server")] = http.get(
                f"/compute/v2.1/servers/{server_id}").json()
            answers[("compute", "/v2.1/servers", "GET", "200", "servers")] = http.get("/compute/v2.1/servers").json()
            answers[("compute", "/v2.1/servers/detail", "GET", "200", "servers")] = http.get(
                "/compute/v2.1/servers/detail").json()
        finally:
            http.delete(f"/compute/v2.1/servers/{server_id}")
            http.delete(f"/image/v2/images/{image}")
        answers[("compute", "/v2.1/flavors", "GET", "200", "flavors")] = http.get("/compute/v2.1/flavors").json()
        answers[("compute", "/v2.1/flavors/detail", "GET", "200", "flavors")] = http.get(
            "/compute/v2.1/flavors/detail").json()
        answers[("compute", "/v2.1/flavors/{flavor_id}", "GET", "200", "flavor")] = http.get(
            "/compute/v2.1/flavors/1").json()
        keypair = http.post("/compute/v2.1/os-keypairs", json={"keypair": {"name": "described"}})
        assert keypair.status_code == 200, keypair.text
        answers[("compute", "/v2.1/os-keypairs", "POST", "200", "keypair")] = keypair.json()
        answers[("compute", "/v2.1/os-keypairs/{name}", "GET", "200", "keypair")] = http.get(
            "/compute/v2.1/os-keypairs/described").json()
        http.delete("/compute/v2.1/os-keypairs/described")

        # block storage: a volume and its snapshot, the default type
        made = http.post("/volume/v3/volumes", json={"volume": {"size": 1, "name": "described"}})
        assert made.status_code == 202, made.text
        answers[("block-storage", "/v3/volumes", "POST", "202", "volume")] = made.json()
        volume_id = made.json()["volume"]["id"]
        _wait(http, f"/volume/v3/volumes/{volume_id}", "volume", "available")
        snap = http.post("/volume/v3/snapshots", json={"snapshot": {"volume_id": volume_id, "name": "described"}})
        assert snap.status_code == 202, snap.text
        snapshot_id = snap.json()["snapshot"]["id"]
        try:
            _wait(http, f"/volume/v3/snapshots/{snapshot_id}", "snapshot", "available")
            for path, key in (("/v3/volumes/{volume_id}", "volume"), ("/v3/volumes", "volumes"),
                              ("/v3/volumes/detail", "volumes"), ("/v3/snapshots/{snapshot_id}", "snapshot"),
                              ("/v3/snapshots/detail", "snapshots")):
                answers[("block-storage", path, "GET", "200", key)] = http.get(
                    "/volume" + path.format(volume_id=volume_id, snapshot_id=snapshot_id)).json()
            type_id = answers[("block-storage", "/v3/volumes/detail", "GET", "200", "volumes")]["volumes"][0][
                "volume_type"]
            types = http.get("/volume/v3/types").json()["volume_types"]
            type_id = next(t["id"] for t in types if type_id in (t["id"], t["name"]))
            answers[("block-storage", "/v3/types/{type_id}", "GET", "200", "volume_type")] = http.get(
                f"/volume/v3/types/{type_id}").json()
        finally:
            http.delete(f"/volume/v3/snapshots/{snapshot_id}")
            deadline = time.monotonic() + 60
            while http.get(f"/volume/v3/snapshots/{snapshot_id}").status_code != 404 and time.monotonic() < deadline:
                time.sleep(0.2)
            http.delete(f"/volume/v3/volumes/{volume_id}")

        # identity and placement: no Tempest schemas; their own declared bodies
        for path in ("/v3/users", "/v3/projects", "/v3/groups", "/v3/domains", "/v3/roles"):
            answers[("identity", path, "GET", "200", path.rsplit("/", 1)[1])] = http.get(f"/identity{path}").json()
        # creations are described with the status they answer (201), so their bodies are checked too
        for path, key in (("/v3/users", "user"), ("/v3/roles", "role")):
            made = http.post(f"/identity{path}", json={key: {"name": f"described-{uuid.uuid4().hex[:8]}"}})
            assert made.status_code == 201, made.text
            answers[("identity", path, "POST", "201", key)] = made.json()
            assert http.delete(f"/identity{path}/{made.json()[key]['id']}").status_code == 204
        project = http.get("/identity/v3/projects").json()["projects"][0]
        answers[("identity", "/v3/projects/{project_id}", "GET", "200", "project")] = http.get(
            f"/identity/v3/projects/{project['id']}").json()
        for path in ("/resource_providers", "/resource_classes", "/traits"):
            answers[("placement", path, "GET", "200", "")] = http.get(
                f"/placement{path}", headers={"OpenStack-API-Version": "placement latest"}).json()

    for (service, path, method, status, key), body in answers.items():
        jsonschema.validate(body, _declared(service, path, method, status))
        ref = "|".join((service, path, method, status, key))
        if ref in tempest:
            # as Tempest's client checks them: draft 4 and its format checker
            jsonschema.Draft4Validator(tempest[ref], format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
                                       ).validate(body)
    # the declarations can fail: a body missing a required key, or with a key of the wrong type, does not fit
    server = answers[("compute", "/v2.1/servers/{server_id}", "GET", "200", "server")]["server"]
    declared = _declared("compute", "/v2.1/servers/{server_id}", "GET", "200")
    for broken in ({k: v for k, v in server.items() if k != "hostId"}, {**server, "metadata": []}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"server": broken}, declared)
    volume = answers[("block-storage", "/v3/volumes/{volume_id}", "GET", "200", "volume")]["volume"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"volume": {**volume, "size": "1"}},
                            _declared("block-storage", "/v3/volumes/{volume_id}", "GET", "200"))
    assert len(answers[("placement", "/traits", "GET", "200", "")]["traits"]) > 0


def _statuses(service: str, path: str, method: str) -> dict[str, dict]:
    return {status: answer for status, answer in _op(service, path, method)["responses"].items()
            if status.startswith("2")}


def _drawn_versions(service: str, path: str, method: str) -> list[str]:
    header = next(p for p in _op(service, path, method)["parameters"] if p["name"] == "OpenStack-API-Version")
    return header["schema"]["enum"]


def test_a_status_that_changes_with_the_microversion_is_declared_for_each_version():
    """``route(status=Versioned(...), response=Versioned(...))``: each status with its versions' body."""
    keypair = _statuses("compute", "/v2.1/os-keypairs", "POST")
    assert set(keypair) == {"200", "201"}
    assert keypair["200"]["x-microversions"] == ["2.1"]
    assert keypair["201"]["x-microversions"][0].startswith("2.2-")
    assert keypair["200"]["content"] == keypair["201"]["content"] and "content" in keypair["201"]
    assert set(_statuses("compute", "/v2.1/os-keypairs/{name}", "DELETE")) == {"202", "204"}
    # Placement: 201 without a body before 1.20, then 200 with the provider
    provider = _statuses("placement", "/resource_providers", "POST")
    assert set(provider) == {"200", "201"}
    assert "content" not in provider["201"] and provider["201"]["x-microversions"] == ["1.0-1.19"]
    assert provider["200"]["content"]["application/json"]["schema"]["required"] == [
        "uuid", "name", "generation", "links"]
    # the fuzzer draws the versions at which they change
    assert "compute 2.2" in _drawn_versions("compute", "/v2.1/os-keypairs", "POST")
    assert "placement 1.20" in _drawn_versions("placement", "/resource_providers", "POST")
    # a route whose status does not change keeps its one entry
    assert set(_statuses("compute", "/v2.1/servers", "POST")) == {"202"}
    assert "x-microversions" not in _statuses("compute", "/v2.1/servers", "POST")["202"]


def test_answers_have_the_status_and_body_declared_for_their_microversion(cloud):
    headers = {"X-Auth-Token": cloud.token()}
    with httpx.Client(base_url=cloud.url, headers=headers, timeout=60) as http:
        for version, created, deleted in (("2.1", "200", "202"), ("2.2", "201", "204"), ("2.91", "201", "204")):
            key_name = f"versioned-{uuid.uuid4().hex[:8]}"
            mv = {"OpenStack-API-Version": f"compute {version}"}
            made = http.post("/compute/v2.1/os-keypairs", json={"keypair": {"name": key_name}}, headers=mv)
            assert str(made.status_code) == created, (version, made.text)
            jsonschema.validate(made.json(), _declared("compute", "/v2.1/os-keypairs", "POST", created))
            gone = http.delete(f"/compute/v2.1/os-keypairs/{key_name}", headers=mv)
            assert str(gone.status_code) == deleted
            assert deleted in _statuses("compute", "/v2.1/os-keypairs/{name}", "DELETE")
        for version, status in (("1.19", "201"), ("1.20", "200")):
            made = http.post("/placement/resource_providers", json={"name": f"versioned-{uuid.uuid4().hex[:8]}"},
                             headers={"OpenStack-API-Version": f"placement {version}"})
            assert str(made.status_code) == status, (version, made.text)
            declared = _statuses("placement", "/resource_providers", "POST")[status]
            if "content" in declared:
                jsonschema.validate(made.json(), declared["content"]["application/json"]["schema"])
            else:
                assert made.content == b""
            assert http.delete(made.headers["Location"]).status_code == 204


HEAT_TEMPLATE = {
    "heat_template_version": "2018-08-31", "description": "described",
    "parameters": {"length": {"type": "number", "default": 8}},
    "resources": {"word": {"type": "OS::Heat::RandomString", "properties": {"length": {"get_param": "length"}},
                           "metadata": {"about": "a word"}}},
    "outputs": {"word": {"value": {"get_attr": ["word", "value"]}, "description": "the word"},
                "length": {"value": {"get_param": "length"}}},
}


def test_real_orchestration_bodies_fit_the_declared_schemas(heat):
    """Heat's main operations on a real stack (a RandomString, its outputs), its events, a snapshot, software configs and deployments, and what the cloud offers."""
    v1, stack_path = "/v1/{project_id}", "/v1/{project_id}/stacks/{stack_name}/{stack_id}"
    stack = heat.create(HEAT_TEMPLATE)
    answers: list[tuple[str, str, str, dict]] = [(f"{v1}/stacks", "POST", "201", {"stack": {
        k: v for k, v in stack.items() if k != "stack_name"}})]
    heat.settle(stack)
    at = heat.path(stack)

    def got(route: str, url: str, method: str = "GET", status: int = 200, **kw) -> dict:
        resp = heat.http.request(method, url, **kw)
        assert resp.status_code == status, (url, resp.text)
        answers.append((route, method, str(status), resp.json()))
        return resp.json()

    got(f"{v1}/stacks", "/stacks")
    got(f"{v1}/stacks", "/stacks?with_count=true")
    got(f"{v1}/stacks/detail", "/stacks/detail")
    shown = got(stack_path, at)["stack"]
    assert {o["output_key"] for o in shown["outputs"]} == {"word", "length"}
    assert "outputs" not in got(stack_path, f"{at}?resolve_outputs=false")["stack"]
    got(f"{v1}/stacks/preview", "/stacks/preview", "POST", json={
        "stack_name": "previewed", "template": yaml.safe_dump(HEAT_TEMPLATE)})
    got(f"{stack_path}/resources", f"{at}/resources")
    got(f"{stack_path}/resources", f"{at}/resources?with_detail=true")
    got(f"{stack_path}/resources/{{resource_name}}", f"{at}/resources/word")
    got(f"{stack_path}/resources/{{resource_name}}/metadata", f"{at}/resources/word/metadata")
    events = got(f"{stack_path}/events", f"{at}/events")["events"]
    got(f"{stack_path}/resources/{{resource_name}}/events", f"{at}/resources/word/events")
    word_event = next(e for e in events if e["resource_name"] == "word")
    got(f"{stack_path}/resources/{{resource_name}}/events/{{event_id}}",
        f"{at}/resources/word/events/{word_event['id']}")
    got(f"{stack_path}/outputs", f"{at}/outputs")
    got(f"{stack_path}/outputs/{{output_key}}", f"{at}/outputs/word")
    assert got(f"{stack_path}/outputs/{{output_key}}", f"{at}/outputs/length")["output"]["output_value"] == 8
    snapshot = got(f"{stack_path}/snapshots", f"{at}/snapshots", "POST", json={"name": "described"})
    got(f"{stack_path}/snapshots", f"{at}/snapshots")
    got(f"{stack_path}/snapshots/{{snapshot_id}}", f"{at}/snapshots/{snapshot['id']}")
    got(f"{v1}/template_versions", "/template_versions")
    got(f"{v1}/template_versions/{{template_version}}/functions",
        "/template_versions/heat_template_version.2018-08-31/functions")
    got(f"{v1}/resource_types", "/resource_types")
    got(f"{v1}/resource_types", "/resource_types?with_description=true")
    got(f"{v1}/resource_types/{{type_name}}", "/resource_types/OS::Heat::RandomString")
    got(f"{v1}/build_info", "/build_info")
    got(f"{v1}/validate", "/validate", "POST", json={"template": yaml.safe_dump(HEAT_TEMPLATE)})
    config = got(f"{v1}/software_configs", "/software_configs", "POST", json={
        "name": "described", "group": "script", "config": "echo a",
        "inputs": [{"name": "foo"}], "outputs": [{"name": "result"}]})["software_config"]
    got(f"{v1}/software_configs", "/software_configs", "POST", json={
        "group": "ansible", "config": {"tasks": []}})
    got(f"{v1}/software_configs", "/software_configs")
    got(f"{v1}/software_configs/{{config_id}}", f"/software_configs/{config['id']}")
    server_id = str(uuid.uuid4())
    deployment = got(f"{v1}/software_deployments", "/software_deployments", "POST", json={
        "config_id": config["id"], "server_id": server_id, "input_values": {"foo": "bar"}})["software_deployment"]
    got(f"{v1}/software_deployments", "/software_deployments")
    got(f"{v1}/software_deployments/{{deployment_id}}", f"/software_deployments/{deployment['id']}")
    got(f"{v1}/software_deployments/{{deployment_id}}", f"/software_deployments/{deployment['id']}", "PUT",
        json={"status": "COMPLETE", "output_values": {"result": "done"}})
    got(f"{v1}/software_deployments/metadata/{{server_id}}", f"/software_deployments/metadata/{server_id}")

    for route, method, status, body in answers:
        jsonschema.validate(body, _declared("orchestration", route, method, status))
    # every declared operation was answered here
    declared = {(path, method) for path, item in document(SERVICES["orchestration"])["paths"].items()
                for method, op in item.items() if any("content" in a for s, a in op["responses"].items()
                                                      if s.startswith("2"))}
    assert declared == {(openapi_path(route), method.lower()) for route, method, _, _ in answers}
    # the declarations can fail: a stack without its status, tags that are not a list
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"stack": {k: v for k, v in shown.items() if k != "stack_status"}},
                            _declared("orchestration", stack_path, "GET", "200"))
    listed = answers[1][3]["stacks"][0]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"stacks": [{**listed, "tags": "a,b"}]},
                            _declared("orchestration", f"{v1}/stacks", "GET", "200"))


def test_real_json_listings_fit_the_declared_schemas(swift):
    """An account's and a container's JSON listings (a subdir among them, with a delimiter) fit what the
    listing routes declare; a plain-text listing is another media type, which the check leaves alone."""
    container = swift.container()
    for name in ("a", "dir/b"):
        swift.put(f"/{container}/{name}", b"x")
    for path, route in (("", "/v1/{account}"), (f"/{container}", "/v1/{account}/{container}")):
        for params in ({"format": "json"}, {"format": "json", "delimiter": "/"}):
            resp = swift.http.get(path, params=params)
            assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/json")
            jsonschema.validate(resp.json(), _declared("object-store", route, "GET", "200"))
    listed = swift.http.get(f"/{container}", params={"format": "json", "delimiter": "/"}).json()
    assert {"subdir": "dir/"} in listed
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([{**listed[0], "bytes": "1"}], _declared("object-store", "/v1/{account}/{container}",
                                                                     "GET", "200"))
    assert list(_op("object-store", "/v1/{account}")["responses"]["200"]["content"]) == ["application/json"]
