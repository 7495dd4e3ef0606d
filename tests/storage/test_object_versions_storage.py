"""Object versions on both databases: the hidden container, kept names with their separator, the listing of
versions and the counters, as the object service writes them (SQLite and PostgreSQL)."""

from onestack import registry
from onestack.config import Settings
from onestack.db.migrate import upgrade
from onestack.services.object.public import Query
from onestack.services.object.service import ObjectService, ObjectSpec, versioning

ACCOUNT = "AUTH_storage"


def put(svc, container, name, data):
    return svc.put_object(ACCOUNT, container, name, [data], ObjectSpec("text/plain", {}))


def test_versions_round_trip(db, tmp_path):
    upgrade(db, registry.METADATA)
    svc = ObjectService(db, Settings(data_dir=tmp_path))
    svc.put_container(ACCOUNT, "docs", {"X-Versions-Enabled": "yes"})
    ids = [put(svc, "docs", name, data).meta[versioning.VERSION_ID]
           for name, data in (("a", b"1"), ("a", b"22"), ("a/b", b"333"), ("ä", b"4444"))]
    marker = svc.delete_object(ACCOUNT, "docs", "a")
    _, page = svc.list_versions(ACCOUNT, "docs", Query(limit=100))
    assert [(v.entry.name, v.version_id, v.is_latest) for v in page] == [
        ("a", marker, True), ("a", ids[1], False), ("a", ids[0], False), ("a/b", ids[2], True), ("ä", ids[3], True)]
    assert b"".join(svc.read(svc.version(ACCOUNT, "docs", "a", ids[0]))) == b"1"
    # the hidden container is nobody's to list, its rows are counted in the account
    account, containers = svc.list_containers(ACCOUNT, Query(limit=100))
    assert [c.name for c in containers] == ["docs"] and account.container_count == 1
    assert (account.object_count, account.bytes_used) == (5, 10)
    svc.delete_version(ACCOUNT, "docs", "a", ids[0])
    _, page = svc.list_versions(ACCOUNT, "docs", Query(limit=2, marker="a"), version_marker=marker)
    assert [(v.entry.name, v.version_id) for v in page] == [("a", ids[1]), ("a/b", ids[2])]
    # a symlink kept as a version keeps its target
    svc.put_object(ACCOUNT, "docs", "link", iter(()), ObjectSpec("application/symlink", {
        "X-Object-Sysmeta-Symlink-Target": "docs/a%2Fb"}), length=0)
    put(svc, "docs", "link", b"plain now")
    _, page = svc.list_versions(ACCOUNT, "docs", Query(limit=100, prefix="link"))
    assert [v.entry.content_type for v in page] == ["text/plain", "application/symlink"]
    assert page[1].entry.meta["X-Object-Sysmeta-Symlink-Target"] == "docs/a%2Fb"


def test_a_symlink_lists_its_path(db, tmp_path):
    import orjson

    from onestack.services.object import views

    upgrade(db, registry.METADATA)
    svc = ObjectService(db, Settings(data_dir=tmp_path))
    svc.put_container(ACCOUNT, "links", {})
    svc.put_object(ACCOUNT, "links", "l", iter(()), ObjectSpec("application/symlink", {
        "X-Object-Sysmeta-Symlink-Target": "c/o", "X-Object-Sysmeta-Symlink-Target-Etag": "e",
        "X-Object-Sysmeta-Symlink-Target-Bytes": "3"}), length=0)
    _, entries = svc.list_objects(ACCOUNT, "links", Query(limit=10))
    listed = orjson.loads(views.container_listing(ACCOUNT, "links", entries, "json"))
    assert (listed[0]["symlink_path"], listed[0]["symlink_etag"], listed[0]["symlink_bytes"]) == \
        (f"/v1/{ACCOUNT}/c/o", "e", 3)
