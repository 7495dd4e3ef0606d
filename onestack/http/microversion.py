"""Microversion negotiation (``OpenStack-API-Version: <service> X.Y``)."""

from __future__ import annotations

import dataclasses
import functools
import re

from onestack.http.errors import BadRequest, NotAcceptable

_VERSION = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")


@dataclasses.dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> Version:
        m = _VERSION.match(text.strip())
        if not m:
            raise BadRequest(f"Invalid API version format '{text}'.")
        return cls(int(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    def at_least(self, text: str) -> bool:
        """``version.at_least("2.45")``: the one comparison every service's views and handlers use (views
        ask it for every item of a list, so the literal is parsed once)."""
        return (self.major, self.minor) >= _literal(text)


@functools.lru_cache(maxsize=1024)
def _literal(text: str) -> tuple[int, int]:
    """A version literal of the code as (major, minor); the few hundred the code names stay cached."""
    parsed = Version.parse(text)
    return parsed.major, parsed.minor


def at_least(version: Version | None, text: str) -> bool:
    """Like ``Version.at_least`` for a call that negotiated no version (a service without microversions)."""
    return version is not None and version.at_least(text)


def pick(versioned: dict[str, object], version: Version | None):
    """The entry of a version-keyed map (``{"2.1": a, "2.19": b}``) in force at ``version``: the newest
    key not above it, or None when every key is newer.  A call with no negotiated version gets the oldest."""
    keys = sorted(versioned, key=Version.parse)
    if version is None:
        return versioned[keys[0]]
    chosen = None
    for key in keys:
        if Version.parse(key) <= version:
            chosen = versioned[key]
    return chosen


@dataclasses.dataclass(frozen=True)
class Microversions:
    """What one service supports and the headers it reads (newest first)."""

    service: str
    minimum: Version
    maximum: Version
    legacy_headers: tuple[str, ...] = ()

    def requested(self, headers) -> str | None:
        for value in headers.getlist("openstack-api-version"):
            for item in value.split(","):
                parts = item.strip().split(None, 1)
                if len(parts) == 2 and parts[0].lower() == self.service:
                    return parts[1]
        for name in self.legacy_headers:
            if name in headers:
                return headers[name]
        return None

    def negotiate(self, headers) -> Version:
        text = self.requested(headers)
        if text is None:
            return self.minimum
        if text.strip().lower() == "latest":
            return self.maximum
        version = Version.parse(text)
        if not self.minimum <= version <= self.maximum:
            raise NotAcceptable(
                f"Version {version} is not supported by the API. "
                f"Minimum is {self.minimum} and maximum is {self.maximum}."
            )
        return version

    def response_headers(self, version: Version) -> dict[str, str]:
        headers = {"OpenStack-API-Version": f"{self.service} {version}", "Vary": "OpenStack-API-Version"}
        for name in self.legacy_headers:
            headers[name] = str(version)
            headers["Vary"] += f", {name}"
        return headers
