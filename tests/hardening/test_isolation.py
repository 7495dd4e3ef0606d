"""Tenant isolation, swept over every route and method from the route tables (see isolation.py).

Project A owns one of each resource; project B's member and reader, a reader and a manager scoped to another
domain (with that role on it), an unscoped token, a revoked token, an expired token, a token that is no token
and no token at all call every route with A's identifiers in the path; the last four also call, on every
path, a method and a sub-path no route takes.
"""

from __future__ import annotations

import collections
import time

from tests.hardening import cast, isolation
from tests.hardening.conftest import expired_token, revoked_token


def test_no_tenant_sees_or_touches_another(own_cloud, estate, capsys):
    b = estate.b
    with own_cloud.client() as keystone:
        domain_reader = cast.other_domain_user(own_cloud, keystone, "reader")
        domain_manager = cast.other_domain_user(own_cloud, keystone, "manager")
    everyone = isolation.callers(estate, cast.unscoped_token(own_cloud, b.member),
                                 revoked_token(own_cloud, b.member, b.project),
                                 expired_token(own_cloud, b.member, b.project), domain_reader.token,
                                 domain_manager.token)
    started = time.monotonic()
    calls, leaks = isolation.sweep(own_cloud.url, estate, everyone)
    seconds = time.monotonic() - started
    routed = [c for c in calls if not c.unrouted]
    routes = {(c.service.name, c.route) for c in routed}
    foreign = [c for c in routed if c.foreign]
    unrouted = collections.Counter(c.unrouted for c in calls if c.unrouted)
    anonymous = [c for c in routed if c.caller.name in ("revoked", "expired", "invalid", "none")]
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
    # the domain's personas are real: each did its own domain's business in the sweep
    done = {(c.caller.name, c.route) for c in calls if c.status < 300}
    assert {("d-reader", "GET /v3/role_assignments"), ("d-reader", "GET /v3/users"),
            ("d-manager", "POST /v3/users"), ("d-manager", "POST /v3/projects")} <= done


def test_the_estate_is_real(own_cloud, estate):
    """The sweep means something only if A's identifiers name what A owns: A's member reads each of them."""
    tried, refused = 0, []
    # what the estate names (a path parameter the world has no value for is a random id, which names nothing)
    known = estate.owned | set(estate.values.values()) | {part for path in estate.swift for part in path.split("/")}
    with isolation.httpx.Client(base_url=own_cloud.url, timeout=60) as http:
        a = isolation.Caller("a-member", estate.a.member_token, estate.a.project["id"])
        for call in isolation.plan(estate, [a]):
            if call.method != "GET" or not call.names_object or call.defaults.refuses_project_personas(call.route):
                continue
            literal = set(call.ep.path.split("/"))
            if not {part for part in call.url.removeprefix(call.service.prefix).split("/") if part} - literal <= known:
                continue
            tried += 1
            isolation.send(http, call)
            if call.status >= 400:
                refused.append(f"{call.url} [{call.version}] -> {call.status}")
    assert tried > 100
    assert len(refused) <= tried // 10, "\n".join(refused)
