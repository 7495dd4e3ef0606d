"""The OpenStack APIs as the dashboard reaches them: over HTTP, as the signed-in user.

``Keystone`` signs in, lists a user's projects, rescopes and revokes; ``Cloud`` is one user's token and
catalog, and calls a service by its catalog type.  Errors come back as ``ApiError`` with the service's
own message, whatever fault shape it answers in; ``SignedOut`` means the token no longer works.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from typing import Any

import httpx

# The microversion the pages are written against (networks required at boot, flavors embedded in servers).
COMPUTE_VERSION = "2.79"
# What each service's catalog URL lacks before its resource paths, when its catalog entry is unversioned.
_VERSION_SUFFIX = {"identity": "/v3", "network": "/v2.0", "image": "/v2", "compute": "", "placement": ""}
# Older names other clouds' catalogs may use for a service, when the current one is missing.
_ALIASES = {"block-storage": ("volumev3", "volume")}


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class SignedOut(ApiError):
    """The token was refused (expired, revoked): the session is over."""


def _fault_message(resp: httpx.Response) -> str:
    """The message of any OpenStack fault body: Keystone's, Nova's, Neutron's, Glance's or webob's."""
    try:
        body = resp.json()
    except ValueError:
        # Swift answers its faults as a line of HTML (``<html><h1>Conflict</h1><p>...</p></html>``)
        text = " ".join(re.sub(r"<[^>]*>", " ", resp.text).split())
        return text[:300] or resp.reason_phrase
    if isinstance(body, dict):
        if isinstance(body.get("message"), str):
            return body["message"]
        if isinstance(body.get("errors"), list) and body["errors"]:
            return str(body["errors"][0].get("detail") or body["errors"][0].get("title"))
        for value in body.values():
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return value["message"]
    return resp.reason_phrase


def _check(resp: httpx.Response) -> httpx.Response:
    if resp.status_code == 401:
        raise SignedOut(401, _fault_message(resp))
    if resp.status_code >= 400:
        raise ApiError(resp.status_code, _fault_message(resp))
    return resp


def _epoch(stamp: str) -> float:
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


@dataclasses.dataclass
class Token:
    value: str
    expires_at: float
    user: dict
    project: dict | None
    roles: list[str]
    catalog: list[dict]

    @classmethod
    def from_response(cls, resp: httpx.Response) -> Token:
        body = resp.json()["token"]
        project = body.get("project")
        return cls(value=resp.headers["X-Subject-Token"], expires_at=_epoch(body["expires_at"]),
                   user={"id": body["user"]["id"], "name": body["user"]["name"],
                         "domain": body["user"].get("domain", {}).get("name", "")},
                   project={"id": project["id"], "name": project["name"]} if project else None,
                   roles=sorted(r["name"] for r in body.get("roles", [])), catalog=body.get("catalog") or [])


class Keystone:
    """Sign-in, project listing, rescoping and revocation against one auth URL."""

    def __init__(self, http: httpx.AsyncClient, auth_url: str):
        self.http = http
        self.v3 = auth_url.rstrip("/") if auth_url.rstrip("/").endswith("/v3") else auth_url.rstrip("/") + "/v3"

    async def _issue(self, body: dict, headers: dict | None = None) -> Token:
        return Token.from_response(_check(await self.http.post(f"{self.v3}/auth/tokens", json=body,
                                                               headers=headers)))

    async def password(self, user: str, password: str, domain: str) -> Token:
        """A token for the user's default project, or an unscoped one when they have none."""
        return await self._issue({"auth": {"identity": {"methods": ["password"], "password": {
            "user": {"name": user, "domain": {"name": domain}, "password": password}}}}})

    async def rescope(self, token: str, project_id: str) -> Token:
        return await self._issue({"auth": {"identity": {"methods": ["token"], "token": {"id": token}},
                                           "scope": {"project": {"id": project_id}}}})

    async def projects(self, token: str) -> list[dict]:
        resp = _check(await self.http.get(f"{self.v3}/auth/projects", headers={"X-Auth-Token": token}))
        return sorted(({"id": p["id"], "name": p["name"]} for p in resp.json()["projects"]),
                      key=lambda p: p["name"])

    async def revoke(self, token: str) -> None:
        """Revoke a token with itself; one that already stopped working needs nothing more."""
        resp = await self.http.delete(f"{self.v3}/auth/tokens",
                                      headers={"X-Auth-Token": token, "X-Subject-Token": token})
        if resp.status_code not in (204, 401, 404):
            _check(resp)


class Cloud:
    """One user's token and catalog: ``await cloud.get("compute", "/servers/detail")``."""

    def __init__(self, http: httpx.AsyncClient, token: str, catalog: list[dict], rewrite: tuple[str, str] | None):
        self.http = http
        self.token = token
        self.endpoints = {}
        for service in catalog:
            url = next((e["url"] for e in service.get("endpoints", []) if e.get("interface") == "public"), None)
            if url is None:
                continue
            if rewrite and url.startswith(rewrite[0]):
                url = rewrite[1] + url[len(rewrite[0]):]
            url = url.rstrip("/")
            suffix = _VERSION_SUFFIX.get(service["type"], "")
            self.endpoints[service["type"]] = url if url.endswith(suffix) else url + suffix
        for current, older in _ALIASES.items():
            found = next((self.endpoints[o] for o in older if o in self.endpoints), None)
            if current not in self.endpoints and found:
                self.endpoints[current] = found

    def has(self, service: str) -> bool:
        return service in self.endpoints

    def _url(self, service: str, path: str) -> str:
        base = self.endpoints.get(service)
        if base is None:
            raise ApiError(503, f"This cloud's catalog has no {service} service for this project.")
        return base + path

    def _headers(self, service: str) -> dict:
        headers = {"X-Auth-Token": self.token}
        if service == "compute":
            headers["OpenStack-API-Version"] = f"compute {COMPUTE_VERSION}"
        return headers

    async def call(self, method: str, service: str, path: str, *, params: dict | None = None,
                   json: Any = None, headers: dict | None = None, content: Any = None) -> httpx.Response:
        try:
            resp = await self.http.request(method, self._url(service, path), params=params, json=json,
                                           content=content,
                                           headers={**self._headers(service), **(headers or {})})
        except httpx.HTTPError as exc:
            raise ApiError(502, f"The {service} service did not answer: {exc}") from None
        return _check(resp)

    async def open(self, service: str, path: str) -> httpx.Response:
        """A GET whose body is read as it comes (a download): the caller closes it (``aclose``)."""
        try:
            request = self.http.build_request("GET", self._url(service, path), headers=self._headers(service))
            resp = await self.http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise ApiError(502, f"The {service} service did not answer: {exc}") from None
        if resp.status_code >= 400:
            await resp.aread()
            await resp.aclose()
        return _check(resp)

    async def get(self, service: str, path: str, **params) -> dict:
        query = {k: v for k, v in params.items() if v is not None}
        return (await self.call("GET", service, path, params=query)).json()

    async def post(self, service: str, path: str, body: Any = None) -> dict | None:
        resp = await self.call("POST", service, path, json=body)
        return resp.json() if resp.content and "json" in resp.headers.get("content-type", "") else None

    async def put(self, service: str, path: str, body: Any = None) -> dict | None:
        resp = await self.call("PUT", service, path, json=body)
        return resp.json() if resp.content and "json" in resp.headers.get("content-type", "") else None

    async def delete(self, service: str, path: str) -> None:
        await self.call("DELETE", service, path)
