"""Orchestration in a real Chromium: a stack launched from pasted template text through the parameter form
generated from the template (types, defaults, constraints, hidden), Heat's messages shown with what was
typed kept, the stack's status, resources, events and outputs changing without a reload, delete; a
template from a file, suspended, resumed and checked from its page, escaping, CSRF and the tenant wall."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from tests.api.helpers import name
from tests.browser.conftest import LIVE_TIMEOUT_MS

pytestmark = pytest.mark.browser

TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "description": "<b>words</b> for the dashboard",
    "parameter_groups": [{"label": "main", "parameters": ["flavor", "length"]}],
    "parameters": {
        "length": {"type": "number", "default": 8, "label": "Word length",
                   "constraints": [{"range": {"min": 4, "max": 32}}]},
        "flavor": {"type": "string", "constraints": [{"allowed_values": ["m1.tiny", "m1.small"]}]},
        "secret": {"type": "string", "hidden": True, "default": "s3cret"},
        "greeting": {"type": "string", "default": "hello", "constraints": [{"length": {"min": 2, "max": 20}}]},
        "verbose": {"type": "boolean", "default": False},
    },
    "resources": {
        "word": {"type": "OS::Heat::RandomString", "properties": {"length": {"get_param": "length"}}},
        "note": {"type": "OS::Heat::Value", "depends_on": ["word"], "properties": {"value": {"list_join": [
            "-", [{"get_param": "greeting"}, {"get_param": "flavor"}]]}}},
    },
    "outputs": {"word": {"value": {"get_attr": ["word", "value"]}},
                "note": {"value": {"get_attr": ["note", "value"]}, "description": "greeting and flavor"}},
}


def _param(page, key: str):
    return page.locator(f"label[data-param='{key}']")


def test_launch_a_stack_from_pasted_text_through_its_parameter_form(cloud, dashboard):
    page = dashboard.sign_in("demo")
    page.goto("/dashboard/stacks")
    page.click("a:has-text('Launch stack')")
    stack_name = name("stack")
    page.fill("#stack-template input[name=stack_name]", stack_name)

    # a template Heat refuses: its message, and the text kept for fixing
    broken = yaml.safe_dump({**TEMPLATE, "resources": {**TEMPLATE["resources"], "x": {"type": "OS::No::Such"}}})
    page.fill("#stack-template textarea[name=template]", broken)
    page.click("button:has-text('Next: parameters')")
    assert "OS::No::Such" in page.inner_text(".flash.error")
    assert "OS::No::Such" in page.input_value("#stack-template textarea[name=template]")
    page.fill("#stack-template textarea[name=template]", yaml.safe_dump(TEMPLATE))
    page.click("button:has-text('Next: parameters')")
    # the click may return before the next page is parsed: its form's last button means its fields are there
    page.locator("#stack-parameters button:has-text('Launch')").wait_for()

    # the form the template's parameters make, in the parameter groups' order
    params = page.locator("#stack-parameters label[data-param]")
    assert [params.nth(i).get_attribute("data-param") for i in range(params.count())][:2] == ["flavor", "length"]
    length = _param(page, "length").locator("input")
    assert (length.get_attribute("type"), length.get_attribute("min"), length.get_attribute("max"),
            length.input_value()) == ("number", "4", "32", "8")
    assert "Word length" in _param(page, "length").inner_text()
    flavor = _param(page, "flavor").locator("select option")
    assert [flavor.nth(i).inner_text() for i in range(flavor.count())] == ["m1.tiny", "m1.small"]
    secret = _param(page, "secret").locator("input")
    assert secret.get_attribute("type") == "password" and secret.input_value() == ""
    assert "s3cret" not in _param(page, "secret").inner_html()
    assert _param(page, "greeting").locator("input").get_attribute("maxlength") == "20"
    assert _param(page, "verbose").locator("select").input_value() == "false"

    # past the browser's own checks, Heat's constraint message comes back with the values kept
    _param(page, "flavor").locator("select").select_option("m1.small")
    length.fill("40")
    page.fill("#stack-parameters input[name=stack_name]", stack_name)
    page.locator("#stack-parameters").evaluate("form => { form.noValidate = true; }")
    page.click("#stack-parameters button:has-text('Launch')")
    assert "length" in page.inner_text(".flash.error")
    assert _param(page, "flavor").locator("select").input_value() == "m1.small"
    _param(page, "length").locator("input").fill("10")
    _param(page, "greeting").locator("input").fill("hi")
    page.click("#stack-parameters button:has-text('Launch')")
    page.wait_for_selector(f"text=Launching stack {stack_name}.")

    # the stack's page follows it to CREATE_COMPLETE by itself
    page.evaluate("window.stayedOnPage = true")
    page.locator("#stack-status:text-is('CREATE_COMPLETE')").wait_for(timeout=LIVE_TIMEOUT_MS)
    assert page.evaluate("window.stayedOnPage") is True
    assert page.inner_text("#outputs tr[data-key=note] code") == "hi-m1.small"
    assert len(page.inner_text("#outputs tr[data-key=word] code")) == 10
    for resource in ("word", "note"):
        assert page.inner_text(f"#resources tr[data-name={resource}] [data-field=status]") == "CREATE_COMPLETE"
    assert page.locator("#events td:has-text('CREATE_COMPLETE')").count() >= 3
    assert page.locator("p.muted b").count() == 0 and "<b>words</b>" in page.inner_text("main")
    # the picture: what needs another stands right of it, joined by a line, coloured by status
    word, note = (page.locator(f".stack-picture g[data-name={n}]") for n in ("word", "note"))
    assert float(note.locator("rect").get_attribute("x")) > float(word.locator("rect").get_attribute("x"))
    assert page.locator(".stack-picture line").count() == 1
    assert "ok" in note.get_attribute("class").split()

    # update a parameter: Heat updates in place, the page follows, the output changes
    page.click("a:has-text('Update parameters')")
    assert _param(page, "greeting").locator("input").input_value() == "hi"
    assert _param(page, "secret").locator("input").input_value() == ""
    _param(page, "greeting").locator("input").fill("bye")
    page.click("#stack-parameters button:has-text('Update')")
    page.wait_for_selector(f"text=Updating stack {stack_name}.")
    page.locator("#stack-status:text-is('UPDATE_COMPLETE')").wait_for(timeout=LIVE_TIMEOUT_MS)
    page.locator("#outputs tr[data-key=note] code:text-is('bye-m1.small')").wait_for(timeout=LIVE_TIMEOUT_MS)

    # listed, and deleted from its page
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("button[data-action=delete]:has-text('Delete stack')")
    page.wait_for_selector(f"text=Deleting stack {stack_name}.")
    page.locator("tbody tr", has=page.locator("td.name", has_text=stack_name)).wait_for(
        state="detached", timeout=LIVE_TIMEOUT_MS)
    page.context.close()


def test_a_template_file_and_the_tenant_wall(cloud, dashboard, make_heat, tmp_path):
    theirs = make_heat()
    hidden = theirs.created({"heat_template_version": "2018-08-31", "resources": {}})
    page = dashboard.sign_in("demo")
    page.goto("/dashboard/stacks")
    assert page.locator(f"tr[data-id='{hidden['id']}']").count() == 0
    page.goto(f"/dashboard/stacks/{hidden['stack_name']}/{hidden['id']}")
    assert page.locator("h1").inner_text() == "Error"
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    resp = page.request.post(f"/dashboard/stacks/{hidden['stack_name']}/{hidden['id']}/delete",
                             form={"csrf_token": token})
    assert "could not be found" in resp.text() or "not found" in resp.text().lower()
    assert theirs.show(hidden)["stack_status"] == "CREATE_COMPLETE"
    assert page.request.post("/dashboard/stacks", form={"stack_name": "x", "template": "{}"}).status == 403

    # a template chosen as a file: no parameters, launched as it is
    (tmp_path / "empty.yaml").write_text(yaml.safe_dump({"heat_template_version": "2018-08-31",
                                                         "resources": {"n": {"type": "OS::Heat::None"}}}))
    page.goto("/dashboard/stacks/launch")
    stack_name = name("file")
    page.fill("#stack-template input[name=stack_name]", stack_name)
    page.set_input_files("#stack-template input[name=template_file]", str(tmp_path / "empty.yaml"))
    page.click("button:has-text('Next: parameters')")
    assert "no parameters" in page.inner_text("#stack-parameters")
    page.click("#stack-parameters button:has-text('Launch')")
    page.locator("#stack-status:text-is('CREATE_COMPLETE')").wait_for(timeout=LIVE_TIMEOUT_MS)
    # suspend, resume and check from the stack's page: Heat's actions, the status following each
    for verb, said, status in (("suspend", "Suspending", "SUSPEND_COMPLETE"), ("resume", "Resuming",
                                                                             "RESUME_COMPLETE"),
                               ("check", "Checking", "CHECK_COMPLETE")):
        page.click(f"button[data-action={verb}]")
        page.wait_for_selector(f"text={said} stack {stack_name}.")
        page.locator(f"#stack-status:text-is('{status}')").wait_for(timeout=LIVE_TIMEOUT_MS)
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("button[data-action=delete]:has-text('Delete stack')")
    page.wait_for_selector(f"text=Deleting stack {stack_name}.")
    page.context.close()


def test_launch_a_stack_from_a_template_url(cloud, dashboard):
    """The URL goes to Heat (``template_url``), which fetches it: the parameter form comes from it, a URL
    the cloud refuses to fetch is Heat's message with the URL kept."""
    body = yaml.safe_dump({"heat_template_version": "2018-08-31",
                           "parameters": {"word": {"type": "string", "default": "from-a-url"}},
                           "resources": {"v": {"type": "OS::Heat::Value", "properties": {"value": {"get_param": "word"}}}},
                           "outputs": {"word": {"value": {"get_attr": ["v", "value"]}}}}).encode()

    class Serve(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    # 127.0.0.2: the one loopback address the test cloud lets templates come from
    server = ThreadingHTTPServer(("127.0.0.2", 0), Serve)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = dashboard.sign_in("demo")
        page.goto("/dashboard/stacks/launch")
        stack_name = name("url")
        page.fill("#stack-template input[name=stack_name]", stack_name)
        page.fill("#stack-template input[name=template_url]", "http://169.254.169.254/latest/stack.yaml")
        page.click("button:has-text('Next: parameters')")
        assert "Could not retrieve template" in page.inner_text(".flash.error")
        assert page.input_value("#stack-template input[name=template_url]").startswith("http://169.254.169.254/")

        url = f"http://127.0.0.2:{server.server_address[1]}/stack.yaml"
        page.fill("#stack-template input[name=template_url]", url)
        page.click("button:has-text('Next: parameters')")
        assert _param(page, "word").locator("input").input_value() == "from-a-url"
        assert url in page.inner_text("#stack-parameters")
        _param(page, "word").locator("input").fill("typed")
        page.click("#stack-parameters button:has-text('Launch')")
        page.locator("#stack-status:text-is('CREATE_COMPLETE')").wait_for(timeout=LIVE_TIMEOUT_MS)
        assert page.inner_text("#outputs tr[data-key=word] code") == "typed"
        page.on("dialog", lambda dialog: dialog.accept())
        page.click("button[data-action=delete]:has-text('Delete stack')")
        page.wait_for_selector(f"text=Deleting stack {stack_name}.")
        page.context.close()
    finally:
        server.shutdown()
        server.server_close()
