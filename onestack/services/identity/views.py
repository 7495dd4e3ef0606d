"""Rows to Keystone response bodies.  Unknown attributes a client stored
(``extra``) come back flattened, as Keystone returns them."""

from __future__ import annotations

import dataclasses
import datetime
import json

from onestack.services.identity import models as m

TRUSTS = "/v3/OS-TRUST/trusts"
OAUTH = "/v3/OS-OAUTH1"
EP_FILTER = "/v3/OS-EP-FILTER"


def stamp(value: datetime.datetime | None) -> str | None:
    """Keystone's timestamp shape for resources: microseconds, no zone suffix."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value else None


def iso(ts: float | datetime.datetime) -> str:
    """Keystone's timestamp shape for tokens and delegations: microseconds and ``Z``."""
    if isinstance(ts, (int, float)):
        ts = datetime.datetime.fromtimestamp(ts, datetime.UTC)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _with_extra(row, body: dict) -> dict:
    extra = {k: v for k, v in (row.extra or {}).items() if k not in body}
    return {**extra, **body}


@dataclasses.dataclass(frozen=True)
class Named:
    """A row a role assignment names (``include_names``): its name and its domain's, when it has one."""

    id: str
    name: str | None = None
    domain: tuple[str, str | None] | None = None


@dataclasses.dataclass(frozen=True)
class AssignmentLine:
    """One role assignment as reported, and where it came from: the stored assignment ``origin``, the
    group it reached the user through, the role that implied it."""

    actor_kind: str
    actor_id: str
    target_kind: str
    target_id: str
    role_id: str
    inherited: bool
    origin: m.Assignment
    via_group: str | None = None
    prior_role: str | None = None

    def key(self) -> tuple:
        return (self.actor_kind, self.actor_id, self.target_kind, self.target_id, self.role_id, self.inherited)


def token_body(data, catalog: list[dict] | None) -> dict:
    """A validated token (``service.tokens.TokenData``) as Keystone shows it; ``catalog`` is None when the
    caller asked for none."""
    p = data.payload
    body: dict = {
        "methods": list(p.methods), "user": data.user, "audit_ids": list(p.audit_ids),
        "expires_at": iso(p.expires_at), "issued_at": iso(p.issued_at),
    }
    if data.project is not None:
        body["project"] = data.project
        body["is_domain"] = False
    elif data.domain is not None:
        body["domain"] = data.domain
    elif p.system:
        body["system"] = {"all": True}
    if data.project is not None or data.domain is not None or p.system:
        body["roles"] = list(data.roles)
        if catalog is not None:
            body["catalog"] = catalog
    if data.app_cred is not None:
        body["application_credential"] = data.app_cred
    if data.trust is not None:
        body["OS-TRUST:trust"] = data.trust
    if data.oauth is not None:
        body["OS-OAUTH1"] = data.oauth
    return {"token": body}


class Views:
    """Builds bodies for one request: knows the URL clients reached us at."""

    def __init__(self, base: str):
        self.base = base

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def links(self, collection: str, rid: str) -> dict:
        return {"self": f"{self.base}/v3/{collection}/{rid}"}

    def collection(self, key: str, items: list, path: str, query: str = "") -> dict:
        return self.listing(key, items, f"{self.base}/v3/{path}" + (f"?{query}" if query else ""))

    @staticmethod
    def listing(key: str, items: list, self_url: str) -> dict:
        return {key: items, "links": {"self": self_url, "previous": None, "next": None}}

    # -- projects, users, groups ----------------------------------------------------
    def project(self, p: m.Project) -> dict:
        body = {
            "id": p.id, "name": p.name, "domain_id": p.domain_id, "description": p.description or "",
            "enabled": p.enabled, "parent_id": p.parent_id, "is_domain": p.is_domain, "tags": list(p.tags or []),
            "options": dict(p.options or {}), "links": self.links("projects", p.id),
        }
        return _with_extra(p, body)

    def domain(self, d: m.Project) -> dict:
        body = {
            "id": d.id, "name": d.name, "description": d.description or "", "enabled": d.enabled,
            "tags": list(d.tags or []), "options": dict(d.options or {}), "links": self.links("domains", d.id),
        }
        return _with_extra(d, body)

    def user(self, u: m.User, password_expires_at: datetime.datetime | None) -> dict:
        body = {
            "id": u.id, "name": u.name, "domain_id": u.domain_id, "enabled": u.enabled,
            "password_expires_at": stamp(password_expires_at), "options": dict(u.options or {}),
            "links": self.links("users", u.id),
        }
        if u.default_project_id:
            body["default_project_id"] = u.default_project_id
        if u.description is not None:
            body["description"] = u.description
        if u.email is not None:
            body["email"] = u.email
        return _with_extra(u, body)

    def group(self, g: m.Group) -> dict:
        body = {"id": g.id, "name": g.name, "domain_id": g.domain_id, "description": g.description or "",
                "links": self.links("groups", g.id)}
        return _with_extra(g, body)

    # -- roles ----------------------------------------------------------------------
    def role(self, r: m.Role) -> dict:
        body = {"id": r.id, "name": r.name, "domain_id": r.domain_id or None, "description": r.description,
                "options": dict(r.options or {}), "links": self.links("roles", r.id)}
        return _with_extra(r, body)

    def role_ref(self, r: m.Role) -> dict:
        return {"id": r.id, "name": r.name, "links": self.links("roles", r.id)}

    def inference(self, prior: m.Role, implied: list[m.Role]) -> dict:
        return {"role_inference": {"prior_role": self.role_ref(prior), "implies": [self.role_ref(r) for r in implied]},
                "links": {"self": f"{self.base}/v3/roles/{prior.id}/implies"}}

    def implication(self, prior: m.Role, implied: m.Role) -> dict:
        return {"role_inference": {"prior_role": self.role_ref(prior), "implies": self.role_ref(implied)},
                "links": {"self": f"{self.base}/v3/roles/{prior.id}/implies/{implied.id}"}}

    def inferences(self, rules: list[tuple[m.Role, list[m.Role]]]) -> dict:
        return {"role_inferences": [{"prior_role": self.role_ref(prior), "implies": [self.role_ref(r) for r in implied]}
                                    for prior, implied in rules],
                "links": {"self": f"{self.base}/v3/role_inferences"}}

    def role_assignment(self, line: AssignmentLine, names: dict[tuple[str, str], Named] | None) -> dict:
        item: dict = {"links": self._assignment_links(line)}
        item[line.actor_kind] = _named(names, line.actor_kind, line.actor_id)
        item["role"] = _named(names, "role", line.role_id)
        if line.target_kind == "system":
            item["scope"] = {"system": {"all": True}}
        else:
            item["scope"] = {line.target_kind: _named(names, "project", line.target_id)}
        if line.inherited:
            item["scope"]["OS-INHERIT:inherited_to"] = "projects"
        return item

    def _assignment_links(self, line: AssignmentLine) -> dict:
        a = line.origin
        actor = "user" if a.type.startswith("User") else "group"
        kind = a.type[len(actor):].lower()
        if kind == "system":
            path = f"system/{actor}s/{a.actor_id}/roles/{a.role_id}"
        else:
            path = f"{kind}s/{a.target_id}/{actor}s/{a.actor_id}/roles/{a.role_id}"
        if a.inherited:
            path = f"OS-INHERIT/{path}/inherited_to_projects"
        links = {"assignment": f"{self.base}/v3/{path}"}
        if line.via_group is not None:
            links["membership"] = f"{self.base}/v3/groups/{line.via_group}/users/{line.actor_id}"
        if line.prior_role is not None:
            links["prior_role"] = f"{self.base}/v3/roles/{line.prior_role}"
        return links

    # -- the catalog ----------------------------------------------------------------
    def region(self, r: m.Region) -> dict:
        body = {"id": r.id, "description": r.description or "", "parent_region_id": r.parent_region_id,
                "links": self.links("regions", r.id)}
        return _with_extra(r, body)

    def service(self, s: m.CatalogService) -> dict:
        body = {"id": s.id, "type": s.type, "enabled": s.enabled, "links": self.links("services", s.id)}
        return _with_extra(s, body)

    def endpoint(self, e: m.Endpoint) -> dict:
        body = {"id": e.id, "interface": e.interface, "region": e.region_id, "region_id": e.region_id,
                "service_id": e.service_id, "url": e.url, "enabled": e.enabled,
                "links": self.links("endpoints", e.id)}
        return _with_extra(e, body)

    def endpoint_group(self, g: m.EndpointGroup) -> dict:
        return {"id": g.id, "name": g.name, "description": g.description, "filters": dict(g.filters or {}),
                "links": {"self": self.url(f"{EP_FILTER}/endpoint_groups/{g.id}")}}

    def policy(self, p: m.Policy) -> dict:
        return {**(p.extra or {}), "id": p.id, "type": p.type, "blob": p.blob,
                "links": {"self": self.url(f"/v3/policies/{p.id}")}}

    # -- credentials ----------------------------------------------------------------
    def application_credential(self, c: m.ApplicationCredential, roles: list[m.Role],
                               rules: list[m.AccessRule]) -> dict:
        return {
            "id": c.id, "name": c.name, "description": c.description, "user_id": c.user_id,
            "project_id": c.project_id,
            "roles": [{"id": r.id, "name": r.name, "domain_id": r.domain_id or None} for r in roles],
            "expires_at": stamp(c.expires_at), "unrestricted": c.unrestricted,
            "access_rules": [access_rule_fields(r) for r in rules],
            "links": {"self": self.url(f"/v3/users/{c.user_id}/application_credentials/{c.id}")},
        }

    def access_rule(self, r: m.AccessRule) -> dict:
        return {**access_rule_fields(r), "links": {"self": self.url(f"/v3/users/{r.user_id}/access_rules/{r.id}")}}

    def credential(self, c: m.Credential) -> dict:
        return {"id": c.id, "user_id": c.user_id, "project_id": c.project_id, "type": c.type, "blob": c.blob,
                **(c.extra or {}), "links": {"self": self.url(f"/v3/credentials/{c.id}")}}

    def ec2(self, c: m.Credential) -> dict:
        blob = json.loads(c.blob)
        return {"user_id": c.user_id, "tenant_id": c.project_id, "access": blob["access"], "secret": blob["secret"],
                "trust_id": blob.get("trust_id"),
                "links": {"self": self.url(f"/v3/users/{c.user_id}/credentials/OS-EC2/{blob['access']}")}}

    # -- delegation -----------------------------------------------------------------
    def trust(self, t: m.Trust, roles: list[m.Role] | None) -> dict:
        """``roles`` None: the listing's shape, without the delegated roles."""
        body = {
            **(t.extra or {}), "id": t.id, "trustor_user_id": t.trustor_user_id,
            "trustee_user_id": t.trustee_user_id, "project_id": t.project_id, "impersonation": t.impersonation,
            "expires_at": iso(t.expires_at) if t.expires_at else None, "remaining_uses": t.remaining_uses,
            "allow_redelegation": False, "redelegation_count": 0, "links": {"self": self.url(f"{TRUSTS}/{t.id}")},
        }
        if roles is not None:
            body["roles"] = [self.role_ref(r) for r in roles]
            body["roles_links"] = {"self": self.url(f"{TRUSTS}/{t.id}/roles"), "previous": None, "next": None}
        return body

    def consumer(self, c: m.OAuthConsumer, *, secret: bool = False) -> dict:
        body = {**(c.extra or {}), "id": c.id, "description": c.description,
                "links": {"self": self.url(f"{OAUTH}/consumers/{c.id}")}}
        if secret:
            body["secret"] = c.secret
        return body

    def access_token(self, t: m.OAuthAccessToken) -> dict:
        own = f"{user_access_tokens(t.authorizing_user_id)}/{t.id}"
        return {"id": t.id, "consumer_id": t.consumer_id, "project_id": t.project_id,
                "authorizing_user_id": t.authorizing_user_id,
                "expires_at": iso(t.expires_at) if t.expires_at else None,
                "links": {"self": self.url(own), "roles": self.url(f"{own}/roles")}}

    # -- limits ---------------------------------------------------------------------
    def registered_limit(self, r: m.RegisteredLimit) -> dict:
        return {"id": r.id, "service_id": r.service_id, "region_id": r.region_id or None,
                "resource_name": r.resource_name, "default_limit": r.default_limit, "description": r.description,
                "links": {"self": self.url(f"/v3/registered_limits/{r.id}")}}

    def limit(self, row: m.Limit) -> dict:
        return {"id": row.id, "service_id": row.service_id, "region_id": row.region_id or None,
                "resource_name": row.resource_name, "resource_limit": row.resource_limit,
                "description": row.description,
                "project_id": None if row.target_is_domain else row.target_id,
                "domain_id": row.target_id if row.target_is_domain else None,
                "links": {"self": self.url(f"/v3/limits/{row.id}")}}


def access_rule_fields(r: m.AccessRule) -> dict:
    return {"id": r.id, "service": r.service, "path": r.path, "method": r.method}


def user_access_tokens(user_id: str) -> str:
    return f"/v3/users/{user_id}/OS-OAUTH1/access_tokens"


def domain_config(rows: list[m.DomainConfig]) -> dict:
    """A domain's stored options by group; sensitive ones are never shown."""
    config: dict[str, dict] = {}
    for row in rows:
        if not row.sensitive:
            config.setdefault(row.group, {})[row.option] = row.value
    return config


def nested_ids(parent_of: dict[str, str | None], ids: list[str], root: str, upward: bool) -> dict | None:
    """Keystone's ``parents_as_ids``/``subtree_as_ids`` shape: nested dicts of ids, None at the leaves."""
    tree: dict = {}
    if upward:
        node = tree
        for pid in ids:
            node[pid] = {}
            node = node[pid]
        _null_leaves(tree)
        return tree or None
    children: dict[str, list[str]] = {}
    for pid in ids:
        children.setdefault(parent_of[pid], []).append(pid)

    def build(node_id: str):
        kids = children.get(node_id, [])
        return {k: build(k) for k in kids} or None

    return build(root)


def _null_leaves(tree: dict) -> None:
    for key, value in tree.items():
        if value:
            _null_leaves(value)
        else:
            tree[key] = None


def _named(names: dict[tuple[str, str], Named] | None, kind: str, rid: str) -> dict:
    body: dict = {"id": rid}
    found = names.get((kind, rid)) if names is not None else None
    if found is None or found.name is None:
        return body
    body["name"] = found.name
    if found.domain is not None:
        body["domain"] = {"id": found.domain[0], "name": found.domain[1]}
    return body
