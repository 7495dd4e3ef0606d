"""Templates named by URL, fetched by the cloud as Heat does: ``template_url`` on create, preview, update
and validate (sent by python-heatclient's and openstacksdk's APIs), provider templates a registry names
by URL, from a real HTTP server and from this cloud's own object store; and every URL the cloud must not
fetch (another scheme, loopback, the metadata address, a redirect to them, too big, too slow) a 400."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import openstack
import pytest
import yaml
from heatclient import client as heat_client
from heatclient import exc as heat_exc
from swiftclient.utils import generate_temp_url

from tests.api.helpers import name, ok
from tests.api.orchestration_helpers import fault

TEMPLATE = """
heat_template_version: 2018-08-31
parameters:
  word: {type: string, default: fetched}
resources:
  value: {type: OS::Heat::Value, properties: {value: {get_param: word}}}
outputs:
  word: {value: {get_attr: [value, value]}}
"""

PROVIDER = """
heat_template_version: 2018-08-31
parameters:
  text: {type: string}
resources:
  inner: {type: OS::Heat::Value, properties: {value: {str_replace: {template: "<$T>", params: {$T: {get_param: text}}}}}}
outputs:
  wrapped: {value: {get_attr: [inner, value]}}
"""


class TemplateServer(BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    redirects: dict[str, str] = {}
    fetched: list[str] = []

    def do_GET(self):  # noqa: N802 - the handler's name is http.server's
        self.fetched.append(self.path)
        if self.path in self.redirects:
            self.send_response(302)
            self.send_header("Location", self.redirects[self.path])
            self.end_headers()
        elif self.path == "/slow.yaml":  # a server dripping a byte a second: the fetch must give up
            self.send_response(200)
            self.end_headers()
            for _ in range(30):
                try:
                    self.wfile.write(b"#")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(1)
        elif self.path in self.files:
            self.send_response(200)
            self.send_header("Content-Length", str(len(self.files[self.path])))
            self.end_headers()
            self.wfile.write(self.files[self.path])
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def web():
    """A web server on 127.0.0.2, the one loopback address the test cloud lets templates come from."""
    server = ThreadingHTTPServer(("127.0.0.2", 0), TemplateServer)
    server.daemon_threads = True
    base = f"http://127.0.0.2:{server.server_address[1]}"
    TemplateServer.files = {"/stack.yaml": TEMPLATE.encode(), "/provider.yaml": PROVIDER.encode(),
                            "/big.yaml": b"# " + b"x" * 600_000 + b"\n" + TEMPLATE.encode(),
                            "/not-yaml.yaml": b"resources: [unclosed"}
    TemplateServer.redirects = {"/to-metadata": "http://169.254.169.254/latest/meta-data/",
                                "/to-stack": f"{base}/stack.yaml"}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    server.server_close()


@pytest.fixture
def heatclient(heat):
    """python-heatclient's v1 API as the Heat fixture's member."""
    return heat_client.Client("1", endpoint=f"{heat.cloud.url}/orchestration/v1/{heat.project_id}",
                              token=heat.token)


def settled(heat, stack_name: str) -> dict:
    stack = ok(heat.http.get(f"/stacks/{stack_name}", follow_redirects=True))["stack"]
    return heat.settle({"stack_name": stack_name, "id": stack["id"]})


def test_heatclient_creates_updates_previews_and_validates_from_urls(heat, heatclient, web):
    stack_name = name("url")
    heatclient.stacks.create(stack_name=stack_name, template_url=f"{web}/stack.yaml",
                             parameters={"word": "first"})
    stack = settled(heat, stack_name)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert heat.output(stack, "word") == "first"
    kept = ok(heat.http.get(f"{heat.path(stack)}/template"))
    assert kept["resources"]["value"]["type"] == "OS::Heat::Value"

    # An update from a URL that redirects (to the same server) and names a provider template by URL in
    # its registry: both fetched, the provider kept in the stack's files under its URL.
    env = {"resource_registry": {"My::Wrapped": f"{web}/provider.yaml"}}
    updated = yaml.safe_load(TEMPLATE)
    updated["resources"]["wrapped"] = {"type": "My::Wrapped", "properties": {"text": {"get_param": "word"}}}
    updated["outputs"]["wrapped"] = {"value": {"get_attr": ["wrapped", "wrapped"]}}
    TemplateServer.files["/updated.yaml"] = yaml.safe_dump(updated).encode()
    preview = heatclient.stacks.preview_update(stack["id"], template_url=f"{web}/updated.yaml",
                                               environment=env, parameters={"word": "second"})
    changes = preview["resource_changes"]
    assert [r["resource_name"] for r in changes["added"]] == ["wrapped"]
    assert [r["resource_name"] for r in changes["updated"]] == ["value"]

    heatclient.stacks.update(stack["id"], template_url=f"{web}/updated.yaml", environment=env,
                             parameters={"word": "second"})
    stack = heat.settle(stack)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert heat.output(stack, "wrapped") == "<second>"
    files = ok(heat.http.get(f"{heat.path(stack)}/files"))
    assert files[f"{web}/provider.yaml"] == PROVIDER

    validated = heatclient.stacks.validate(template_url=f"{web}/stack.yaml")
    assert validated["Parameters"]["word"]["Default"] == "fetched"
    heat.delete(stack)


def test_openstacksdk_creates_from_a_redirecting_url(heat, web):
    conn = openstack.connection.Connection(auth_type="token", auth={
        "auth_url": f"{heat.cloud.url}/identity/v3", "token": heat.token, "project_id": heat.project_id})
    made = conn.orchestration.create_stack(name=name("sdk"), template_url=f"{web}/to-stack")
    stack = heat.settle({"stack_name": made.name, "id": made.id})
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert heat.output(stack, "word") == "fetched"
    heat.delete(stack)
    conn.close()


def test_templates_in_this_clouds_object_store(heat, swift, heatclient):
    """A public container's object and a TempURL of a private one: the object store is on 127.0.0.1,
    which the cloud refuses for any other URL, and its own store answers without a token."""
    public = swift.container(**{"X-Container-Read": ".r:*"})
    swift.put(f"/{public}/stack.yaml", TEMPLATE.encode())
    stack_name = name("swift")
    heatclient.stacks.create(stack_name=stack_name, template_url=f"{swift.url}/{public}/stack.yaml")
    stack = settled(heat, stack_name)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]

    private = swift.container()
    swift.put(f"/{private}/stack.yaml", TEMPLATE.encode())
    # a private object, no signature: Swift's own 401 is the reason
    message = fault(heat.http.post("/stacks", json={"stack_name": name("s"),
                                                    "template_url": f"{swift.url}/{private}/stack.yaml"}),
                    400, "HTTPBadRequest")
    assert message.startswith("Could not retrieve template: Failed to retrieve template: ") and "401" in message
    assert swift.http.post("", headers={"X-Account-Meta-Temp-URL-Key": "k3y"}).status_code == 204
    signed = generate_temp_url(f"/v1/{swift.name}/{private}/stack.yaml", 300, "k3y", "GET")
    url = f"{heat.cloud.url}/object-store{signed}"
    validated = ok(heat.http.post("/validate", json={"template_url": url}))
    assert "word" in validated["Parameters"]
    heat.delete(stack)


@pytest.mark.parametrize(("url", "why"), [
    ("file:///etc/passwd", "Invalid URL scheme file"),
    ("ftp://127.0.0.2/stack.yaml", "Invalid URL scheme ftp"),
    ("http://169.254.169.254/latest/meta-data/", "address 169.254.169.254 is not reachable"),
    ("http://[::1]:9/stack.yaml", "address ::1 is not reachable"),
    ("http://localhost:9/stack.yaml", "is not reachable"),
])
def test_urls_the_cloud_will_not_fetch(heat, url, why):
    message = fault(heat.http.post("/stacks", json={"stack_name": name("bad"), "template_url": url}), 400,
                    "HTTPBadRequest")
    assert message.startswith("Could not retrieve template: ") and why in message, message


def test_loopback_is_refused_even_on_the_clouds_own_address(heat, web):
    # 127.0.0.1 is the cloud's own address: only its object store is reachable there, never its other APIs
    own = heat.cloud.url
    for url in (f"{own}/identity/v3", f"{own}/object-store/v1/../../identity/v3",
                f"{own}/object-store/v1/%2e%2e/%2e%2e/identity/v3"):
        message = fault(heat.http.post("/validate", json={"template_url": url}), 400, "HTTPBadRequest")
        assert "address 127.0.0.1 is not reachable" in message, message
    message = fault(heat.http.post("/stacks", json={"stack_name": name("r"), "template_url": f"{web}/to-metadata"}),
                    400, "HTTPBadRequest")
    assert "169.254.169.254" in message
    assert "/to-metadata" in TemplateServer.fetched  # it was the redirect, not the first URL, that was refused


def test_fetches_are_bounded_in_size_and_time_and_must_parse(heat, web):
    message = fault(heat.http.post("/stacks", json={"stack_name": name("big"), "template_url": f"{web}/big.yaml"}),
                    400, "HTTPBadRequest")
    assert message == "Could not retrieve template: Template exceeds maximum allowed size (524288 bytes)"
    began = time.monotonic()
    message = fault(heat.http.post("/stacks", json={"stack_name": name("slow"), "template_url": f"{web}/slow.yaml"}),
                    400, "HTTPBadRequest")
    assert "timed out" in message, message
    assert time.monotonic() - began < 25  # the test cloud's fetch_timeout (3 s), not the server's 30 s drip
    message = fault(heat.http.post("/stacks", json={"stack_name": name("missing"),
                                                    "template_url": f"{web}/missing.yaml"}), 400)
    assert "HTTP 404" in message
    message = fault(heat.http.post("/stacks", json={"stack_name": name("broken"),
                                                    "template_url": f"{web}/not-yaml.yaml"}), 400)
    assert "Error parsing template" in message
    # a registry entry naming a URL the cloud may not fetch
    message = fault(heat.http.post("/stacks", json={
        "stack_name": name("reg"), "template": TEMPLATE,
        "environment": {"resource_registry": {"My::T": "http://169.254.169.254/t.yaml"}}}), 400)
    assert "169.254.169.254" in message
    # nothing was made by any of them
    assert ok(heat.http.get("/stacks"))["stacks"] == []


def test_heatclient_sees_a_refusal_as_a_bad_request(heatclient):
    with pytest.raises(heat_exc.HTTPBadRequest) as raised:
        heatclient.stacks.create(stack_name=name("x"), template_url="file:///etc/shadow")
    assert "Invalid URL scheme file" in str(raised.value)


def test_no_template_at_all(heat):
    assert fault(heat.http.post("/stacks", json={"stack_name": name("none")}), 400,
                 "HTTPBadRequest") == "No template specified"
