"""Metadata definitions over HTTP: namespaces, resource types, objects, properties, tags, schemas, policy."""

import pytest

from tests.api.helpers import name, ok
from tests.api.test_images import as_member

NS = "/v2/metadefs/namespaces"


def new_namespace(glance, **body) -> dict:
    return ok(glance.post(NS, json={"namespace": name("ns"), **body}), 201)


def test_namespace_lifecycle_with_contents(glance):
    kinds = ok(glance.get("/v2/metadefs/resource_types"))["resource_types"]
    assert "OS::Glance::Image" in {k["name"] for k in kinds}
    made = new_namespace(glance, display_name="Hypervisor", visibility="public", protected=True,
                         resource_type_associations=[{"name": "OS::Glance::Image", "prefix": "hw_"}],
                         properties={"hypervisor": {"title": "Hypervisor", "type": "string", "enum": ["kvm", "qemu"]}},
                         objects=[{"name": "CPU", "required": ["cores"]}], tags=[{"name": "fast"}])
    ns = made["namespace"]
    assert made["self"] == f"{NS}/{ns}" and made["protected"] is True and made["owner"]
    shown = ok(glance.get(f"{NS}/{ns}"))
    assert shown["properties"]["hypervisor"]["enum"] == ["kvm", "qemu"]
    assert [o["name"] for o in shown["objects"]] == ["CPU"] and [t["name"] for t in shown["tags"]] == ["fast"]
    assert shown["resource_type_associations"][0] == {**shown["resource_type_associations"][0],
                                                      "name": "OS::Glance::Image", "prefix": "hw_"}
    listed = ok(glance.get(NS, params={"resource_types": "OS::Glance::Image"}))["namespaces"]
    assert ns in {n["namespace"] for n in listed}
    assert ns not in {n["namespace"] for n in ok(glance.get(NS, params={"resource_types": "OS::Nova::Flavor"}))[
        "namespaces"]}
    assert glance.post(NS, json={"namespace": ns}).status_code == 409
    assert glance.delete(f"{NS}/{ns}").status_code == 403  # protected
    updated = ok(glance.put(f"{NS}/{ns}", json={"namespace": ns, "visibility": "private", "protected": False}))
    assert updated["visibility"] == "private" and updated["protected"] is False
    ok(glance.delete(f"{NS}/{ns}"), 204)
    assert glance.get(f"{NS}/{ns}").status_code == 404


def test_namespace_pages_follow_their_next_links_with_the_filters_kept(glance):
    """Names such as ``OS::Compute::x`` are markers too: the next link quotes them and keeps the filters."""
    prefix = name("OS::Paged")
    made = sorted(new_namespace(glance, namespace=f"{prefix}::{i}", visibility="public")["namespace"]
                  for i in range(3))
    new_namespace(glance, namespace=f"{prefix}::private")  # filtered out by visibility=public
    seen, path = [], f"{NS}?visibility=public&sort_key=namespace&sort_dir=asc&limit=1"
    while path:
        page = ok(glance.get(path))
        seen += [n["namespace"] for n in page["namespaces"] if n["namespace"].startswith(prefix)]
        path = page.get("next")
    assert seen == made


def test_objects_properties_and_associations(glance):
    ns = new_namespace(glance)["namespace"]
    obj = ok(glance.post(f"{NS}/{ns}/objects", json={"name": "Disk", "description": "d",
                                                      "properties": {"size": {"title": "Size", "type": "integer"}}}), 201)
    assert obj["self"] == f"{NS}/{ns}/objects/Disk" and obj["properties"]["size"]["type"] == "integer"
    assert glance.post(f"{NS}/{ns}/objects", json={"name": "Disk"}).status_code == 409
    renamed = ok(glance.put(f"{NS}/{ns}/objects/Disk", json={"name": "Volume"}))
    assert renamed["name"] == "Volume" and "description" not in renamed
    assert [o["name"] for o in ok(glance.get(f"{NS}/{ns}/objects"))["objects"]] == ["Volume"]
    prop = ok(glance.post(f"{NS}/{ns}/properties", json={"name": "os", "title": "OS", "type": "string"}), 201)
    assert prop == {"name": "os", "title": "OS", "type": "string"}
    ok(glance.put(f"{NS}/{ns}/properties/os", json={"name": "os", "title": "Operating system", "type": "string"}))
    assert ok(glance.get(f"{NS}/{ns}/properties"))["properties"] == {"os": {"title": "Operating system",
                                                                            "type": "string"}}
    ok(glance.delete(f"{NS}/{ns}/properties/os"), 204)
    assert glance.get(f"{NS}/{ns}/properties/os").status_code == 404
    link = ok(glance.post(f"{NS}/{ns}/resource_types", json={"name": "OS::Nova::Flavor"}), 201)
    assert link["name"] == "OS::Nova::Flavor"
    assert glance.post(f"{NS}/{ns}/resource_types", json={"name": "OS::Nova::Flavor"}).status_code == 409
    ok(glance.delete(f"{NS}/{ns}/resource_types/OS::Nova::Flavor"), 204)
    assert ok(glance.get(f"{NS}/{ns}/resource_types"))["resource_type_associations"] == []
    ok(glance.delete(f"{NS}/{ns}/objects"), 204)
    assert ok(glance.get(f"{NS}/{ns}/objects"))["objects"] == []


def test_tags_bulk_single_and_append(glance):
    ns = new_namespace(glance)["namespace"]
    bulk = ok(glance.post(f"{NS}/{ns}/tags", json={"tags": [{"name": "a"}, {"name": "b"}]}), 201)
    assert bulk == {"tags": [{"name": "a"}, {"name": "b"}]}
    ok(glance.post(f"{NS}/{ns}/tags", json={"tags": [{"name": "c"}]}, headers={"X-Openstack-Append": "True"}), 201)
    assert [t["name"] for t in ok(glance.get(f"{NS}/{ns}/tags"))["tags"]] == ["a", "b", "c"]
    ok(glance.post(f"{NS}/{ns}/tags", json={"tags": [{"name": "z"}]}), 201)  # replaces without the header
    assert [t["name"] for t in ok(glance.get(f"{NS}/{ns}/tags"))["tags"]] == ["z"]
    assert ok(glance.post(f"{NS}/{ns}/tags/y"), 201)["name"] == "y"
    assert ok(glance.put(f"{NS}/{ns}/tags/y", json={"name": "w"}))["name"] == "w"
    assert ok(glance.get(f"{NS}/{ns}/tags/w"))["name"] == "w" and glance.get(f"{NS}/{ns}/tags/y").status_code == 404
    assert glance.post(f"{NS}/{ns}/tags", json={"tags": [{"name": "d"}, {"name": "d"}]}).status_code == 409
    ok(glance.delete(f"{NS}/{ns}/tags"), 204)
    assert ok(glance.get(f"{NS}/{ns}/tags"))["tags"] == []


@pytest.mark.parametrize("path,body", [
    (NS, {}), (NS, {"namespace": ""}), (NS, {"namespace": "x", "visibility": "shared"}),
    (NS, {"namespace": "x", "protected": "yes"}), (NS, {"namespace": "x", "surprise": 1}),
    ("{ns}/properties", {"name": "p", "type": "string"}), ("{ns}/properties", {"name": "p", "title": "P", "type": "blob"}),
    ("{ns}/objects", {"description": "no name"}), ("{ns}/tags", {"tags": "a"}), ("{ns}/resource_types", {})])
def test_malformed_metadef_bodies_are_400(glance, path, body):
    ns = new_namespace(glance)["namespace"]
    assert glance.post(path.replace("{ns}", f"{NS}/{ns}"), json=body).status_code == 400


def test_only_admins_manage_and_private_namespaces_stay_private(cloud, admin, glance):
    public = new_namespace(glance, visibility="public")["namespace"]
    private = new_namespace(glance)["namespace"]
    with as_member(cloud, admin) as member:
        assert ok(member.get(f"{NS}/{public}"))["namespace"] == public
        assert member.get(f"{NS}/{private}").status_code == 404
        names = {n["namespace"] for n in ok(member.get(NS, params={"limit": 1000}))["namespaces"]}
        assert public in names and private not in names
        assert member.post(NS, json={"namespace": name("ns")}).status_code == 403
        assert member.post(f"{NS}/{public}/tags/t").status_code == 403
        assert member.delete(f"{NS}/{public}").status_code == 403


def test_metadef_schemas(glance):
    expected = {"namespace": "namespace", "namespaces": "namespaces", "resource_type": "resource_type_association",
                "resource_types": "resource_type_associations", "object": "object", "objects": "objects",
                "property": "property", "properties": "properties", "tag": "tag", "tags": "tags"}
    for path, title in expected.items():
        assert ok(glance.get(f"/v2/schemas/metadefs/{path}"))["name"] == title
