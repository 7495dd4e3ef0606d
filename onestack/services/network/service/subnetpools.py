"""Subnet pools: prefixes subnets are carved from, their bounds and quotas, the default pool per IP
version, and the allocator ``Subnets`` calls when a subnet names a pool."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict
from onestack.http.numbers import decimal
from onestack.services.network import schemas, views
from onestack.services.network.models import Subnet, SubnetPool
from onestack.services.network.service import ipam, prefixes, rbac
from onestack.services.network.service.address_scopes import AddressScopes
from onestack.services.network.service.ipam import Network
from onestack.services.network.service.quotas import Quotas

BOUNDS = ("min_prefixlen", "max_prefixlen", "default_prefixlen")


def _integer(name: str, value) -> int:
    """Neutron's convert_to_int: integers or their decimal strings."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number = decimal(value.strip(), signed=True) if isinstance(value, str) else None
    if number is not None:
        return number
    raise BadRequest(f"Invalid input for {name}. Reason: '{value}' is not an integer.", kind="HTTPBadRequest")


def _bounds_error(kind: str, value: int, base_kind: str, base: int) -> BadRequest:
    return BadRequest(f"Illegal prefix bounds: {kind}={value}, {base_kind}={base}.",
                      kind="IllegalSubnetPoolPrefixBounds")


class SubnetPools(rbac.Shareable):
    singular, plural, kind, model = "subnetpool", "subnetpools", "Subnet pool", SubnetPool
    table = schemas.SUBNETPOOLS
    shown_as = staticmethod(views.subnetpool)
    in_use = (Subnet.subnetpool_id,
              "Unable to complete operation on subnet pool {id}. Subnet pool has existing allocations.",
              "SubnetPoolInUse")

    def __init__(self, db: Database, quotas: Quotas, address_scopes: AddressScopes):
        super().__init__(db, quotas)
        self.address_scopes = address_scopes

    # -- create and update ------------------------------------------------------------
    def create(self, session: Session, ctx: Context, body: dict) -> SubnetPool:
        cidrs = self._prefixes(body["prefixes"])
        row = self.new_row(ctx, body, ip_version=cidrs[0].version, prefixes=[str(c) for c in cidrs], shared=False)
        self.admit(session, ctx, row)
        self._set_bounds(row, body)
        row.default_quota = self._default_quota(body.get("default_quota"))
        row.is_default = False
        if body["is_default"]:
            self._make_default(session, row)
        row.address_scope_id = None
        if body.get("address_scope_id"):
            self._join_scope(session, ctx, row, body["address_scope_id"])
        return self.insert(session, row, body["shared"])

    def update(self, session: Session, ctx: Context, row: SubnetPool, changes: dict) -> None:
        if "prefixes" in changes:
            self._grow(row, self._prefixes(changes.pop("prefixes")))
        if any(b in changes for b in BOUNDS):
            self._set_bounds(row, {**{b: getattr(row, b) for b in BOUNDS},
                                   **{b: changes.pop(b) for b in BOUNDS if b in changes}})
        if "default_quota" in changes:
            row.default_quota = self._default_quota(changes.pop("default_quota"))
        if "is_default" in changes:
            is_default = changes.pop("is_default")
            if is_default and not row.is_default:
                self._make_default(session, row)
            row.is_default = is_default
        if "address_scope_id" in changes:
            self._join_scope(session, ctx, row, changes.pop("address_scope_id"))
        elif row.address_scope_id:
            # New prefixes must still be unique inside the pool's scope.
            self._check_scope_overlap(session, row, row.address_scope_id)
        super().update(session, ctx, row, changes)

    @staticmethod
    def _prefixes(raw: list[str]) -> list[Network]:
        if not raw:
            raise BadRequest("Empty subnet pool prefix list.", kind="EmptySubnetPoolPrefixList")
        cidrs = [ipam.parse_cidr(p) for p in raw]
        if len({c.version for c in cidrs}) > 1:
            raise BadRequest("Cannot mix IPv4 and IPv6 prefixes in a subnet pool.", kind="PrefixVersionMismatch")
        return prefixes.compact(cidrs)

    @staticmethod
    def _grow(row: SubnetPool, wanted: list[Network]) -> None:
        """Prefixes may be added or merged but never taken away: subnets may live in them."""
        if wanted[0].version != row.ip_version:
            raise BadRequest("Illegal update to prefixes: Cannot mix IPv4 and IPv6 prefixes in a subnet pool.",
                             kind="IllegalSubnetPoolPrefixUpdate")
        current = [ipam.parse_cidr(p) for p in row.prefixes]
        if prefixes.free_space(current, wanted):
            raise BadRequest("Illegal update to prefixes: Existing prefixes must be a subset of the new prefixes.",
                             kind="IllegalSubnetPoolPrefixUpdate")
        row.prefixes = [str(c) for c in wanted]

    @staticmethod
    def _set_bounds(row: SubnetPool, body: dict) -> None:
        version = row.ip_version
        def given(name: str, fallback: int) -> int:
            value = body.get(name)
            return fallback if value is None else _integer(name, value)

        low = given("min_prefixlen", prefixes.DEFAULT_MIN_PREFIXLEN[version])
        high = given("max_prefixlen", prefixes.BITS[version])
        default = given("default_prefixlen", low)
        if low < 0:
            raise BadRequest(f"Prefix '{low}' not supported in IPv{version} pool.",
                             kind="UnsupportedMinSubnetPoolPrefix")
        if low > high:
            raise _bounds_error("min_prefixlen", low, "max_prefixlen", high)
        if high > prefixes.BITS[version]:
            raise _bounds_error("max_prefixlen", high, "ip_version_max", prefixes.BITS[version])
        if default < low:
            raise _bounds_error("default_prefixlen", default, "min_prefixlen", low)
        if default > high:
            raise _bounds_error("default_prefixlen", default, "max_prefixlen", high)
        row.min_prefixlen, row.max_prefixlen, row.default_prefixlen = low, high, default

    @staticmethod
    def _default_quota(value) -> int | None:
        if value is None:
            return None
        quota = _integer("default_quota", value)
        if quota < 0:
            raise BadRequest(f"Invalid input for default_quota. Reason: '{quota}' should be non-negative.",
                             kind="HTTPBadRequest")
        return quota

    @staticmethod
    def _make_default(session: Session, row: SubnetPool) -> None:
        other = session.scalar(select(SubnetPool.id).where(SubnetPool.is_default.is_(True),
                                                           SubnetPool.ip_version == row.ip_version,
                                                           SubnetPool.id != row.id).limit(1))
        if other is not None:
            raise BadRequest("Invalid input for operation: A default subnetpool for this IP family has already been "
                             "set. Only one default may exist per IP family.", kind="InvalidInput")
        row.is_default = True

    def _join_scope(self, session: Session, ctx: Context, row: SubnetPool, scope_id: str | None) -> None:
        if scope_id is not None:
            scope = self.address_scopes.find(session, scope_id)
            if not self.address_scopes.visible(session, ctx, scope):
                raise BadRequest(f"Illegal subnetpool association: subnetpool {row.id} cannot be associated with "
                                 f"address scope {scope_id}.", kind="IllegalSubnetPoolAssociationToAddressScope")
            if scope.ip_version != row.ip_version:
                raise BadRequest(f"Illegal subnetpool association: subnetpool {row.id} cannot associate with "
                                 f"address scope {scope_id} because subnetpool ip_version is not "
                                 f"{scope.ip_version}.", kind="IllegalSubnetPoolIpVersionAssociationToAddressScope")
            self._check_scope_overlap(session, row, scope_id)
        row.address_scope_id = scope_id

    @staticmethod
    def _check_scope_overlap(session: Session, row: SubnetPool, scope_id: str) -> None:
        """Inside one address scope every address belongs to at most one pool."""
        mine = [ipam.parse_cidr(p) for p in row.prefixes]
        for other in session.scalars(select(SubnetPool).where(SubnetPool.address_scope_id == scope_id,
                                                              SubnetPool.id != row.id)):
            if any(a.overlaps(ipam.parse_cidr(b)) for a in mine for b in other.prefixes):
                raise Conflict("Failed to associate address scope: subnetpools within an address scope must have "
                               "unique prefixes.", kind="AddressScopePrefixConflict")

    # -- allocation (called by Subnets.create) ----------------------------------------------
    def default_id(self, session: Session, ip_version: int) -> str | None:
        return session.scalar(select(SubnetPool.id).where(SubnetPool.is_default.is_(True),
                                                          SubnetPool.ip_version == ip_version).limit(1))

    def allocate(self, session: Session, ctx: Context, pool_id: str, subnet: Subnet, cidr: str | None,
                 prefixlen) -> str:
        """The CIDR a new subnet gets from a pool: the one asked for if it is free, otherwise the first
        free block of ``prefixlen`` (the pool's default length when not given)."""
        pool = self.get(session, ctx, pool_id)
        # Lock the pool row so two subnets created at once cannot be given the same block.
        session.execute(select(SubnetPool.id).where(SubnetPool.id == pool.id).with_for_update())
        if subnet.ip_version != pool.ip_version:
            raise BadRequest(f"Invalid input for operation: Cannot allocate IPv{subnet.ip_version} subnet from "
                             f"IPv{pool.ip_version} subnet pool.", kind="InvalidInput")
        if cidr and prefixlen is not None:
            raise BadRequest("Invalid input for operation: cidr and prefixlen must not be supplied together.",
                             kind="InvalidInput")
        wanted = ipam.parse_cidr(cidr) if cidr else None
        length = wanted.prefixlen if wanted else _integer("prefixlen", prefixlen or pool.default_prefixlen)
        if length > pool.max_prefixlen:
            raise BadRequest(f"Unable to allocate subnet with prefix length {length}, maximum allowed prefix is "
                             f"{pool.max_prefixlen}.", kind="MaxPrefixSubnetAllocationError")
        if length < pool.min_prefixlen:
            raise BadRequest(f"Unable to allocate subnet with prefix length {length}, minimum allowed prefix is "
                             f"{pool.min_prefixlen}.", kind="MinPrefixSubnetAllocationError")
        used = [ipam.parse_cidr(c) for c, in session.execute(
            select(Subnet.cidr).where(Subnet.subnetpool_id == pool.id, Subnet.id != subnet.id))]
        self._check_pool_quota(session, pool, subnet.project_id, length)
        free = prefixes.free_space([ipam.parse_cidr(p) for p in pool.prefixes], used)
        if wanted is not None:
            if not prefixes.contains(free, wanted):
                raise self._allocation_error("Cannot allocate requested subnet from the available set of prefixes")
            return str(wanted)
        found = prefixes.first_fit(free, length)
        if found is None:
            raise self._allocation_error(f"Insufficient prefix space to allocate subnet size /{length}")
        return str(found)

    @staticmethod
    def _check_pool_quota(session: Session, pool: SubnetPool, project_id: str, prefixlen: int) -> None:
        """``default_quota`` caps the addresses (IPv6: /64s) each project holds in the pool."""
        if not pool.default_quota:
            return
        held = session.scalars(select(Subnet.cidr).where(Subnet.subnetpool_id == pool.id,
                                                         Subnet.project_id == project_id))
        used = sum(prefixes.quota_units(pool.ip_version, ipam.parse_cidr(c).prefixlen) for c in held)
        asked = prefixes.quota_units(pool.ip_version, prefixlen)
        if used + asked > pool.default_quota:
            raise Conflict("Per-tenant subnet pool prefix quota exceeded.", kind="SubnetPoolQuotaExceeded")

    @staticmethod
    def _allocation_error(reason: str) -> Conflict:
        # Neutron lets this surface as a 500; a conflict with the pool's state says what happened.
        return Conflict(f"Failed to allocate subnet: {reason}.", kind="SubnetAllocationError")
