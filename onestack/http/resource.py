"""Routes that serve a resource the standard way: create, show, update and delete, each of which authorizes
one policy action, asks the service once and renders the row under the resource's key (``{"region": ...}``).
A handler that does anything more (reads the query, checks a target, shapes a list) stays a function of
its own beside these routes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from onestack.http.routing import Call, Endpoint, Reply, route
from onestack.http.shapes import one


def summary_and_detail(path: str, listing: Callable[[Call, bool], Any], query: dict[str, dict] | None = None,
                       responses: tuple[dict, dict] | None = None) -> list[Endpoint]:
    """Nova's and Cinder's two lists of one collection, ``listing(call, detail)``: ``path`` answers summaries
    and ``path/detail`` whole views.  They go before the member's routes, whose id would match "detail".
    ``query``: the query parameters both read; ``responses``: the summaries' and the details' bodies."""
    def summaries(call: Call) -> Any:
        return listing(call, False)

    def details(call: Call) -> Any:
        return listing(call, True)
    brief, whole = responses or (None, None)
    return [route(path, "GET", summaries, query=query, response=brief),
            route(f"{path}/detail", "GET", details, query=query, response=whole)]


@dataclasses.dataclass(frozen=True)
class Resource:
    """A collection at ``path`` whose members are ``path/{<id>}``.  ``service(call)`` is the object the
    routes ask, whose methods they are handed unbound (``Catalog.region``); ``view(call, row)`` renders one
    row; ``authorize(call, action)`` is the owning service's policy check."""

    path: str
    key: str
    id: str
    service: Callable[[Call], Any]
    view: Callable[[Call, Any], dict]
    authorize: Callable[[Call, str], None]
    # the JSON Schema of what ``view`` renders (the routes' ``response=``, under ``key``); None: not declared
    response: dict | None = None

    @property
    def member(self) -> str:
        return f"{self.path}/{{{self.id}}}"

    def create(self, action: str, method: Callable[[Any, Any], Any], schema: dict) -> Endpoint:
        """POST to the collection: ``method(service, body[key])`` makes the row; 201 with its view."""
        def create(call: Call) -> Reply:
            self.authorize(call, action)
            return Reply(self._shown(call, method(self.service(call), call.body[self.key])), 201)
        return route(self.path, "POST", self._named(create), schema=schema, status=201, response=self._body())

    def show(self, action: str, method: Callable[[Any, str], Any]) -> Endpoint:
        """GET a member: ``method(service, id)`` finds the row."""
        def show(call: Call) -> dict:
            self.authorize(call, action)
            return self._shown(call, method(self.service(call), call.path[self.id]))
        return route(self.member, "GET", self._named(show), response=self._body())

    def update(self, action: str, method: Callable[[Any, str, Any], Any], schema: dict) -> Endpoint:
        """PATCH a member: ``method(service, id, body[key])`` changes the row."""
        def update(call: Call) -> dict:
            self.authorize(call, action)
            return self._shown(call, method(self.service(call), call.path[self.id], call.body[self.key]))
        return route(self.member, "PATCH", self._named(update), schema=schema, response=self._body())

    def delete(self, action: str, method: Callable[[Any, str], None]) -> Endpoint:
        """DELETE a member: ``method(service, id)``; 204."""
        def delete(call: Call) -> Reply:
            self.authorize(call, action)
            method(self.service(call), call.path[self.id])
            return Reply(status=204)
        return route(self.member, "DELETE", self._named(delete))

    def _body(self) -> dict | None:
        return None if self.response is None else one(self.key, self.response)

    def _shown(self, call: Call, row) -> dict:
        return {self.key: self.view(call, row)}

    def _named(self, handler: Callable[[Call], Any]) -> Callable[[Call], Any]:
        handler.__name__ = f"{handler.__name__}_{self.key}"
        return handler
