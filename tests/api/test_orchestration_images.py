"""Image service resources in stacks: ``OS::Glance::WebImage`` (the image service fetches the data from a
URL itself, by web-download import), changed in place by an update, gone with its stack, its fetch failure
the stack's reason; and ``OS::Cinder::Volume`` made from an image, named by the template."""

import hashlib

from tests.api.helpers import ok
from tests.api.test_image_import import web  # noqa: F401 - the fixture serving the image's data

DATA = bytes(range(256)) * 256  # 64 KiB


def template(location: str, **image) -> dict:
    return {"heat_template_version": "2018-08-31",
            "resources": {
                "img": {"type": "OS::Glance::WebImage", "properties": {
                    "location": location, "disk_format": "raw", "container_format": "bare", "min_ram": 64,
                    "tags": ["web"], "extra_properties": {"purpose": "stack"}, **image}},
                "disk": {"type": "OS::Cinder::Volume", "properties": {"size": 1, "image": {"get_resource": "img"}}}},
            "outputs": {"status": {"value": {"get_attr": ["img", "status"]}},
                        "checksum": {"value": {"get_attr": ["img", "checksum"]}}}}


def test_a_web_image_is_fetched_updated_in_place_and_deleted_with_its_volume(heat, web):  # noqa: F811
    base, files = web
    files["/stack-disk.raw"] = DATA
    stack = heat.created(template(f"{base}/stack-disk.raw", name="from-the-web"))
    resources = heat.resources(stack)
    image_id, volume_id = resources["img"]["physical_resource_id"], resources["disk"]["physical_resource_id"]
    image = ok(heat.root.get(f"/image/v2/images/{image_id}"))
    assert (image["status"], image["name"], image["checksum"], image["min_ram"], image["tags"], image["purpose"]) == (
        "active", "from-the-web", hashlib.md5(DATA).hexdigest(), 64, ["web"], "stack")
    assert heat.output(stack, "checksum") == hashlib.md5(DATA).hexdigest()
    volume = ok(heat.root.get(f"/volume/v3/{heat.project_id}/volumes/{volume_id}"))["volume"]
    assert volume["status"] == "available" and volume["volume_image_metadata"]["image_id"] == image_id

    changed = template(f"{base}/stack-disk.raw", name="renamed", tags=["web", "two"],
                       extra_properties={"owner_team": "ops"})
    ok(heat.http.put(heat.path(stack), json={"template": changed}), 202)
    stack = heat.settle(stack)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert heat.resources(stack)["img"]["physical_resource_id"] == image_id  # in place, not replaced
    image = ok(heat.root.get(f"/image/v2/images/{image_id}"))
    assert (image["name"], sorted(image["tags"]), image["owner_team"], "purpose" in image) == (
        "renamed", ["two", "web"], "ops", False)

    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"
    assert heat.root.get(f"/image/v2/images/{image_id}").status_code == 404
    assert heat.root.get(f"/volume/v3/{heat.project_id}/volumes/{volume_id}").status_code == 404


def test_a_web_image_whose_data_cannot_be_fetched_fails_its_stack_with_the_reason(heat, web):  # noqa: F811
    base, _ = web
    stack = heat.create(template(f"{base}/no-such-disk.raw"), disable_rollback=True)
    stack = heat.settle(stack)
    assert stack["stack_status"] == "CREATE_FAILED"
    assert "no-such-disk.raw" in stack["stack_status_reason"], stack["stack_status_reason"]
    assert heat.resources(stack)["img"]["resource_status"] == "CREATE_FAILED"
    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"
