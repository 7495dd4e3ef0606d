"""A guest's serial console, driven through the console proxy's websocket as a user would."""

from __future__ import annotations

import time

from websockets.sync.client import connect


def shell_answers(url: str, seconds: float = 60) -> bool:
    """Presses Enter on the serial console at ``url`` (onestack-tiny's shell wakes on it), asks the shell a
    sum and waits for its answer; raises AssertionError with what was seen if none comes."""
    with connect(url, open_timeout=30) as ws:
        seen, asked = b"", 0.0
        deadline = time.monotonic() + seconds
        while b"con42sole" not in seen:
            assert time.monotonic() < deadline, f"no shell answered on the serial console: {seen[-300:]!r}"
            if time.monotonic() - asked > 5:
                ws.send(b"\n")
                ws.send(b"echo con$((6*7))sole\n")
                asked = time.monotonic()
            try:
                seen += ws.recv(timeout=1)
            except TimeoutError:
                pass
    return True
