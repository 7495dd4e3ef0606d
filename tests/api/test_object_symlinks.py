"""Symlinks, as Swift's symlink middleware answers them: dynamic and static links, chains, listings, POST's
307, copies, and the walls between accounts."""

import hashlib
import hmac
import time

import httpx
import pytest

from tests.api.object_helpers import account, client

EMPTY = hashlib.md5(b"").hexdigest()


def link(swift, path: str, target: str, **headers):
    return swift.http.put(path, content=b"", headers={"X-Symlink-Target": target, **headers})


def test_a_symlink_reads_as_its_target(swift):
    c, other = swift.container(), swift.container()
    swift.put(f"/{c}/file.txt", b"target bytes", **{"Content-Type": "text/plain", "X-Object-Meta-Color": "red"})
    made = link(swift, f"/{c}/link", f"{c}/file.txt")
    assert made.status_code == 201 and made.headers["ETag"] == EMPTY
    got = swift.http.get(f"/{c}/link")
    assert got.status_code == 200 and got.content == b"target bytes"
    assert got.headers["Content-Type"] == "text/plain" and got.headers["X-Object-Meta-Color"] == "red"
    assert got.headers["Content-Location"] == f"/v1/{swift.name}/{c}/file.txt"
    assert swift.http.get(f"/{c}/link", headers={"Range": "bytes=7-"}).content == b"bytes"
    assert swift.http.head(f"/{c}/link").headers["Content-Length"] == "12"
    # the link itself
    itself = swift.http.get(f"/{c}/link", params={"symlink": "get"})
    assert itself.content == b"" and itself.headers["X-Symlink-Target"] == f"{c}/file.txt"
    assert itself.headers["Content-Type"] == "application/symlink" and "Content-Location" not in itself.headers
    # across containers, and in the listing (JSON only) with the target's path
    assert link(swift, f"/{other}/link", f"{c}/file.txt").status_code == 201
    assert swift.http.get(f"/{other}/link").content == b"target bytes"
    listed = swift.http.get(f"/{other}", params={"format": "json"}).json()
    assert listed[0]["symlink_path"] == f"/v1/{swift.name}/{c}/file.txt"
    assert listed[0]["bytes"] == 0 and listed[0]["hash"] == EMPTY and listed[0]["content_type"] == "application/symlink"
    assert "symlink_path" not in swift.http.get(f"/{other}", params={"format": "xml"}).text
    # DELETE removes the link, not the target; a dangling link answers 404 with where it looked
    assert swift.http.delete(f"/{other}/link").status_code == 204
    assert swift.http.get(f"/{c}/file.txt").status_code == 200
    assert swift.http.delete(f"/{c}/file.txt").status_code == 204
    gone = swift.http.get(f"/{c}/link")
    assert gone.status_code == 404 and gone.headers["Content-Location"] == f"/v1/{swift.name}/{c}/file.txt"
    assert swift.http.head(f"/{c}/link", params={"symlink": "get"}).status_code == 200


def test_chains_stop_at_the_loop_limit(swift, cloud):
    info = swift.http.get(f"{cloud.url}/object-store/info").json()
    assert info["symlink"] == {"symloop_max": 2, "static_links": True}
    c = swift.container()
    swift.put(f"/{c}/o", b"end")
    link(swift, f"/{c}/l1", f"{c}/o")
    link(swift, f"/{c}/l2", f"{c}/l1")
    link(swift, f"/{c}/l3", f"{c}/l2")
    assert swift.http.get(f"/{c}/l2").content == b"end"
    too_far = swift.http.get(f"/{c}/l3")
    assert too_far.status_code == 409 and "maximum allowed is 2" in too_far.text
    loop = link(swift, f"/{c}/a", f"{c}/b")
    link(swift, f"/{c}/b", f"{c}/a")
    assert loop.status_code == 201 and swift.http.get(f"/{c}/a").status_code == 409


def test_bad_symlink_puts_and_posts(swift):
    c = swift.container()
    swift.put(f"/{c}/o", b"x")
    assert link(swift, f"/{c}/l", "no-slash").status_code == 412
    assert link(swift, f"/{c}/l", f"/{c}/o").status_code == 412
    assert link(swift, f"/{c}/l", f"{c}/").status_code == 412
    assert link(swift, f"/{c}/l", f"{c}/l").status_code == 400  # itself
    assert link(swift, f"/{c}/l", f"{c}/o", **{"X-Symlink-Target-Account": "a/b"}).status_code == 412
    with_body = swift.http.put(f"/{c}/l", content=b"data", headers={"X-Symlink-Target": f"{c}/o"})
    assert with_body.status_code == 400 and "zero byte body" in with_body.text
    assert link(swift, f"/{c}/l", f"{c}/o", **{"X-Symlink-Target-Etag": 'a"b'}).status_code == 400
    assert swift.http.head(f"/{c}/l").status_code == 404  # nothing kept
    # POST: a target cannot be set by POST; on a link it changes the link and answers 307 to the target
    assert swift.http.post(f"/{c}/o", headers={"X-Symlink-Target": f"{c}/o"}).status_code == 400
    link(swift, f"/{c}/l", f"{c}/o")
    posted = swift.http.post(f"/{c}/l", headers={"X-Object-Meta-Mine": "1", "Content-Type": "text/link"})
    assert posted.status_code == 307 and posted.headers["Location"] == f"/v1/{swift.name}/{c}/o"
    itself = swift.http.head(f"/{c}/l", params={"symlink": "get"})
    assert itself.headers["X-Object-Meta-Mine"] == "1" and itself.headers["Content-Type"] == "text/link"
    assert itself.headers["X-Symlink-Target"] == f"{c}/o"  # the POST kept the link a link
    assert "X-Object-Meta-Mine" not in swift.http.head(f"/{c}/o").headers


def test_static_links_pin_their_target(swift):
    c = swift.container()
    etag = swift.put(f"/{c}/o", b"first", **{"Content-Type": "text/first"}).headers["ETag"]
    missing = link(swift, f"/{c}/s", f"{c}/nothing", **{"X-Symlink-Target-Etag": etag})
    assert missing.status_code == 409 and "does not exist" in missing.text
    wrong = link(swift, f"/{c}/s", f"{c}/o", **{"X-Symlink-Target-Etag": EMPTY})
    assert wrong.status_code == 409 and "does not match" in wrong.text
    made = link(swift, f"/{c}/s", f"{c}/o", **{"X-Symlink-Target-Etag": f'"{etag}"'})
    assert made.status_code == 201
    itself = swift.http.head(f"/{c}/s", params={"symlink": "get"})
    assert itself.headers["X-Symlink-Target-Etag"] == etag and itself.headers["X-Symlink-Target-Bytes"] == "5"
    assert itself.headers["Content-Type"] == "text/first"  # a static link takes its target's type
    listed = {e["name"]: e for e in swift.http.get(f"/{c}", params={"format": "json"}).json()}
    assert listed["s"]["symlink_etag"] == etag and listed["s"]["symlink_bytes"] == 5
    assert swift.http.get(f"/{c}/s").content == b"first"
    # a dynamic link to it follows whatever is there; the static one refuses a changed target
    link(swift, f"/{c}/d", f"{c}/o")
    swift.put(f"/{c}/o", b"second")
    changed = swift.http.get(f"/{c}/s")
    assert changed.status_code == 409 and changed.headers["Content-Location"] == f"/v1/{swift.name}/{c}/o"
    assert swift.http.get(f"/{c}/d").content == b"second"
    # a static link to a dynamic one pins the link (the empty object's ETag)
    assert link(swift, f"/{c}/sd", f"{c}/d", **{"X-Symlink-Target-Etag": EMPTY}).status_code == 201
    assert swift.http.get(f"/{c}/sd").content == b"second"


def test_copies_follow_the_link_unless_told_not_to(swift):
    c = swift.container()
    swift.put(f"/{c}/o", b"payload")
    link(swift, f"/{c}/l", f"{c}/o")
    assert swift.http.put(f"/{c}/copy", content=b"", headers={"X-Copy-From": f"{c}/l"}).status_code == 201
    assert swift.http.get(f"/{c}/copy", params={"symlink": "get"}).content == b"payload"
    kept = swift.http.request("COPY", f"/{c}/l", params={"symlink": "get"}, headers={"Destination": f"{c}/l2"})
    assert kept.status_code == 201
    assert swift.http.head(f"/{c}/l2", params={"symlink": "get"}).headers["X-Symlink-Target"] == f"{c}/o"
    assert swift.http.get(f"/{c}/l2").content == b"payload"


def test_a_link_is_no_way_around_the_target_accounts_walls(cloud, admin, swift):
    theirs = account(cloud, admin)
    c = theirs.container()
    theirs.put(f"/{c}/secret", b"not yours")
    mine = swift.container()
    made = link(swift, f"/{mine}/l", f"{c}/secret", **{"X-Symlink-Target-Account": theirs.name})
    assert made.status_code == 201
    assert swift.http.get(f"/{mine}/l").status_code == 403
    # a static link needs to read its target to be made
    etag = hashlib.md5(b"not yours").hexdigest()
    assert link(swift, f"/{mine}/s", f"{c}/secret", **{"X-Symlink-Target-Account": theirs.name,
                                                        "X-Symlink-Target-Etag": etag}).status_code == 403
    # once their container lets everyone read, the link reads it (and shows where it went)
    assert theirs.http.post(f"/{c}", headers={"X-Container-Read": ".r:*"}).status_code == 204
    got = swift.http.get(f"/{mine}/l")
    assert got.content == b"not yours" and got.headers["Content-Location"] == f"/v1/{theirs.name}/{c}/secret"
    listed = swift.http.get(f"/{mine}", params={"format": "json"}).json()
    assert listed[0]["symlink_path"] == f"/v1/{theirs.name}/{c}/secret"
    # anonymous reads of a link in a private container stay refused
    assert client(cloud, swift.name, None).get(f"/{mine}/l").status_code == 401
    theirs.http.close()


def test_s3_reads_through_a_symlink(cloud, admin):
    from tests.api.s3_helpers import s3_member

    s3, project, user, _, _ = s3_member(cloud, admin)
    token = cloud.token(user["name"], "secret-pass-1", project["name"])
    swift = client(cloud, f"AUTH_{project['id']}", token)
    s3.create_bucket(Bucket="linked")
    s3.put_object(Bucket="linked", Key="data.txt", Body=b"through s3")
    assert swift.put("/linked/alias", content=b"", headers={"X-Symlink-Target": "linked/data.txt"}).status_code == 201
    assert s3.get_object(Bucket="linked", Key="alias")["Body"].read() == b"through s3"
    assert swift.put("/linked/dangling", content=b"",
                     headers={"X-Symlink-Target": "linked/none"}).status_code == 201
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket="linked", Key="dangling")
    swift.close()


def test_temp_urls_read_links_within_their_keys_reach(swift):
    c, other = swift.container(**{"X-Container-Meta-Temp-URL-Key": "ckey"}), swift.container()
    swift.put(f"/{c}/here", b"same container")
    swift.put(f"/{other}/there", b"other container")
    link(swift, f"/{c}/near", f"{c}/here")
    link(swift, f"/{c}/far", f"{other}/there")

    def signed(name: str, key: str) -> httpx.Response:
        expires = int(time.time()) + 60
        path = f"/v1/{swift.name}/{c}/{name}"
        sig = hmac.new(key.encode(), f"GET\n{expires}\n{path}".encode(), hashlib.sha256).hexdigest()
        return httpx.get(f"{swift.url}/{c}/{name}", params={"temp_url_sig": sig, "temp_url_expires": expires})

    assert signed("near", "ckey").content == b"same container"
    assert signed("far", "ckey").status_code == 401  # a container's key reaches that container only
    assert swift.http.post("", headers={"X-Account-Meta-Temp-URL-Key": "akey"}).status_code == 204
    assert signed("far", "akey").content == b"other container"  # the account's key reaches the account
