"""Form posts: a browser's multipart form, signed with the temp URL key, uploads its files with no token."""

import hashlib
import hmac
import os
import time
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.api.helpers import make_project
from tests.api.object_helpers import client

KEY = "form-key"


def form(path: str, files: list[tuple[str, bytes, str | None]], key: str = KEY, redirect: str = "",
         max_file_size: int = 1024, max_file_count: int = 10, expires: int | None = None, digest=hashlib.sha256,
         extra: dict | None = None, sign: bool = True) -> tuple[bytes, str]:
    """The body and content type of a form as Swift's formpost documentation lays it out."""
    expires = expires or int(time.time()) + 300
    signed = f"{path}\n{redirect}\n{max_file_size}\n{max_file_count}\n{expires}"
    fields = {"redirect": redirect, "max_file_size": str(max_file_size), "max_file_count": str(max_file_count),
              "expires": str(expires), **(extra or {})}
    if sign:
        fields["signature"] = hmac.new(key.encode(), signed.encode(), digest).hexdigest()
    boundary = "----formboundary" + os.urandom(4).hex()
    out = []
    for name, value in fields.items():
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for filename, data, content_type in files:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        if content_type:
            head += f"Content-Type: {content_type}\r\n"
        out.append(head.encode() + b"\r\n" + data + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def post(swift, path: str, body: bytes, content_type: str) -> httpx.Response:
    return httpx.post(f"{swift.cloud.url}/object-store{path}", content=body, headers={"Content-Type": content_type})


def test_a_signed_form_uploads_its_files_without_a_token(cloud, swift):
    assert swift.http.post("", headers={"X-Account-Meta-Temp-URL-Key": KEY}).status_code == 204
    assert "formpost" in httpx.get(f"{cloud.url}/object-store/info").json()
    c = swift.container()
    path = f"/v1/{swift.name}/{c}/uploads/"
    big = os.urandom(200_000)  # spans many reads of the stream
    body, ctype = form(path, [("a.txt", b"alpha", "text/plain"), ("b.bin", big, None), ("c.html", b"<p/>", None)],
                       max_file_size=300_000)
    done = post(swift, path, body, ctype)
    assert done.status_code == 201 and done.text == "201 Created"
    assert swift.http.get(f"/{c}/uploads/a.txt").content == b"alpha"
    assert swift.http.head(f"/{c}/uploads/a.txt").headers["Content-Type"] == "text/plain"
    got = swift.http.get(f"/{c}/uploads/b.bin")
    assert got.content == big and got.headers["ETag"] == hashlib.md5(big).hexdigest()
    assert swift.http.head(f"/{c}/uploads/c.html").headers["Content-Type"] == "text/html"  # guessed by name
    # signed as Tempest signs it (the path with the service's prefix), SHA-1, to a prefix with no slash, and a
    # redirect that gets the outcome; x_delete_after makes the upload temporary
    full = f"/object-store/v1/{swift.name}/{c}/pre-"
    body, ctype = form(full, [("x", b"x", None)], digest=hashlib.sha1, redirect="https://example.com/done?a=1",
                       extra={"x_delete_after": "600"})
    moved = post(swift, f"/v1/{swift.name}/{c}/pre-", body, ctype)
    assert moved.status_code == 303
    assert moved.headers["Location"] == "https://example.com/done?a=1&status=201&message="
    assert swift.http.head(f"/{c}/pre-x").headers["X-Delete-At"]
    # a container key signs too
    other = swift.container(**{"X-Container-Meta-Temp-URL-Key": "container-key"})
    path = f"/v1/{swift.name}/{other}"
    body, ctype = form(path, [("f", b"by container key", None)], key="container-key", digest=hashlib.sha512)
    assert post(swift, path, body, ctype).status_code == 201
    assert swift.http.get(f"/{other}/f").content == b"by container key"


def test_a_form_does_only_what_it_was_signed_for(cloud, admin, swift):
    assert swift.http.post("", headers={"X-Account-Meta-Temp-URL-Key": KEY}).status_code == 204
    c = swift.container()
    path = f"/v1/{swift.name}/{c}/"
    body, ctype = form(path, [("f", b"x", None)], expires=int(time.time()) - 1)
    expired = post(swift, path, body, ctype)
    assert expired.status_code == 401 and "FormPost: Form Expired" in expired.text
    body, ctype = form(path, [("f", b"x", None)], key="wrong")
    wrong = post(swift, path, body, ctype)
    assert wrong.status_code == 401 and "FormPost: Invalid Signature" in wrong.text
    # signed for another prefix, unsigned, or a signed field changed
    body, ctype = form(f"/v1/{swift.name}/{c}/elsewhere/", [("f", b"x", None)])
    assert post(swift, path, body, ctype).status_code == 401
    body, ctype = form(path, [("f", b"x", None)], sign=False)
    assert post(swift, path, body, ctype).status_code == 401
    body, ctype = form(path, [("f", b"x", None)])
    assert post(swift, path, body.replace(b"\r\n1024\r\n", b"\r\n9999\r\n"), ctype).status_code == 401
    # limits
    body, ctype = form(path, [("big", b"y" * 2000, None)])
    too_big = post(swift, path, body, ctype)
    assert too_big.status_code == 400 and "max_file_size exceeded" in too_big.text
    body, ctype = form(path, [("1", b"1", None), ("2", b"2", None), ("3", b"3", None)], max_file_count=2)
    counted = post(swift, path, body, ctype)
    assert counted.status_code == 400 and "Max File Count Exceeded" in counted.text
    body, ctype = form(path, [])
    assert "No Files To Process" in post(swift, path, body, ctype).text
    body, ctype = form(path, [("f", b"x", None)])
    assert post(swift, path, b"--nope\r\n" + body, ctype).status_code == 400  # not the boundary announced
    listed = swift.http.get(f"/{c}").text.split()
    assert listed == ["1", "2"]  # the files before the count ran out; none of the refused ones
    # no keys anywhere: nothing is signed
    bare = client(cloud, f"AUTH_{make_project(admin)['id']}", None)
    assert bare.post("/c/", content=body, headers={"Content-Type": ctype}).status_code == 401


def test_a_form_to_a_missing_container_reports_its_status(cloud, swift):
    assert swift.http.post("", headers={"X-Account-Meta-Temp-URL-Key": KEY}).status_code == 204
    path = f"/v1/{swift.name}/nothing-here/"
    body, ctype = form(path, [("f", b"x", None)])
    assert post(swift, path, body, ctype).status_code == 404
    body, ctype = form(path, [("f", b"x", None)], redirect="https://example.com/")
    moved = post(swift, path, body, ctype)
    assert moved.status_code == 303 and parse_qs(urlsplit(moved.headers["Location"]).query)["status"] == ["404"]
