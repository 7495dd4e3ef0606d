"""Dynamic large objects: a manifest reads as its segments, in order, ranges across them included."""

import hashlib


def test_dlo_reads_as_its_segments(swift):
    c, segs = swift.container(), swift.container()
    parts = [bytes([65 + i]) * (1000 + i) for i in range(4)]
    for i, part in enumerate(parts):
        swift.put(f"/{segs}/big/{i:03}", part)
    swift.put(f"/{segs}/other", b"not a segment")
    swift.put(f"/{c}/big", b"", **{"X-Object-Manifest": f"{segs}/big/"})
    whole = b"".join(parts)
    etags = "".join(hashlib.md5(p).hexdigest() for p in parts)
    got = swift.http.get(f"/{c}/big")
    assert got.content == whole and got.headers["Content-Length"] == str(len(whole))
    assert got.headers["ETag"] == f'"{hashlib.md5(etags.encode()).hexdigest()}"'
    assert got.headers["X-Object-Manifest"] == f"{segs}/big/"
    ranged = swift.http.get(f"/{c}/big", headers={"Range": "bytes=990-2010"})
    assert ranged.status_code == 206 and ranged.content == whole[990:2011]
    assert swift.http.head(f"/{c}/big").headers["Content-Length"] == str(len(whole))
    manifest = swift.http.get(f"/{c}/big", params={"multipart-manifest": "get"})
    assert manifest.content == b""
    copied = swift.http.put(f"/{c}/flat", content=b"", headers={"X-Copy-From": f"{c}/big"})
    assert copied.status_code == 201
    flat = swift.http.get(f"/{c}/flat")
    assert flat.content == whole and "X-Object-Manifest" not in flat.headers
    # segments added later are part of it: the manifest is a prefix, read when the object is
    swift.put(f"/{segs}/big/004", b"E")
    assert swift.http.get(f"/{c}/big").content == whole + b"E"
