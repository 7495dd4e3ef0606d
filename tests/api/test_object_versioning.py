"""Object versioning with X-Versions-Enabled (Swift's object_versioning): version ids, ?versions listings,
?version-id reads and deletes, delete markers, suspension, and the rules around the legacy modes."""

MARKER = "application/x-deleted;swift_versions_deleted=1"


def versions(swift, c, **params):
    got = swift.http.get(f"/{c}", params={"versions": "", "format": "json", **params})
    assert got.status_code == 200, got.text
    return [(e["name"], e["version_id"], e["is_latest"], e["bytes"], e["content_type"]) for e in got.json()]


def test_every_write_is_a_version(cloud, swift):
    info = swift.http.get(f"{cloud.url}/object-store/info").json()
    assert "object_versioning" in info
    c = swift.container(**{"X-Versions-Enabled": "true"})
    assert swift.http.head(f"/{c}").headers["X-Versions-Enabled"] == "True"
    ids = [swift.put(f"/{c}/o", data, **{"X-Object-Meta-N": str(i)}).headers["X-Object-Version-Id"]
           for i, data in enumerate((b"one", b"two!", b"three"))]
    assert len(set(ids)) == 3 and ids == sorted(ids)
    got = swift.http.get(f"/{c}/o")
    assert got.content == b"three" and got.headers["X-Object-Version-Id"] == ids[2]
    assert got.headers["X-Timestamp"] == ids[2]
    first = swift.http.get(f"/{c}/o", params={"version-id": ids[0]})
    assert first.content == b"one" and first.headers["X-Object-Meta-N"] == "0"
    assert first.headers["X-Object-Version-Id"] == ids[0]
    # the container lists and counts only the current version; ?versions shows all, newest first
    listed = swift.http.get(f"/{c}", params={"format": "json"}).json()
    assert [(e["name"], e["bytes"]) for e in listed] == [("o", 5)]
    assert swift.http.head(f"/{c}").headers["X-Container-Object-Count"] == "1"
    assert versions(swift, c) == [("o", ids[2], True, 5, "application/octet-stream"),
                                  ("o", ids[1], False, 4, "application/octet-stream"),
                                  ("o", ids[0], False, 3, "application/octet-stream")]
    # the hidden container holding them is no client's to see
    assert [(e["name"], e["count"]) for e in swift.http.get("", params={"format": "json"}).json()] == [(c, 1)]
    assert swift.http.head("").headers["X-Account-Container-Count"] == "1"
    # a POST changes the current version's metadata, making no version
    assert swift.http.post(f"/{c}/o", headers={"X-Object-Meta-N": "posted"}).status_code == 202
    assert len(versions(swift, c)) == 3
    # DELETE leaves a delete marker, the latest version; the object is gone, its versions stay
    deleted = swift.http.delete(f"/{c}/o")
    assert deleted.status_code == 204
    marker = deleted.headers["X-Object-Version-Id"]
    assert swift.http.get(f"/{c}/o").status_code == 404
    assert versions(swift, c)[0] == ("o", marker, True, 0, MARKER)
    assert [v[1] for v in versions(swift, c)] == [marker, ids[2], ids[1], ids[0]]
    missing = swift.http.head(f"/{c}/o", params={"version-id": marker})
    assert missing.status_code == 404 and missing.headers["X-Object-Version-Id"] == marker
    assert swift.http.get(f"/{c}/o", params={"version-id": ids[2]}).content == b"three"
    # restore an old version by copying it onto the name: a new version
    restored = swift.http.request("COPY", f"/{c}/o", params={"version-id": ids[0]}, headers={"Destination": f"{c}/o"})
    assert restored.status_code == 201 and restored.headers["X-Copied-From-Version-Id"] == ids[0]
    assert swift.http.get(f"/{c}/o").content == b"one"
    assert len(versions(swift, c)) == 5


def test_deleting_versions_and_the_container(swift):
    c = swift.container(**{"X-Versions-Enabled": "True"})
    a = swift.put(f"/{c}/a", b"a1").headers["X-Object-Version-Id"]
    b = swift.put(f"/{c}/a", b"a2").headers["X-Object-Version-Id"]
    # deleting an older version touches nothing else
    assert swift.http.delete(f"/{c}/a", params={"version-id": a}).status_code == 204
    assert [v[1] for v in versions(swift, c)] == [b]
    assert swift.http.get(f"/{c}/a", params={"version-id": a}).status_code == 404
    # deleting the current version removes it for good: no older version takes its place
    swift.put(f"/{c}/a", b"a3")
    current = swift.http.head(f"/{c}/a").headers["X-Object-Version-Id"]
    assert swift.http.delete(f"/{c}/a", params={"version-id": current}).status_code == 204
    assert swift.http.get(f"/{c}/a").status_code == 404
    assert versions(swift, c) == [("a", b, False, 2, "application/octet-stream")]
    # a versioned container goes only once its versions are gone
    refused = swift.http.delete(f"/{c}")
    assert refused.status_code == 409 and "Delete all versions" in refused.text
    assert swift.http.delete(f"/{c}/a", params={"version-id": b}).status_code == 204
    assert swift.http.delete(f"/{c}").status_code == 204
    assert swift.http.head("").headers["X-Account-Object-Count"] == "0"
    assert swift.http.head("").headers["X-Account-Container-Count"] == "0"


def test_suspended_versioning_writes_null_versions(swift):
    c = swift.container(**{"X-Versions-Enabled": "true"})
    kept = swift.put(f"/{c}/o", b"versioned").headers["X-Object-Version-Id"]
    assert swift.http.post(f"/{c}", headers={"X-Versions-Enabled": "false"}).status_code == 204
    assert swift.http.head(f"/{c}").headers["X-Versions-Enabled"] == "False"
    assert "X-Object-Version-Id" not in swift.put(f"/{c}/o", b"null one").headers
    swift.put(f"/{c}/o", b"null two")  # replaces the null version
    assert versions(swift, c) == [("o", "null", True, 8, "application/octet-stream"),
                                  ("o", kept, False, 9, "application/octet-stream")]
    assert swift.http.get(f"/{c}/o", params={"version-id": "null"}).content == b"null two"
    # enabled again: the null version is kept under an id of its own when overwritten
    assert swift.http.post(f"/{c}", headers={"X-Versions-Enabled": "true"}).status_code == 204
    swift.put(f"/{c}/o", b"new")
    listed = versions(swift, c)
    assert [v[3] for v in listed] == [3, 8, 9] and "null" not in [v[1] for v in listed]


def test_versioning_requests_are_checked(swift):
    legacy = swift.container()
    c = swift.container(**{"X-Versions-Location": legacy})
    assert swift.http.post(f"/{c}", headers={"X-Versions-Enabled": "true"}).status_code == 400
    v = swift.container(**{"X-Versions-Enabled": "true"})
    assert swift.http.post(f"/{v}", headers={"X-History-Location": legacy}).status_code == 400
    swift.put(f"/{v}/o", b"x")
    assert swift.http.put(f"/{v}/o", content=b"y", params={"version-id": "1"}).status_code == 400
    assert swift.http.post(f"/{v}/o", params={"version-id": "1"}).status_code == 400
    assert swift.http.get(f"/{v}/o", params={"version-id": "not-a-version"}).status_code == 400
    assert swift.http.get(f"/{v}/o", params={"version-id": "1234567890.12345"}).status_code == 404
    assert swift.http.get(f"/{v}", params={"versions": "", "version_marker": "1"}).status_code == 400
    # a name is kept with its version id: one too long to be versioned is refused, nothing written
    long = "n" * 1020
    assert swift.http.put(f"/{v}/{long}", content=b"x").status_code == 400
    assert swift.http.put(f"/{legacy}/{long}", content=b"x").status_code == 201  # unversioned: fine
    assert swift.http.head(f"/{v}").headers["X-Container-Object-Count"] == "1"


def test_versions_listing_pages_by_marker_and_version_marker(swift):
    c = swift.container(**{"X-Versions-Enabled": "true"})
    for name in ("a", "b", "dir/c"):
        for data in (b"1", b"22"):
            swift.put(f"/{c}/{name}", data)
    swift.http.delete(f"/{c}/b")
    everything = versions(swift, c)
    assert [(n, latest) for n, _, latest, _, _ in everything] == [
        ("a", True), ("a", False), ("b", True), ("b", False), ("b", False), ("dir/c", True), ("dir/c", False)]
    pages, marker, version_marker = [], None, None
    while True:
        params = {"limit": "2"}
        if marker:
            params.update(marker=marker, version_marker=version_marker)
        page = versions(swift, c, **params)
        if not page:
            break
        pages += page
        marker, version_marker = page[-1][0], page[-1][1]
    assert pages == everything
    folded = swift.http.get(f"/{c}", params={"versions": "", "format": "json", "delimiter": "/"}).json()
    assert [e.get("subdir") or e["name"] for e in folded] == ["a", "a", "b", "b", "b", "dir/"]
    assert versions(swift, c, prefix="dir/") == everything[5:]


def test_an_expiring_object_leaves_its_version(swift):
    from tests.api.helpers import wait

    c = swift.container(**{"X-Versions-Enabled": "true"})
    first = swift.put(f"/{c}/o", b"kept", **{"X-Delete-After": "1000"}).headers["X-Object-Version-Id"]
    soon = swift.put(f"/{c}/o", b"soon", **{"X-Delete-After": "1"}).headers["X-Object-Version-Id"]
    # the expirer removes the current object; its version stays, and versions never expire
    wait(lambda: swift.http.head(f"/{c}").headers["X-Container-Object-Count"] == "0", 10, "the expirer")
    assert swift.http.get(f"/{c}/o").status_code == 404
    assert [(v[1], v[2]) for v in versions(swift, c)] == [(soon, False), (first, False)]
    kept = swift.http.get(f"/{c}/o", params={"version-id": soon})
    assert kept.content == b"soon" and "X-Delete-At" not in kept.headers
