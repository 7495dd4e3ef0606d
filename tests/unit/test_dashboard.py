"""The dashboard's pure parts: sessions on disk, redirects kept inside, rule templates, topology layout."""

from __future__ import annotations

import json
import stat
import time
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from starlette.requests import Request

from onestack.dashboard.client import ApiError
from onestack.dashboard.pages.admin import _assignment_row, _grant_path
from onestack.dashboard.pages.consoles import for_browser
from onestack.dashboard.pages.instance_detail import action_log, addresses, flavor_text
from onestack.dashboard.pages.instances import Room, launch_images, quota_room, resize_refusal, row
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
    assert devices["s1"].href == "/dashboard/instances/s1"  # its own page
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


def test_key_value_lines_are_read_once_and_a_line_without_equals_is_refused():
    form = Form([("specs", "a = 1\n\n b=x=y \n")])
    assert form.key_values("specs") == {"a": "1", "b": "x=y"}
    assert Form([]).key_values("specs") == {}
    for bad in ("no equals", "=value"):
        with pytest.raises(ApiError) as err:
            Form([("specs", bad)]).key_values("specs")
        assert err.value.status == 400 and "key=value" in err.value.message


def test_a_generated_private_key_waits_in_the_session_and_older_sessions_still_load(tmp_path):
    store = SessionStore(tmp_path)
    key, session = store.create(**_session_fields(60))
    session.private_keys["laptop"] = "-----BEGIN PRIVATE KEY-----"
    store.save(session)
    assert store.load(key).private_keys == {"laptop": "-----BEGIN PRIVATE KEY-----"}
    (path,) = tmp_path.glob("*.json")
    data = json.loads(path.read_text())
    del data["private_keys"]  # a session written before the field existed
    path.write_text(json.dumps(data))
    assert store.load(key).private_keys == {}


def _console_page(url: str, compute: str, rewrite=None):
    return SimpleNamespace(cloud=SimpleNamespace(endpoints={"compute": compute}),
                           dash=SimpleNamespace(config=SimpleNamespace(rewrite=rewrite)),
                           request=SimpleNamespace(url=urlsplit(url)))


@pytest.mark.parametrize(("console", "compute", "rewrite", "shown", "same"), [
    # this cloud, reached over loopback by the dashboard, seen by the browser under its public name
    ("ws://127.0.0.1:8774/console/websocket?token=t", "http://127.0.0.1:8774/compute/v2.1", None,
     "wss://cloud.example/console/websocket?token=t", True),
    ("http://cloud.example:8774/console/novnc/vnc_auto.html?path=x", "http://127.0.0.1:8774/compute/v2.1",
     ("http://cloud.example:8774", "http://127.0.0.1:8774"), "https://cloud.example/console/novnc/vnc_auto.html?path=x",
     True),
    # another cloud's console proxy on another site: left as it is, and not framed
    ("wss://consoles.other/websocket?token=t", "https://nova.other/v2.1", None, "wss://consoles.other/websocket?token=t",
     False),
])
def test_console_urls_are_rebased_on_the_browsers_address_when_the_cloud_serves_the_dashboard(
        console, compute, rewrite, shown, same):
    assert for_browser(_console_page("https://cloud.example/dashboard/x", compute, rewrite), console) == (shown, same)


def test_role_assignments_read_as_rows_and_grants_as_paths():
    row = _assignment_row({"group": {"id": "g1", "name": "ops"}, "role": {"id": "r1", "name": "reader"},
                           "scope": {"project": {"id": "p1", "name": "demo"}}})
    assert (row["actor_kind"], row["actor"], row["role"], row["scope_kind"], row["scope"]) == (
        "group", "ops", "reader", "project", "demo")
    system = _assignment_row({"user": {"id": "u1"}, "role": {"id": "r1"}, "scope": {"system": {"all": True}}})
    assert (system["scope_kind"], system["scope"], system["actor"]) == ("system", "system", "u1")
    inherited = _assignment_row({"user": {"id": "u1"}, "role": {"id": "r1"},
                                 "scope": {"project": {"id": "p1"}, "OS-INHERIT:inherited_to": "projects"}})
    assert inherited["inherited"]
    form = Form([("actor_kind", "group"), ("group", "g1"), ("role", "r1"), ("scope_kind", "project"),
                 ("scope_id", "p1")])
    assert _grant_path(form) == "/projects/p1/groups/g1/roles/r1"
    assert _grant_path(Form([("actor_kind", "user"), ("user", "u1"), ("role", "r1"), ("scope_kind", "system")])) == \
        "/system/users/u1/roles/r1"
    domain = Form([("actor_kind", "user"), ("user", "u1"), ("role", "r1"), ("scope_kind", "domain"), ("scope_id", "p1"),
                   ("domain_id", "default")])
    assert _grant_path(domain) == "/domains/default/users/u1/roles/r1"
    for bad in ([("actor_kind", "robot"), ("user", "u1"), ("role", "r1"), ("scope_id", "p1")],
                [("actor_kind", "user"), ("user", "u1"), ("role", "r1")],
                [("actor_kind", "user"), ("user", "u1"), ("role", "r1"), ("scope_kind", "../x"), ("scope_id", "p")],
                [("actor_kind", "user"), ("user", "u1"), ("role", "r1"), ("scope_id", "p1/../../x")]):
        with pytest.raises(ApiError):
            _grant_path(Form(bad))


def test_topology_leaves_room_for_create_here_buttons_and_a_new_network_bar():
    picture = layout([{"id": "n1", "name": "private", "status": "ACTIVE"}], [], [], [], "/dashboard")
    assert picture["bars_end"] < picture["height"] and picture["new_network_x"] > picture["bars"][0].x


def test_the_resize_form_disables_what_nova_would_refuse():
    flavor = {"original_name": "m1.small", "disk": 20, "vcpus": 1, "ram": 2048}
    image_backed, volume_backed = {"flavor": flavor, "image": {"id": "i"}}, {"flavor": flavor, "image": ""}
    sized = {"vcpus": 1, "ram": 2048}
    offered = {"name": "m1.small", "disk": 20, **sized}, {"name": "none", "disk": 0, **sized}, \
        {"name": "small", "disk": 1, **sized}, {"name": "big", "disk": 40, **sized}, \
        {"name": "huge", "disk": 40, "vcpus": 1, "ram": 999999}
    unlimited = Room(None, None)
    assert [resize_refusal(image_backed, f, unlimited) for f in offered] == [
        "the current flavor", "no root disk", "a smaller root disk", None, None]
    assert [resize_refusal(volume_backed, f, unlimited) for f in offered] == ["the current flavor", None, None, None, None]
    # the quota counts only what a resize adds: 1,000 MB of room holds a 2,048 MB server growing to 3,000
    room = quota_room({"limits": {"absolute": {"maxTotalCores": 20, "totalCoresUsed": 1,
                                               "maxTotalRAMSize": 3048, "totalRAMUsed": 2048}}})
    assert room == Room(19, 1000)
    grown = {"name": "grown", "disk": 40, "vcpus": 1, "ram": 3000}
    assert [resize_refusal(image_backed, f, room) for f in (grown, offered[-1])] == [None, "over quota"]


def test_the_launch_form_counts_instances_cores_and_ram_for_the_whole_count():
    room = quota_room({"limits": {"absolute": {"maxTotalCores": 4, "totalCoresUsed": 1, "maxTotalRAMSize": -1,
                                               "totalRAMUsed": 512, "maxTotalInstances": 3, "totalInstancesUsed": 1}}})
    assert room == Room(3, None, 2)
    one_cpu, two_cpus = {"vcpus": 1, "ram": 4096}, {"vcpus": 2, "ram": 64}
    assert [room.fits(one_cpu, n) for n in (1, 2, 3)] == [True, True, False]  # the third is one instance too many
    assert [room.fits(two_cpus, n) for n in (1, 2)] == [True, False]  # 4 vCPUs, 3 left
    full = Room(10, 10_000, 0)
    assert not full.fits({"vcpus": 1, "ram": 1}) and full.holds(1, 1)  # a resize adds no instance
    assert json.loads(room.as_json()) == {"cores": 3, "ram": None, "instances": 2}  # what the form's script reads


def test_an_instance_page_lists_every_address_and_the_newest_action_first():
    server = {"addresses": {"b-net": [{"addr": "10.0.0.5", "version": 4, "OS-EXT-IPS:type": "fixed",
                                       "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:01"},
                                      {"addr": "172.24.4.9", "version": 4, "OS-EXT-IPS:type": "floating",
                                       "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:01"}],
                          "a-net": [{"addr": "fd00::5", "version": 6}]}}
    assert [(a["network"], a["addr"], a["type"]) for a in addresses(server)] == [
        ("a-net", "fd00::5", ""), ("b-net", "10.0.0.5", "fixed"), ("b-net", "172.24.4.9", "floating")]
    assert addresses({"addresses": {}}) == [] and addresses({}) == []
    # listed as Nova lists them, newest first: two in the same second keep that order
    log = action_log([{"action": "start", "start_time": "2026-01-01T10:05:00.000000", "request_id": "req-9"},
                      {"action": "stop", "start_time": "2026-01-01T10:05:00.000000", "request_id": "req-2"},
                      {"action": "create", "start_time": "2026-01-01T10:00:00.000000", "request_id": "req-1"}])
    assert [a["action"] for a in log] == ["start", "stop", "create"]
    assert [a["action"] for a in action_log(log[::-1])] == ["stop", "start", "create"]  # only the times count
    assert flavor_text({"original_name": "m1.nano", "vcpus": 1, "ram": 128, "disk": 1}) == \
        "m1.nano — 1 vCPU, 128 MB RAM, 1 GB disk"
    assert flavor_text({"original_name": "e", "vcpus": 2, "ram": 64, "disk": 0, "ephemeral": 5}).endswith(
        "0 GB disk + 5 GB ephemeral")


def test_a_locked_instance_offers_its_owner_only_unlock_and_an_admin_everything():
    server = {"id": "s", "status": "ACTIVE", "locked": True, "flavor": {"original_name": "m1.nano"},
              "os-extended-volumes:volumes_attached": [{"id": "v"}]}
    held = row(server, {})
    assert held["held"] and [a for a, _ in held["actions"]] == ["unlock"]
    assert [f for f, _ in held["forms"]] == ["floating-ip"]
    admin = row(server, {}, overrides_lock=True)
    assert not admin["held"] and [a for a, _ in admin["actions"]][-2:] == ["unlock", "delete"]
    assert "stop" in [a for a, _ in admin["actions"]] and "resize" in [f for f, _ in admin["forms"]]
    free = row({**server, "locked": False}, {})
    assert [a for a, _ in free["actions"]][-2:] == ["lock", "delete"] and not free["held"]


def test_the_launch_form_puts_instance_snapshots_apart_from_images():
    found = launch_images([{"id": "1", "name": "web-snap", "image_type": "snapshot"}, {"id": "2", "name": "fedora"},
                           {"id": "3", "name": "cirros", "image_type": ""}, {"id": "4", "name": "nightly",
                                                                              "image_type": "backup"}])
    assert [(i["source_kind"], i["name"]) for i in found] == [
        ("Images", "cirros"), ("Images", "fedora"), ("Instance backups", "nightly"), ("Instance snapshots", "web-snap")]
