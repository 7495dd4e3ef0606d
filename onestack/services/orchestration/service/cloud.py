"""Orchestration as a client of the cloud's public APIs, over HTTP like any other client.

A stack's resources are made with its owner's own rights, never the cloud admin's: at stack create the
owner delegates their roles on the project to the cloud's orchestration user through a Keystone trust
(impersonating, as Heat's trusts do), and the engine then calls Nova, Neutron, Cinder... with tokens
scoped to that trust.  No other service's package is imported: only their HTTP APIs are used.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from onestack.forksafe import LazyClient, renew_in_children

# How each status is named in a resource's failure reason (the client exception names Heat shows).
KINDS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
         409: "Conflict", 413: "OverLimit", 500: "InternalServerError", 501: "NotImplemented",
         503: "ServiceUnavailable"}
# Renew a cached token this long before it expires.
RENEW_BEFORE = 120.0


class CloudError(Exception):
    """A call another service refused: its status and its own message."""

    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message
        super().__init__(f"{message} (HTTP {status})" if status else message)

    @property
    def kind(self) -> str:
        return KINDS.get(self.status, "ClientException" if self.status else "ConnectionError")


def fault_message(body: Any, fallback: str) -> str:
    """The message of any OpenStack fault shape (Nova's, Neutron's, Keystone's, webob's, Glance's)."""
    if not isinstance(body, dict):
        return fallback
    for value in body.values():
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            return value["message"]
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("detail") or errors[0].get("title") or fallback)
    if isinstance(body.get("message"), str):
        return body["message"]
    return fallback


@dataclasses.dataclass
class ServiceUser:
    """The cloud's own orchestration user (made by bootstrap): the trustee of every stack's trust."""

    user_id: str
    name: str
    password: str
    domain_id: str = "default"


class Session:
    """Calls as one identity: a token and the endpoints of its catalog."""

    def __init__(self, http: httpx.Client | LazyClient, token: str, catalog: list, region: str, expires_at: float):
        self.http = http
        self.token = token
        self.expires_at = expires_at
        self.endpoints: dict[str, str] = {}
        for service in catalog:
            for endpoint in service.get("endpoints", []):
                if endpoint.get("interface") == "public" and endpoint.get("region_id", region) == region:
                    self.endpoints[service["type"]] = endpoint["url"].rstrip("/")

    def endpoint(self, service_type: str) -> str:
        if service_type not in self.endpoints:
            raise CloudError(0, f"The cloud's catalog has no {service_type} endpoint")
        return self.endpoints[service_type]

    def call(self, service_type: str, method: str, path: str, body: Any = None, *,
             headers: dict | None = None, params: dict | None = None) -> Any:
        url = self.endpoint(service_type) + path
        try:
            resp = self.http.request(method, url, json=body, params=params,
                                     headers={"X-Auth-Token": self.token, **(headers or {})})
        except httpx.HTTPError as exc:
            raise CloudError(0, f"{service_type} could not be reached: {exc}") from None
        if resp.status_code >= 400:
            try:
                answer = resp.json()
            except ValueError:
                answer = None
            raise CloudError(resp.status_code, fault_message(answer, resp.reason_phrase))
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            return resp.text

    def get(self, service_type: str, path: str, **kw) -> Any:
        return self.call(service_type, "GET", path, **kw)

    def text(self, service_type: str, path: str) -> str:
        """A GET's body as text, whatever its type (an object's bytes)."""
        try:
            resp = self.http.request("GET", self.endpoint(service_type) + path, headers={"X-Auth-Token": self.token})
        except httpx.HTTPError as exc:
            raise CloudError(0, f"{service_type} could not be reached: {exc}") from None
        if resp.status_code >= 400:
            raise CloudError(resp.status_code, resp.reason_phrase)
        return resp.text

    def post(self, service_type: str, path: str, body: Any = None, **kw) -> Any:
        return self.call(service_type, "POST", path, body, **kw)

    def put(self, service_type: str, path: str, body: Any = None, **kw) -> Any:
        return self.call(service_type, "PUT", path, body, **kw)

    def delete(self, service_type: str, path: str, **kw) -> Any:
        return self.call(service_type, "DELETE", path, **kw)


class Cloud:
    """The cloud's identity endpoint, the orchestration user and the trust-scoped sessions made from it."""

    def __init__(self, identity_url: str, region: str):
        self.identity_url = identity_url.rstrip("/")
        self.region = region
        self.user: ServiceUser | None = None
        # One line per call the engine makes would drown the cloud's own access log.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self._reconnect()
        renew_in_children(self, Cloud._reconnect)

    def _reconnect(self) -> None:
        self.http = LazyClient(timeout=60.0)
        self._sessions: dict[str, Session] = {}  # each holds the client it was made with
        self._lock = threading.Lock()

    def _issue(self, body: dict) -> Session:
        try:
            resp = self.http.post(f"{self.identity_url}/v3/auth/tokens", json={"auth": body})
        except httpx.HTTPError as exc:
            raise CloudError(0, f"identity could not be reached: {exc}") from None
        if resp.status_code != 201:
            raise CloudError(resp.status_code, fault_message(resp.json() if resp.content else None,
                                                             resp.reason_phrase))
        token = resp.json()["token"]
        lifetime = _seconds_until(token.get("expires_at"))
        return Session(self.http, resp.headers["X-Subject-Token"], token.get("catalog", []), self.region,
                       time.monotonic() + lifetime)

    def _password(self) -> dict:
        if self.user is None:
            raise CloudError(0, "The cloud's orchestration user is not set up")
        return {"methods": ["password"], "password": {"user": {
            "id": self.user.user_id, "password": self.user.password}}}

    def for_trust(self, trust_id: str) -> Session:
        """A session acting as the trustor, through the trust (cached until shortly before it expires)."""
        with self._lock:
            session = self._sessions.get(trust_id)
        if session is not None and session.expires_at - time.monotonic() > RENEW_BEFORE:
            return session
        session = self._issue({"identity": self._password(), "scope": {"OS-TRUST:trust": {"id": trust_id}}})
        with self._lock:
            self._sessions[trust_id] = session
        return session

    def create_trust(self, user_token: str, trustor_id: str, project_id: str, roles: list[str]) -> str:
        """The owner's delegation of ``roles`` on ``project_id`` to the orchestration user, made with the
        owner's own token (only a trustor may create a trust)."""
        if self.user is None:
            raise CloudError(0, "The cloud's orchestration user is not set up")
        body = {"trust": {"trustor_user_id": trustor_id, "trustee_user_id": self.user.user_id,
                          "project_id": project_id, "impersonation": True,
                          "roles": [{"name": name} for name in sorted(roles)]}}
        try:
            resp = self.http.post(f"{self.identity_url}/v3/OS-TRUST/trusts", json=body,
                                  headers={"X-Auth-Token": user_token})
        except httpx.HTTPError as exc:
            raise CloudError(0, f"identity could not be reached: {exc}") from None
        if resp.status_code != 201:
            raise CloudError(resp.status_code, fault_message(resp.json() if resp.content else None,
                                                             resp.reason_phrase))
        return resp.json()["trust"]["id"]

    def delete_trust(self, trust_id: str) -> None:
        """Drop a stack's trust once the stack is gone (as the trustor, through the trust itself)."""
        try:
            session = self.for_trust(trust_id)
            session.call("identity", "DELETE", f"/v3/OS-TRUST/trusts/{trust_id}")
        except CloudError as exc:
            if exc.status not in (401, 403, 404):
                raise
        with self._lock:
            self._sessions.pop(trust_id, None)

    def close(self) -> None:
        self.http.close()


def _seconds_until(stamp: str | None) -> float:
    if not stamp:
        return 3600.0
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return 3600.0
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
