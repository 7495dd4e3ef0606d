"""Swift API over HTTP: /info, accounts, containers and objects, their headers, counters and metadata."""

import hashlib
import os
import socket
import time

import httpx

from tests.api.helpers import name


def test_info_lists_the_constraints(cloud):
    info = httpx.get(f"{cloud.url}/object-store/info").json()
    swift = info["swift"]
    assert swift["max_file_size"] == 5368709122 and swift["max_object_name_length"] == 1024
    assert swift["container_listing_limit"] == 10000 and swift["max_meta_count"] == 90
    assert swift["policies"] == [{"name": "Policy-0", "aliases": "Policy-0", "default": True}]


def test_account_exists_before_anything_is_written(swift):
    resp = swift.http.head("")
    assert resp.status_code == 204
    assert resp.headers["X-Account-Container-Count"] == "0" and resp.headers["X-Account-Bytes-Used"] == "0"
    assert swift.http.get("").status_code == 204
    assert swift.http.get("", params={"format": "json"}).json() == []
    assert swift.http.put("").status_code == 405 and swift.http.delete("").status_code == 405


def test_container_lifecycle_and_status_codes(swift):
    c = name("c")
    assert swift.http.put(f"/{c}").status_code == 201
    assert swift.http.put(f"/{c}").status_code == 202
    assert swift.http.head(f"/{c}").status_code == 204
    swift.put(f"/{c}/o")
    conflict = swift.http.delete(f"/{c}")
    assert conflict.status_code == 409 and "Conflict" in conflict.text
    assert swift.http.delete(f"/{c}/o").status_code == 204
    assert swift.http.delete(f"/{c}/o").status_code == 404
    assert swift.http.delete(f"/{c}").status_code == 204
    missing = swift.http.head(f"/{c}")
    assert missing.status_code == 404
    assert swift.http.put(f"/{c}/o", content=b"x").status_code == 404


def test_object_round_trip_with_etag_and_headers(swift):
    c = swift.container()
    data = os.urandom(3 * 1024 * 1024 + 5)
    md5 = hashlib.md5(data).hexdigest()
    put = swift.put(f"/{c}/big.bin", data, **{"X-Object-Meta-Color": "blue", "Content-Type": "application/x-test",
                                            "Content-Disposition": "attachment"})
    assert put.headers["ETag"] == md5 and put.headers["Last-Modified"]
    got = swift.http.get(f"/{c}/big.bin")
    assert got.status_code == 200 and got.content == data
    assert got.headers["ETag"] == md5 and got.headers["Content-Length"] == str(len(data))
    assert got.headers["Content-Type"] == "application/x-test" and got.headers["X-Object-Meta-Color"] == "blue"
    assert got.headers["Content-Disposition"] == "attachment" and got.headers["Accept-Ranges"] == "bytes"
    head = swift.http.head(f"/{c}/big.bin")
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(data)) and head.content == b""


def test_etag_the_client_sends_is_checked(swift):
    c = swift.container()
    wrong = swift.http.put(f"/{c}/o", content=b"abc", headers={"ETag": "0" * 32})
    assert wrong.status_code == 422
    assert swift.http.head(f"/{c}/o").status_code == 404
    right = swift.http.put(f"/{c}/o", content=b"abc", headers={"ETag": f'"{hashlib.md5(b"abc").hexdigest()}"'})
    assert right.status_code == 201


def test_chunked_upload_and_length_required(swift):
    c = swift.container()

    def body():
        for _ in range(5):
            yield b"x" * 100_000

    resp = swift.http.put(f"/{c}/chunked", content=body())
    assert resp.status_code == 201, resp.text
    assert swift.http.head(f"/{c}/chunked").headers["Content-Length"] == "500000"
    request = swift.http.build_request("PUT", f"/{c}/nolength")
    del request.headers["Content-Length"]
    assert swift.http.send(request).status_code == 411


def test_a_large_upload_that_pauses_or_is_cut_off(swift):
    """A body received ahead of the handler and written on two threads (``http/readahead.py``,
    ``objectstore/spool.py``): a client that pauses mid-body still has every byte stored, in order; one that
    goes away mid-body leaves no object, no counted bytes, and a server that goes on answering."""
    c = swift.container()
    data = os.urandom(3 << 20) + b"tail"

    def paused():
        for start in range(0, len(data), 700_000):
            yield data[start:start + 700_000]
            time.sleep(0.2)

    resp = swift.http.put(f"/{c}/paused", content=paused())
    assert resp.status_code == 201 and resp.headers["ETag"] == hashlib.md5(data).hexdigest()
    assert swift.http.get(f"/{c}/paused").content == data
    url = httpx.URL(swift.url)
    with socket.create_connection((url.host, url.port)) as sock:
        sock.sendall(f"PUT {url.raw_path.decode()}/{c}/cut HTTP/1.1\r\nHost: {url.host}\r\n"
                     f"X-Auth-Token: {swift.token}\r\nContent-Length: {8 << 20}\r\n\r\n".encode())
        sock.sendall(data)
    container = swift.http.head(f"/{c}")
    assert swift.http.head(f"/{c}/cut").status_code == 404
    assert container.headers["X-Container-Object-Count"] == "1"
    assert container.headers["X-Container-Bytes-Used"] == str(len(data))


def test_counters_agree_with_listings(swift):
    c = swift.container()
    for i, size in enumerate((10, 200, 3000)):
        swift.put(f"/{c}/o{i}", b"z" * size)
    swift.put(f"/{c}/o1", b"z" * 5)  # an overwrite changes bytes, not the count
    swift.http.delete(f"/{c}/o0")
    listing = swift.http.get(f"/{c}", params={"format": "json"}).json()
    head = swift.http.head(f"/{c}")
    assert head.headers["X-Container-Object-Count"] == str(len(listing)) == "2"
    assert head.headers["X-Container-Bytes-Used"] == str(sum(o["bytes"] for o in listing)) == "3005"
    account = swift.http.head("")
    assert account.headers["X-Account-Object-Count"] == "2" and account.headers["X-Account-Bytes-Used"] == "3005"
    entry = next(e for e in swift.http.get("", params={"format": "json"}).json() if e["name"] == c)
    assert entry["count"] == 2 and entry["bytes"] == 3005


def test_container_and_account_metadata(swift):
    c = swift.container(**{"X-Container-Meta-One": "1", "X-Container-Meta-Two": "2"})
    assert swift.http.post(f"/{c}", headers={"X-Container-Meta-Three": "3",
                                             "X-Remove-Container-Meta-One": "x"}).status_code == 204
    head = swift.http.head(f"/{c}").headers
    assert "X-Container-Meta-One" not in head
    assert head["X-Container-Meta-Two"] == "2" and head["X-Container-Meta-Three"] == "3"
    assert swift.http.post("", headers={"X-Account-Meta-Owner": "me"}).status_code == 204
    assert swift.http.head("").headers["X-Account-Meta-Owner"] == "me"
    assert swift.http.post("", headers={"X-Account-Meta-Owner": ""}).status_code == 204
    assert "X-Account-Meta-Owner" not in swift.http.head("").headers


def test_object_post_replaces_metadata(swift):
    c = swift.container()
    swift.put(f"/{c}/o", **{"X-Object-Meta-A": "1", "X-Object-Meta-B": "2", "Content-Type": "text/plain"})
    resp = swift.http.post(f"/{c}/o", headers={"X-Object-Meta-C": "3"})
    assert resp.status_code == 202
    head = swift.http.head(f"/{c}/o").headers
    assert head["X-Object-Meta-C"] == "3" and "X-Object-Meta-A" not in head and "X-Object-Meta-B" not in head
    assert head["Content-Type"] == "text/plain"
    assert swift.http.post(f"/{c}/missing", headers={"X-Object-Meta-C": "3"}).status_code == 404


def test_object_metadata_sent_blank_is_kept_blank(swift):
    c = swift.container()
    swift.put(f"/{c}/o", **{"X-Object-Meta-Empty": "", "X-Object-Meta-Full": "1"})
    head = swift.http.head(f"/{c}/o").headers
    assert head["X-Object-Meta-Empty"] == "" and head["X-Object-Meta-Full"] == "1"
    assert swift.http.post(f"/{c}/o", headers={"X-Object-Meta-Later": ""}).status_code == 202
    head = swift.http.head(f"/{c}/o").headers
    assert head["X-Object-Meta-Later"] == "" and "X-Object-Meta-Empty" not in head


def test_a_copy_answers_with_the_new_objects_metadata(swift):
    c = swift.container()
    swift.put(f"/{c}/src", **{"X-Object-Meta-Src": "s"})
    copied = swift.http.request("COPY", f"/{c}/src", headers={"Destination": f"{c}/dst", "X-Object-Meta-New": "n"})
    assert copied.status_code == 201
    assert copied.headers["X-Object-Meta-Src"] == "s" and copied.headers["X-Object-Meta-New"] == "n"
    assert copied.headers["X-Copied-From"] == f"{c}/src"


def test_healthcheck_answers_without_a_token(cloud):
    resp = httpx.get(f"{cloud.url}/object-store/healthcheck")
    assert resp.status_code == 200 and resp.text == "OK"
    assert resp.headers["X-Trans-Id"].startswith("tx")
    assert httpx.head(f"{cloud.url}/object-store/healthcheck").status_code == 200


def test_metadata_limits(swift):
    c = swift.container()
    too_many = {f"X-Container-Meta-K{i}": "v" for i in range(91)}
    assert swift.http.post(f"/{c}", headers=too_many).status_code == 400
    assert swift.http.post(f"/{c}", headers={"X-Container-Meta-" + "n" * 129: "v"}).status_code == 400
    resp = swift.http.put(f"/{c}/o", content=b"x", headers={"X-Object-Meta-Big": "v" * 257})
    assert resp.status_code == 400 and "Metadata value longer than 256" in resp.text
    big = {f"X-Object-Meta-K{i}": "v" * 250 for i in range(20)}
    assert swift.http.put(f"/{c}/o", content=b"x", headers=big).status_code == 400
    assert swift.http.head(f"/{c}/o").status_code == 404


def test_content_type_is_detected_from_the_name(swift):
    c = swift.container()
    swift.http.put(f"/{c}/page.html", content=b"<p>")
    assert swift.http.head(f"/{c}/page.html").headers["Content-Type"].startswith("text/html")
    swift.put(f"/{c}/pic.png", b"x", **{"Content-Type": "application/foo", "X-Detect-Content-Type": "true"})
    assert swift.http.head(f"/{c}/pic.png").headers["Content-Type"] == "image/png"
    swift.http.put(f"/{c}/noext", content=b"x")
    assert swift.http.head(f"/{c}/noext").headers["Content-Type"] == "application/octet-stream"


def test_empty_object(swift):
    c = swift.container()
    put = swift.put(f"/{c}/empty", b"")
    assert put.headers["ETag"] == hashlib.md5(b"").hexdigest()
    got = swift.http.get(f"/{c}/empty")
    assert got.status_code == 200 and got.content == b"" and got.headers["Content-Length"] == "0"
    assert swift.http.delete(f"/{c}/empty").status_code == 204
    assert swift.http.head(f"/{c}/empty").status_code == 404
    assert swift.http.head(f"/{c}").headers["X-Container-Object-Count"] == "0"


def test_unknown_method_is_405(swift):
    assert swift.http.request("PATCH", f"/{swift.container()}").status_code == 405
