"""The placement service object (``runtime.placement``): every transaction behind the HTTP handlers, and
the calls the compute scheduler makes in-process (candidates, claim, release, ensure_provider)."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import uuid as uuidlib

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.db.group import GroupCommit
from onestack.http.errors import BadRequest, Conflict, NotFound
from onestack.http.microversion import Version
from onestack.services.placement import views
from onestack.services.placement.models import Consumer, CustomResourceClass, Inventory, Provider
from onestack.services.placement.service import (
    allocations,
    candidates,
    catalog,
    codes,
    inventories,
    kept,
    providers,
    queries,
    standard,
)
from onestack.services.placement.service.allocations import ConsumerWrite
from onestack.services.placement.service.candidates import Group, Request, Search
from onestack.services.placement.service.queries import AggregateClause, Traits
from onestack.services.placement.service.reshaper import reshape
from onestack.services.placement.service.snapshot import Node, Snapshot, Stocks
from onestack.services.placement.versions import MAX_VERSION

LOG = logging.getLogger("onestack.placement")
# Placement retries a claim that lost a generation race this many times before answering 409.
CLAIM_ATTEMPTS = 10


@dataclasses.dataclass(frozen=True)
class Placed:
    """A provider (a row, or a node of a snapshot) with the uuids of its parent and its tree's root."""

    provider: Provider | Node
    parent_uuid: str | None
    root_uuid: str


def _placed(session: Session, provider: Provider) -> Placed:
    uuids = providers.uuids_by_id(session, {provider.parent_id, provider.root_id})
    return Placed(provider, uuids.get(provider.parent_id), uuids.get(provider.root_id, provider.uuid))


class PlacementService:
    def __init__(self, db: Database):
        self.db = db
        # inventories and traits kept between searches while providers' generations hold (``Stocks``)
        self.stocks = Stocks()
        # the providers' trees, kept between searches while the placement revision holds (``kept``)
        self.kept = kept.Kept(self.stocks)
        # concurrent claims committed together on SQLite (one fsync for the batch, each in a savepoint)
        self.group = GroupCommit(db)

    @contextlib.contextmanager
    def _changing(self):
        """A write transaction that changes what searches keep (anything but allocations): it moves the
        placement revision, so every serving process reads the trees again (``kept``)."""
        with self.db.write() as session:
            yield session
            kept.bump(session)

    # -- resource providers --------------------------------------------------------------------------
    def create_provider(self, uuid: str | None, name: str, parent_uuid: str | None) -> Placed:
        with self._changing() as session:
            provider = providers.create(session, uuid or str(uuidlib.uuid4()), name, parent_uuid)
            return _placed(session, provider)

    def find_providers(self, query, version: Version) -> list[Placed]:
        """GET /resource_providers: the providers matching the query's filters (read at ``version``)."""
        q = query
        with self.db.read() as session:
            name, uuid = queries.single(q, "name"), queries.single(q, "uuid")
            member_of = queries.parse_member_of(q.getlist("member_of"), version) if "member_of" in q else []
            resources = queries.parse_resources(queries.single(q, "resources") or "", lambda rc: (
                catalog.resource_class_exists(session, rc))) if "resources" in q else {}
            in_tree = queries.parse_uuid(queries.single(q, "in_tree") or "", "in_tree") if "in_tree" in q else None
            traits = queries.parse_traits(q.getlist("required"), version, catalog.known_traits(session)) \
                if "required" in q else None
            snap = Snapshot(session, stocks=self.stocks)
        anchor = snap.by_uuid.get(in_tree) if in_tree else None
        shown = []
        for node in snap.nodes.values():
            if (name is not None and node.name != name) or (uuid is not None and node.uuid != uuid):
                continue
            if in_tree is not None and (anchor is None or anchor.root_id != node.root_id):
                continue
            if not all(c.satisfied_by(node.aggregates) for c in member_of):
                continue
            if traits is not None and not traits.satisfied_by(node.traits):
                continue
            if not all(node.can_take(rc, n) for rc, n in resources.items()):
                continue
            shown.append(Placed(node, snap.nodes[node.parent_id].uuid if node.parent_id else None,
                                snap.nodes[node.root_id].uuid))
        return shown

    def provider(self, uuid: str) -> Placed:
        with self.db.read() as session:
            return _placed(session, providers.get(session, uuid))

    def update_provider(self, uuid: str, name: str, parent_uuid: str | None, parent_given: bool,
                        may_reparent: bool) -> Placed:
        with self._changing() as session:
            provider = providers.get(session, uuid)
            providers.update_provider(session, provider, name, parent_uuid, parent_given, may_reparent)
            session.flush()
            return _placed(session, provider)

    def delete_provider(self, uuid: str) -> None:
        with self._changing() as session:
            providers.delete_provider(session, providers.get(session, uuid))

    # -- inventories -----------------------------------------------------------------------------------
    def inventories(self, uuid: str) -> tuple[Provider, dict[str, Inventory]]:
        with self.db.read() as session:
            provider = providers.get(session, uuid)
            return provider, inventories.listed(session, provider)

    def replace_inventories(self, uuid: str, generation: int, wanted: dict[str, dict],
                            reserved_may_equal_total: bool) -> tuple[Provider, dict[str, Inventory]]:
        with self._changing() as session:
            provider = providers.get(session, uuid)
            inventories.replace_all(session, provider, generation, wanted, reserved_may_equal_total)
            return provider, inventories.listed(session, provider)

    def delete_inventories(self, uuid: str) -> None:
        with self._changing() as session:
            inventories.delete_all(session, providers.get(session, uuid))

    def add_inventory(self, uuid: str, generation: int, rc: str, fields: dict,
                      reserved_may_equal_total: bool) -> tuple[Provider, Inventory]:
        with self._changing() as session:
            provider = providers.get(session, uuid)
            return provider, inventories.add_one(session, provider, generation, rc, fields, reserved_may_equal_total)

    def inventory(self, uuid: str, rc: str) -> tuple[Provider, Inventory]:
        with self.db.read() as session:
            provider = providers.get(session, uuid)
            return provider, inventories.get_one(session, provider, rc)

    def update_inventory(self, uuid: str, generation: int, rc: str, fields: dict,
                         reserved_may_equal_total: bool) -> tuple[Provider, Inventory]:
        with self._changing() as session:
            provider = providers.get(session, uuid)
            if rc not in inventories.listed(session, provider):
                raise BadRequest(f"No inventory record with resource class {rc} for resource provider "
                                 f"{provider.uuid}")
            return provider, inventories.set_one(session, provider, generation, rc, fields, reserved_may_equal_total)

    def delete_inventory(self, uuid: str, rc: str) -> None:
        with self._changing() as session:
            inventories.delete_one(session, providers.get(session, uuid), rc)

    # -- aggregates and traits -------------------------------------------------------------------------
    def aggregates(self, uuid: str) -> tuple[Provider, list[str]]:
        with self.db.read() as session:
            provider = providers.get(session, uuid)
            return provider, catalog.provider_aggregates(session, provider)

    def set_aggregates(self, uuid: str, aggregates: list[str], generation: int | None) -> tuple[Provider, list[str]]:
        with self._changing() as session:
            provider = providers.get(session, uuid)
            catalog.set_provider_aggregates(session, provider, aggregates, generation)
            return provider, catalog.provider_aggregates(session, provider)

    def traits(self, names: frozenset[str] | None, prefix: str | None, associated: bool | None) -> list[str]:
        with self.db.read() as session:
            return catalog.traits(session, names, prefix, associated)

    def ensure_trait(self, name: str) -> bool:
        """True when the trait was created."""
        with self._changing() as session:
            return catalog.ensure_trait(session, name)

    def trait(self, name: str) -> None:
        """404 unless the trait exists."""
        with self.db.read() as session:
            if not catalog.trait_exists(session, name):
                raise NotFound(f"No such trait(s): {name}.")

    def delete_trait(self, name: str) -> None:
        with self._changing() as session:
            catalog.delete_trait(session, name)

    def provider_traits(self, uuid: str) -> tuple[Provider, list[str]]:
        with self.db.read() as session:
            provider = providers.get(session, uuid)
            return provider, catalog.provider_traits(session, provider)

    def set_provider_traits(self, uuid: str, names: list[str], generation: int | None) -> tuple[Provider, list[str]]:
        """``generation`` None: whatever the provider's generation is (DELETE of every trait)."""
        with self._changing() as session:
            provider = providers.get(session, uuid)
            catalog.set_provider_traits(session, provider, names, generation)
            return provider, catalog.provider_traits(session, provider)

    # -- resource classes ------------------------------------------------------------------------------
    def resource_classes(self) -> list[str]:
        with self.db.read() as session:
            return catalog.resource_classes(session)

    def resource_class(self, name: str) -> CustomResourceClass | None:
        """None for a standard class; 404 for one that does not exist."""
        with self.db.read() as session:
            return catalog.get_resource_class(session, name)

    def create_resource_class(self, name: str) -> None:
        with self._changing() as session:
            catalog.create_resource_class(session, name)

    def rename_resource_class(self, name: str, new: str) -> None:
        with self._changing() as session:
            catalog.rename_resource_class(session, name, new)

    def ensure_resource_class(self, name: str) -> bool:
        """PUT from 1.7: True when the custom class was created, False when it existed."""
        with self._changing() as session:
            if catalog.resource_class_exists(session, name):
                return False
            if not standard.is_custom(name) or len(name) > 255:
                raise BadRequest(f"Resource class name {name} must start with CUSTOM_ and use only A-Z, 0-9 and _.")
            catalog.create_resource_class(session, name)
            return True

    def delete_resource_class(self, name: str) -> None:
        with self._changing() as session:
            catalog.delete_resource_class(session, name)

    # -- allocations and usages ------------------------------------------------------------------------
    def consumer_allocations(self, consumer: str) -> tuple[list, Consumer | None]:
        """The consumer's (allocation, provider) pairs, and its row when it holds any."""
        with self.db.read() as session:
            rows = allocations.consumer_allocations(session, consumer)
            return rows, session.get(Consumer, consumer) if rows else None

    def delete_allocations(self, consumer: str) -> None:
        """DELETE /allocations/{consumer}: 404 when it holds nothing."""
        with self.db.write() as session:
            allocations.release(session, consumer)

    def provider_allocations(self, uuid: str) -> tuple[Provider, list]:
        """The (allocation, consumer) pairs held against the provider."""
        with self.db.read() as session:
            provider = providers.get(session, uuid)
            return provider, allocations.provider_allocations(session, provider)

    def provider_usages(self, uuid: str) -> tuple[Provider, dict[str, int]]:
        """What is allocated of each class the provider has inventory of (0 when nothing is)."""
        with self.db.read() as session:
            provider = providers.get(session, uuid)
            used = {rc: 0 for rc in inventories.listed(session, provider)}
            used.update(inventories.usage(session, provider))
            return provider, used

    def total_usages(self, project_id: str, user_id: str | None, consumer_type: str | None, by_type: bool) -> dict:
        with self.db.read() as session:
            return allocations.totals_for(session, project_id, user_id, consumer_type, by_type)

    def reshape(self, new_inventories: dict[str, dict], writes: list[ConsumerWrite],
                reserved_may_equal_total: bool) -> None:
        with self._changing() as session:
            reshape(session, new_inventories, writes, reserved_may_equal_total)

    def candidates_for(self, query, version: Version) -> dict:
        """GET /allocation_candidates: the query read as Placement reads it at ``version``, answered in
        that version's shape."""
        with self.db.read() as session:  # one read for the names and the search
            trees = self.kept.trees(session)
            request = candidates.parse(query, version, trees.known_class, trees.known_trait)
            return self._search(session, trees, request, version)

    # -- allocations ---------------------------------------------------------------------------------
    def claim_many(self, writes: list[ConsumerWrite]) -> None:
        """Write allocations for several consumers atomically.  Losing a race with another writer on a
        provider (its generation moved between our read and our compare-and-swap) means starting again
        from fresh reads: capacity is then checked against what the winner took.  On SQLite the claims of
        concurrent requests share one commit (``GroupCommit``): each runs in a savepoint of its own, reading
        what the claims before it in the batch wrote, and returns once that commit is durable."""
        for _ in range(CLAIM_ATTEMPTS):
            try:
                self.group.run(lambda session: allocations.replace(session, writes))
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
        return self.search_at(request, MAX_VERSION)

    def search_at(self, request: Request, version) -> dict:
        with self.db.read() as session:
            return self._search(session, self.kept.trees(session), request, version)

    def _search(self, session, trees: kept.Trees, request: Request, version) -> dict:
        snap = trees.with_usage(session)
        found = Search(snap, request, candidates.roots_in(trees.index, snap, request)).run()
        return views.candidates(snap, request, found, version)

    def snapshot(self) -> Snapshot:
        """Every provider with its inventories, usage, traits and aggregates, from one consistent read (the
        compute scheduler keeps it as its view of the hosts)."""
        with self.db.read() as session:
            return Snapshot(session, stocks=self.stocks)

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
        with self._changing() as session:
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
        with self._changing() as session:
            provider = providers.find(session, uuid)
            if provider is None:
                return
            current = set(catalog.provider_aggregates(session, provider))
            wanted = (current | set(add)) - set(remove)
            if wanted != current:
                catalog.set_provider_aggregates(session, provider, sorted(wanted), provider.generation)
