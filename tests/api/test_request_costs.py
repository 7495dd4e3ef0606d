"""Regression guards as counts, not times: the SQL statements one allocation-candidates answer and one
token validation cost.  The cloud's data is made over its API; the service code then answers in this process
on the same database with every statement counted, so a change that adds a query to a request (or one per
provider) fails here on any machine, however loaded."""

from __future__ import annotations

import contextlib
import uuid

import httpx
import pytest
from sqlalchemy import event
from starlette.datastructures import QueryParams

from onestack import config
from onestack.db.engine import Database
from onestack.http.microversion import Version
from onestack.services.identity.service import IdentityService
from onestack.services.placement.service import PlacementService
from tests.api.helpers import ok

# What an answer costs today: the placement revision and the usage.  The providers' trees (rows, inventories,
# traits, aggregates, custom class and trait names) are kept in the serving process while the revision holds
# (``kept``); after a change of them the first answer reads them again: the custom classes and traits, the
# providers, the classes' update times (the key of the inventories and traits kept by generation), the
# changed providers' inventories and traits, usage and aggregates.  It grows neither with the providers nor
# with the request groups, and a claim (usage only) does not make the next answer read the trees again.
CANDIDATES_STATEMENTS = 2
CANDIDATES_AFTER_A_CHANGE = 10
# A validation not yet cached: the revision, the user, its domain, revocation events, the project, the
# user's groups, the roles held directly and through groups, implied roles, the roles' rows.  Cached: none.
COLD_VALIDATION_STATEMENTS = 10


@contextlib.contextmanager
def statements(db: Database):
    """The statements ``db`` runs inside the block (BEGIN and COMMIT left out: they differ by database)."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


@pytest.fixture
def db(cloud):
    database = Database(cloud.database or f"sqlite:///{cloud.data_dir / 'onestack.db'}")
    yield database
    database.dispose()


@pytest.fixture
def placement(cloud):
    """A placement client, and every provider it made deleted afterwards (children first)."""
    made: list[str] = []
    with httpx.Client(base_url=f"{cloud.url}/placement", timeout=60, headers={
            "X-Auth-Token": cloud.token(), "OpenStack-API-Version": "placement 1.36"}) as http:
        yield http, made
        for rp in reversed(made):
            http.delete(f"/resource_providers/{rp}")


def _trees(http: httpx.Client, made: list[str], count: int, rc: str, trait: str, aggregate: str) -> None:
    """``count`` roots with ``rc``; every other one with ``trait`` and in ``aggregate``, each with a child
    holding ``rc`` too (a nested tree)."""
    for i in range(count):
        rp = ok(http.post("/resource_providers", json={"name": f"cost-{uuid.uuid4().hex[:12]}"}))["uuid"]
        made.append(rp)
        ok(http.put(f"/resource_providers/{rp}/inventories",
                    json={"resource_provider_generation": 0, "inventories": {rc: {"total": 8}}}))
        if i % 2:
            ok(http.put(f"/resource_providers/{rp}/traits", json={"resource_provider_generation": 1,
                                                                   "traits": [trait]}))
            ok(http.put(f"/resource_providers/{rp}/aggregates", json={"resource_provider_generation": 2,
                                                                       "aggregates": [aggregate]}))
            child = ok(http.post("/resource_providers", json={"name": f"cost-{uuid.uuid4().hex[:12]}",
                                                              "parent_provider_uuid": rp}))["uuid"]
            made.append(child)
            ok(http.put(f"/resource_providers/{child}/inventories",
                        json={"resource_provider_generation": 0, "inventories": {rc: {"total": 8}}}))


def test_allocation_candidates_cost_the_same_statements_for_any_number_of_providers(placement, db):
    http, made = placement
    tag = uuid.uuid4().hex[:8].upper()
    rc, trait, aggregate = f"CUSTOM_COST_{tag}", f"CUSTOM_COST_{tag}", str(uuid.uuid4())
    ok(http.post("/resource_classes", json={"name": rc}), 201)
    ok(http.put(f"/traits/{trait}"), 201)
    service, version = PlacementService(db), Version(1, 36)
    queries = {"plain": f"resources={rc}:1", "trait": f"resources={rc}:1&required={trait}",
               "member_of": f"resources={rc}:1&member_of={aggregate}",
               "nested": f"resources={rc}:1&resources1={rc}:1&group_policy=isolate"}

    def costs() -> dict[str, tuple[int, int]]:
        found = {}
        for name, query in queries.items():
            with statements(db) as seen:
                answer = service.candidates_for(QueryParams(query), version)
            found[name] = (len(answer["allocation_requests"]), len(seen))
        return found

    _trees(http, made, 2, rc, trait, aggregate)
    few, few_again = costs(), costs()
    _trees(http, made, 14, rc, trait, aggregate)
    many, many_again = costs(), costs()
    # the answers grew with the providers (so the guard measured real searches)...
    assert [n for n, _ in few.values()] == [3, 1, 2, 5] and [n for n, _ in many.values()] == [24, 8, 16, 40]
    assert [n for n, _ in few_again.values()] == [3, 1, 2, 5] and [n for n, _ in many_again.values()] == [24, 8, 16, 40]
    # ...and the statements did not: the first answer after providers changed reads their inventories and
    # traits, the others read what the first kept
    assert {name: cost for name, (_, cost) in many.items()} == {name: cost for name, (_, cost) in few.items()}
    assert many["plain"][1] <= CANDIDATES_AFTER_A_CHANGE, many
    assert max(cost for _, cost in [*many_again.values(), *list(many.values())[1:]]) <= CANDIDATES_STATEMENTS, (
        many, many_again)
    # a claim changes usage only: the next answers still read no provider row (and see the claim)
    consumer = str(uuid.uuid4())
    ok(http.put(f"/allocations/{consumer}", json={
        "allocations": {made[0]: {"resources": {rc: 1}}}, "project_id": uuid.uuid4().hex,
        "user_id": uuid.uuid4().hex, "consumer_generation": None}, headers={"OpenStack-API-Version": "placement 1.28"}), 204)
    with statements(db) as seen:
        answer = service.candidates_for(QueryParams(queries["plain"]), version)
    assert len(seen) <= CANDIDATES_STATEMENTS, seen
    assert answer["provider_summaries"][made[0]]["resources"][rc]["used"] == 1
    ok(http.delete(f"/allocations/{consumer}"), 204)


def test_a_cached_token_validation_costs_no_statement_until_identity_changes(cloud, db):
    settings = config.load(cloud.data_dir)
    identity = IdentityService(db, settings)
    identity.transactions.poll_seconds = 3600.0  # the revision is re-read only when this process writes
    token = cloud.token()
    with statements(db) as cold:
        first = identity.tokens.validate(token)
    assert 0 < len(cold) <= COLD_VALIDATION_STATEMENTS, cold
    with statements(db) as warm:
        again = identity.tokens.validate(token)
        peeked = identity.tokens.peek(token)
    assert warm == [] and again is first and peeked is first
    with identity.transactions.write():
        pass  # any identity write moves the revision...
    with statements(db) as after:
        fresh = identity.tokens.validate(token)
    # ...and the next validation checks the token against the database again
    assert len(after) == len(cold) and fresh is not first and identity.tokens.peek(token) is fresh
