"""Signals through this cloud's object store, as Heat's ``TEMP_URL_SIGNAL``: a container of the stack owner's
own, a TempURL that lets whoever holds it PUT one object there (no token), and the engine reading that
object (and its archived versions: every PUT is one signal) with the owner's trust.

``OS::Heat::SwiftSignalHandle`` gives the URL, ``OS::Heat::SwiftSignal`` waits on it, and a
``SoftwareDeployment`` with ``signal_transport: TEMP_URL_SIGNAL`` hands one to its agent as
``deploy_signal_id``.

The signing key is the container's own (``X-Container-Meta-Temp-Url-Key``), never the account's: a handle
neither reads nor replaces a key the owner's other TempURLs rely on."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from onestack.services.orchestration.service.cloud import CloudError
from onestack.services.orchestration.service.resources.base import (
    Handle,
    Prop,
    ResourceFailure,
    ResourceType,
    ignore_missing,
)

# Heat's signal URLs do not expire while the stack lives; ten years stands for that.
LIFETIME = 10 * 365 * 24 * 3600


def _segment(name: str) -> str:
    return quote(name, safe="")


def archive_name(container: str) -> str:
    return f"{container}-versions"[:256]


def make_signal_object(h: Handle, container: str, obj: str) -> str:
    """Make ``container`` (versioned into its archive, keyed for TempURLs) and answer a TempURL that PUTs
    ``obj`` in it.  Safe to repeat: the key is chosen once and kept in the resource's data."""
    key = h.data.setdefault("signal_key", secrets.token_hex(32))
    archive = archive_name(container)
    h.cloud.call("object-store", "PUT", f"/{_segment(archive)}")
    h.cloud.call("object-store", "PUT", f"/{_segment(container)}", headers={
        "X-Container-Meta-Temp-Url-Key": key, "X-Versions-Location": archive})
    return _signed(h, key, "PUT", container, obj)


def _signed(h: Handle, key: str, method: str, container: str, obj: str) -> str:
    url = f"{h.cloud.endpoint('object-store')}/{_segment(container)}/{_segment(obj)}"
    expires = h.data.setdefault("signal_expires", int(time.time()) + LIFETIME)
    text = f"{method}\n{expires}\n{urlsplit(url).path}".encode()
    signature = hmac.new(key.encode(), text, hashlib.sha256).hexdigest()
    return f"{url}?temp_url_sig={signature}&temp_url_expires={expires}"


# POLL_TEMP_URL: a server's deployments, as its agent (os-collect-config's ``request`` collector) polls
# them, are an object of a container named after the server; every deployment of the server rewrites it.
METADATA_OBJECT = "metadata"


def metadata_container(server_id: str) -> str:
    return f"heat-config-{server_id}"


def make_metadata_object(h: Handle, server_id: str) -> str:
    """The server's metadata object, written now, and a TempURL that GETs it."""
    key = h.data.setdefault("signal_key", secrets.token_hex(32))
    container = metadata_container(server_id)
    h.cloud.call("object-store", "PUT", f"/{_segment(container)}", headers={"X-Container-Meta-Temp-Url-Key": key})
    publish_server_metadata(h, server_id)
    return _signed(h, key, "GET", container, METADATA_OBJECT)


def publish_server_metadata(h: Handle, server_id: str) -> None:
    """Rewrite the server's metadata object with its deployments now (nothing when the server polls no
    TempURL: its container does not exist, or the cloud has no object store)."""
    if "object-store" not in h.cloud.endpoints:
        return
    deployments = h.cloud.get("orchestration", f"/software_deployments/metadata/{server_id}")["metadata"]
    try:
        h.cloud.put("object-store", f"/{_segment(metadata_container(server_id))}/{METADATA_OBJECT}",
                    {"deployments": deployments})
    except CloudError as exc:
        if exc.status != 404:
            raise


def where(h: Handle, url: str) -> tuple[str, str]:
    """(container, object) of a signal URL of this project's object store; a failure for any other URL."""
    base = h.cloud.endpoint("object-store")
    plain = url.split("?", 1)[0]
    parts = plain[len(base):].strip("/").split("/") if plain.startswith(base + "/") else []
    if len(parts) != 2 or not all(parts):
        raise ResourceFailure(f"{url} is not a signal URL of this project's object store",
                              "StackValidationFailed")
    return unquote(parts[0]), unquote(parts[1])


def read_signals(h: Handle, container: str, obj: str) -> list[str]:
    """The bodies PUT to ``obj``, oldest first: its archived versions, then the object itself."""
    bodies = []
    prefix = f"{len(obj.encode()):03x}{obj}/"
    try:
        versions = h.cloud.get("object-store", f"/{_segment(archive_name(container))}",
                               params={"format": "json", "prefix": prefix}) or []
    except CloudError as exc:
        if exc.status != 404:
            raise
        versions = []
    seen = h.cache.setdefault("signal_bodies", {})
    for item in versions:
        path = f"/{_segment(archive_name(container))}/{_segment(item['name'])}"
        if path not in seen:
            seen[path] = h.cloud.text("object-store", path)
        bodies.append(seen[path])
    try:
        bodies.append(h.cloud.text("object-store", f"/{_segment(container)}/{_segment(obj)}"))
    except CloudError as exc:
        if exc.status != 404:
            raise
    return bodies


def parse_signal(body: str, number: int) -> dict:
    """One signal as a wait condition keeps it; an empty body is a success, as Heat takes it."""
    if not body.strip():
        found: Any = {}
    else:
        try:
            found = json.loads(body)
        except ValueError:
            raise ResourceFailure(f"Failed to parse JSON data: {body[:200]}", "SwiftSignalFailure") from None
    if not isinstance(found, dict):
        raise ResourceFailure(f"Failed to parse JSON data: {body[:200]}", "SwiftSignalFailure")
    status = found.get("status", "SUCCESS")
    if status not in ("SUCCESS", "FAILURE"):
        raise ResourceFailure(f"Unknown status: {status}", "SwiftSignalFailure")
    return {"status": status, "reason": str(found.get("reason") or f"Signal {number} received"),
            "data": found.get("data"), "id": str(found.get("id") or number)}


def remove_signal_object(h: Handle, container: str) -> None:
    """Delete the container, its archive and every signal in them (a thing already gone is fine)."""
    # Versioning off first: a DELETE in a versioned container would bring the previous signal back.
    ignore_missing(lambda: h.cloud.call("object-store", "POST", f"/{_segment(container)}",
                                        headers={"X-Remove-Versions-Location": "x"}))
    for name in (container, archive_name(container)):
        try:
            objects = h.cloud.get("object-store", f"/{_segment(name)}", params={"format": "json"}) or []
        except CloudError as exc:
            if exc.status == 404:
                continue
            raise
        for item in objects:
            ignore_missing(lambda n=name, o=item["name"]: h.cloud.delete(
                "object-store", f"/{_segment(n)}/{_segment(o)}"))
        ignore_missing(lambda n=name: h.cloud.delete("object-store", f"/{_segment(n)}"))


class SwiftSignalHandle(ResourceType):
    name = "OS::Heat::SwiftSignalHandle"
    description = ("Create a temporary URL of this cloud's object store to receive notification/signals: "
                   "each PUT of a JSON body to it is one signal.")
    properties: dict = {}
    attributes = {
        "token": "Tokens are not needed for Swift TempURLs.  This attribute is being kept for compatibility "
                 "with the OS::Heat::WaitConditionHandle resource.",
        "endpoint": "Endpoint/url which can be used for signalling handle.",
        "curl_cli": "Convenience attribute, provides curl CLI command prefix, which can be used for signalling "
                    "handle completion or failure.  You can signal success by adding --data-binary "
                    "'{\"status\": \"SUCCESS\"}' , or signal failure by adding --data-binary "
                    "'{\"status\": \"FAILURE\"}'.",
    }
    local_attributes = True

    def create(self, h: Handle) -> None:
        name = h.physical_name()
        h.data["url"] = make_signal_object(h, name, name)
        # Heat's id of a handle is its name; the URL (longer than an id column holds) is its data
        h.physical_id = name

    def find(self, h: Handle) -> str | None:
        return h.physical_name() if h.data.get("url") else None

    def reference(self, h: Handle):
        return h.data.get("url")

    def delete(self, h: Handle) -> None:
        if "physical_name" in h.data:
            remove_signal_object(h, h.data["physical_name"])

    def attribute(self, h: Handle, name: str) -> Any:
        url = h.data.get("url")
        if name == "token":
            return None
        if name == "endpoint":
            return url
        if name == "curl_cli":
            return f"curl -i -X PUT '{url}'" if url else None
        return None


class SignalCount(ResourceType):
    """What a wait condition and a Swift signal share: done once ``count`` success signals have come (from
    ``_signals``), failed by a failure signal or by waiting longer than ``timeout``; ``data`` maps each
    signal's id to its data."""

    failure_code = timeout_code = ""

    def _signals(self, h: Handle) -> list[dict]:
        raise NotImplementedError

    @staticmethod
    def _successes(signals: list[dict]) -> int:
        return sum(1 for s in signals if s["status"] == "SUCCESS")

    def create(self, h: Handle) -> None:
        h.data["waiting_since"] = time.time()
        h.physical_id = h.physical_name()

    def create_done(self, h: Handle) -> bool:
        signals = self._signals(h)
        failures = [s["reason"] for s in signals if s["status"] == "FAILURE"]
        if failures:
            raise ResourceFailure("; ".join(failures), self.failure_code)
        successes = self._successes(signals)
        if successes >= h.properties["count"]:
            return True
        if time.time() - h.data.get("waiting_since", time.time()) > h.properties["timeout"]:
            raise ResourceFailure(f"{successes} of {h.properties['count']} received", self.timeout_code)
        return False

    def update(self, h: Handle, old: dict, new: dict) -> None:
        h.data["waiting_since"] = time.time()

    def update_done(self, h: Handle) -> bool:
        return self.create_done(h)

    def attribute(self, h: Handle, name: str) -> Any:
        if name == "data":
            return json.dumps({s["id"]: s.get("data") for s in self._signals(h)})
        return None


class SwiftSignal(SignalCount):
    name = "OS::Heat::SwiftSignal"
    description = "Resource for handling signals received by SwiftSignalHandle."
    properties = {
        "handle": Prop("string", "URL of TempURL where resource will signal completion and optionally upload "
                       "data.", required=True),
        "timeout": Prop("number", "The maximum number of seconds to wait for the resource to signal "
                        "completion.  Once the timeout is reached, creation of the signal resource will fail.",
                        required=True, min=1, max=43200),
        "count": Prop("integer", "The number of success signals that must be received before the stack "
                      "creation process continues.", default=1, min=1, max=1000, update=True),
    }
    attributes = {"data": "JSON data that was uploaded via the SwiftSignalHandle."}

    failure_code, timeout_code = "SwiftSignalFailure", "SwiftSignalTimeout"

    def _signals(self, h: Handle) -> list[dict]:
        container, obj = where(h, h.properties["handle"])
        return [parse_signal(body, i) for i, body in enumerate(read_signals(h, container, obj), 1)]

    @staticmethod
    def _successes(signals: list[dict]) -> int:
        return len({s["id"] for s in signals if s["status"] == "SUCCESS"})  # a resent id counts once

    def create(self, h: Handle) -> None:
        where(h, h.properties["handle"])  # a URL not of this store fails at once, not at the timeout
        super().create(h)


TYPES = (SwiftSignalHandle, SwiftSignal)
