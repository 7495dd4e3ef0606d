"""Static web: a public container answers anonymous browsers as a web site."""

import httpx

from tests.api.object_helpers import client


def site(swift, **headers):
    c = swift.container(**{"X-Container-Read": ".r:*,.rlistings", **headers})
    swift.put(f"/{c}/index.html", b"<h1>home</h1>", **{"Content-Type": "text/html"})
    swift.put(f"/{c}/docs/index.html", b"<h1>docs</h1>", **{"Content-Type": "text/html"})
    swift.put(f"/{c}/docs/guide.txt", b"guide")
    swift.put(f"/{c}/files/a.txt", b"a")
    swift.put(f"/{c}/files/sub/b.txt", b"bb")
    swift.put(f"/{c}/404error.html", b"<p>not here</p>", **{"Content-Type": "text/html"})
    return c


def test_index_pages_redirects_and_error_pages(cloud, swift):
    c = site(swift, **{"X-Container-Meta-Web-Index": "index.html", "X-Container-Meta-Web-Error": "error.html"})
    web = client(cloud, swift.name, None)
    root = web.get(f"/{c}/")
    assert root.status_code == 200 and root.content == b"<h1>home</h1>"
    bare = web.get(f"/{c}")
    assert bare.status_code == 301 and bare.headers["Location"] == f"/object-store/v1/{swift.name}/{c}/"
    assert web.get(f"/{c}/docs/").content == b"<h1>docs</h1>"
    moved = web.get(f"/{c}/docs")
    assert moved.status_code == 301 and moved.headers["Location"].endswith(f"/{c}/docs/")
    assert web.get(f"/{c}/docs/guide.txt").content == b"guide"
    missing = web.get(f"/{c}/nothing")
    assert missing.status_code == 404 and missing.content == b"<p>not here</p>"
    assert web.get(f"/{c}/files/").status_code == 404  # no index there and no listings
    # a caller with a token gets the API, unless it asks for the web
    assert swift.http.get(f"/{c}").text.split()[0] == "404error.html"
    assert swift.http.get(f"/{c}/", headers={"X-Web-Mode": "true"}).content == b"<h1>home</h1>"


def test_listings_with_css(cloud, swift):
    c = site(swift, **{"X-Container-Meta-Web-Listings": "true", "X-Container-Meta-Web-Listings-CSS": "listing.css"})
    web = client(cloud, swift.name, None)
    top = web.get(f"/{c}/")
    assert top.status_code == 200 and top.headers["Content-Type"].startswith("text/html")
    assert f"Listing of /v1/{swift.name}/{c}/" in top.text
    assert '<link rel="stylesheet" type="text/css" href="listing.css" />' in top.text
    assert 'href="docs/"' in top.text and 'href="index.html"' in top.text
    files = web.get(f"/{c}/files/")
    assert 'href="sub/"' in files.text and 'href="a.txt"' in files.text and 'href="../"' in files.text
    assert 'href="../listing.css"' in files.text
    assert web.get(f"/{c}/files").status_code == 301


def test_a_private_container_stays_private(cloud, swift):
    c = swift.container(**{"X-Container-Meta-Web-Index": "index.html"})
    swift.put(f"/{c}/index.html", b"secret")
    assert httpx.get(f"{swift.url}/{c}/").status_code == 401
    listings_without_acl = swift.container(**{"X-Container-Read": ".r:*", "X-Container-Meta-Web-Listings": "true"})
    swift.put(f"/{listings_without_acl}/x", b"x")
    assert httpx.get(f"{swift.url}/{listings_without_acl}/").status_code == 401
    assert httpx.get(f"{swift.url}/{listings_without_acl}/x").content == b"x"
