"""Compute's admin APIs over HTTP: host aggregates and the zones they make, os-hosts, usage, audit log,
migrations, diagnostics, external events, services and hypervisors by microversion, extensions."""

import socket
import time
import uuid

import httpx
import pytest

from tests.api.helpers import member_of_new_project, name, nova, nova_error, ok
from tests.api.test_servers import boot, image_id, tenant, wait  # noqa: F401  (fixtures used by name)

HOST1, HOST2 = (f"{socket.gethostname()}-fake-{i}" for i in (1, 2))


@pytest.fixture
def admin_nova(cloud):
    with nova(cloud) as client:
        yield client


@pytest.fixture
def member_token(cloud, admin):
    return member_of_new_project(cloud, admin)[2]


def zone_of(admin_nova, host: str) -> str:
    hosts = ok(admin_nova.get("/os-hosts"))["hosts"]
    return next(h["zone"] for h in hosts if h["host_name"] == host)


def provider_aggregates(cloud, host: str) -> list[str]:
    with httpx.Client(base_url=f"{cloud.url}/placement", timeout=30,
                      headers={"X-Auth-Token": cloud.token(), "OpenStack-API-Version": "placement 1.19"}) as p:
        (provider,) = ok(p.get("/resource_providers", params={"name": host}))["resource_providers"]
        return ok(p.get(f"/resource_providers/{provider['uuid']}/aggregates"))["aggregates"]


@pytest.fixture
def aggregate(admin_nova):
    """A fresh aggregate; hosts left in it are taken out again so zones return to ``nova``."""
    made = ok(admin_nova.post("/os-aggregates", json={"aggregate": {"name": name("agg")}}))["aggregate"]
    yield made
    for host in ok(admin_nova.get(f"/os-aggregates/{made['id']}"))["aggregate"]["hosts"]:
        admin_nova.post(f"/os-aggregates/{made['id']}/action", json={"remove_host": {"host": host}})
    admin_nova.delete(f"/os-aggregates/{made['id']}")


def act(admin_nova, aggregate_id, action: str, args: dict, status: int = 200) -> dict:
    return ok(admin_nova.post(f"/os-aggregates/{aggregate_id}/action", json={action: args}), status)


# -- aggregates ---------------------------------------------------------------------------------------
def test_aggregate_conflicts_and_missing_things(cloud, admin_nova, aggregate, member_token):
    agg_id = aggregate["id"]
    nova_error(admin_nova.post("/os-aggregates", json={"aggregate": {"name": aggregate["name"]}}), 409)
    nova_error(admin_nova.post("/os-aggregates", json={"aggregate": {"name": ""}}), 400)
    nova_error(admin_nova.post("/os-aggregates", json={"aggregate": {"name": "a" * 256}}), 400)
    nova_error(admin_nova.get("/os-aggregates/-1"), 404)
    nova_error(admin_nova.delete("/os-aggregates/999999"), 404)
    nova_error(admin_nova.get("/os-aggregates/99999999999999999999"), 404)
    act(admin_nova, agg_id, "add_host", {"host": HOST2})
    assert "already has host" in nova_error(admin_nova.post(f"/os-aggregates/{agg_id}/action",
                                                            json={"add_host": {"host": HOST2}}), 409)
    nova_error(admin_nova.post(f"/os-aggregates/{agg_id}/action", json={"add_host": {"host": "no-such-host"}}), 404)
    nova_error(admin_nova.post(f"/os-aggregates/{agg_id}/action", json={"remove_host": {"host": HOST1}}), 404)
    # A host may not sit in two zones at once.
    zoned = ok(admin_nova.post("/os-aggregates", json={"aggregate": {"name": name("agg"),
                                                                     "availability_zone": name("az")}}))
    zoned_id = zoned["aggregate"]["id"]
    try:
        act(admin_nova, agg_id, "set_metadata", {"metadata": {"availability_zone": name("az")}})
        nova_error(admin_nova.post(f"/os-aggregates/{zoned_id}/action", json={"add_host": {"host": HOST2}}), 409)
        renamed = ok(admin_nova.put(f"/os-aggregates/{zoned_id}", json={"aggregate": {"name": name("agg2")}}))
        assert renamed["aggregate"]["updated_at"] is not None
    finally:
        ok(admin_nova.delete(f"/os-aggregates/{zoned_id}"))
    with nova(cloud, member_token) as member:
        nova_error(member.get("/os-aggregates"), 403)
        nova_error(member.post("/os-aggregates", json={"aggregate": {"name": name("agg")}}), 403)


def test_boot_lands_in_the_aggregate_zone(admin_nova, aggregate, tenant, image_id):  # noqa: F811
    zone = name("az")
    act(admin_nova, aggregate["id"], "set_metadata", {"metadata": {"availability_zone": zone}})
    act(admin_nova, aggregate["id"], "add_host", {"host": HOST2})
    server = wait(tenant, boot(tenant, image_id, availability_zone=zone)["id"], "ACTIVE", "ERROR")
    assert server["OS-EXT-AZ:availability_zone"] == zone
    assert ok(admin_nova.get(f"/servers/{server['id']}"))["server"]["OS-EXT-SRV-ATTR:host"] == HOST2
    # A zone name of a host with servers cannot be changed under them.
    nova_error(admin_nova.post(f"/os-aggregates/{aggregate['id']}/action",
                               json={"set_metadata": {"metadata": {"availability_zone": name("az")}}}), 400)
    ok(tenant.delete(f"/servers/{server['id']}"), 204)
    wait_gone(tenant, server["id"])


def wait_gone(client, server_id):
    for _ in range(300):
        if client.get(f"/servers/{server_id}").status_code == 404:
            return
        time.sleep(0.1)
    raise AssertionError(f"server {server_id} was not deleted")


# -- os-hosts -------------------------------------------------------------------------------------------
def test_os_hosts(cloud, admin_nova, member_token):
    hosts = ok(admin_nova.get("/os-hosts"))["hosts"]
    assert {h["host_name"] for h in hosts} >= {HOST1, HOST2}
    assert all(h["service"] == "compute" for h in hosts)
    assert ok(admin_nova.get("/os-hosts", params={"zone": "nova"}))["hosts"]
    assert ok(admin_nova.get("/os-hosts", params={"zone": "xxx"}))["hosts"] == []
    assert len(ok(admin_nova.get("/os-hosts", params={"zone": ""}))["hosts"]) == len(hosts)
    resources = ok(admin_nova.get(f"/os-hosts/{HOST1}"))["host"]
    assert [r["resource"]["project"] for r in resources[:3]] == ["(total)", "(used_now)", "(used_max)"]
    assert resources[0]["resource"]["cpu"] > 0 and resources[0]["resource"]["host"] == HOST1
    nova_error(admin_nova.get("/os-hosts/nonexistent"), 404)
    nova_error(admin_nova.put(f"/os-hosts/{HOST1}", json={}), 400)
    nova_error(admin_nova.put(f"/os-hosts/{HOST1}", json={"status": "invalid"}), 400)
    nova_error(admin_nova.put("/os-hosts/nonexistent", json={"status": "enable"}), 404)
    assert ok(admin_nova.put(f"/os-hosts/{HOST1}", json={"status": "enable", "maintenance_mode": "disable"})) == {
        "host": HOST1, "status": "enabled", "maintenance_mode": "off_maintenance"}
    assert ok(admin_nova.get(f"/os-hosts/{HOST1}/reboot")) == {"host": HOST1, "power_action": "reboot"}
    nova_error(admin_nova.get("/os-hosts/nonexistent/startup"), 404)
    with nova(cloud, member_token) as member:
        nova_error(member.get("/os-hosts"), 403)
        nova_error(member.get(f"/os-hosts/{HOST1}/shutdown"), 403)
    with nova(cloud, version="2.43") as v243:
        nova_error(v243.get("/os-hosts"), 404)


# -- usage and the audit log -----------------------------------------------------------------------------
def test_simple_tenant_usage(cloud, admin_nova, tenant, image_id):  # noqa: F811
    server = wait(tenant, boot(tenant, image_id)["id"], "ACTIVE")
    period = {"start": "2020-01-01T00:00:00", "end": "2999-01-01T00:00:00.000000"}
    listed = ok(admin_nova.get("/os-simple-tenant-usage", params={**period, "detailed": "1"}))["tenant_usages"]
    mine = next(u for u in listed if u["tenant_id"] == tenant.project_id)
    assert len(mine) == 8 and mine["total_hours"] > 0
    (usage,) = mine["server_usages"]
    assert usage["instance_id"] == server["id"] and usage["flavor"] == "m1.tiny" and usage["vcpus"] == 1
    assert usage["state"] == "active" and usage["ended_at"] is None
    assert mine["total_memory_mb_usage"] == pytest.approx(mine["total_hours"] * usage["memory_mb"])
    brief = ok(admin_nova.get("/os-simple-tenant-usage", params=period))["tenant_usages"]
    assert "server_usages" not in next(u for u in brief if u["tenant_id"] == tenant.project_id)
    # A project member may read its own project's usage, not everybody's.
    shown = ok(tenant.get(f"/os-simple-tenant-usage/{tenant.project_id}", params=period))["tenant_usage"]
    assert shown["server_usages"][0]["instance_id"] == server["id"]
    nova_error(tenant.get("/os-simple-tenant-usage", params=period), 403)
    nova_error(admin_nova.get(f"/os-simple-tenant-usage/{tenant.project_id}",
                              params={"start": period["end"], "end": period["start"]}), 400)
    nova_error(admin_nova.get("/os-simple-tenant-usage", params={"start": "yesterday"}), 400)
    before = ok(admin_nova.get(f"/os-simple-tenant-usage/{tenant.project_id}",
                               params={"start": "2020-01-01T00:00:00", "end": "2020-02-01T00:00:00"}))
    assert before["tenant_usage"] == {}


def test_instance_usage_audit_log(cloud, admin_nova, member_token):
    logs = ok(admin_nova.get("/os-instance_usage_audit_log"))["instance_usage_audit_logs"]
    assert logs["num_hosts"] >= 2 and set(logs["hosts_not_run"]) >= {HOST1, HOST2}
    one = ok(admin_nova.get("/os-instance_usage_audit_log/2024-03-15%2010:00:00"))["instance_usage_audit_log"]
    assert (one["period_beginning"], one["period_ending"]) == ("2024-02-01 00:00:00", "2024-03-01 00:00:00")
    assert "Invalid timestamp" in nova_error(admin_nova.get("/os-instance_usage_audit_log/invalid_time"), 400)
    with nova(cloud, member_token) as member:
        nova_error(member.get("/os-instance_usage_audit_log"), 403)


# -- migrations, diagnostics, external events -------------------------------------------------------------
def test_migrations_list(cloud, admin_nova, member_token):
    # a server no one moved (other tests on this shared cloud move theirs on HOST1)
    unmoved = {"host": HOST1, "instance_uuid": str(uuid.uuid4())}
    assert ok(admin_nova.get("/os-migrations", params=unmoved))["migrations"] == []
    with nova(cloud, version="2.59") as v259:
        nova_error(v259.get("/os-migrations", params={"marker": str(uuid.uuid4())}), 400)
    with nova(cloud, member_token) as member:
        nova_error(member.get("/os-migrations"), 403)


def test_server_diagnostics(cloud, admin_nova, tenant, image_id):  # noqa: F811
    server = wait(tenant, boot(tenant, image_id)["id"], "ACTIVE")
    old = ok(admin_nova.get(f"/servers/{server['id']}/diagnostics"))
    assert old == {"memory": 512 * 1024}
    with nova(cloud, version="2.48") as v248:
        new = ok(v248.get(f"/servers/{server['id']}/diagnostics"))
    assert new["state"] == "running" and new["memory_details"] == {"maximum": 512, "used": None}
    assert new["num_cpus"] == 1 and len(new["nic_details"]) == 1
    assert (new["driver"], new["hypervisor"]) == ("libvirt", "fake")  # Nova's API knows a fixed few drivers
    nova_error(tenant.get(f"/servers/{server['id']}/diagnostics"), 403)
    nova_error(admin_nova.get(f"/servers/{uuid.uuid4()}/diagnostics"), 404)


def test_server_external_events(cloud, admin_nova, tenant, image_id):  # noqa: F811
    server = wait(tenant, boot(tenant, image_id)["id"], "ACTIVE")
    known = {"name": "network-vif-plugged", "server_uuid": server["id"], "tag": "port-1"}
    unknown = {"name": "network-changed", "server_uuid": str(uuid.uuid4())}
    assert ok(admin_nova.post("/os-server-external-events", json={"events": [known]}))["events"] == [
        {**known, "status": "completed", "code": 200}]
    mixed = ok(admin_nova.post("/os-server-external-events", json={"events": [known, unknown]}), 207)["events"]
    assert [e["code"] for e in mixed] == [200, 404] and mixed[1]["status"] == "failed"
    nova_error(admin_nova.post("/os-server-external-events", json={"events": [unknown]}), 404)
    nova_error(admin_nova.post("/os-server-external-events", json={"events": [{**known, "name": "bogus"}]}), 400)
    nova_error(tenant.post("/os-server-external-events", json={"events": [known]}), 403)


# -- services and hypervisors by microversion, extensions, versions, metadata quota ------------------------
def test_services_and_hypervisors_by_microversion(cloud, admin_nova):
    services = ok(admin_nova.get("/os-services", params={"binary": "nova-compute"}))["services"]
    assert all(isinstance(s["id"], int) for s in services) and "forced_down" not in services[0]
    assert ok(admin_nova.get("/os-services", params={"binary": "xxx", "host": HOST1}))["services"] == []
    hypervisors = ok(admin_nova.get("/os-hypervisors"))["hypervisors"]
    first = next(h for h in hypervisors if h["hypervisor_hostname"] == HOST1)
    assert isinstance(first["id"], int)
    assert ok(admin_nova.get(f"/os-hypervisors/{first['id']}"))["hypervisor"]["hypervisor_hostname"] == HOST1
    assert " up " in ok(admin_nova.get(f"/os-hypervisors/{first['id']}/uptime"))["hypervisor"]["uptime"]
    found = ok(admin_nova.get(f"/os-hypervisors/{HOST1}/search"))["hypervisors"]
    assert [h["hypervisor_hostname"] for h in found] == [HOST1]
    assert ok(admin_nova.get(f"/os-hypervisors/{HOST1}/servers"))["hypervisors"]
    nova_error(admin_nova.get("/os-hypervisors/nonexistent/search"), 404)
    nova_error(admin_nova.get("/os-hypervisors/99999999999999999999"), 404)
    with nova(cloud, version="2.11") as v211:
        assert ok(v211.get("/os-services"))["services"][0]["forced_down"] is False
    with nova(cloud, version="2.53") as v253:
        service = next(s for s in ok(v253.get("/os-services"))["services"] if s["host"] == HOST2)
        assert uuid.UUID(service["id"])
        changed = ok(v253.put(f"/os-services/{service['id']}", json={"status": "disabled",
                                                                    "disabled_reason": "maintenance"}))
        assert changed["service"]["status"] == "disabled" and changed["service"]["disabled_reason"] == "maintenance"
        ok(v253.put(f"/os-services/{service['id']}", json={"status": "enabled"}))
        nova_error(v253.put(f"/os-services/{uuid.uuid4()}", json={"status": "enabled"}), 404)
        nova_error(v253.get(f"/os-hypervisors/{HOST1}/search"), 404)
        listed = ok(v253.get("/os-hypervisors", params={"hypervisor_hostname_pattern": HOST1}))["hypervisors"]
        assert [h["hypervisor_hostname"] for h in listed] == [HOST1] and uuid.UUID(listed[0]["id"])
    with nova(cloud, version="2.88") as v288:
        shown = ok(v288.get(f"/os-hypervisors/{listed[0]['id']}"))["hypervisor"]
        assert "vcpus" not in shown and " up " in shown["uptime"] and shown["cpu_info"] == {}
        nova_error(v288.get("/os-hypervisors/statistics"), 404)


def test_extensions_and_legacy_version_document(cloud, admin_nova):
    extensions = ok(admin_nova.get("/extensions"))["extensions"]
    assert "Hosts" in [e["name"] for e in extensions]
    assert ok(admin_nova.get("/extensions/os-consoles"))["extension"]["alias"] == "os-consoles"
    nova_error(admin_nova.get("/extensions/os-nothing"), 404)
    listed = httpx.get(f"{cloud.url}/compute/").json()["versions"]
    v20_self = next(link for link in listed[0]["links"] if link["rel"] == "self")
    followed = httpx.get(v20_self["href"], headers={"X-Auth-Token": cloud.token()}).json()["version"]
    assert followed["id"] == "v2.0" and v20_self in followed["links"]


def test_server_metadata_over_the_limit_is_refused(tenant, image_id):  # noqa: F811
    allowed = ok(tenant.get("/limits"))["limits"]["absolute"]["maxServerMeta"]
    body = {"server": {"name": name("vm"), "imageRef": image_id, "flavorRef": "1",
                       "networks": [{"uuid": tenant.network_id}],
                       "metadata": {str(i): str(i) for i in range(allowed + 1)}}}
    assert "metadata" in nova_error(tenant.post("/servers", json=body), 403)
