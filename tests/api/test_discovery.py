import httpx
import pytest


def test_identity_root_is_multiple_choices(cloud):
    resp = httpx.get(f"{cloud.url}/identity/")
    assert resp.status_code == 300
    version = resp.json()["versions"]["values"][0]
    assert version["id"].startswith("v3.")
    assert version["status"] == "stable"
    assert version["links"][0]["href"] == f"{cloud.url}/identity/v3/"


def test_identity_v3_document(cloud):
    body = httpx.get(f"{cloud.url}/identity/v3").json()
    assert body["version"]["media-types"][0]["type"] == "application/vnd.openstack.identity-v3+json"


@pytest.mark.parametrize("prefix, status", [("/compute/", 200), ("/placement/", 200), ("/network/", 200),
                                            ("/image/", 300), ("/volume/", 300), ("/orchestration/", 300)])
def test_every_service_root_answers_discovery(cloud, prefix, status):
    resp = httpx.get(cloud.url + prefix)
    assert resp.status_code == status
    assert resp.json()["versions"]


def test_every_response_carries_a_request_id(cloud):
    for path in ("/identity/v3", "/identity/v3/users", "/nowhere"):
        rid = httpx.get(cloud.url + path).headers["x-openstack-request-id"]
        assert rid.startswith("req-") and len(rid) == 40


def test_catalog_lists_every_service_type(cloud, admin):
    token = admin.headers["X-Auth-Token"]
    body = httpx.get(f"{cloud.auth_url}/v3/auth/catalog", headers={"X-Auth-Token": token}).json()
    types = {s["type"] for s in body["catalog"]}
    assert types >= {"identity", "compute", "placement", "network", "image", "block-storage", "object-store",
                     "orchestration"}
    urls = {s["type"]: s["endpoints"][0]["url"] for s in body["catalog"]}
    assert urls["identity"] == cloud.auth_url
    assert urls["compute"] == f"{cloud.url}/compute/v2.1"
    assert "$(" not in urls["object-store"] and "/object-store/v1/AUTH_" in urls["object-store"]


def test_trailing_slashes(cloud, admin):
    # Keystone routes /things/ as /things (Tempest lists trusts that way); Glance answers 404.
    assert admin.get("/projects/").status_code == 200
    assert httpx.get(f"{cloud.url}/identity/v3/").status_code == 200
    token = admin.headers["X-Auth-Token"]
    assert httpx.get(f"{cloud.url}/image/v2/images/", headers={"X-Auth-Token": token}).status_code == 404
