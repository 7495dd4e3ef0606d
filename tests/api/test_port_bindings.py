"""Neutron's ``binding-extended``: ``/v2.0/ports/{port_id}/bindings``, through the network API as an
admin and as a project's member, with the port's own ``binding:host_id`` following the ACTIVE binding,
and the data plane's plan (read from the same database) plugging a tap where a binding is inactive."""

from __future__ import annotations

from sqlalchemy import select

from onestack.db.engine import Database
from onestack.services.network.models import PortBinding
from onestack.services.network.reconcile import desired
from tests.api.helpers import ok
from tests.api.network_helpers import error
from tests.unit.test_dataplane_plan import facts


def compute_port(tenant, nadmin, host: str | None = "host-a") -> dict:
    """A port of ``tenant`` as Nova leaves it: owned by an instance, bound to ``host`` by an admin."""
    port = tenant.port(tenant.network()["id"], device_owner="compute:nova", device_id="vm-1")
    if host is not None:
        ok(nadmin.put(f"/ports/{port['id']}", json={"port": {"binding:host_id": host}}))
    return port


def bindings(nadmin, port_id: str) -> list[tuple[str, str]]:
    return [(b["host"], b["status"]) for b in ok(nadmin.get(f"/ports/{port_id}/bindings"))["bindings"]]


def host_of(nadmin, port_id: str) -> str:
    return ok(nadmin.get(f"/ports/{port_id}"))["port"]["binding:host_id"]


def test_extension_is_listed(nadmin):
    found = ok(nadmin.get("/extensions/binding-extended"))["extension"]
    assert found["alias"] == "binding-extended" and found["name"] == "Port Bindings Extended"


def test_inactive_binding_then_activate_moves_the_port(tenant, nadmin):
    port = compute_port(tenant, nadmin)
    pid = port["id"]
    assert bindings(nadmin, pid) == [("host-a", "ACTIVE")]
    made = ok(nadmin.post(f"/ports/{pid}/bindings", json={"binding": {"host": "host-b", "profile": {"k": "v"}}}),
              201)["binding"]
    assert made == {"host": "host-b", "vif_type": "bridge", "vif_details": {"port_filter": True},
                    "vnic_type": "normal", "profile": {"k": "v"}, "status": "INACTIVE",
                    "project_id": tenant.project_id}
    assert bindings(nadmin, pid) == [("host-a", "ACTIVE"), ("host-b", "INACTIVE")]
    assert host_of(nadmin, pid) == "host-a"  # an inactive binding changes nothing yet
    shown = ok(nadmin.get(f"/ports/{pid}/bindings/host-b", params={"fields": "status"}))["binding"]
    assert shown == {"status": "INACTIVE"}
    assert [b["host"] for b in ok(nadmin.get(f"/ports/{pid}/bindings", params={"status": "INACTIVE"}))[
        "bindings"]] == ["host-b"]

    active = ok(nadmin.put(f"/ports/{pid}/bindings/host-b/activate"))["binding"]
    assert active["status"] == "ACTIVE" and active["host"] == "host-b" and active["profile"] == {"k": "v"}
    assert host_of(nadmin, pid) == "host-b"
    assert ok(nadmin.get(f"/ports/{pid}"))["port"]["binding:profile"] == {"k": "v"}
    assert bindings(nadmin, pid) == [("host-b", "ACTIVE"), ("host-a", "INACTIVE")]

    # Nova's clean-up after a live migration: the source's binding, inactive now, goes.
    assert nadmin.delete(f"/ports/{pid}/bindings/host-a").status_code == 204
    assert bindings(nadmin, pid) == [("host-b", "ACTIVE")]


def test_conflicts_and_missing(tenant, nadmin):
    pid = compute_port(tenant, nadmin)["id"]
    ok(nadmin.post(f"/ports/{pid}/bindings", json={"binding": {"host": "host-b"}}), 201)
    for host in ("host-a", "host-b"):  # one binding per host, active or not
        err = error(nadmin.post(f"/ports/{pid}/bindings", json={"binding": {"host": host}}), 409)
        assert err["type"] == "PortBindingAlreadyExists" and host in err["message"]
    err = error(nadmin.put(f"/ports/{pid}/bindings/host-a/activate"), 409)
    assert err["type"] == "PortBindingAlreadyActive"
    for resp in (nadmin.get(f"/ports/{pid}/bindings/host-z"), nadmin.put(f"/ports/{pid}/bindings/host-z/activate"),
                 nadmin.delete(f"/ports/{pid}/bindings/host-z"),
                 nadmin.put(f"/ports/{pid}/bindings/host-z", json={"binding": {"vnic_type": "normal"}})):
        assert error(resp, 404)["type"] == "PortBindingNotFound"
    missing = "00000000-0000-0000-0000-000000000000"
    assert error(nadmin.get(f"/ports/{missing}/bindings"), 404)["type"] == "PortNotFound"
    assert error(nadmin.post(f"/ports/{missing}/bindings", json={"binding": {"host": "h"}}), 404)["type"] == \
        "PortNotFound"
    # bad bodies: 400, never a 500
    assert error(nadmin.post(f"/ports/{pid}/bindings", json={"binding": {}}), 400)
    assert error(nadmin.post(f"/ports/{pid}/bindings", json={"host": "h"}), 400)
    assert error(nadmin.post(f"/ports/{pid}/bindings", json={"binding": {"host": "h", "vnic_type": "x"}}), 400)
    assert error(nadmin.post(f"/ports/{pid}/bindings", json={"binding": {"host": "h", "status": "ACTIVE"}}), 400)
    assert error(nadmin.get(f"/ports/{pid}/bindings", params={"nope": "1"}), 400)
    # the inactive binding's vnic_type and profile may change; the active one stays where it is
    changed = ok(nadmin.put(f"/ports/{pid}/bindings/host-b", json={"binding": {"profile": {"a": 1}}}))["binding"]
    assert changed["profile"] == {"a": 1} and changed["status"] == "INACTIVE"
    assert bindings(nadmin, pid) == [("host-a", "ACTIVE"), ("host-b", "INACTIVE")]


def test_only_compute_ports_and_unbound_ports(tenant, nadmin):
    plain = tenant.port(tenant.network()["id"])
    err = error(nadmin.post(f"/ports/{plain['id']}/bindings", json={"binding": {"host": "h"}}), 400)
    assert "compute" in err["message"]
    # a port bound nowhere: its first binding is the active one (as ML2 does)
    pid = compute_port(tenant, nadmin, host=None)["id"]
    assert bindings(nadmin, pid) == []
    made = ok(nadmin.post(f"/ports/{pid}/bindings", json={"binding": {"host": "host-c"}}), 201)["binding"]
    assert made["status"] == "ACTIVE" and host_of(nadmin, pid) == "host-c"
    # rebinding through the port API to a host with an inactive binding leaves one binding there
    ok(nadmin.post(f"/ports/{pid}/bindings", json={"binding": {"host": "host-d"}}), 201)
    ok(nadmin.put(f"/ports/{pid}", json={"port": {"binding:host_id": "host-d"}}))
    assert bindings(nadmin, pid) == [("host-d", "ACTIVE")]
    # deleting the active binding leaves the port bound nowhere
    assert nadmin.delete(f"/ports/{pid}/bindings/host-d").status_code == 204
    assert host_of(nadmin, pid) == "" and bindings(nadmin, pid) == []


def test_members_may_not_touch_bindings(tenant, other_tenant, nadmin):
    pid = compute_port(tenant, nadmin)["id"]
    ok(nadmin.post(f"/ports/{pid}/bindings", json={"binding": {"host": "host-b"}}), 201)
    http = tenant.http
    for resp in (http.get(f"/ports/{pid}/bindings"), http.get(f"/ports/{pid}/bindings/host-a"),
                 http.post(f"/ports/{pid}/bindings", json={"binding": {"host": "host-x"}}),
                 http.put(f"/ports/{pid}/bindings/host-b", json={"binding": {"profile": {}}}),
                 http.put(f"/ports/{pid}/bindings/host-b/activate"), http.delete(f"/ports/{pid}/bindings/host-b")):
        assert "port_binding" in error(resp, 403)["message"]
    # another project's member does not even learn that the port exists
    assert error(other_tenant.http.get(f"/ports/{pid}/bindings"), 404)["type"] == "PortNotFound"
    assert bindings(nadmin, pid) == [("host-a", "ACTIVE"), ("host-b", "INACTIVE")]


def plugged_on(db, host: str) -> tuple[set[str], set[str]]:
    """What ``host``'s data plane would do with guests' ports: the taps it plugs, the ports it reports."""
    with db.read() as session:
        plan = desired.plan(session, facts(host=host, tunnel_ip="192.0.2.9"))
        return {t.port_id for t in plan.taps}, {p.id for p in desired.managed_ports(session, host, False)}


def test_the_data_plane_plugs_ahead_where_a_binding_is_inactive_and_reports_where_it_is_active(tenant, nadmin,
                                                                                               cloud):
    db = Database(cloud.database or f"sqlite:///{cloud.data_dir / 'onestack.db'}")
    try:
        network = tenant.network()
        tenant.subnet(network)
        port = tenant.port(network["id"], device_owner="compute:nova", device_id="vm-dp")
        pid = port["id"]
        ok(nadmin.put(f"/ports/{pid}", json={"port": {"binding:host_id": "dp-source"}}))
        assert pid not in plugged_on(db, "dp-dest")[0]
        ok(nadmin.post(f"/ports/{pid}/bindings", json={"binding": {"host": "dp-dest"}}), 201)
        taps, reported = plugged_on(db, "dp-dest")
        assert pid in taps and pid not in reported  # pre-plugged, but its status is still the source's to say
        assert {pid} <= plugged_on(db, "dp-source")[1]
        ok(nadmin.put(f"/ports/{pid}/bindings/dp-dest/activate"))
        assert pid in plugged_on(db, "dp-dest")[1]
        assert pid not in plugged_on(db, "dp-source")[1]
        assert nadmin.delete(f"/ports/{pid}/bindings/dp-source").status_code == 204
        assert pid not in plugged_on(db, "dp-source")[0]  # unplugged from the source once its binding is gone
        ok(nadmin.post(f"/ports/{pid}/bindings", json={"binding": {"host": "dp-next"}}), 201)
        assert nadmin.delete(f"/ports/{pid}").status_code == 204  # its inactive bindings go with it
        with db.read() as session:
            assert session.scalars(select(PortBinding).where(PortBinding.port_id == pid)).all() == []
        assert pid not in plugged_on(db, "dp-next")[0]
    finally:
        db.dispose()
