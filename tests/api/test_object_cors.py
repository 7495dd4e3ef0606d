"""CORS: a container lets the origins it names call it from a browser."""

import httpx


def test_preflight_and_answers_to_an_allowed_origin(cloud, swift):
    c = swift.container(**{"X-Container-Meta-Access-Control-Allow-Origin": "https://a.example https://b.example",
                           "X-Container-Meta-Access-Control-Max-Age": "600",
                           "X-Container-Meta-Access-Control-Expose-Headers": "X-Custom"})
    swift.put(f"/{c}/o", b"x", **{"X-Object-Meta-Color": "red"})
    pre = httpx.options(f"{swift.url}/{c}/o", headers={"Origin": "https://a.example",
                                                       "Access-Control-Request-Method": "GET",
                                                       "Access-Control-Request-Headers": "x-auth-token"})
    assert pre.status_code == 200 and pre.headers["Access-Control-Allow-Origin"] == "https://a.example"
    assert "GET" in pre.headers["Access-Control-Allow-Methods"] and pre.headers["Access-Control-Max-Age"] == "600"
    assert pre.headers["Access-Control-Allow-Headers"] == "x-auth-token"
    denied = httpx.options(f"{swift.url}/{c}/o", headers={"Origin": "https://evil.example",
                                                          "Access-Control-Request-Method": "GET"})
    assert denied.status_code == 401
    nowhere = httpx.options(f"{swift.url}/{c}-missing/o", headers={"Origin": "https://a.example",
                                                                   "Access-Control-Request-Method": "GET"})
    assert nowhere.status_code == 401
    plain = httpx.options(f"{swift.url}/{c}/o")
    assert plain.status_code == 200 and "GET" in plain.headers["Allow"]
    got = swift.http.get(f"/{c}/o", headers={"Origin": "https://b.example"})
    assert got.headers["Access-Control-Allow-Origin"] == "https://b.example"
    exposed = got.headers["Access-Control-Expose-Headers"].split(", ")
    assert "etag" in exposed and "x-object-meta-color" in exposed and "x-custom" in exposed
    assert "Access-Control-Allow-Origin" not in swift.http.get(f"/{c}/o", headers={"Origin": "https://evil.example"}).headers


def test_a_container_without_cors_allows_no_origin(cloud, swift):
    c = swift.container()
    pre = httpx.options(f"{swift.url}/{c}", headers={"Origin": "https://a.example", "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 401
    assert "Access-Control-Allow-Origin" not in swift.http.get(f"/{c}", headers={"Origin": "https://a.example"}).headers
