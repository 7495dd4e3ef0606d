"""``multipart/form-data`` read as it streams in: each part's headers, then its body as chunks, so a file
part can be written on without the form ever being held whole (Swift's form posts carry files of any size).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

HEADER_LIMIT = 16384  # the most a part's headers may take
PARAM = re.compile(r';\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


class Invalid(ValueError):
    """The body is not the multipart document its boundary announces."""


def params(value: str) -> tuple[str, dict[str, str]]:
    """A header value and its parameters (``form-data; name="f"; filename="a b"``), names lowered."""
    head, _, rest = value.partition(";")
    found = {}
    for key, raw in PARAM.findall(";" + rest):
        raw = raw.strip()
        if raw.startswith('"') and raw.endswith('"') and len(raw) > 1:
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        found[key.lower()] = raw
    return head.strip().lower(), found


def boundary_of(content_type: str | None) -> str | None:
    """The boundary of a ``multipart/form-data`` content type; None for any other type."""
    kind, found = params(content_type or "")
    return found.get("boundary") or None if kind == "multipart/form-data" else None


class Reader:
    """Parts of ``chunks`` split at ``boundary``.  A part's body must be read (or is skipped) before the
    next part is asked for."""

    def __init__(self, chunks: Iterable[bytes], boundary: str):
        self._chunks = iter(chunks)
        self._delimiter = b"\r\n--" + boundary.encode()
        self._buffer = bytearray(b"\r\n")  # so the first boundary reads as every other one
        self._open: Iterator[bytes] | None = None

    def _fill(self) -> bool:
        for chunk in self._chunks:
            if chunk:
                self._buffer += chunk
                return True
        return False

    def _need(self, size: int) -> None:
        while len(self._buffer) < size:
            if not self._fill():
                raise Invalid("the form ends early")

    def parts(self) -> Iterator[tuple[dict[str, str], Iterator[bytes]]]:
        """(headers with lowered names, body chunks) of each part, in order."""
        self._need(len(self._delimiter))
        if not self._buffer.startswith(self._delimiter):  # no preamble: the body opens with the boundary
            raise Invalid("invalid starting boundary")
        del self._buffer[:len(self._delimiter)]
        while True:
            self._need(2)
            ending = bytes(self._buffer[:2])
            if ending == b"--":
                return
            if ending != b"\r\n":
                raise Invalid("invalid boundary")
            del self._buffer[:2]
            headers = self._headers()
            body = self._until_delimiter()
            yield headers, body
            for _ in body:  # what the caller left unread
                pass

    def _headers(self) -> dict[str, str]:
        while (end := self._buffer.find(b"\r\n\r\n")) < 0:
            if len(self._buffer) > HEADER_LIMIT or not self._fill():
                raise Invalid("invalid part headers")
        if end > HEADER_LIMIT:
            raise Invalid("invalid part headers")
        lines = bytes(self._buffer[:end]).decode("utf-8", "replace").split("\r\n")
        del self._buffer[:end + 4]
        headers = {}
        for line in lines:
            key, sep, value = line.partition(":")
            if sep:
                headers[key.strip().lower()] = value.strip()
        return headers

    def _until_delimiter(self) -> Iterator[bytes]:
        """The bytes up to the next delimiter, which is consumed; what is kept back is the delimiter's length
        less one, as it may begin at the buffer's end."""
        keep = len(self._delimiter) - 1
        while True:
            at = self._buffer.find(self._delimiter)
            if at >= 0:
                out = bytes(self._buffer[:at])
                del self._buffer[:at + len(self._delimiter)]
                if out:
                    yield out
                return
            if len(self._buffer) > keep:
                out = bytes(self._buffer[:-keep])
                del self._buffer[:-keep]
                yield out
            if not self._fill():
                raise Invalid("the form ends early")
