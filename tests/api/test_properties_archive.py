"""Property test of extract-archive against the real server: tar archives of random members (names that
climb out with ``..``, absolute names, names that are not UTF-8, symbolic and hard links, directories)
sent to a container's pseudo-folder.  Whatever the archive, the answer is a report, never a 5xx, and
nothing is written outside the path the request named."""

from __future__ import annotations

import io
import tarfile

from hypothesis import example, given
from hypothesis import strategies as st

from tests.unit.properties import bounded

segment = st.one_of(st.sampled_from(["..", ".", "", "a", "b.txt", "é", "\udcff"]),
                    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\x00/"),
                            min_size=1, max_size=8))
member_name = st.one_of(st.lists(segment, min_size=1, max_size=4).map("/".join),
                        st.lists(segment, min_size=1, max_size=3).map(lambda parts: "/" + "/".join(parts)))
member = st.tuples(st.sampled_from([tarfile.REGTYPE, tarfile.REGTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.DIRTYPE]),
                   member_name, st.one_of(member_name, st.sampled_from(["/etc/passwd", "../../x"])), st.binary(max_size=20))


def tar_of(members) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT, errors="surrogateescape") as tar:
        for kind, name, target, data in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.REGTYPE:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                info.linkname = target
                tar.addfile(info)
    return out.getvalue()


@given(st.lists(member, min_size=1, max_size=5))
@example([(tarfile.REGTYPE, "\udcff", "", b"x")])  # a name that is not UTF-8: was a 500
@example([(tarfile.REGTYPE, "../../escape", "", b"x"), (tarfile.REGTYPE, "/abs/olute", "", b"y"),
          (tarfile.SYMTYPE, "link", "/etc/passwd", b""), (tarfile.LNKTYPE, "hard", "../../x", b"")])
@bounded(20)
def test_extract_archive_writes_only_under_the_request_path(swift, members):
    c = swift.container()
    before = {x["name"] for x in swift.http.get("", params={"format": "json"}).json()}
    resp = swift.http.put(f"/{c}/in/", params={"extract-archive": "tar"}, content=tar_of(members),
                          headers={"Accept": "application/json"})
    assert resp.status_code < 500, resp.text
    report = resp.json()
    assert report["Response Status"].split()[0] in ("201", "400"), report
    after = {x["name"] for x in swift.http.get("", params={"format": "json"}).json()}
    assert after == before  # no container made or touched beyond the one named
    objects = swift.http.get(f"/{c}", params={"format": "json"}).json()
    assert all(o["name"].startswith("in/") for o in objects)
    assert all(".." not in o["name"].split("/") for o in objects)
    assert len(objects) <= report["Number Files Created"] <= sum(kind == tarfile.REGTYPE for kind, *_ in members)
    escaping = [name for kind, name, *_ in members if kind == tarfile.REGTYPE and ".." in name.split("/")]
    assert len(report["Errors"]) >= len(escaping)  # every climbing member is refused, by name
    stored = {"/".join(p for p in name.split("/") if p not in ("", ".")) for kind, name, *_ in members
              if kind == tarfile.REGTYPE}
    for o in objects:  # a link or a directory is never stored: each object is a regular member's
        assert o["name"][len("in/"):] in stored
