"""A page of any collection the way its API pages it (``limit`` and ``marker``), for the tables that may
hold thousands of rows."""

from __future__ import annotations

from onestack.dashboard.pages.instances import PAGE_SIZE
from onestack.dashboard.web import Page


async def api_page(page: Page, service: str, path: str, key: str, **params) -> dict:
    """One page of a collection, and the next page's marker when the API says there is more (Nova's and
    Neutron's ``<key>_links``, Glance's ``next``)."""
    marker = page.request.query_params.get("marker") or None
    body = await page.cloud.get(service, path, limit=PAGE_SIZE, marker=marker, **params)
    items = body[key]
    more = bool(body.get("next")) or any(link.get("rel") == "next" for link in body.get(f"{key}_links", []))
    return {"items": items, "marker": marker or "", "next_marker": items[-1]["id"] if more and items else ""}
