"""Object versioning: X-Versions-Location (stack) and X-History-Location (history), Swift's way."""

import httpx

from tests.api.helpers import grant, make_user
from tests.api.object_helpers import client


def versions_of(swift, archive, name):
    listed = swift.http.get(f"/{archive}", params={"format": "json", "prefix": f"{len(name.encode()):03x}{name}/"})
    return [(e["name"], e["bytes"], e["content_type"]) for e in listed.json()] if listed.status_code == 200 else []


def test_stack_mode_keeps_and_restores_versions(swift):
    archive = swift.container()
    c = swift.container(**{"X-Versions-Location": archive})
    assert swift.http.head(f"/{c}").headers["X-Versions-Location"] == archive
    swift.put(f"/{c}/o", b"one", **{"Content-Type": "text/one", "X-Object-Meta-N": "1"})
    assert versions_of(swift, archive, "o") == []
    stamp = swift.http.head(f"/{c}/o").headers["X-Timestamp"]
    swift.put(f"/{c}/o", b"two!")
    swift.put(f"/{c}/o", b"three")
    kept = versions_of(swift, archive, "o")
    assert [(b, t) for _, b, t in kept] == [(3, "text/one"), (4, "application/octet-stream")]
    assert kept[0][0] == f"001o/{stamp}"
    first = swift.http.get(f"/{archive}/{kept[0][0]}")
    assert first.content == b"one" and first.headers["X-Object-Meta-N"] == "1"
    # counters moved with the versions
    assert swift.http.head(f"/{archive}").headers["X-Container-Object-Count"] == "2"
    assert swift.http.head(f"/{c}").headers["X-Container-Bytes-Used"] == "5"
    # DELETE brings the previous version back, one at a time
    assert swift.http.delete(f"/{c}/o").status_code == 204
    assert swift.http.get(f"/{c}/o").content == b"two!"
    assert swift.http.delete(f"/{c}/o").status_code == 204
    back = swift.http.get(f"/{c}/o")
    assert back.content == b"one" and back.headers["X-Object-Meta-N"] == "1"
    assert swift.http.delete(f"/{c}/o").status_code == 204
    assert swift.http.head(f"/{c}/o").status_code == 404
    assert swift.http.delete(f"/{c}/o").status_code == 404
    assert swift.http.head(f"/{archive}").headers["X-Container-Object-Count"] == "0"
    assert swift.http.head("").headers["X-Account-Object-Count"] == "0"


def test_history_mode_keeps_everything_and_marks_deletes(swift):
    archive = swift.container()
    c = swift.container(**{"X-History-Location": archive})
    swift.put(f"/{c}/doc", b"v1")
    swift.put(f"/{c}/doc", b"v2")
    assert swift.http.delete(f"/{c}/doc").status_code == 204
    assert swift.http.head(f"/{c}/doc").status_code == 404
    kept = versions_of(swift, archive, "doc")
    assert [(b, t) for _, b, t in kept] == [(2, "application/octet-stream"), (2, "application/octet-stream"),
                                            (0, "application/x-deleted;swift_versions_deleted=1")]
    # restore by copy
    restored = swift.http.put(f"/{c}/doc", content=b"", headers={"X-Copy-From": f"{archive}/{kept[0][0]}"})
    assert restored.status_code == 201
    assert swift.http.get(f"/{c}/doc").content == b"v1"
    assert len(versions_of(swift, archive, "doc")) == 3  # nothing was current to archive


def test_versioning_settings_are_checked_and_removable(swift):
    archive = swift.container()
    both = swift.http.put(f"/{swift.container()}", headers={"X-Versions-Location": archive,
                                                            "X-History-Location": archive})
    assert both.status_code == 400
    c = swift.container(**{"X-Versions-Location": archive})
    assert swift.http.post(f"/{c}", headers={"X-History-Location": archive}).status_code == 400
    assert swift.http.post(f"/{c}", headers={"X-Versions-Location": "a/b"}).status_code == 412
    assert swift.http.post(f"/{c}", headers={"X-Remove-Versions-Location": "x"}).status_code == 204
    assert "X-Versions-Location" not in swift.http.head(f"/{c}").headers
    swift.put(f"/{c}/o", b"1")
    swift.put(f"/{c}/o", b"2")
    assert versions_of(swift, archive, "o") == []
    # an archive that does not exist: nothing is overwritten unkept
    d = swift.container(**{"X-Versions-Location": "nowhere"})
    swift.put(f"/{d}/o", b"1")
    assert swift.http.put(f"/{d}/o", content=b"2").status_code == 412
    assert swift.http.get(f"/{d}/o").content == b"1"


def test_versions_of_large_objects_and_names_with_slashes(swift):
    archive = swift.container()
    c = swift.container(**{"X-Versions-Location": archive})
    swift.put(f"/{c}/a/b/ü", b"first")
    swift.put(f"/{c}/a/b/ü", b"second")
    (name, size, _), = versions_of(swift, archive, "a/b/ü")
    assert name.startswith(f"{len('a/b/ü'.encode()):03x}a/b/ü/") and size == 5
    assert swift.http.delete(f"/{c}/a/b/ü").status_code == 204
    assert swift.http.get(f"/{c}/a/b/ü").content == b"first"


def test_an_acl_writer_must_reach_the_archive_too(cloud, admin, swift):
    archive = swift.container()
    user = make_user(admin)
    grant(admin, swift.project["id"], user["id"], "reader")
    writer_token = cloud.token(user["name"], "secret-pass-1", swift.project["name"])
    c = swift.container(**{"X-Versions-Location": archive, "X-Container-Write": f"{swift.project['id']}:{user['id']}"})
    swift.put(f"/{c}/o", b"1")
    writer = client(cloud, swift.name, writer_token)
    assert writer.put(f"/{c}/o", content=b"2").status_code == 403
    swift.http.post(f"/{archive}", headers={"X-Container-Write": f"{swift.project['id']}:{user['id']}"})
    assert writer.put(f"/{c}/o", content=b"2").status_code == 201


def test_a_name_too_long_to_archive_is_refused_not_lost(swift):
    archive = swift.container()
    c = swift.container(**{"X-Versions-Location": archive})
    long = "n" * 1010  # fits as a name, not with the archive's length prefix and timestamp
    swift.put(f"/{c}/{long}", b"first")
    assert swift.http.put(f"/{c}/{long}", content=b"second").status_code == 400
    assert swift.http.get(f"/{c}/{long}").content == b"first"
    assert swift.http.head(f"/{archive}").headers["X-Container-Object-Count"] == "0"


def test_concurrent_overwrites_in_versioned_and_plain_containers_keep_everything(swift):
    """Writes committed together (the group commit) into a stack-mode container, its archive and a plain
    container at once: every overwrite is kept as a version and every counter matches its listing."""
    from concurrent.futures import ThreadPoolExecutor

    archive = swift.container()
    versioned = swift.container(**{"X-Versions-Location": archive})
    plain = swift.container()
    headers = dict(swift.http.headers)

    def write(i: int) -> int:
        with httpx.Client(base_url=str(swift.http.base_url), headers=headers, timeout=60) as mine:
            path = f"/{versioned}/same" if i % 3 == 0 else f"/{plain}/p{i % 5}" if i % 3 == 1 else f"/{archive}/a{i}"
            return mine.put(path, content=b"x" * (i + 1)).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(write, range(60))) == {201}
    kept = versions_of(swift, archive, "same")
    assert len(kept) == 19  # 20 writes of "same": each overwrite archived the one before
    for c in (versioned, plain, archive):
        listing = swift.http.get(f"/{c}", params={"format": "json"}).json()
        head = swift.http.head(f"/{c}").headers
        assert head["X-Container-Object-Count"] == str(len(listing))
        assert head["X-Container-Bytes-Used"] == str(sum(e["bytes"] for e in listing))
    assert [e["name"] for e in swift.http.get(f"/{plain}", params={"format": "json"}).json()] == \
        [f"p{n}" for n in range(5)]
    account = swift.http.head("").headers
    total = sum(int(swift.http.head(f"/{c}").headers["X-Container-Object-Count"]) for c in (versioned, plain, archive))
    assert account["X-Account-Object-Count"] == str(total)
