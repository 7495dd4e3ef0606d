"""``deletion_policy: Snapshot`` over HTTP: a server's image and a volume's backup are made (and complete)
before the stack's delete removes them, and outlive the stack; a type with nothing to keep is a 400."""

from tests.api.helpers import ok
from tests.api.orchestration_helpers import fault


def test_snapshot_keeps_an_image_of_the_server_and_a_backup_of_the_volume(heat, heat_image):
    template = {
        "heat_template_version": "2018-08-31",
        "parameters": {"image": {"type": "string"}},
        "resources": {
            "net": {"type": "OS::Neutron::Net"},
            "subnet": {"type": "OS::Neutron::Subnet", "properties": {"network": {"get_resource": "net"},
                                                                     "cidr": "10.68.0.0/24"}},
            "server": {"type": "OS::Nova::Server", "deletion_policy": "Snapshot", "properties": {
                "image": {"get_param": "image"}, "flavor": "m1.tiny",
                "networks": [{"network": {"get_resource": "net"}}]}},
            "disk": {"type": "OS::Cinder::Volume", "deletion_policy": "Snapshot", "properties": {"size": 1}},
        },
    }
    stack = heat.created(template, parameters={"image": heat_image["id"]})
    resources = heat.resources(stack)
    server, volume = resources["server"]["physical_resource_id"], resources["disk"]["physical_resource_id"]
    assert heat.delete(stack, 180)["stack_status"] == "DELETE_COMPLETE"

    assert heat.root.get(f"/compute/v2.1/servers/{server}").status_code == 404
    assert heat.root.get(f"/volume/v3/{heat.project_id}/volumes/{volume}").status_code == 404
    # the listing holds other projects' public and shared images too (some without a name): only ours count
    images = [i for i in ok(heat.root.get("/image/v2/images"))["images"]
              if i["owner"] == heat.project_id and (i.get("name") or "").endswith("-snapshot")]
    assert len(images) == 1 and images[0]["status"] == "active", images
    assert images[0]["name"].startswith(f"{stack['stack_name']}-server-")
    backups = ok(heat.root.get(f"/volume/v3/{heat.project_id}/backups/detail"))["backups"]
    assert len(backups) == 1 and backups[0]["volume_id"] == volume and backups[0]["status"] == "available"
    # the kept copies are the owner's to use and remove
    ok(heat.root.delete(f"/image/v2/images/{images[0]['id']}"), 204)
    ok(heat.root.delete(f"/volume/v3/{heat.project_id}/backups/{backups[0]['id']}"), 202)


def test_snapshot_of_a_type_with_nothing_to_keep_is_refused(heat):
    template = {"heat_template_version": "2018-08-31", "resources": {
        "net": {"type": "OS::Neutron::Net", "deletion_policy": "Snapshot"}}}
    message = fault(heat.http.post("/stacks", json={"stack_name": "snap", "template": template}), 400)
    assert "resources.net: OS::Neutron::Net does not support deletion_policy Snapshot" in message
    assert ok(heat.http.get("/stacks"))["stacks"] == []
