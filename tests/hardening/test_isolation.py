"""Tenant isolation, swept over every route and method from the route tables (see isolation.py).

Project A owns one of each resource; project B's member and reader, an unscoped token, a revoked token,
a token that is no token and no token at all call every route with A's identifiers in the path; the last
three also call, on every path, a method and a sub-path no route takes.
"""

from __future__ import annotations

import collections
import time

from tests.hardening import cast, isolation
from tests.hardening.conftest import revoked_token


def test_no_tenant_sees_or_touches_another(own_cloud, estate, capsys):
    b = estate.b
    everyone = isolation.callers(estate, cast.unscoped_token(own_cloud, b.member),
                                 revoked_token(own_cloud, b.member, b.project))
    started = time.monotonic()
    calls, leaks = isolation.sweep(own_cloud.url, estate, everyone)
    seconds = time.monotonic() - started
    routed = [c for c in calls if not c.unrouted]
    routes = {(c.service.name, c.route) for c in routed}
    foreign = [c for c in routed if c.foreign]
    unrouted = collections.Counter(c.unrouted for c in calls if c.unrouted)
    anonymous = [c for c in routed if c.caller.name in ("revoked", "invalid", "none")]
    refused = collections.Counter(c.status for c in anonymous if not c.defaults.is_open(c.route))
    with capsys.disabled():
        print(f"\nisolation: {len(routes)} routes x {len(everyone)} callers = {len(routed)} calls "
              f"({len(foreign)} naming A's objects, each with a twin naming none), and {sum(unrouted.values())} "
              f"calls without a valid token to unrouted methods ({unrouted['method']}) and paths "
              f"({unrouted['path']}), in {seconds:.0f}s; {len(leaks)} leaks; the non-open routes answered "
              f"callers without a valid token {dict(sorted(refused.items()))}")
    assert len(routes) == sum(len(e.methods) for s in isolation.services() for e in s.endpoints
                              if s.name not in isolation.NOT_SWEPT)
    assert unrouted["method"] > 100 and unrouted["path"] > 100
    assert not leaks, "\n".join(map(str, leaks))


def test_the_estate_is_real(own_cloud, estate):
    """The sweep means something only if A's identifiers name what A owns: A's member reads each of them."""
    tried, refused = 0, []
    with isolation.httpx.Client(base_url=own_cloud.url, timeout=60) as http:
        a = isolation.Caller("a-member", estate.a.member_token, estate.a.project["id"])
        for call in isolation.plan(estate, [a]):
            if call.method != "GET" or not call.names_object or call.defaults.refuses_project_personas(call.route):
                continue
            tried += 1
            isolation.send(http, call)
            if call.status >= 400:
                refused.append(f"{call.url} [{call.version}] -> {call.status}")
    assert tried > 100
    assert len(refused) <= tried // 10, "\n".join(refused)
