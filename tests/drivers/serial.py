"""A guest's serial console, driven through the console proxy's websocket as a user would."""

from __future__ import annotations

import contextlib
import socket
import time
import uuid

from websockets.sync.client import connect

# A guest shell's command: rewrite 16 MB of memory in a loop in the background (what a live migration must
# keep up with), counting the passes in /tmp/passes, until /tmp/stop exists.
DIRTYING_LOOP = ("(n=0; while [ ! -e /tmp/stop ]; do dd if=/dev/zero of=/tmp/buf bs=1M count=16 2>/dev/null; "
                 "n=$((n+1)); echo $n > /tmp/passes.new; mv /tmp/passes.new /tmp/passes; done) >/dev/null 2>&1 & true")

# what busybox init's ``askfirst`` console (onestack-tiny's inittab) prints before it starts the shell
ASKFIRST = b"activate this console"


def shell_answers(url: str, seconds: float = 60) -> bool:
    """Presses Enter on the serial console at ``url`` (onestack-tiny's shell wakes on it), asks the shell a
    sum and waits for its answer; raises AssertionError with what was seen if none comes."""
    with connect(url, open_timeout=30) as ws:
        seen, asked, prompts = b"", 0.0, 0
        deadline = time.monotonic() + seconds
        while b"con42sole" not in seen:
            assert time.monotonic() < deadline, f"no shell answered on the serial console: {seen[-300:]!r}"
            if time.monotonic() - asked > 5 or seen.count(ASKFIRST) > prompts:
                ws.send(b"\n")
                ws.send(b"echo con$((6*7))sole\n")
                asked, prompts = time.monotonic(), seen.count(ASKFIRST)
            try:
                seen += ws.recv(timeout=1)
            except TimeoutError:
                pass
    return True


class Shell:
    """onestack-tiny's root shell on its serial console, over ``send``/``recv`` (bytes; ``recv`` raises
    TimeoutError after ``timeout`` seconds with nothing): a command runs once, its output comes back."""

    def __init__(self, send, recv, close):
        self.send, self.recv, self.close = send, recv, close
        self.seen = b""

    def _until(self, wanted: bytes, seconds: float, nudge: bytes = b"") -> bytes:
        deadline, nudged, prompts = time.monotonic() + seconds, 0.0, 0
        while wanted not in self.seen:
            assert time.monotonic() < deadline, f"no {wanted!r} on the serial console: {self.seen[-500:]!r}"
            # nudged every few seconds while the guest boots, and at once when its console asks for Enter
            # (a boot is seconds long: waiting out the interval there was most of a shell's wait)
            asking = self.seen.count(ASKFIRST)
            if nudge and (time.monotonic() - nudged > 5 or asking > prompts):
                self.send(nudge)
                nudged, prompts = time.monotonic(), asking
            try:
                self.seen += self.recv(1)
            except TimeoutError:
                pass
        before, _, self.seen = self.seen.partition(wanted)
        return before

    def ready(self, seconds: float = 90) -> Shell:
        # Enter wakes the console's shell; the sum is answered only once a shell reads it
        self._until(b"ready42", seconds, nudge=b"\necho ready$((6*7))\n")
        return self

    def run(self, command: str, seconds: float = 60) -> str:
        """``command``'s output (the markers are made by the shell, so the echoed line never matches)."""
        return self.output(self.start(command, seconds), seconds)

    def start(self, command: str, seconds: float = 60) -> str:
        """Send ``command`` and return once the shell has begun it (its tag, for ``output``): what the host
        does next happens while the command runs, e.g. a disk plugged under a loop waiting for it."""
        tag = uuid.uuid4().hex[:8]
        self.send(f"t={tag}; echo \"$t\"-begin; {command}; echo \"$t\"-end\n".encode())
        self._until(f"{tag}-begin".encode(), seconds)
        return tag

    def output(self, tag: str, seconds: float = 60) -> str:
        """What the command ``start`` began printed, once it has ended."""
        return self._until(f"{tag}-end".encode(), seconds).decode(errors="replace").replace("\r", "").strip()


def unix_shell(path: str) -> Shell:
    """The shell on a guest's serial socket (the QEMU driver's ``console_socket``)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    sock.settimeout(1)  # a quiet second is socket's TimeoutError
    return Shell(sock.sendall, lambda _timeout: sock.recv(65536), sock.close)


def websocket_shell(url: str) -> Shell:
    """The shell behind a serial console URL of the compute API (``remote-consoles``)."""
    opened = contextlib.ExitStack()
    ws = opened.enter_context(connect(url, open_timeout=30))
    return Shell(ws.send, lambda timeout: ws.recv(timeout=timeout), opened.close)
