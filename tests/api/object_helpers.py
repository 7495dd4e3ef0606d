"""Swift clients for the object API tests: each test gets an account of its own (a fresh project)."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from tests.api.helpers import member_of_new_project, name


@dataclasses.dataclass
class Account:
    """A project's Swift account and a client holding a token of ``role`` on it."""

    cloud: object
    project: dict
    user: dict
    token: str
    http: httpx.Client

    @property
    def name(self) -> str:
        return f"AUTH_{self.project['id']}"

    @property
    def url(self) -> str:
        return f"{self.cloud.url}/object-store/v1/{self.name}"

    def container(self, **headers) -> str:
        container = name("c")
        assert self.http.put(f"/{container}", headers=headers).status_code == 201
        return container

    def put(self, path: str, data: bytes = b"data", **headers) -> httpx.Response:
        resp = self.http.put(path, content=data, headers=headers)
        assert resp.status_code == 201, f"PUT {path} -> {resp.status_code}: {resp.text}"
        return resp


def account(cloud, admin, role: str = "member") -> Account:
    project, user, token = member_of_new_project(cloud, admin, role)
    http = httpx.Client(base_url=f"{cloud.url}/object-store/v1/AUTH_{project['id']}",
                        headers={"X-Auth-Token": token}, timeout=60)
    return Account(cloud, project, user, token, http)


def client(cloud, account_name: str, token: str | None) -> httpx.Client:
    """A client for ``account_name`` with someone else's ``token`` (or none)."""
    headers = {"X-Auth-Token": token} if token else {}
    return httpx.Client(base_url=f"{cloud.url}/object-store/v1/{account_name}", headers=headers, timeout=60)


@pytest.fixture
def swift(cloud, admin) -> Account:
    """A fresh project's Swift account, reached by a member of it."""
    acct = account(cloud, admin)
    yield acct
    acct.http.close()
