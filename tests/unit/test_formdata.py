"""The streaming multipart/form-data reader: parts come out whole however the stream is cut."""

import pytest

from onestack.http import formdata

BODY = (b"--XyZ\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nvalue\r\n"
        b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a \\\"b\\\".txt\"\r\n"
        b"Content-Type: text/plain\r\n\r\nline one\r\n--Xy\r\n--X\r\n"
        b"--XyZ--\r\n")


def read(chunks):
    out = []
    for headers, body in formdata.Reader(chunks, "XyZ").parts():
        out.append((headers, b"".join(body)))
    return out


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, len(BODY)])
def test_parts_survive_any_cut(size):
    parts = read(BODY[i:i + size] for i in range(0, len(BODY), size))
    assert [p[1] for p in parts] == [b"value", b"line one\r\n--Xy\r\n--X"]
    assert parts[1][0]["content-type"] == "text/plain"
    kind, params = formdata.params(parts[1][0]["content-disposition"])
    assert kind == "form-data" and params == {"name": "f", "filename": 'a "b".txt'}


def test_unread_bodies_are_skipped_and_bad_forms_refused():
    names = [formdata.params(h["content-disposition"])[1]["name"] for h, _ in formdata.Reader([BODY], "XyZ").parts()]
    assert names == ["field", "f"]
    for bad in (b"preamble\r\n" + BODY, BODY[:40], b"--XyZ\r\n" + b"h" * 20000 + b"\r\n\r\n", b"--XyZ\r\n\r\nno end"):
        with pytest.raises(formdata.Invalid):
            read([bad])
    assert formdata.boundary_of('multipart/form-data; boundary="a b"') == "a b"
    assert formdata.boundary_of("multipart/mixed; boundary=x") is None
    assert formdata.boundary_of("multipart/form-data") is None
