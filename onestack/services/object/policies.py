"""Who may do what: Swift's keystoneauth rules and container ACLs.

An account ``AUTH_<project_id>`` belongs to that project.  Its operators (``admin`` and ``member``)
may do anything in it, set ACLs and account metadata; its ``reader``s may read it; ``ResellerAdmin``
operates every account, a system-scoped reader reads every account.  Anyone else gets only what a
container's ACLs grant: ``X-Container-Read`` reads objects (and lists the container if the grant is to
a user or project, or to referrers together with ``.rlistings``), ``X-Container-Write`` writes objects.

Service tokens (keystoneauth's ``reseller_prefix = AUTH_, SERVICE_`` with ``SERVICE_service_roles =
service``): an account ``SERVICE_<project_id>`` holds data a service keeps for the project's users.  The
user's roles on the project count there only when the request also carries an ``X-Service-Token`` whose
roles include ``service``, so the user alone can neither read nor change it, and neither can the service
alone (its token is not the project's).
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

from onestack.http.context import Context
from onestack.http.errors import Forbidden, Unauthorized

RESELLER_PREFIX = "AUTH_"
SERVICE_PREFIX = "SERVICE_"
SERVICE_ROLES = frozenset({"service"})
OPERATOR_ROLES = frozenset({"admin", "member"})
READER_ROLES = frozenset({"reader"})
RESELLER_ADMIN = "ResellerAdmin"
REFERRER_PREFIXES = (".r:", ".ref:", ".referer:", ".referrer:")


@dataclasses.dataclass(frozen=True)
class Grant:
    """What the caller holds over one account by its roles alone."""

    owner: bool = False
    reader: bool = False


def project_of(account: str) -> str | None:
    for prefix in (RESELLER_PREFIX, SERVICE_PREFIX):
        if account.startswith(prefix):
            return account[len(prefix):]
    return None


def is_reseller(ctx: Context | None) -> bool:
    return ctx is not None and RESELLER_ADMIN.lower() in {r.lower() for r in ctx.roles}


def grant(ctx: Context | None, account: str, service_roles: frozenset[str] = frozenset()) -> Grant:
    """``service_roles``: the roles of the request's ``X-Service-Token`` (none without one)."""
    if ctx is None:
        return Grant()
    roles = {r.lower() for r in ctx.roles}
    if is_reseller(ctx):
        return Grant(owner=True, reader=True)
    if account.startswith(SERVICE_PREFIX) and not service_roles & SERVICE_ROLES:
        return Grant()  # a service's account: the user's roles count only beside a service token
    if ctx.project_id is not None and ctx.project_id == project_of(account):
        if roles & OPERATOR_ROLES:
            return Grant(owner=True, reader=True)
        if roles & READER_ROLES:
            return Grant(reader=True)
    if ctx.is_system and roles & READER_ROLES:
        return Grant(reader=True)
    return Grant()


def entries(acl: str | None) -> list[str]:
    return [e.strip() for e in (acl or "").split(",") if e.strip()]


def _referrer_allows(acl: list[str], referrer: str | None) -> bool:
    """Swift's referrer rules: the last matching ``.r:`` entry decides (``-`` denies)."""
    host = urlsplit(referrer).hostname or "" if referrer else ""
    allowed = False
    for entry in acl:
        prefix = next((p for p in REFERRER_PREFIXES if entry.startswith(p)), None)
        if prefix is None:
            continue
        rule = entry[len(prefix):]
        deny = rule.startswith("-")
        rule = rule.lstrip("-")
        if rule == "*" or (host and (host == rule or (rule.startswith(".") and host.endswith(rule)))):
            allowed = not deny
    return allowed


def _names_allow(acl: list[str], ctx: Context | None) -> bool:
    """A ``project:user`` entry (ids or names, ``*`` for any) or a bare role name or project id."""
    if ctx is None:
        return False
    projects = {"*", ctx.project_id or "", ctx.project_name or ""} - {""}
    users = {"*", ctx.user_id, ctx.user_name} - {""}
    roles = {r.lower() for r in ctx.roles}
    for entry in acl:
        if entry.startswith("."):
            continue
        if ":" in entry:
            project, _, user = entry.partition(":")
            if project in projects and user in users:
                return True
        elif entry.lower() in roles or entry == ctx.project_id:
            return True
    return False


def may_read(ctx: Context | None, acl: str | None, referrer: str | None, listing: bool) -> bool:
    acl_entries = entries(acl)
    if _names_allow(acl_entries, ctx):
        return True
    if listing and ".rlistings" not in acl_entries:
        return False
    return _referrer_allows(acl_entries, referrer)


def may_write(ctx: Context | None, acl: str | None) -> bool:
    return _names_allow(entries(acl), ctx)


def deny(ctx: Context | None) -> Exception:
    """401 to a caller who gave no token, 403 to one whose token does not reach."""
    return Unauthorized() if ctx is None else Forbidden()


def authorize(ctx: Context | None, account: str, action: str, container_meta: dict | None = None,
              referrer: str | None = None, service_roles: frozenset[str] = frozenset()) -> Grant:
    """The one check: ``action`` is ``read`` or ``list`` (GET/HEAD), ``write`` (object changes) or ``own``
    (account and container changes, ACLs).  Returns the caller's grant; raises 401/403 when refused."""
    held = grant(ctx, account, service_roles)
    if held.owner or (held.reader and action in ("read", "list")):
        return held
    meta = container_meta or {}
    if action in ("read", "list") and may_read(ctx, meta.get("X-Container-Read"), referrer, action == "list"):
        return held
    if action == "write" and may_write(ctx, meta.get("X-Container-Write")):
        return held
    raise deny(ctx)
