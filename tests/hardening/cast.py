"""The callers the hardening sweeps use: an admin and, per project, a member and a reader; a user of another
domain, scoped to it."""

from __future__ import annotations

import dataclasses

import httpx

from tests.api.helpers import grant, make_project, make_user, name, ok

PASSWORD = "secret-pass-1"


@dataclasses.dataclass
class Tenant:
    """A project with a member and a reader of its own."""

    project: dict
    member: dict
    reader: dict
    member_token: str
    reader_token: str


def tenant(cloud, keystone: httpx.Client) -> Tenant:
    project = make_project(keystone)
    member, reader = make_user(keystone, PASSWORD), make_user(keystone, PASSWORD)
    grant(keystone, project["id"], member["id"], "member")
    grant(keystone, project["id"], reader["id"], "reader")
    return Tenant(project, member, reader, cloud.token(member["name"], PASSWORD, project["name"]),
                  cloud.token(reader["name"], PASSWORD, project["name"]))


def unscoped_token(cloud, user: dict) -> str:
    resp = cloud.issue(user["name"], PASSWORD, project=None)
    ok(resp, 201)
    return resp.headers["X-Subject-Token"]


@dataclasses.dataclass
class DomainUser:
    """A user of a domain of its own, holding ``role`` on that domain, with a token scoped to it."""

    domain: dict
    user: dict
    project: dict  # a project of that domain, where the user also holds the role
    token: str


def other_domain_user(cloud, keystone: httpx.Client, role: str = "reader") -> DomainUser:
    domain = ok(keystone.post("/domains", json={"domain": {"name": name("dom")}}), 201)["domain"]
    user = make_user(keystone, PASSWORD, domain_id=domain["id"])
    project = make_project(keystone, domain_id=domain["id"])
    role_ref = ok(keystone.get("/roles", params={"name": role}))["roles"][0]["id"]
    ok(keystone.put(f"/domains/{domain['id']}/users/{user['id']}/roles/{role_ref}"), 204)
    grant(keystone, project["id"], user["id"], role)
    token = cloud.token(user["name"], PASSWORD, project=None, domain=domain["name"],
                        scope={"domain": {"id": domain["id"]}})
    return DomainUser(domain, user, project, token)
