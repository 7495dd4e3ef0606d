"""The placement service object (``runtime.placement``): transactions for the HTTP handlers, and the
calls the compute scheduler makes in-process (candidates, claim, release, ensure_provider)."""

from __future__ import annotations

import contextlib
import logging
import uuid as uuidlib
from collections.abc import Iterator

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.http.errors import Conflict
from onestack.services.placement import allocations, catalog, codes, inventories, providers, views
from onestack.services.placement.allocations import ConsumerWrite
from onestack.services.placement.candidates import Group, Request, Search
from onestack.services.placement.queries import AggregateClause, Traits
from onestack.services.placement.snapshot import Snapshot

LOG = logging.getLogger("onestack.placement")
# Placement retries a claim that lost a generation race this many times before answering 409.
CLAIM_ATTEMPTS = 10


class PlacementService:
    def __init__(self, db: Database):
        self.db = db

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        with self.db.write() as session:
            yield session

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with self.db.read() as session:
            yield session

    # -- allocations ---------------------------------------------------------------------------------
    def claim_many(self, writes: list[ConsumerWrite]) -> None:
        """Write allocations for several consumers atomically.  Losing a race with another writer on a
        provider (its generation moved between our read and our compare-and-swap) means starting again
        from fresh reads: capacity is then checked against what the winner took."""
        for _ in range(CLAIM_ATTEMPTS):
            try:
                with self.db.write() as session:
                    allocations.replace(session, writes)
                return
            except providers.GenerationRace:
                LOG.info("allocation write lost a generation race; retrying")
            except IntegrityError:
                LOG.info("allocation write raced on a new consumer; retrying")
        raise Conflict("Unable to write allocations: resource providers kept changing concurrently; "
                       "please retry.", kind=codes.CONCURRENT_UPDATE)

    def claim(self, consumer: str, allocations_by_provider: dict[str, dict[str, int]], project_id: str,
              user_id: str, consumer_generation: int | None = None, consumer_type: str | None = None) -> None:
        """Replace ``consumer``'s allocations; ``consumer_generation`` None means it must hold none yet."""
        self.claim_many([ConsumerWrite(consumer, allocations_by_provider, project_id, user_id,
                                       consumer_generation, consumer_type)])

    def providers_of(self, consumer: str) -> set[str]:
        """The providers ``consumer`` holds resources on."""
        with self.db.read() as session:
            return {provider.uuid for _, provider in allocations.consumer_allocations(session, consumer)}

    def release(self, consumer: str) -> bool:
        """Drop every allocation of ``consumer``; False if it held none."""
        with self.db.write() as session:
            if not allocations.consumer_allocations(session, consumer):
                return False
            allocations.release(session, consumer)
            return True

    # -- searching -----------------------------------------------------------------------------------
    def search(self, request: Request) -> dict:
        """GET /allocation_candidates at the newest microversion's shape, from one consistent read."""
        return self.search_at(request, views.MAX_VERSION)

    def search_at(self, request: Request, version) -> dict:
        with self.db.read() as session:
            snap = Snapshot(session)
            found = Search(snap, request).run()
            return views.candidates(snap, request, found, version)

    def snapshot(self) -> Snapshot:
        """Every provider with its inventories, usage, traits and aggregates, from one consistent read (the
        compute scheduler keeps it as its view of the hosts)."""
        with self.db.read() as session:
            return Snapshot(session)

    def candidates(self, resources: dict[str, int], required: tuple[str, ...] = (), forbidden: tuple[str, ...] = (),
                   member_of: tuple[str, ...] = (), in_tree: str | None = None, limit: int | None = None) -> dict:
        """The scheduler's question: which providers can take ``resources`` (one tree each)?"""
        group = Group("", dict(resources), Traits([frozenset([t]) for t in required], set(forbidden)),
                      [AggregateClause(frozenset(member_of))] if member_of else [], in_tree)
        return self.search(Request([group], limit=limit))

    # -- compute hosts -------------------------------------------------------------------------------
    def ensure_provider(self, name: str, uuid: str | None = None, inventories_by_class: dict[str, dict] | None = None,
                        traits: list[str] | None = None) -> dict:
        """Register or refresh a compute host's provider: created if missing, then its inventories and
        traits set to exactly what is given (custom traits are created, as Nova's report client does)."""
        uuid = uuid or str(uuidlib.uuid5(uuidlib.NAMESPACE_DNS, name))
        with self.db.write() as session:
            provider = providers.find(session, uuid) or providers.create(session, uuid, name)
            if provider.name != name:
                providers.update_provider(session, provider, name, None, parent_given=False, may_reparent=False)
            if inventories_by_class is not None:
                inventories.replace_all(session, provider, provider.generation, inventories_by_class,
                                        reserved_may_equal_total=True)
            if traits is not None:
                for trait in traits:
                    if trait.startswith("CUSTOM_"):
                        catalog.ensure_trait(session, trait)
                catalog.set_provider_traits(session, provider, traits, provider.generation)
            return {"uuid": provider.uuid, "name": provider.name, "generation": provider.generation}

    def change_provider_aggregates(self, uuid: str, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()) -> None:
        """Add or remove aggregates of a provider, bumping its generation (compute's host aggregates);
        a provider that does not exist (a host not yet registered) has nothing to change."""
        with self.db.write() as session:
            provider = providers.find(session, uuid)
            if provider is None:
                return
            current = set(catalog.provider_aggregates(session, provider))
            wanted = (current | set(add)) - set(remove)
            if wanted != current:
                catalog.set_provider_aggregates(session, provider, sorted(wanted), provider.generation)
