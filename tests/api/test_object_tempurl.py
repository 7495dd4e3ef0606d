"""Temp URLs: signed with the account's or the container's key, fetched with no token; they do exactly
what they were signed for, until they expire."""

import base64
import hashlib
import hmac
import time
from urllib.parse import urlsplit

import httpx
from swiftclient.utils import generate_temp_url

from tests.api.helpers import grant, make_user

KEY = "secret-temp-url-key"


def sign(path: str, method: str = "GET", key: str = KEY, expires: int | None = None, digest=hashlib.sha256,
         extra: str = "") -> dict:
    expires = expires or int(time.time()) + 300
    sig = hmac.new(key.encode(), f"{extra}{method}\n{expires}\n{path}".encode(), digest).hexdigest()
    return {"temp_url_sig": sig, "temp_url_expires": str(expires)}


def setup(swift, **container_headers):
    assert swift.http.post("", headers={"X-Account-Meta-Temp-URL-Key": KEY}).status_code == 204
    c = swift.container(**container_headers)
    swift.put(f"/{c}/dir/file.txt", b"temp url data", **{"X-Object-Meta-Secret": "s", "X-Object-Meta-Public-Tag": "t"})
    return c


def test_a_signed_get_needs_no_token(cloud, swift):
    c = setup(swift)
    full = urlsplit(f"{swift.url}/{c}/dir/file.txt").path  # how Tempest signs: the whole path
    url = f"{swift.url}/{c}/dir/file.txt"
    got = httpx.get(url, params=sign(full))
    assert got.status_code == 200 and got.content == b"temp url data"
    assert got.headers["Content-Disposition"] == 'attachment; filename="file.txt"; filename*=UTF-8\'\'file.txt'
    assert "X-Object-Meta-Secret" not in got.headers and got.headers["X-Object-Meta-Public-Tag"] == "t"
    # as swiftclient signs: the path from /v1
    inner = f"/v1/{swift.name}/{c}/dir/file.txt"
    assert httpx.get(url, params=sign(inner)).status_code == 200
    assert httpx.head(url, params=sign(inner)).status_code == 200  # a GET URL also answers HEAD
    for digest in (hashlib.sha1, hashlib.sha512):
        assert httpx.get(url, params=sign(inner, digest=digest)).status_code == 200
    expires = int(time.time()) + 300
    raw = hmac.new(KEY.encode(), f"GET\n{expires}\n{inner}".encode(), hashlib.sha512).digest()
    prefixed = "sha512:" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert httpx.get(url, params={"temp_url_sig": prefixed, "temp_url_expires": expires}).status_code == 200
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))
    assert httpx.get(url, params={**sign(inner, expires=expires), "temp_url_expires": iso}).status_code == 200
    named = httpx.get(url, params={**sign(inner), "filename": 'my "report".txt'})
    assert named.headers["Content-Disposition"].startswith('attachment; filename="my \\"report\\".txt"')
    assert httpx.get(url, params={**sign(inner), "inline": ""}).headers["Content-Disposition"] == "inline"


def test_a_temp_url_does_only_what_it_was_signed_for(cloud, swift):
    c = setup(swift)
    inner = f"/v1/{swift.name}/{c}/dir/file.txt"
    url = f"{swift.url}/{c}/dir/file.txt"
    expired = httpx.get(url, params=sign(inner, expires=int(time.time()) - 1))
    assert expired.status_code == 401 and "Temp URL invalid" in expired.text
    assert httpx.get(url, params=sign(inner, key="wrong")).status_code == 401
    assert httpx.put(url, params=sign(inner), content=b"x").status_code == 401  # signed for GET
    assert httpx.delete(url, params=sign(inner)).status_code == 401
    swift.put(f"/{c}/other", b"other")
    assert httpx.get(f"{swift.url}/{c}/other", params=sign(inner)).status_code == 401
    assert httpx.get(url, params={"temp_url_sig": "zz", "temp_url_expires": "soon"}).status_code == 401
    assert httpx.get(url, params={**sign(inner), "temp_url_sig": "ab" * 20}).status_code == 401
    assert httpx.get(url, params={"temp_url_sig": "md5:abcd", "temp_url_expires": "99999999999"}).status_code == 401
    # the container listing is not reachable by a temp URL
    assert httpx.get(f"{swift.url}/{c}", params=sign(f"/v1/{swift.name}/{c}")).status_code == 401
    assert swift.http.get(f"/{c}/dir/file.txt").content == b"temp url data"


def test_put_and_delete_by_temp_url(cloud, swift):
    c = setup(swift)
    inner = f"/v1/{swift.name}/{c}/uploaded"
    url = f"{swift.url}/{c}/uploaded"
    put = httpx.put(url, params=sign(inner, "PUT"), content=b"from a temp url")
    assert put.status_code == 201
    assert swift.http.get(f"/{c}/uploaded").content == b"from a temp url"
    assert httpx.head(url, params=sign(inner, "PUT")).status_code == 200
    copy = httpx.put(url, params=sign(inner, "PUT"), content=b"", headers={"X-Copy-From": f"{c}/dir/file.txt"})
    assert copy.status_code == 401
    assert httpx.delete(url, params=sign(inner, "DELETE")).status_code == 204
    assert swift.http.head(f"/{c}/uploaded").status_code == 404


def test_container_keys_prefixes_and_ip_ranges(cloud, swift):
    c = swift.container(**{"X-Container-Meta-Temp-URL-Key-2": "container-key"})
    swift.put(f"/{c}/pre/a", b"a")
    swift.put(f"/{c}/pre/deeper/b", b"b")
    swift.put(f"/{c}/outside", b"o")
    base = f"/v1/{swift.name}/{c}"
    assert httpx.get(f"{swift.url}/{c}/pre/a", params=sign(f"{base}/pre/a", key="container-key")).status_code == 200
    prefixed = {**sign(f"prefix:{base}/pre/", key="container-key"), "temp_url_prefix": "pre/"}
    assert httpx.get(f"{swift.url}/{c}/pre/deeper/b", params=prefixed).content == b"b"
    assert httpx.get(f"{swift.url}/{c}/outside", params=prefixed).status_code == 401
    local = {**sign(f"{base}/outside", key="container-key", extra="ip=127.0.0.1/32\n"),
             "temp_url_ip_range": "127.0.0.1/32"}
    assert httpx.get(f"{swift.url}/{c}/outside", params=local).content == b"o"
    remote = {**sign(f"{base}/outside", key="container-key", extra="ip=10.0.0.0/8\n"), "temp_url_ip_range": "10.0.0.0/8"}
    assert httpx.get(f"{swift.url}/{c}/outside", params=remote).status_code == 401
    bad = httpx.get(f"{swift.url}/{c}/outside", params={**local, "temp_url_ip_range": "not-an-ip"})
    assert bad.status_code == 400


def test_swiftclient_generates_urls_that_work(cloud, swift):
    c = setup(swift)
    for algorithm in ("sha1", "sha256", "sha512"):
        path = generate_temp_url(f"/v1/{swift.name}/{c}/dir/file.txt", 60, KEY, "GET", digest=algorithm)
        assert httpx.get(f"{cloud.url}/object-store{path}").content == b"temp url data"
    path = generate_temp_url(f"/v1/{swift.name}/{c}/dir/", 60, KEY, "GET", prefix=True, iso8601=True)
    assert httpx.get(f"{cloud.url}/object-store{path.replace('/dir/?', '/dir/file.txt?')}").status_code == 200


def test_keys_are_the_owners_business(cloud, admin, swift):
    c = setup(swift, **{"X-Container-Meta-Temp-URL-Key": "ckey"})
    assert swift.http.head("").headers["X-Account-Meta-Temp-Url-Key"] == KEY
    user = make_user(admin)
    grant(admin, swift.project["id"], user["id"], "reader")
    reader = httpx.Client(base_url=swift.url, timeout=30, headers={
        "X-Auth-Token": cloud.token(user["name"], "secret-pass-1", swift.project["name"])})
    assert "X-Account-Meta-Temp-Url-Key" not in reader.head("").headers
    assert "X-Container-Meta-Temp-Url-Key" not in reader.head(f"/{c}").headers
    assert reader.post("", headers={"X-Account-Meta-Temp-URL-Key": "mine"}).status_code == 403


def test_info_lists_tempurl_digests(cloud):
    info = httpx.get(f"{cloud.url}/object-store/info").json()["tempurl"]
    assert info["allowed_digests"] == ["sha1", "sha256", "sha512"] and "GET" in info["methods"]
