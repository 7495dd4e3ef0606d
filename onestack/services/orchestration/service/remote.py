"""Templates named by URL, fetched by the cloud as Heat fetches them: a request's ``template_url``, and
provider templates a template or its ``resource_registry`` names by an http(s) URL the request's ``files``
lack (python-heatclient fetches local files and URLs itself and sends their text; other clients send the
URL).  What is fetched is kept in the stack's ``files`` under its URL, so the engine, an update or a
restart never fetches it again.

The fetch is the shared one of ``onestack.http.outbound`` (no loopback, link-local or metadata address,
each redirect checked), bounded in size (Heat's ``max_template_size``) and time; the cloud's own object
store is reachable whatever its address, so a public container or a TempURL of this cloud can hold
templates.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from onestack.config import Settings
from onestack.http import outbound
from onestack.http.errors import BadRequest
from onestack.services.orchestration.service.hot.template import load

SCHEMES = ("http", "https")
# How many provider templates one request may make the cloud fetch (each may name more).
MAX_FETCHES = 20


def is_url(name) -> bool:
    return isinstance(name, str) and urlsplit(name).scheme.lower() in SCHEMES and "://" in name


class Remote:
    def __init__(self, settings: Settings):
        self.rules = settings.orchestration
        self.trusted = (f"{settings.base_url}/object-store/v1/",)

    def text(self, url: str) -> str:
        """The text at ``url``; a 400 in Heat's words (``Could not retrieve template: ...``) otherwise."""
        scheme = urlsplit(url).scheme.lower() if isinstance(url, str) else ""
        if scheme not in SCHEMES:
            raise _cannot(f"Invalid URL scheme {scheme}")
        try:
            body = outbound.fetch(url, self.rules, self.rules.fetch_timeout, self.rules.max_template_size,
                                  agent="onestack-orchestration", trusted=self.trusted)
        except outbound.Refused as exc:
            raise _cannot(f"Failed to retrieve template: {url} is refused: {exc.why}") from None
        except outbound.TooLarge:
            raise _cannot(f"Template exceeds maximum allowed size ({self.rules.max_template_size} bytes)") \
                from None
        except outbound.Failed as exc:
            raise _cannot(f"Failed to retrieve template: {exc.message}") from None
        try:
            return body.decode()
        except UnicodeDecodeError:
            raise _cannot(f"Failed to retrieve template: {url} is not UTF-8 text") from None

    def providers(self, template: dict, env: dict, files: dict) -> dict:
        """``files`` with every provider template named by URL that it lacks, fetched (and those the
        fetched ones name, up to ``MAX_FETCHES``)."""
        files = dict(files)
        todo = [*_types(template), *_registry_urls(env)]
        fetched = 0
        while todo:
            url = todo.pop(0)
            if not is_url(url) or url in files:
                continue
            if fetched >= MAX_FETCHES:
                raise _cannot(f"Failed to retrieve template: more than {MAX_FETCHES} templates to fetch")
            fetched += 1
            files[url] = self.text(url)
            try:
                todo.extend(_types(load(files[url], f"provider template {url}")))
            except BadRequest:
                pass  # the definition's own check names what is wrong with it
        return files


def _cannot(why: str) -> BadRequest:
    return BadRequest(f"Could not retrieve template: {why}", kind="HTTPBadRequest")


def _types(template) -> list[str]:
    """The type names a template's resources use (a group's member type too)."""
    found = []
    resources = template.get("resources") if isinstance(template, dict) else None
    for resource in (resources or {}).values() if isinstance(resources, dict) else []:
        if not isinstance(resource, dict):
            continue
        found.append(resource.get("type"))
        props = resource.get("properties")
        if isinstance(props, dict):
            for key in ("resource_def", "resource"):
                if isinstance(props.get(key), dict):
                    found.append(props[key].get("type"))
    return [t for t in found if isinstance(t, str)]


def _registry_urls(env: dict) -> list[str]:
    registry = env.get("resource_registry") if isinstance(env, dict) else None
    found = []
    for key, value in (registry or {}).items() if isinstance(registry, dict) else []:
        if key == "resources" and isinstance(value, dict):
            found += [v for entries in value.values() if isinstance(entries, dict) for v in entries.values()]
        else:
            found.append(value)
    return [v for v in found if isinstance(v, str)]
