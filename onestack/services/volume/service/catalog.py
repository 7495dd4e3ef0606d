"""Where another service's API is, as the caller's token sees the catalog (Cinder finds Glance and Swift
this way): one call to Identity's ``/v3/auth/catalog`` with that token.

Block Storage talks to the Image and Object Storage APIs only over HTTP with the caller's own token, so
every policy and tenancy rule of those services holds for what a volume task does on the caller's behalf.
"""

from __future__ import annotations

import threading
import time

import httpx

from onestack.forksafe import LazyClient, renew_in_children

# The interfaces a service inside the cloud prefers, best first.
INTERFACES = ("internal", "public")
TIMEOUT = httpx.Timeout(30.0, read=300.0)
# How long a token's catalog is reused (the service called still checks the token itself each time).
REMEMBER = 60.0
REMEMBERED = 256


class PeerError(Exception):
    """Another service refused or failed; the message says which and why."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class Catalog:
    def __init__(self, identity_url: str, region: str):
        self.identity_url = identity_url.rstrip("/")
        self.region = region
        self._reconnect()
        renew_in_children(self, Catalog._reconnect)

    def _reconnect(self) -> None:
        # One client for every call to the cloud's APIs: its connections are kept alive and reused.
        self.http = LazyClient(timeout=TIMEOUT)
        self._seen: dict[str, tuple[float, list]] = {}
        self._lock = threading.Lock()

    def _catalog(self, token: str) -> list:
        now = time.monotonic()
        with self._lock:
            found = self._seen.get(token)
            if found is not None and found[0] > now:
                return found[1]
        try:
            resp = self.http.get(f"{self.identity_url}/v3/auth/catalog", headers={"X-Auth-Token": token})
        except httpx.HTTPError as exc:
            raise PeerError(f"the identity service could not be reached: {exc}") from exc
        if resp.status_code != 200:
            raise PeerError(f"the identity service refused the token ({resp.status_code})", resp.status_code)
        catalog = resp.json().get("catalog", [])
        with self._lock:
            if len(self._seen) >= REMEMBERED:
                self._seen = {k: v for k, v in self._seen.items() if v[0] > now}
            if len(self._seen) < REMEMBERED:
                self._seen[token] = (now + REMEMBER, catalog)
        return catalog

    def endpoint(self, token: str, service_type: str) -> str:
        """The URL of ``service_type`` in the token's catalog (without a trailing slash)."""
        for entry in self._catalog(token):
            if entry.get("type") != service_type:
                continue
            endpoints = [e for e in entry.get("endpoints", []) if e.get("region_id", self.region) == self.region]
            for interface in INTERFACES:
                for found in endpoints:
                    if found.get("interface") == interface:
                        return found["url"].rstrip("/")
        raise PeerError(f"no {service_type} endpoint in the catalog")
