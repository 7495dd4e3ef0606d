"""Host aggregates' availability zones, on a cloud of this module's own: whether a zone may be renamed
depends on whether servers run on its hosts, and on the worker's shared cloud other tests' servers may."""

from tests.api import test_compute_admin
from tests.api.helpers import name, nova, nova_error, ok
from tests.api.test_compute_admin import HOST1, HOST2, act, provider_aggregates, zone_of
from tests.cloudfixture import own_cloud

admin_nova, aggregate = test_compute_admin.admin_nova, test_compute_admin.aggregate
cloud = own_cloud("aggregate-zones")  # no server of another test runs on its hosts


def test_aggregate_zone_moves_its_hosts_and_is_mirrored_into_placement(cloud, admin_nova, aggregate):
    zone = name("az")
    agg_id = aggregate["id"]
    assert isinstance(agg_id, int) and aggregate["availability_zone"] is None and "hosts" not in aggregate
    act(admin_nova, agg_id, "set_metadata", {"metadata": {"availability_zone": zone, "ssd": "true"}})
    body = act(admin_nova, agg_id, "add_host", {"host": HOST1})["aggregate"]
    assert body["hosts"] == [HOST1] and body["availability_zone"] == zone
    assert body["metadata"] == {"availability_zone": zone, "ssd": "true"}
    assert zone_of(admin_nova, HOST1) == zone and zone_of(admin_nova, HOST2) == "nova"
    zones = ok(admin_nova.get("/os-availability-zone/detail"))["availabilityZoneInfo"]
    assert HOST1 in next(z for z in zones if z["zoneName"] == zone)["hosts"]
    with nova(cloud, version="2.41") as v241:
        agg_uuid = ok(v241.get(f"/os-aggregates/{agg_id}"))["aggregate"]["uuid"]
    assert agg_uuid in provider_aggregates(cloud, HOST1)
    assert "uuid" not in ok(admin_nova.get(f"/os-aggregates/{agg_id}"))["aggregate"]

    # Renaming the zone moves the member host with it (no server runs there: this cloud is the module's;
    # test_compute_admin.test_boot_lands_in_the_aggregate_zone shows the refusal when one does); removing
    # the host brings it back to nova.
    assert len(ok(admin_nova.get(f"/os-hosts/{HOST1}"))["host"]) == 3, "a server runs on the host"
    renamed = act(admin_nova, agg_id, "set_metadata", {"metadata": {"availability_zone": zone + "-b", "ssd": None}})
    assert renamed["aggregate"]["metadata"] == {"availability_zone": zone + "-b"}
    assert zone_of(admin_nova, HOST1) == zone + "-b"
    assert "not empty" in nova_error(admin_nova.delete(f"/os-aggregates/{agg_id}"), 400)
    act(admin_nova, agg_id, "remove_host", {"host": HOST1})
    assert zone_of(admin_nova, HOST1) == "nova"
    assert agg_uuid not in provider_aggregates(cloud, HOST1)
