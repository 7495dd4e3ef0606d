"""Account quotas (the reseller's) and container quotas (the owner's): a write past them is a 413."""

from tests.api.helpers import grant, make_user
from tests.api.object_helpers import client


def reseller(cloud, admin, swift):
    user = make_user(admin)
    grant(admin, swift.project["id"], user["id"], "ResellerAdmin")
    return client(cloud, swift.name, cloud.token(user["name"], "secret-pass-1", swift.project["name"]))


def test_account_quota_is_set_by_the_reseller_and_enforced(cloud, admin, swift):
    assert swift.http.post("", headers={"X-Account-Meta-Quota-Bytes": "20"}).status_code == 403
    boss = reseller(cloud, admin, swift)
    assert boss.post("", headers={"X-Account-Meta-Quota-Bytes": "twenty"}).status_code == 400
    assert boss.post("", headers={"X-Account-Meta-Quota-Bytes": "20"}).status_code == 204
    assert swift.http.head("").headers["X-Account-Meta-Quota-Bytes"] == "20"
    c = swift.container()
    swift.put(f"/{c}/ten", b"0123456789")
    over = swift.http.put(f"/{c}/more", content=b"x" * 11)
    assert over.status_code == 413 and "Upload exceeds quota." in over.text
    chunked = swift.http.put(f"/{c}/chunked", content=iter([b"x" * 6, b"x" * 6]))
    assert chunked.status_code == 413
    assert swift.http.put(f"/{c}/fits", content=b"x" * 10).status_code == 201
    copy = swift.http.put(f"/{c}/copy", content=b"", headers={"X-Copy-From": f"{c}/ten"})
    assert copy.status_code == 413
    assert swift.http.head("").headers["X-Account-Bytes-Used"] == "20"
    assert swift.http.post("", headers={"X-Remove-Account-Meta-Quota-Bytes": "x"}).status_code == 403
    assert boss.post("", headers={"X-Remove-Account-Meta-Quota-Bytes": "x"}).status_code == 204
    assert swift.http.put(f"/{c}/more", content=b"x" * 11).status_code == 201


def test_account_object_count_quota_is_the_resellers(cloud, admin, swift):
    c = swift.container()
    swift.put(f"/{c}/one", b"1")
    assert swift.http.post("", headers={"X-Account-Quota-Count": "1"}).status_code == 403
    boss = reseller(cloud, admin, swift)
    assert boss.post("", headers={"X-Account-Quota-Count": "one"}).status_code == 400
    assert boss.post("", headers={"X-Account-Quota-Count": "1"}).status_code == 204
    full = swift.http.put(f"/{c}/two", content=b"2")
    assert full.status_code == 413 and "Upload exceeds quota." in full.text
    assert swift.http.head("").headers["X-Account-Object-Count"] == "1"
    assert boss.post("", headers={"X-Remove-Account-Quota-Count": "x"}).status_code == 204
    assert swift.http.put(f"/{c}/two", content=b"2").status_code == 201


def test_container_quotas_on_bytes_and_count(swift):
    assert swift.http.put(f"/{swift.container()}x", headers={"X-Container-Meta-Quota-Bytes": "-1"}).status_code == 400
    c = swift.container(**{"X-Container-Meta-Quota-Bytes": "10", "X-Container-Meta-Quota-Count": "2"})
    assert swift.http.put(f"/{c}/a", content=b"x" * 11).status_code == 413
    swift.put(f"/{c}/a", b"x" * 4)
    swift.put(f"/{c}/b", b"x" * 4)
    full = swift.http.put(f"/{c}/c", content=b"x")
    assert full.status_code == 413 and "Upload exceeds quota." in full.text
    assert swift.http.post(f"/{c}", headers={"X-Container-Meta-Quota-Count": "many"}).status_code == 400
    assert swift.http.post(f"/{c}", headers={"X-Remove-Container-Meta-Quota-Count": "x"}).status_code == 204
    assert swift.http.put(f"/{c}/c", content=b"xx").status_code == 201
    assert swift.http.put(f"/{c}/d", content=b"xxx").status_code == 413
    assert swift.http.get(f"/{c}").text.split() == ["a", "b", "c"]
