"""OpenStack's default policies, as this sweep expects them: one table, written from the projects' documented
defaults (Keystone, Nova, Neutron, Glance, Cinder, Placement, Swift, Heat), not read from onestack's code.

Routes are matched as ``"METHOD /path/{template}"`` against regular expressions.  ``refused`` lists the routes
OpenStack's defaults refuse to a project's member and reader (the admin's, or the system's); with
``refused_unless_listed`` the list names the routes they may call instead (Keystone, where nearly everything
is the admin's).  ``foreign`` is the status another project's object answers: 404 where the service hides that
it exists (Nova, Neutron, Glance, Cinder), 403 where the service refuses first (Keystone, Placement, Swift,
Heat when the URL names another project).

Without a valid token (none, a wrong one, an expired or revoked one) every route but the ``open`` ones is a
401: keystonemiddleware sits in front of each service and answers before the service routes the call, checks
its method, microversion or body.  Keystone has no such middleware (``routes_first``): an unknown path or
method is its 404 or 405, a known route's 401 comes before the body.  Swift's middleware delays its decision
(``delay_auth_decision``), so what its proxy refuses before it asks keystoneauth is listed in
``before_auth``.
"""

from __future__ import annotations

import dataclasses
import re


@dataclasses.dataclass(frozen=True)
class Defaults:
    foreign: int
    open: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()
    refused_unless_listed: bool = False
    # writes a project reader may make (everything else but GET and HEAD is a member's)
    reader_writes: tuple[str, ...] = ()
    # routes an unscoped token may call (its own user's business)
    unscoped: tuple[str, ...] = ()
    # routes a reader scoped to another domain may call (its own business and its domain's listings, whose
    # answers hold nothing outside that domain); elsewhere it is an unscoped token's equal: it has no project
    domain_reader: tuple[str, ...] = ()
    # ... and what a manager of that domain may call besides (Keystone's manager persona: it makes users,
    # groups and projects in its own domain)
    domain_manager: tuple[str, ...] = ()
    # routes that may name another project and answer: nothing in them is that project's
    foreign_ok: tuple[str, ...] = ()
    # whether a project id in the URL scopes the call (Heat refuses another's; Cinder scopes by the token)
    url_project_refused: bool = True
    # routes where the service itself answers an authenticated caller 404 for a missing object and 403 for
    # another's (Keystone's trusts, by design)
    reveals_missing: tuple[str, ...] = ()
    # the service routes before it authenticates (Keystone): unrouted paths and methods are 404 and 405
    routes_first: bool = False
    # (route, statuses) the service answers a caller without a valid token before it authenticates
    before_auth: tuple[tuple[str, tuple[int, ...]], ...] = ()
    # the first path segments the API lives under (a pattern), and (pattern of any other first segment, status)
    # where the service's version app answers a path outside them before any token is asked (Nova's urlmap,
    # Glance's version negotiation); otherwise keystonemiddleware asks every path under the prefix for a token
    api_versions: str = ""
    outside_versions: tuple[tuple[str, int], ...] = ()

    def outside_versions_status(self, path: str) -> int | None:
        """The status a path (under the prefix) outside the API versions gets whatever the token, or None."""
        segment = path.lstrip("/").split("/", 1)[0]
        if not self.outside_versions or not segment or re.fullmatch(self.api_versions, segment):
            return None
        return next((status for pattern, status in self.outside_versions if re.fullmatch(pattern, segment)), None)

    def _any(self, patterns: tuple[str, ...], route: str) -> bool:
        return any(re.fullmatch(p, route) for p in patterns)

    def is_open(self, route: str) -> bool:
        return self._any(self.open, route)

    def refuses_project_personas(self, route: str) -> bool:
        return self._any(self.refused, route) != self.refused_unless_listed

    def reader_may_write(self, route: str) -> bool:
        return self._any(self.reader_writes, route)

    def unscoped_may(self, route: str) -> bool:
        return self._any(self.unscoped, route)

    def domain_reader_may(self, route: str) -> bool:
        return self._any(self.domain_reader, route)

    def domain_manager_may(self, route: str) -> bool:
        return self.domain_reader_may(route) or self._any(self.domain_manager, route)

    def foreign_allowed(self, route: str) -> bool:
        return self._any(self.foreign_ok, route)

    def shows_missing(self, route: str) -> bool:
        return self._any(self.reveals_missing, route)

    def without_token(self, route: str) -> set[int]:
        """What a caller without a valid token gets from a route that is not open."""
        return {401}.union(*(statuses for pattern, statuses in self.before_auth if re.fullmatch(pattern, route)))


# The root is version discovery outside keystonemiddleware whatever the method (Nova's api-paste, Placement's
# auth by path): its versions app or its router answers, token or not.
DISCOVERY = (r"[A-Z]+ /", r"GET /v[0-9.]+/?", r"GET /versions")
_KEYSTONE_SELF = (
    r"(GET|POST|DELETE) /v3/auth/tokens", r"GET /v3/auth/(catalog|projects|domains|system)",
    r"GET /v3/users/\{user_id\}", r"POST /v3/users/\{user_id\}/password",
    r"GET /v3/users/\{user_id\}/(projects|groups)",
    r"(GET|POST) /v3/users/\{user_id\}/application_credentials",
    r"(GET|DELETE) /v3/users/\{user_id\}/application_credentials/\{cred_id\}",
    r"GET /v3/users/\{user_id\}/access_rules", r"(GET|DELETE) /v3/users/\{user_id\}/access_rules/\{rule_id\}",
    r"(GET|POST) /v3/users/\{user_id\}/credentials/OS-EC2",
    r"(GET|DELETE) /v3/users/\{user_id\}/credentials/OS-EC2/\{access\}",
    r"(GET|POST) /v3/credentials", r"(GET|PATCH|DELETE) /v3/credentials/\{credential_id\}",
    r"(GET|POST) /v3/OS-TRUST/trusts", r"(GET|DELETE) /v3/OS-TRUST/trusts/\{trust_id\}",
    r"GET /v3/OS-TRUST/trusts/\{trust_id\}/roles(/\{role_id\})?",
    r"GET /v3/regions(/\{region_id\})?", r"GET /v3/(registered_limits|limits)(/model)?",
    r"GET /v3/users/\{user_id\}/OS-OAUTH1/access_tokens(/.*)?", r"DELETE /v3/users/\{user_id\}/OS-OAUTH1/.*",
    r"PUT /v3/OS-OAUTH1/authorize/\{request_token_id\}",
)

DEFAULTS = {
    "identity": Defaults(
        foreign=403,
        open=(*DISCOVERY, r"POST /v3/auth/tokens", r"POST /v3/OS-OAUTH1/(request_token|access_token)"),
        refused_unless_listed=True,
        routes_first=True,
        refused=(*_KEYSTONE_SELF,
                 # a project's own: its record, its tags, its limits, its domain
                 r"GET /v3/projects/\{project_id\}(/tags(/\{tag\})?)?", r"GET /v3/limits/\{limit_id\}",
                 r"GET /v3/domains/\{domain_id\}"),
        reader_writes=_KEYSTONE_SELF,
        unscoped=_KEYSTONE_SELF,
        # Keystone's domain reader: users, groups, projects, grants and limits of its own domain, the roles
        domain_reader=(*_KEYSTONE_SELF, r"GET /v3/(users|groups|projects|role_assignments|roles|limits)"),
        domain_manager=(r"POST /v3/(users|groups|projects)",),
        reveals_missing=(r"(GET|DELETE) /v3/OS-TRUST/trusts/\{trust_id\}(/roles(/\{role_id\})?)?",),
    ),
    "compute": Defaults(
        foreign=404,
        open=DISCOVERY,
        api_versions=r"v2|v2\.1", outside_versions=((r".*", 300),),
        refused=(
            r"GET /v2.1/os-services", r"PUT /v2.1/os-services.*", r"DELETE /v2.1/os-services.*",
            r".* /v2.1/os-hypervisors.*",
            r"(POST|PUT|DELETE) /v2.1/flavors.*", r"GET /v2.1/flavors/\{flavor_id\}/os-flavor-access",
            r"(PUT|DELETE) /v2.1/os-quota-sets/.*", r".* /v2.1/os-quota-class-sets/.*",
            r".* /v2.1/os-aggregates.*", r".* /v2.1/os-hosts.*", r"GET /v2.1/os-simple-tenant-usage",
            r".* /v2.1/os-instance_usage_audit_log.*", r"GET /v2.1/os-migrations",
            r"POST /v2.1/os-server-external-events", r".* /v2.1/os-assisted-volume-snapshots.*",
            r"GET /v2.1/os-availability-zone/detail",
            r"GET /v2.1/os-console-auth-tokens/.*", r"GET /v2.1/servers/\{server_id\}/diagnostics",
            # nova-network's routes, gone since Newton's proxies (410)
            r"POST /v2.1/os-networks.*", r"DELETE /v2.1/os-networks/.*",
        ),
        foreign_ok=(r"GET /v2.1/os-quota-sets/\{project_id\}/defaults",),
    ),
    "network": Defaults(
        foreign=404,
        open=DISCOVERY,
        refused=(r"GET /v2.0/agents", r"GET /v2.0/quotas", r"(PUT|DELETE) /v2.0/quotas/\{project_id\}",
                 # port bindings (binding-extended) are the admin's, as the binding:* attributes are
                 r".* /v2.0/ports/\{port\}/bindings.*"),
        foreign_ok=(r"GET /v2.0/quotas/\{project_id\}/default",),
    ),
    "image": Defaults(
        foreign=404,
        open=DISCOVERY,
        api_versions=r"v2(\.([0-9]|1[0-6]))?", outside_versions=((r"versions", 200), (r".*", 300)),
        refused=(r"(POST|PUT|DELETE) /v2/metadefs/.*", r".* /v2/tasks.*"),
    ),
    "block-storage": Defaults(
        foreign=404,
        open=DISCOVERY,
        refused=(
            r"(POST|PUT|DELETE) /v3(/\{project_id\})?/types.*", r"POST /v3(/\{project_id\})?/types/.*/action",
            r"GET /v3(/\{project_id\})?/types/\{type_id\}/os-volume-type-access",
            r"GET /v3(/\{project_id\})?/default-types", r"(PUT|DELETE) /v3(/\{project_id\})?/default-types/.*",
            r"(PUT|DELETE) /v3(/\{project_id\})?/os-quota-sets/.*", r".* /v3(/\{project_id\})?/os-quota-class-sets/.*",
            r".* /v3(/\{project_id\})?/os-services",
        ),
        foreign_ok=(r"GET /v3(/\{project_id\})?/os-quota-sets/\{target_project\}/defaults",),
        url_project_refused=False,
    ),
    "placement": Defaults(foreign=403, open=(r"[A-Z]+ /",), refused=(r".*",)),
    "object-store": Defaults(
        foreign=403, open=(r"(GET|HEAD|OPTIONS) /info", r"(GET|HEAD) /healthcheck", r"OPTIONS /.*"),
        # The proxy has no COPY for an account or a container (405), and the copy middleware wants a
        # Destination (412), before the proxy asks keystoneauth.
        before_auth=((r"COPY /v1(\.0)?/\{rest\}", (405, 412)),),
    ),
    "orchestration": Defaults(
        foreign=403,
        open=DISCOVERY,
        reader_writes=(r"POST /v1/\{project_id\}/validate", r"POST /v1/\{project_id\}/stacks/preview"),
        # A server's deployment metadata is a query of the caller's own project by server id: for another
        # project's server it is the empty list any unknown id gives (as Heat answers), nothing of A's.
        foreign_ok=(r"GET /v1/\{project_id\}/software_deployments/metadata/\{server_id\}",),
    ),
}
