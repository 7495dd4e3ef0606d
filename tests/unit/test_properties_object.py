"""Property tests of the object store's parsers of user text: Range headers, TempURL signatures and
expiries, and the names extract-archive gives a tar member (onestack/services/object)."""

from __future__ import annotations

import hashlib
import hmac
import posixpath
from types import SimpleNamespace

from hypothesis import example, given
from hypothesis import strategies as st
from starlette.datastructures import QueryParams
from starlette.requests import Request

from onestack.http import errors
from onestack.http.routing import Call
from onestack.services.object import schemas
from onestack.services.object.api import bulk, conditions
from onestack.services.object.api.request import Swift
from onestack.services.object.service import tempurl
from tests.unit.properties import bounded

text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)

# -- Range ---------------------------------------------------------------------------------------------

digits = st.one_of(st.just(""), st.integers(0, 3000).map(str), st.sampled_from(["٣", "²", "007"]))
spec = st.one_of(st.builds(lambda a, b, s: f"{s}{a}{s}-{s}{b}{s}", digits, digits, st.sampled_from(["", " "])), text)
range_header = st.one_of(
    text,
    st.builds(lambda unit, specs: f"{unit}={','.join(specs)}", st.sampled_from(["bytes", "BYTES", " bytes ", "items"]),
              st.lists(spec, min_size=1, max_size=5)),
)


@given(range_header, st.integers(0, 2500))
@bounded(400)
def test_a_range_that_parses_lies_within_the_object(header, size):
    try:
        found = conditions.ranges(header, size)
    except errors.RangeNotSatisfiable as err:
        assert err.status == 416 and err.headers["Content-Range"] == f"bytes */{size}"
        return
    if found is None:  # the whole object is answered
        return
    assert 0 < len(found) <= conditions.MAX_RANGES
    for start, end in found:
        assert 0 <= start <= end < size


@given(st.integers(1, 5000), st.data())
@bounded(200)
def test_a_valid_range_gives_the_bytes_asked(size, data):
    first = data.draw(st.integers(0, size - 1))
    last = data.draw(st.integers(first, size + 100))
    assert conditions.ranges(f"bytes={first}-{last}", size) == [(first, min(last, size - 1))]
    suffix = data.draw(st.integers(1, size + 100))
    assert conditions.ranges(f"bytes=-{suffix}", size) == [(max(size - suffix, 0), size - 1)]


# -- TempURL -------------------------------------------------------------------------------------------

NOW = 1_900_000_000
names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1,
                max_size=30)


def signature(key: str, method: str, expires: str, path: str, digest: str) -> str:
    return hmac.new(key.encode(), f"{method}\n{expires}\n{path}".encode(), getattr(hashlib, digest)).hexdigest()


def verifies(sig: str, expires: str, key: str, method: str, container: str, name: str) -> bool:
    try:
        signed = tempurl.Signed.of(QueryParams([("temp_url_sig", sig), ("temp_url_expires", expires)]))
        tempurl.verify(signed, [key], method, [container], name, "127.0.0.1", now=NOW)
    except tempurl.Invalid:
        return False
    return True


def one_char_changed(value: str, data, fold: bool = False) -> str:
    """``value`` with one character replaced by another (``fold``: not by the same letter in the other case,
    which a hex digest's value does not tell apart)."""
    at = data.draw(st.integers(0, len(value) - 1))
    same = (lambda c: c.lower() == value[at].lower()) if fold else (lambda c: c == value[at])
    replacement = data.draw(st.characters(codec="utf-8", exclude_categories=["Cs"]).filter(lambda c: not same(c)))
    return value[:at] + replacement + value[at + 1:]


@given(names, names, names, st.sampled_from(tempurl.METHODS), st.sampled_from(["sha1", "sha256", "sha512"]),
       st.integers(NOW, NOW + 10**6), st.data())
@bounded(150)
def test_a_signed_url_holds_and_any_one_change_breaks_it(key, container, name, method, digest, expiry, data):
    path = f"/v1/AUTH_p/{container}/{name}"
    account_path = f"/v1/AUTH_p/{container}"
    expires = str(expiry)
    sig = signature(key, method, expires, path, digest)
    assert verifies(sig, expires, key, method, account_path, name)
    assert not verifies(one_char_changed(sig, data, fold=True), expires, key, method, account_path, name)
    changed = one_char_changed(expires, data)
    assert not verifies(sig, changed, key, method, account_path, name)
    changed_name = one_char_changed(name, data)
    assert not verifies(sig, expires, key, method, account_path, changed_name)
    changed_container = one_char_changed(container, data)
    assert not verifies(sig, expires, key, method, f"/v1/AUTH_p/{changed_container}", name)


@given(text, text, st.one_of(st.none(), text))
@example("0" * 40, "²", None)  # str.isdigit() takes "²", int() refuses it: was a ValueError, a 500
@bounded(300)
def test_any_temp_url_query_is_401_or_400_never_a_crash(sig, expires, ip_range):
    pairs = [("temp_url_sig", sig), ("temp_url_expires", expires)]
    if ip_range is not None:
        pairs.append(("temp_url_ip_range", ip_range))
    try:
        signed = tempurl.Signed.of(QueryParams(pairs))
        tempurl.verify(signed, ["k"], "GET", ["/v1/AUTH_p/c"], "o", "127.0.0.1", now=NOW)
    except (tempurl.Invalid, errors.BadRequest) as err:
        assert err.status in (400, 401)
        return
    raise AssertionError("a signature no key made was accepted")


# -- extract-archive's member names ---------------------------------------------------------------

segment = st.one_of(st.sampled_from(["..", ".", "", "a", "b.txt", "\x00", "é"]), names)
member_names = st.one_of(
    st.lists(segment, min_size=1, max_size=6).map("/".join),
    st.lists(segment, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts)),
    st.text(max_size=40),  # surrogates included: tarfile decodes a non-UTF-8 name with surrogateescape
)


@given(member_names, st.one_of(st.none(), st.just("c")), st.one_of(st.none(), st.just("dir/sub/")))
@example("\udcff", "c", None)  # a name that was not UTF-8 in the archive: was a UnicodeEncodeError, a 500
@bounded(400)
def test_a_member_lands_under_the_request_path_or_is_refused(member, container, prefix):
    req = SimpleNamespace(container=container, obj=prefix if container else None)
    try:
        got_container, got_name = bulk._destination(req, member)
    except errors.BadRequest:
        return
    if container is not None:
        assert got_container == container
    if req.obj:
        assert got_name.startswith(req.obj.strip("/") + "/")
    where = posixpath.normpath(f"/{got_container}/{got_name}")
    base = "/" + "/".join(p for p in (container, (req.obj or "").strip("/")) if p)
    assert where.startswith(base.rstrip("/") + "/") or base == "/"  # never above the request's path
    assert ".." not in got_name.split("/") and "\x00" not in got_name
    assert len(got_name.encode()) <= schemas.MAX_OBJECT_NAME_LENGTH


# -- the request path's account, container and object names ---------------------------------------

path_bytes = st.one_of(
    st.binary(max_size=60),
    st.lists(st.one_of(st.sampled_from([b"v1", b"AUTH_p", b"", b"%00", b"%ff", b"%C3%BC", b"..", b"a%2Fb"]),
                       st.binary(max_size=12), st.text(max_size=8).map(lambda t: t.encode("utf-8", "surrogatepass"))),
             min_size=1, max_size=6).map(lambda parts: b"/" + b"/".join(parts)),
    st.integers(250, 1100).map(lambda n: b"/v1/AUTH_p/c/" + b"o" * n),
)


@given(path_bytes)
@bounded(300)
def test_a_path_splits_into_clean_names_or_is_refused(raw):
    scope = {"type": "http", "method": "GET", "path": raw.decode("latin-1"), "raw_path": raw, "root_path": "",
             "query_string": b"", "headers": [], "onestack.runtime": SimpleNamespace(object=None)}
    try:
        req = Swift.parse(Call(Request(scope), None, None))
    except (errors.PreconditionFailed, errors.NotFound, errors.BadRequest):
        return
    for name, limit in ((req.account, schemas.MAX_ACCOUNT_NAME_LENGTH),
                        (req.container, schemas.MAX_CONTAINER_NAME_LENGTH),
                        (req.obj, schemas.MAX_OBJECT_NAME_LENGTH)):
        if name is not None:
            assert name and "\x00" not in name and len(name.encode("utf-8")) <= limit
    assert "/" not in req.account and (req.container is None or "/" not in req.container)
    named = "/".join(p for p in ("", req.version, req.account, req.container, req.obj) if p is not None)
    assert req.path in (named, named + "/", named + "//")  # the names are the path, less empty segments
