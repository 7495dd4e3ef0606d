"""The callers the hardening sweeps use: an admin and, per project, a member and a reader."""

from __future__ import annotations

import dataclasses

import httpx

from tests.api.helpers import grant, make_project, make_user, ok

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
