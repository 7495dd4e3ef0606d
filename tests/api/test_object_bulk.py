"""Bulk delete and extract-archive: many objects in one request, one report."""

import io
import tarfile

import httpx

from tests.api.object_helpers import account, client


def tar_of(files: dict[str, bytes], mode: str = "w", extra=()) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info)
    return out.getvalue()


def test_bulk_delete_reports_each_path(swift):
    c = swift.container()
    full = swift.container()
    for name in ("a", "b c", "d/ü"):
        swift.put(f"/{c}/{name}", b"x")
    swift.put(f"/{full}/keep", b"x")
    body = f"/{c}/a\n/{c}/b%20c\n{c}/d/%C3%BC\n/{c}/missing\n/{full}\n\n".encode()
    resp = swift.http.post("", params={"bulk-delete": ""}, content=body, headers={"Content-Type": "text/plain"})
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/plain")
    assert resp.text == ("Number Deleted: 3\nNumber Not Found: 1\nResponse Body: \n"
                         f"Response Status: 400 Bad Request\nErrors:\n/{full}, 409 Conflict\n")
    assert swift.http.get(f"/{c}").status_code == 204
    again = swift.http.request("DELETE", "", params={"bulk-delete": ""}, content=f"/{full}/keep\n/{full}\n".encode(),
                               headers={"Accept": "application/json"})
    assert again.json() == {"Number Deleted": 2, "Number Not Found": 0, "Response Body": "",
                            "Response Status": "200 OK", "Errors": []}
    as_xml = swift.http.post("", params={"bulk-delete": ""}, content=b"/nothing/here\n", headers={"Accept": "application/xml"})
    assert as_xml.text.startswith("<delete>\n") and "<number_not_found>1</number_not_found>" in as_xml.text


def test_bulk_delete_is_bounded_and_authorized(cloud, admin, swift):
    too_many = "".join(f"/c/o{i}\n" for i in range(10001)).encode()
    assert swift.http.post("", params={"bulk-delete": ""}, content=too_many).status_code == 413
    bad = swift.http.post("", params={"bulk-delete": ""}, content=b"/c/" + b"n" * 1100 + b"\n")
    assert "400 Bad Request" in bad.text
    c = swift.container()
    swift.put(f"/{c}/o", b"x")
    other = account(cloud, admin)
    intruder = client(cloud, swift.name, other.token)
    resp = intruder.post("", params={"bulk-delete": ""}, content=f"/{c}/o\n".encode())
    assert resp.status_code == 200 and f"/{c}/o, 403 Forbidden" in resp.text
    assert swift.http.head(f"/{c}/o").status_code == 200


def test_extract_archive_into_a_container_and_the_account(swift):
    c = swift.container()
    files = {"a.txt": b"alpha", "./dir/b.html": b"<p>", "dir/deeper/c.bin": b"\x00" * 3000}
    for mode, ext in (("w", "tar"), ("w:gz", "tar.gz"), ("w:bz2", "tar.bz2")):
        resp = swift.http.put(f"/{c}/{ext}/", params={"extract-archive": ext}, content=tar_of(files, mode))
        assert resp.status_code == 200 and "Number Files Created: 3\n" in resp.text, resp.text
        assert "Response Status: 201 Created" in resp.text
    listed = swift.http.get(f"/{c}").text.split()
    assert "tar.gz/dir/b.html" in listed and len(listed) == 9
    assert swift.http.get(f"/{c}/tar.bz2/dir/deeper/c.bin").content == b"\x00" * 3000
    assert swift.http.head(f"/{c}/tar/dir/b.html").headers["Content-Type"].startswith("text/html")
    # at the account, the first part of a name is its container, made if missing
    made = f"x{c}"
    resp = swift.http.put("", params={"extract-archive": "tar"}, content=tar_of({f"{made}/one": b"1", f"{c}/two": b"2"}),
                          headers={"Accept": "application/json"})
    assert resp.json()["Number Files Created"] == 2 and resp.json()["Errors"] == []
    assert swift.http.get(f"/{made}/one").content == b"1" and swift.http.get(f"/{c}/two").content == b"2"


def test_extract_archive_refuses_escapes_and_bad_archives(swift):
    c = swift.container()
    link = tarfile.TarInfo("link")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    archive = tar_of({"../escape": b"x", "ok/../../up": b"x", "fine": b"f", "/abs/path": b"a"}, extra=[link])
    resp = swift.http.put(f"/{c}", params={"extract-archive": "tar"}, content=archive, headers={"Accept": "application/json"})
    report = resp.json()
    assert resp.status_code == 200 and report["Number Files Created"] == 2
    assert sorted(name for name, _ in report["Errors"]) == ["../escape", "ok/../../up"]
    assert sorted(swift.http.get(f"/{c}").text.split()) == ["abs/path", "fine"]
    garbage = swift.http.put(f"/{c}", params={"extract-archive": "tar.gz"}, content=b"not a tarball")
    assert garbage.status_code == 200 and "Response Status: 400 Bad Request" in garbage.text
    assert "Invalid Tar File" in garbage.text
    assert swift.http.put(f"/{c}", params={"extract-archive": "zip"}, content=b"x").status_code == 400
    at_account = swift.http.put("", params={"extract-archive": "tar"}, content=tar_of({"lonely": b"x"}))
    assert "Number Files Created: 0" in at_account.text and "lonely, 400 Bad Request" in at_account.text


def test_info_lists_bulk(cloud):
    info = httpx.get(f"{cloud.url}/object-store/info").json()
    assert info["bulk_delete"]["max_deletes_per_request"] == 10000
    assert info["bulk_upload"]["max_failed_extractions"] == 1000
