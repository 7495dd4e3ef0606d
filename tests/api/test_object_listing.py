"""Container and account listings: formats, prefix, delimiter, path, markers, limit, reverse, paging."""

from xml.etree import ElementTree

import pytest

NAMES = ["a", "a/b", "a/b/c", "a/d", "a0", "b", "b/x", "c~", "é", "ü/1"]


@pytest.fixture
def filled(swift):
    c = swift.container()
    for n in NAMES:
        swift.put(f"/{c}/{n}", n.encode())
    return swift, c


def names(swift, c, **params) -> list[str]:
    resp = swift.http.get(f"/{c}", params=params)
    assert resp.status_code == (200 if resp.text else 204), resp.text  # Swift: 204 for an empty listing
    return resp.text.splitlines()


def test_plain_listing_is_in_utf8_byte_order(filled):
    swift, c = filled
    assert names(swift, c) == sorted(NAMES, key=lambda n: n.encode())


def test_prefix_delimiter_and_path(filled):
    swift, c = filled
    assert names(swift, c, delimiter="/") == ["a", "a/", "a0", "b", "b/", "c~", "é", "ü/"]
    assert names(swift, c, prefix="a/", delimiter="/") == ["a/b", "a/b/", "a/d"]
    assert names(swift, c, prefix="a") == ["a", "a/b", "a/b/c", "a/d", "a0"]
    assert names(swift, c, path="a") == ["a/b", "a/d"]
    assert names(swift, c, delimiter="/", reverse="true") == ["ü/", "é", "c~", "b/", "b", "a0", "a/", "a"]


def test_markers_limit_and_reverse(filled):
    swift, c = filled
    assert names(swift, c, marker="a/d") == ["a0", "b", "b/x", "c~", "é", "ü/1"]
    assert names(swift, c, marker="a", end_marker="a0") == ["a/b", "a/b/c", "a/d"]
    assert names(swift, c, limit=2) == ["a", "a/b"]
    assert names(swift, c, limit=2, reverse="on") == ["ü/1", "é"]
    assert names(swift, c, reverse="true", marker="b", end_marker="a/b") == ["a0", "a/d", "a/b/c"]
    assert swift.http.get(f"/{c}", params={"limit": 10001}).status_code == 412


def test_paging_by_marker_walks_everything_once(filled):
    swift, c = filled
    seen, marker = [], ""
    while True:
        page = names(swift, c, limit=3, marker=marker)
        if not page:
            break
        seen += page
        marker = page[-1]
    assert seen == sorted(NAMES, key=lambda n: n.encode())


def test_json_and_xml(filled):
    swift, c = filled
    entries = swift.http.get(f"/{c}", params={"format": "json", "delimiter": "/", "prefix": "a"}).json()
    assert {"subdir": "a/"} in entries
    obj = next(e for e in entries if e.get("name") == "a")
    assert obj["bytes"] == 1 and obj["hash"] == "0cc175b9c0f1b6a831c399e269772661"
    assert set(obj) == {"name", "hash", "bytes", "content_type", "last_modified"}
    xml = swift.http.get(f"/{c}", headers={"Accept": "application/xml"}, params={"delimiter": "/"})
    assert xml.headers["Content-Type"].startswith("application/xml")
    root = ElementTree.fromstring(xml.content)
    assert root.tag == "container" and root.get("name") == c
    assert [e.findtext("name") for e in root] == ["a", "a/", "a0", "b", "b/", "c~", "é", "ü/"]
    account = ElementTree.fromstring(swift.http.get("", params={"format": "xml"}).content)
    assert account.tag == "account" and [e.findtext("name") for e in account] == [c]
    assert account[0].findtext("count") == str(len(NAMES))


def test_account_listing_with_prefix_and_marker(swift):
    made = sorted(swift.container() for _ in range(3))
    assert swift.http.get("").text.splitlines() == made
    assert swift.http.get("", params={"marker": made[0]}).text.splitlines() == made[1:]
    assert swift.http.get("", params={"prefix": made[2][:-2], "limit": 1}).text.splitlines()[0].startswith(
        made[2][:-2])
