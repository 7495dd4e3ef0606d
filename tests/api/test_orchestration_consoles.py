"""``OS::Nova::Server``'s ``console_urls`` on the fake compute driver: every console type Heat knows, each
asked of Nova's remote-consoles; the fake driver runs no guest, so each is Heat's ``Cannot get console url:``
with Nova's own answer, as Heat shows a console Nova cannot give."""

from __future__ import annotations

from tests.api.helpers import ok

TYPES = {"novnc", "xvpvnc", "spice-html5", "rdp-html5", "serial", "webmks"}


def test_console_urls_answers_every_type_as_nova_does(heat, heat_image):
    template = {
        "heat_template_version": "2018-08-31",
        "resources": {"server": {"type": "OS::Nova::Server", "properties": {
            "image": heat_image["id"], "flavor": "m1.tiny", "networks": [{"allocate_network": "none"}]}}},
        "outputs": {"consoles": {"value": {"get_attr": ["server", "console_urls"]}},
                    "serial": {"value": {"get_attr": ["server", "console_urls", "serial"]}}},
    }
    stack = heat.created(template)
    consoles = heat.output(stack, "consoles")
    assert set(consoles) == TYPES
    assert all(url.startswith("Cannot get console url: ") for url in consoles.values()), consoles
    # a type this cloud never serves is Nova's 400 for it; one it serves fails on the fake host
    assert consoles["xvpvnc"] == "Cannot get console url: Unavailable console type xvpvnc. (HTTP 400)"
    assert consoles["spice-html5"] == "Cannot get console url: Unavailable console type spice-html5. (HTTP 400)"
    assert heat.output(stack, "serial") == consoles["serial"]
    assert "(HTTP 400)" in consoles["serial"]
    # the resource's own attributes show it too
    server = ok(heat.http.get(f"{heat.path(stack)}/resources/server"))["resource"]
    assert set(server["attributes"]["console_urls"]) == TYPES
    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"
