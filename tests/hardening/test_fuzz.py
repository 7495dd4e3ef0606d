"""Schemathesis over every JSON service's operations, as the admin, a member and a reader (fuzz.py).

``make test`` runs a few cases per operation (ONESTACK_FUZZ_EXAMPLES, default 3); ``make fuzz`` runs many,
the object store's raw-body routes included.  Path parameters are drawn at random and, for half the cases,
are project A's real objects, so the handlers behind the lookups see the fuzzed bodies.
"""

from __future__ import annotations

import os
import time

import pytest

from onestack.registry import services
from tests.hardening import fuzz

EXAMPLES = int(os.environ.get("ONESTACK_FUZZ_EXAMPLES", "3"))
# The object store's routes take raw bodies and one catch-all path: the long run fuzzes them, the short one not.
PREFIXES = [s.prefix for s in services() if os.environ.get("ONESTACK_FUZZ_ALL") or s.prefix != "/object-store"]
TOTAL = fuzz.Report()
# the services whose descriptions declare success bodies (docs/hardening.md#openapi-descriptions)
DECLARE_BODIES = ("/network", "/image", "/compute", "/volume", "/identity", "/placement", "/orchestration")


@pytest.fixture(scope="module")
def callers(own_cloud, estate) -> dict[str, str]:
    return {"admin": own_cloud.token(), "member": estate.a.member_token, "reader": estate.a.reader_token}


# make fuzz sends many cases per operation: one service's run may outlast the suite's 10-minute default
@pytest.mark.timeout(max(600, EXAMPLES * 180))
@pytest.mark.parametrize("prefix", PREFIXES)
def test_no_operation_crashes_or_shows_its_insides(own_cloud, estate, callers, prefix, capsys):
    started = time.monotonic()
    # Identity's known objects are the callers themselves: the admin deleting A's member would end the run.
    known = (lambda before, param: None) if prefix == "/identity" else (
        lambda before, param: estate.value(prefix, before, param))
    if prefix == "/object-store":
        # the listing routes name A's account and container; the catch-all's rest stays random
        account, container = estate.swift[1].split("/")
        known = lambda before, param: {"account": account, "container": container}.get(param)  # noqa: E731
    report = fuzz.fuzz_service(own_cloud.url, prefix, callers, EXAMPLES, str(own_cloud.data_dir), known=known)
    TOTAL.add(report)
    with capsys.disabled():
        print(f"\nfuzz {prefix}: {report.operations} operations, {report.cases} cases in "
              f"{time.monotonic() - started:.0f}s; statuses {dict(sorted(report.statuses.items()))}; "
              f"{len(report.skipped)} skipped; {report.described} operations declare their success body, "
              f"{report.conforming} successes conformed to it, {report.faults} errors to the fault format; so far {TOTAL.operations} operations, "
              f"{TOTAL.cases} cases")
    assert report.cases >= report.operations * min(EXAMPLES, 2)
    if prefix in DECLARE_BODIES:
        # the check ran: the services that declare success bodies had successes checked against them
        assert report.described and report.conforming
    if prefix != "/object-store":
        # every JSON service's 4xx answers were checked against its declared fault body
        assert report.faults
    seen = set()
    lines = []
    for f in report.findings:
        if (f.operation, f.status) not in seen:
            seen.add((f.operation, f.status))
            lines.append(f"{f.operation} as {f.caller} -> {f.status}: {f.why}\n    {f.reproduce}")
    assert not report.findings, "\n".join(lines)


def test_a_body_showing_the_servers_insides_is_found_but_an_id_it_echoes_is_not():
    """A traceback or a source file's name is the server's insides; an id the client sent and the answer
    repeats (a CI run drew the image id ``console_server.py``, and Glance's 404 names it) is not."""
    echoed = '{"message": "No image found with ID console_server.py"}'
    assert fuzz.insides(echoed, "/data") == '.py"'  # taken alone, it looks like a source file's name
    assert fuzz.insides(echoed, "/data", ("console_server.py",)) is None
    assert fuzz.insides('File "/srv/app/x.py", line 3', "/data", ("console_server.py",)) == 'File "/srv/app/x.py"'
    assert fuzz.insides("the volume lies in /data/volumes", "/data") == "/data"
