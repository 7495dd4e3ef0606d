"""HOT's ``yaql`` function: expressions evaluated by the ``yaql`` library, in a process of their own.

A template's author writes the expression, so it may be hostile: ``range(1e12).sum()``, a regular
expression that backtracks for ever, an exponent with millions of digits.  Some of that runs in C
holding the GIL, where no thread can interrupt it, so evaluation happens in a separate worker process
(started on first use, one per serving process, reused): each evaluation must answer within
``TIMEOUT`` seconds or the worker is killed (and started again for the next one); the worker's address
space is capped (``MEMORY``), its answers too (``MAX_ANSWER``), and the engine's own bounds are Heat's
defaults (``limit_iterators`` 200 items, ``memory_quota`` 10000 bytes).  What goes across is JSON: the
expression and the data in, the result out.  Results are cached by expression and data, failures too, so
a stack's outputs read again do not evaluate again.

Run as a script (``python -I .../yaql_sandbox.py``: nothing of onestack is imported) it is the worker:
``ready`` once it can evaluate, then one JSON request a line on stdin, one JSON answer a line on stdout.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
from collections import OrderedDict

TIMEOUT = 2.0
# A worker's start (the interpreter, yaql) is not the expression's time.
STARTUP = 60.0
MEMORY = 512 << 20
MAX_ANSWER = 1 << 20
# Heat's [yaql] limit_iterators and memory_quota.
LIMIT_ITERATORS = 200
MEMORY_QUOTA = 10000
CACHED = 512


class YaqlError(Exception):
    """The expression does not parse (``parse``), or its evaluation failed or was cut short."""

    def __init__(self, message: str, *, parse: bool = False):
        self.parse = parse
        super().__init__(message)


class Sandbox:
    """The parent's side: one worker at a time, evaluations one after another."""

    def __init__(self):
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._owner = 0
        self._cache: OrderedDict[str, tuple[bool, object]] = OrderedDict()

    def evaluate(self, expression: str, data=None, *, parse_only: bool = False):
        """The expression's value with ``$.data`` as ``data`` (or, ``parse_only``, just its check)."""
        request = json.dumps({"expression": expression, "data": data, "parse_only": parse_only}, sort_keys=True,
                             default=str)
        with self._lock:
            if request in self._cache:
                self._cache.move_to_end(request)
                good, value = self._cache[request]
            else:
                good, value = self._ask(request)
                self._cache[request] = (good, value)
                while len(self._cache) > CACHED:
                    self._cache.popitem(last=False)
        if not good:
            kind, message = value
            raise YaqlError(message, parse=kind == "parse")
        return value

    def _worker(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None or self._owner != os.getpid():
            # (a forked serving process starts its own: the pipes of its parent's worker are not its own)
            # the file itself, isolated (-I): the worker imports nothing of onestack, only yaql
            self._proc = subprocess.Popen([sys.executable, "-I", os.path.abspath(__file__)], stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
            self._owner = os.getpid()
            if self._read(self._proc, STARTUP) != b"ready\n":
                self._stop()
                raise YaqlError("the yaql worker did not start")
        return self._proc

    def _read(self, proc: subprocess.Popen, timeout: float) -> bytes | None:
        """One line from the worker; None if none came within ``timeout`` seconds (or it was too long)."""
        line = b""
        while not line.endswith(b"\n"):
            ready, _, _ = select.select([proc.stdout], [], [], timeout)
            if not ready:
                return None
            chunk = os.read(proc.stdout.fileno(), 1 << 16)
            if not chunk:
                return line
            line += chunk
            if len(line) > MAX_ANSWER + 1024:
                return None
        return line

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def _ask(self, request: str) -> tuple[bool, object]:
        try:
            proc = self._worker()
        except (OSError, YaqlError) as exc:
            return False, ("run", f"yaql cannot be evaluated now: {exc}")
        try:
            proc.stdin.write(request.encode() + b"\n")
            answer = self._read(proc, TIMEOUT)
        except OSError:
            answer = b""
        if answer is None:
            self._stop()
            return False, ("run", f"the expression took longer than {TIMEOUT:g} s or its value is too large")
        if not answer.endswith(b"\n"):
            self._stop()  # it died: out of memory, most likely
            return False, ("run", "the expression needs too much memory")
        reply = json.loads(answer)
        if "error" in reply:
            return False, (reply.get("kind", "run"), reply["error"])
        return True, reply["value"]


SANDBOX = Sandbox()


def _serve() -> None:  # pragma: no cover - runs in the worker process
    import resource

    import yaql
    from yaql.language import exceptions, factory

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    engine = factory.YaqlFactory().create(options={
        "yaql.limitIterators": LIMIT_ITERATORS, "yaql.memoryQuota": MEMORY_QUOTA,
        "yaql.convertTuplesToLists": True, "yaql.convertSetsToLists": True})
    root = yaql.create_context()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        request = json.loads(line)
        try:
            try:
                parsed = engine(request["expression"])
            except exceptions.YaqlException as exc:
                reply = {"kind": "parse", "error": str(exc)}
            else:
                value = None if request["parse_only"] else \
                    parsed.evaluate(data={"data": request["data"]}, context=root.create_child_context())
                reply = {"value": value}
            text = json.dumps(reply, default=str)
            if len(text) > MAX_ANSWER:
                text = json.dumps({"error": "the expression's value is too large"})
        except MemoryError:
            sys.stdout.write(json.dumps({"error": "the expression needs too much memory"}) + "\n")
            sys.stdout.flush()
            return  # its heap may be in any state: the next evaluation gets a fresh worker
        except Exception as exc:  # noqa: BLE001 - whatever the expression did wrong is its answer
            text = json.dumps({"error": f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc)})
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


if __name__ == "__main__":  # pragma: no cover
    _serve()
