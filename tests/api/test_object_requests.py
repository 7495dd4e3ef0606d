"""Conditional requests, byte ranges, copies and expiry."""

import email.utils
import hashlib
import time

from tests.api.helpers import wait

DATA = bytes(range(256)) * 8  # 2048 bytes


def test_conditional_get(swift):
    c = swift.container()
    etag = swift.put(f"/{c}/o", DATA).headers["ETag"]
    last = swift.http.head(f"/{c}/o").headers["Last-Modified"]
    later = email.utils.formatdate(time.time() + 3600, usegmt=True)
    earlier = email.utils.formatdate(time.time() - 3600, usegmt=True)
    get = swift.http.get
    assert get(f"/{c}/o", headers={"If-Match": f'"{etag}"'}).status_code == 200
    assert get(f"/{c}/o", headers={"If-Match": "nope"}).status_code == 412
    assert get(f"/{c}/o", headers={"If-Match": "*"}).status_code == 200
    not_modified = get(f"/{c}/o", headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.headers["ETag"] == etag and not_modified.content == b""
    assert get(f"/{c}/o", headers={"If-None-Match": "other"}).status_code == 200
    assert get(f"/{c}/o", headers={"If-Modified-Since": last}).status_code == 304
    assert get(f"/{c}/o", headers={"If-Modified-Since": earlier}).status_code == 200
    assert get(f"/{c}/o", headers={"If-Unmodified-Since": earlier}).status_code == 412
    assert get(f"/{c}/o", headers={"If-Unmodified-Since": later}).status_code == 200
    assert swift.http.head(f"/{c}/o", headers={"If-None-Match": etag}).status_code == 304


def test_if_none_match_star_on_put(swift):
    c = swift.container()
    assert swift.http.put(f"/{c}/o", content=b"1", headers={"If-None-Match": "*"}).status_code == 201
    assert swift.http.put(f"/{c}/o", content=b"2", headers={"If-None-Match": "*"}).status_code == 412
    assert swift.http.get(f"/{c}/o").content == b"1"
    assert swift.http.put(f"/{c}/o", content=b"2", headers={"If-None-Match": "abc"}).status_code == 400


def test_ranges(swift):
    c = swift.container()
    swift.put(f"/{c}/o", DATA)
    get = swift.http.get
    one = get(f"/{c}/o", headers={"Range": "bytes=10-19"})
    assert one.status_code == 206 and one.content == DATA[10:20]
    assert one.headers["Content-Range"] == "bytes 10-19/2048"
    assert get(f"/{c}/o", headers={"Range": "bytes=-5"}).content == DATA[-5:]
    assert get(f"/{c}/o", headers={"Range": "bytes=2000-"}).content == DATA[2000:]
    assert get(f"/{c}/o", headers={"Range": "bytes=2000-99999"}).content == DATA[2000:]
    unsatisfiable = get(f"/{c}/o", headers={"Range": "bytes=5000-6000"})
    assert unsatisfiable.status_code == 416 and unsatisfiable.headers["Content-Range"] == "bytes */2048"
    assert get(f"/{c}/o", headers={"Range": "bytes=junk"}).status_code == 200


def test_multi_range_is_multipart_byteranges(swift):
    c = swift.container()
    swift.put(f"/{c}/o", DATA, **{"Content-Type": "application/x-thing"})
    resp = swift.http.get(f"/{c}/o", headers={"Range": "bytes=0-3,100-103,-2"})
    assert resp.status_code == 206
    kind, _, boundary = resp.headers["Content-Type"].partition(";boundary=")
    assert kind == "multipart/byteranges"
    parts = resp.content.split(f"--{boundary}".encode())
    assert parts[0] == b"" and parts[-1] == b"--"
    bodies = []
    for part in parts[1:-1]:
        head, _, body = part.partition(b"\r\n\r\n")
        assert b"Content-Type: application/x-thing" in head
        bodies.append((head.split(b"Content-Range: ")[1].decode(), body[:-2]))
    assert bodies == [("bytes 0-3/2048", DATA[0:4]), ("bytes 100-103/2048", DATA[100:104]),
                      ("bytes 2046-2047/2048", DATA[2046:])]
    assert int(resp.headers["Content-Length"]) == len(resp.content)


def test_copy_with_x_copy_from_and_copy_method(swift):
    c, d = swift.container(), swift.container()
    swift.put(f"/{c}/src", DATA, **{"X-Object-Meta-Kept": "yes", "Content-Type": "text/x-src"})
    copied = swift.http.put(f"/{d}/dst", content=b"", headers={"X-Copy-From": f"/{c}/src",
                                                                "X-Object-Meta-New": "1"})
    assert copied.status_code == 201 and copied.headers["X-Copied-From"] == f"{c}/src"
    got = swift.http.get(f"/{d}/dst")
    assert got.content == DATA and got.headers["X-Object-Meta-Kept"] == "yes" and got.headers["X-Object-Meta-New"] == "1"
    assert got.headers["Content-Type"] == "text/x-src" and got.headers["ETag"] == hashlib.md5(DATA).hexdigest()
    resp = swift.http.request("COPY", f"/{c}/src", headers={"Destination": f"{d}/fresh", "X-Fresh-Metadata": "true"})
    assert resp.status_code == 201
    fresh = swift.http.head(f"/{d}/fresh").headers
    assert "X-Object-Meta-Kept" not in fresh
    assert swift.http.put(f"/{d}/x", content=b"", headers={"X-Copy-From": "nocontainer"}).status_code == 412
    assert swift.http.put(f"/{d}/x", content=b"", headers={"X-Copy-From": f"{c}/missing"}).status_code == 404
    assert swift.http.head(f"/{d}").headers["X-Container-Object-Count"] == "2"


def test_delete_after_and_delete_at(swift):
    c = swift.container()
    swift.put(f"/{c}/soon", b"x", **{"X-Delete-After": "1"})
    at = int(time.time()) + 1000
    swift.put(f"/{c}/later", b"x", **{"X-Delete-At": str(at)})
    assert swift.http.head(f"/{c}/later").headers["X-Delete-At"] == str(at)
    assert swift.http.put(f"/{c}/bad", content=b"x", headers={"X-Delete-At": "1"}).status_code == 400
    assert swift.http.put(f"/{c}/bad", content=b"x", headers={"X-Delete-After": "soon"}).status_code == 400
    wait(lambda: swift.http.get(f"/{c}/soon").status_code == 404, 10, "the object to expire")
    # the expirer removes it: the listing and the counters forget it
    wait(lambda: swift.http.get(f"/{c}").text.splitlines() == ["later"], 10, "the expirer")
    assert swift.http.head(f"/{c}").headers["X-Container-Object-Count"] == "1"
    assert swift.http.post(f"/{c}/later", headers={"X-Delete-After": "1"}).status_code == 202
    wait(lambda: swift.http.head(f"/{c}").headers["X-Container-Object-Count"] == "0", 10, "the expirer")
