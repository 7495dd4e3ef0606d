"""Static large objects: manifests checked segment by segment, read as their segments (ranges across
them, nested manifests), shown raw, deleted with their segments."""

import hashlib

import httpx
import orjson

SIZES = (1000, 1001, 1002, 1003)


def segments(swift, count=4):
    """A segment container holding ``count`` segments; their bytes and put-form manifest entries."""
    segs = swift.container()
    parts = [bytes([65 + i]) * SIZES[i] for i in range(count)]
    entries = []
    for i, part in enumerate(parts):
        swift.put(f"/{segs}/s{i}", part)
        entries.append({"path": f"/{segs}/s{i}", "etag": hashlib.md5(part).hexdigest(), "size_bytes": len(part)})
    return segs, parts, entries


def put_manifest(swift, path, entries, **headers):
    return swift.http.put(path, params={"multipart-manifest": "put"}, content=orjson.dumps(entries),
                          headers=headers)


def slo_etag(entries):
    return hashlib.md5("".join(e["etag"] for e in entries).encode()).hexdigest()


def test_slo_reads_as_its_segments(swift):
    c = swift.container()
    segs, parts, entries = segments(swift)
    whole = b"".join(parts)
    put = put_manifest(swift, f"/{c}/big", entries, **{"X-Object-Meta-Kind": "slo", "Content-Type": "text/x-big"})
    assert put.status_code == 201, put.text
    assert put.headers["ETag"] == f'"{slo_etag(entries)}"'
    got = swift.http.get(f"/{c}/big")
    assert got.status_code == 200 and got.content == whole
    assert got.headers["ETag"] == f'"{slo_etag(entries)}"' and got.headers["X-Static-Large-Object"] == "True"
    assert got.headers["Content-Type"] == "text/x-big" and got.headers["X-Object-Meta-Kind"] == "slo"
    assert not any(k.lower().startswith("x-object-sysmeta") for k in got.headers)
    head = swift.http.head(f"/{c}/big")
    assert head.headers["Content-Length"] == str(len(whole)) and head.headers["ETag"] == got.headers["ETag"]
    ranged = swift.http.get(f"/{c}/big", headers={"Range": "bytes=995-2010"})
    assert ranged.status_code == 206 and ranged.content == whole[995:2011]
    assert ranged.headers["Content-Range"] == f"bytes 995-2010/{len(whole)}"
    multi = swift.http.get(f"/{c}/big", headers={"Range": "bytes=0-1,1999-2002,-3"})
    assert multi.status_code == 206 and multi.headers["Content-Type"].startswith("multipart/byteranges")
    assert whole[1999:2003] in multi.content and whole[-3:] in multi.content
    # listed and counted at the size of the whole, as Swift lists it
    listed = swift.http.get(f"/{c}", params={"format": "json"}).json()
    assert listed[0]["bytes"] == len(whole)
    assert swift.http.head(f"/{c}").headers["X-Container-Bytes-Used"] == str(len(whole))
    # conditional requests see the SLO's ETag
    assert swift.http.get(f"/{c}/big", headers={"If-None-Match": slo_etag(entries)}).status_code == 304
    # a POST changes metadata and keeps it a large object
    assert swift.http.post(f"/{c}/big", headers={"X-Object-Meta-Other": "1"}).status_code == 202
    again = swift.http.get(f"/{c}/big")
    assert again.content == whole and again.headers["X-Static-Large-Object"] == "True"


def test_segment_ranges_and_the_etag_over_them(swift):
    c = swift.container()
    segs, parts, entries = segments(swift, 2)
    entries[0]["range"] = "10-19"
    entries[1]["range"] = "-5"
    put = put_manifest(swift, f"/{c}/ranged", entries)
    assert put.status_code == 201, put.text
    tag = hashlib.md5(f"{entries[0]['etag']}:10-19;{entries[1]['etag']}:996-1000;".encode()).hexdigest()
    assert put.headers["ETag"] == f'"{tag}"'
    got = swift.http.get(f"/{c}/ranged")
    assert got.content == parts[0][10:20] + parts[1][-5:]
    assert swift.http.get(f"/{c}/ranged", headers={"Range": "bytes=8-11"}).content == (parts[0][18:20] + parts[1][-5:])[:4]


def test_manifest_shown_as_kept_and_raw(swift):
    c = swift.container()
    segs, parts, entries = segments(swift, 2)
    put_manifest(swift, f"/{c}/m", entries)
    kept = swift.http.get(f"/{c}/m", params={"multipart-manifest": "get"})
    assert kept.status_code == 200 and kept.headers["Content-Type"].startswith("application/json")
    assert kept.headers["X-Static-Large-Object"] == "True"
    body = kept.json()
    assert [e["name"] for e in body] == [e["path"] for e in entries]
    assert [e["bytes"] for e in body] == [len(p) for p in parts]
    assert [e["hash"] for e in body] == [e["etag"] for e in entries]
    assert kept.headers["ETag"] == hashlib.md5(kept.content).hexdigest()
    raw = swift.http.get(f"/{c}/m", params={"multipart-manifest": "get", "format": "raw"}).json()
    assert raw == entries
    # the raw form puts back as the same object
    assert put_manifest(swift, f"/{c}/m2", raw).status_code == 201
    assert swift.http.get(f"/{c}/m2").content == b"".join(parts)


def test_bad_segments_are_listed_and_nothing_is_kept(swift):
    c = swift.container()
    segs, parts, entries = segments(swift, 3)
    entries[0]["etag"] = "0" * 32
    entries[1]["size_bytes"] = 5
    entries.append({"path": f"/{segs}/missing"})
    entries.append({"path": f"/{segs}/s2", "range": "5000-6000"})
    bad = put_manifest(swift, f"/{c}/bad", entries)
    assert bad.status_code == 400 and bad.headers["Content-Type"].startswith("text/plain")
    assert bad.text == (f"Errors:\n/{segs}/s0, Etag Mismatch\n/{segs}/s1, Size Mismatch\n"
                        f"/{segs}/missing, 404 Not Found\n/{segs}/s2, Unsatisfiable Range\n")
    as_json = put_manifest(swift, f"/{c}/bad", entries, Accept="application/json")
    assert as_json.status_code == 400
    assert as_json.json()["Errors"][0] == [f"/{segs}/s0", "Etag Mismatch"]
    assert swift.http.head(f"/{c}/bad").status_code == 404
    empty = swift.put(f"/{segs}/empty", b"")
    assert empty.status_code == 201
    small = put_manifest(swift, f"/{c}/bad", [{"path": f"/{segs}/empty"}])
    assert small.status_code == 400 and "Too small" in small.text
    itself = put_manifest(swift, f"/{c}/bad", [{"path": f"/{c}/bad"}])
    assert itself.status_code == 400


def test_malformed_manifests_are_400(swift):
    c = swift.container()
    segs, _, entries = segments(swift, 1)
    cases = [
        (b"not json", "Manifest must be valid JSON"),
        (b'{"path": "x"}', "Manifest must be a list"),
        (b"[]", "at least one segment"),
        (orjson.dumps([{"path": f"/{segs}/s0", "bogus": 1}]), 'Index 0: extraneous keys "bogus"'),
        (orjson.dumps([{"etag": "x"}]), "Index 0: expected keys to include path"),
        (orjson.dumps([{"path": "nocontainer"}]), "Index 0: path does not refer to an object"),
        (orjson.dumps([{"path": f"/{segs}/s0", "size_bytes": "ten"}]), "Index 0: \"size_bytes\""),
        (orjson.dumps([{"path": f"/{segs}/s0", "etag": 5}]), 'Index 0: "etag" must be a string'),
        (orjson.dumps([{"path": f"/{segs}/s0", "range": "9-1"}]), "Index 0: invalid range"),
        (orjson.dumps(["string"]), "Index 0:"),
    ]
    for body, message in cases:
        resp = swift.http.put(f"/{c}/m", params={"multipart-manifest": "put"}, content=body)
        assert resp.status_code == 400 and message in resp.text, (body, resp.status_code, resp.text)
    too_many = orjson.dumps([entries[0]] * 1001)
    assert swift.http.put(f"/{c}/m", params={"multipart-manifest": "put"}, content=too_many).status_code == 413
    reserved = swift.http.put(f"/{c}/m", content=b"x", headers={"X-Static-Large-Object": "True"})
    assert reserved.status_code == 400 and "reserved" in reserved.text
    wrong_etag = put_manifest(swift, f"/{c}/m", entries, ETag="0" * 32)
    assert wrong_etag.status_code == 422
    assert swift.http.head(f"/{c}/m").status_code == 404


def test_delete_with_segments_and_plain_delete(swift):
    c = swift.container()
    segs, parts, entries = segments(swift, 3)
    put_manifest(swift, f"/{c}/keep-segments", entries)
    assert swift.http.delete(f"/{c}/keep-segments").status_code == 204
    assert len(swift.http.get(f"/{segs}").text.split()) == 3
    put_manifest(swift, f"/{c}/big", entries)
    gone = swift.http.delete(f"/{c}/big", params={"multipart-manifest": "delete"})
    assert gone.status_code == 200
    assert "Number Deleted: 4\n" in gone.text and "Response Status: 200 OK\n" in gone.text
    assert swift.http.get(f"/{segs}").status_code == 204 and swift.http.head(f"/{c}/big").status_code == 404
    # an ordinary object deletes as ever
    swift.put(f"/{c}/plain", b"x")
    assert swift.http.delete(f"/{c}/plain", params={"multipart-manifest": "delete"}).status_code == 204


def test_nested_manifest_and_changed_segment(swift):
    c = swift.container()
    segs, parts, entries = segments(swift, 4)
    put_manifest(swift, f"/{c}/inner", entries[:2])
    inner = swift.http.head(f"/{c}/inner")
    outer = [{"path": f"/{c}/inner", "etag": inner.headers["ETag"].strip('"'), "size_bytes": 2001,
              "range": "990-1010"}, *entries[2:]]
    assert put_manifest(swift, f"/{c}/outer", outer).status_code == 201
    expected = (parts[0] + parts[1])[990:1011] + parts[2] + parts[3]
    assert swift.http.get(f"/{c}/outer").content == expected
    assert swift.http.get(f"/{c}/outer", headers={"Range": "bytes=5-30"}).content == expected[5:31]
    gone = swift.http.delete(f"/{c}/outer", params={"multipart-manifest": "delete"}, headers={"Accept": "application/json"})
    assert gone.json()["Number Deleted"] == 6 and gone.json()["Errors"] == []
    # a segment replaced after the manifest was put: the manifest no longer reads
    segs, parts, entries = segments(swift, 2)
    put_manifest(swift, f"/{c}/m", entries)
    swift.put(f"/{segs}/s1", b"changed")
    assert swift.http.get(f"/{c}/m").status_code == 409


def test_copy_of_a_manifest_holds_the_bytes(swift):
    c = swift.container()
    segs, parts, entries = segments(swift, 2)
    put_manifest(swift, f"/{c}/m", entries)
    assert swift.http.put(f"/{c}/flat", content=b"", headers={"X-Copy-From": f"{c}/m"}).status_code == 201
    flat = swift.http.get(f"/{c}/flat")
    assert flat.content == b"".join(parts) and "X-Static-Large-Object" not in flat.headers
    assert flat.headers["ETag"] == hashlib.md5(b"".join(parts)).hexdigest()


def test_info_lists_slo(cloud):
    slo = httpx.get(f"{cloud.url}/object-store/info").json()["slo"]
    assert slo["max_manifest_segments"] == 1000 and slo["min_segment_size"] == 1
