"""The dashboard's pure parts: sessions on disk, redirects kept inside, rule templates, topology layout."""

from __future__ import annotations

import stat
import time

import pytest
from starlette.requests import Request

from onestack.dashboard.client import ApiError
from onestack.dashboard.pages.security_groups import rule_body
from onestack.dashboard.pages.topology import layout
from onestack.dashboard.sessions import SessionStore
from onestack.dashboard.web import Form, safe_next, same_origin


def _session_fields(expires_in: float) -> dict:
    return {"login_token": "t0", "token": "t1", "expires_at": time.time() + expires_in, "user": {"id": "u"},
            "project": None, "projects": [], "roles": ["member"], "catalog": []}


def test_a_session_is_found_by_its_key_only_and_kept_private(tmp_path):
    store = SessionStore(tmp_path / "sessions")
    key, session = store.create(**_session_fields(60))
    (path,) = (tmp_path / "sessions").glob("*.json")
    assert key not in path.name  # the file is named by the key's hash
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "sessions").stat().st_mode) == 0o700
    assert store.load(key).token == "t1"
    assert store.load(key + "x") is None and store.load("") is None and store.load("a" * 500) is None
    store.drop(session)
    assert store.load(key) is None


def test_a_session_ends_with_its_token(tmp_path):
    store = SessionStore(tmp_path)
    key, _ = store.create(**_session_fields(-1))
    assert store.load(key) is None
    assert list(tmp_path.glob("*.json")) == []
    store.create(**_session_fields(-1))
    store.create(**_session_fields(60))  # signing in sweeps expired sessions
    assert len(list(tmp_path.glob("*.json"))) == 1


def _request(headers: dict | None = None, scheme: str = "http") -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in {"host": "cloud:8080", **(headers or {})}.items()]
    return Request({"type": "http", "method": "POST", "path": "/dashboard/x", "root_path": "/dashboard",
                    "headers": raw, "scheme": scheme, "server": ("cloud", 8080), "query_string": b""})


@pytest.mark.parametrize("target, kept", [("/dashboard/instances", True), ("//evil.example/dashboard/", False),
                                          ("https://evil.example/", False), ("/identity/v3", False),
                                          ("/dashboard/\\evil", False), ("", False)])
def test_redirects_stay_inside_the_dashboard(target, kept):
    assert (safe_next(_request(), target, "/dashboard/") == target) is kept


@pytest.mark.parametrize("origin, ok", [(None, True), ("http://cloud:8080", True), ("http://evil.example", False),
                                        ("https://cloud:8080", False), ("null", False)])
def test_a_post_from_another_origin_is_refused(origin, ok):
    assert same_origin(_request({"origin": origin} if origin else {})) is ok


def test_rule_templates_fix_protocol_and_ports_and_custom_rules_take_the_form():
    ssh = rule_body(Form([("template", "ssh"), ("port_range_min", "9999"), ("remote_ip_prefix", "10.0.0.0/8")]), "g")
    assert ssh == {"security_group_id": "g", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
                   "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "10.0.0.0/8"}
    icmp6 = rule_body(Form([("template", "icmp"), ("remote_ip_prefix", "2001:db8::/32")]), "g")
    assert icmp6["protocol"] == "icmp" and icmp6["ethertype"] == "IPv6" and "port_range_min" not in icmp6
    custom = rule_body(Form([("template", "custom"), ("protocol", "udp"), ("port_range_min", "53"),
                             ("direction", "egress")]), "g")
    assert (custom["protocol"], custom["port_range_min"], custom["port_range_max"], custom["direction"]) == (
        "udp", 53, 53, "egress")
    with pytest.raises(ApiError):
        rule_body(Form([("template", "custom"), ("protocol", "tcp"), ("port_range_min", "ssh")]), "g")


def test_topology_puts_external_networks_first_and_joins_devices_to_their_networks():
    networks = [{"id": "n-private", "name": "private", "status": "ACTIVE"},
                {"id": "n-public", "name": "public", "router:external": True, "status": "ACTIVE"}]
    routers = [{"id": "r1", "name": "router1", "status": "ACTIVE", "external_gateway_info": {"network_id": "n-public"}}]
    servers = [{"id": "s1", "name": "web", "status": "SHUTOFF"}, {"id": "s2", "name": "lonely", "status": "ERROR"}]
    ports = [{"device_id": "r1", "network_id": "n-private"}, {"device_id": "s1", "network_id": "n-private"},
             {"device_id": "s9", "network_id": "n-elsewhere"}]
    picture = layout(networks, routers, servers, ports, "/dashboard")
    assert [b.id for b in picture["bars"]] == ["n-public", "n-private"]
    devices = {d.id: d for d in picture["devices"]}
    assert devices["r1"].networks == ["n-private", "n-public"] and len(devices["r1"].dots) == 2
    assert devices["s1"].networks == ["n-private"] and devices["s2"].networks == []
    assert devices["s1"].href == "/dashboard/instances/s1/console"
    assert [d.id for d in picture["devices"]] == ["r1", "s1", "s2"]  # routers first, each on its own row
    assert len({d.y for d in picture["devices"]}) == 3


def test_a_validate_answer_becomes_form_fields():
    from onestack.dashboard.pages.stacks import _field

    length = _field("length", {"Type": "Number", "Default": 8, "MinValue": 4, "MaxValue": 32, "Label": "Length",
                               "NoEcho": "false"})
    assert (length["type"], length["value"], length["min"], length["max"], length["required"]) == (
        "Number", "8", 4, 32, False)
    flavor = _field("flavor", {"Type": "String", "AllowedValues": ["m1.tiny", "m1.small"], "NoEcho": "false"})
    assert flavor["choices"] == ["m1.tiny", "m1.small"] and flavor["required"] and flavor["label"] == "flavor"
    secret = _field("secret", {"Type": "String", "Default": "s3cret", "NoEcho": "true"})
    assert secret["hidden"] and secret["value"] == "" and not secret["required"]
    assert _field("on", {"Type": "Boolean", "Default": "True"})["value"] == "true"
    assert _field("doc", {"Type": "Json", "Default": {"a": [1]}})["value"] == '{"a": [1]}'
    assert _field("l", {"Type": "CommaDelimitedList", "Default": ["a", "b"]})["value"] == "a,b"


def test_stack_resources_are_drawn_right_of_what_they_need():
    from onestack.dashboard.pages.stacks import picture

    def res(name, required_by=()):
        return {"resource_name": name, "resource_type": "OS::Heat::None", "resource_status": "CREATE_COMPLETE",
                "status_class": "ok", "required_by": list(required_by)}

    drawn = picture([res("net", ["subnet", "port"]), res("subnet", ["port"]), res("port"), res("alone")])
    x = {b["name"]: b["x"] for b in drawn["boxes"]}
    assert x["net"] == x["alone"] < x["subnet"] < x["port"]
    assert len(drawn["lines"]) == 3
    # a dependency loop (which Heat refuses anyway) still draws, rather than recursing forever
    assert len(picture([res("a", ["b"]), res("b", ["a"])])["boxes"]) == 2
    assert picture([])["boxes"] == []


def test_swift_html_faults_read_as_their_text():
    import httpx

    from onestack.dashboard.client import _fault_message

    resp = httpx.Response(409, text="<html><h1>Conflict</h1><p>There was a conflict.</p></html>")
    assert _fault_message(resp) == "Conflict There was a conflict."
    heat = httpx.Response(400, json={"code": 400, "title": "Bad Request", "explanation": "x",
                                     "error": {"message": "The Parameter (length) was invalid", "type": "X"}})
    assert _fault_message(heat) == "The Parameter (length) was invalid"


def test_an_older_catalog_name_for_block_storage_is_used_when_the_current_one_is_missing():
    from onestack.dashboard.client import Cloud

    def entry(kind, url):
        return {"type": kind, "endpoints": [{"interface": "public", "url": url}]}

    old = Cloud(None, "t", [entry("volumev3", "http://c/volume/v3/p")], None)
    assert old.has("block-storage") and old.endpoints["block-storage"] == "http://c/volume/v3/p"
    both = Cloud(None, "t", [entry("volumev3", "http://old/v3/p"), entry("block-storage", "http://new/v3/p")], None)
    assert both.endpoints["block-storage"] == "http://new/v3/p"
    assert not Cloud(None, "t", [entry("image", "http://c/image")], None).has("block-storage")
