"""Static web: a container with ``X-Container-Meta-Web-Index``, ``-Web-Listings`` or ``-Web-Error`` serves
anonymous GETs (or any caller's with ``X-Web-Mode: true``) as a web site.

- A directory (the container, or a path ending in ``/``) answers its index object, else an HTML listing
  when listings are on, else 404; a directory named without its ``/`` is a 301 to it.
- An error answers the ``<status><Web-Error>`` object of the container, when there is one, with its status.

Reads are authorized as ever: the container's read ACL (``.r:*``; ``.rlistings`` for listings).
"""

from __future__ import annotations

import html
from urllib.parse import quote

from starlette.responses import Response

from onestack.http import errors
from onestack.services.object import views
from onestack.services.object.api import objects
from onestack.services.object.api.request import Swift, reply
from onestack.services.object.models import Container
from onestack.services.object.public import Query, Subdir

INDEX, LISTINGS, ERROR = "X-Container-Meta-Web-Index", "X-Container-Meta-Web-Listings", "X-Container-Meta-Web-Error"
CSS = "X-Container-Meta-Web-Listings-Css"
TRUE = ("true", "1", "yes", "on", "t", "y")


def site_of(req: Swift) -> Container | None:
    """The container when this request is static web's to answer, else None (the API answers it)."""
    if req.method not in ("GET", "HEAD") or req.level == "account" or req.temp_url:
        return None
    tokened = req.headers.get("x-auth-token") or req.headers.get("x-storage-token")
    if tokened and req.headers.get("x-web-mode", "").lower() not in TRUE:
        return None
    container = req.svc.find_container(req.account, req.container)
    if container is None or not any(container.meta.get(k) for k in (INDEX, LISTINGS, ERROR)):
        return None
    return container


def serve(req: Swift, site: Container) -> Response:
    try:
        return _serve(req, site)
    except errors.APIError as err:
        page = _error_page(req, site, err.status)
        if page is None:
            raise
        return page


def _serve(req: Swift, site: Container) -> Response:
    index, listings = site.meta.get(INDEX), site.meta.get(LISTINGS, "").lower() in TRUE
    req.authorize("read")
    path = req.obj or ""
    asked = req.call.request.scope.get("raw_path", b"").split(b"?", 1)[0]
    if req.obj is None and not asked.endswith(b"/"):
        if index or listings:
            return _redirect(asked)
        raise errors.NotFound()
    if path and not path.endswith("/"):
        if _exists(req, path):
            return objects.get(req)
        if (index and _exists(req, f"{path}/{index}")) or (listings and _has_under(req, f"{path}/")):
            return _redirect(asked)
        raise errors.NotFound()
    if index and _exists(req, path + index):
        req.obj = path + index
        return objects.get(req)
    if not listings:
        raise errors.NotFound()
    req.authorize("list")
    return _listing(req, site, path)


def _exists(req: Swift, name: str) -> bool:
    try:
        req.svc.object(req.account, req.container, name)
    except errors.NotFound:
        return False
    return True


def _has_under(req: Swift, prefix: str) -> bool:
    return bool(req.svc.list_objects(req.account, req.container, Query(limit=1, prefix=prefix))[1])


def _redirect(asked: bytes) -> Response:
    return reply(301, {"Location": asked.decode() + "/"})


def _error_page(req: Swift, site: Container, status: int) -> Response | None:
    suffix = site.meta.get(ERROR)
    if not suffix:
        return None
    try:
        page = req.svc.object(req.account, req.container, f"{status}{suffix}")
    except errors.NotFound:
        return None
    body = b"".join(req.svc.read(page)) if req.method == "GET" else b""
    return Response(body, status_code=status, headers={"Content-Type": page.content_type,
                                                       "Content-Length": str(page.size)})


def _listing(req: Swift, site: Container, prefix: str) -> Response:
    entries = req.svc.list_objects(req.account, req.container,
                                   Query(limit=10000, prefix=prefix, delimiter="/"))[1]
    title = html.escape(f"/{req.version}/{req.account}/{req.container}/{prefix}")
    css = site.meta.get(CSS)
    if css and not css.startswith(("/", "http://", "https://")):
        css = "../" * prefix.count("/") + quote(css)
    style = (f'  <link rel="stylesheet" type="text/css" href="{html.escape(css, quote=True)}" />\n' if css else
             '  <style type="text/css">h1 {font-size: 1em; font-weight: bold;} td {padding: 0 1em;}</style>\n')
    rows = []
    if prefix:
        rows.append('   <tr id="parent" class="item"><td class="colname"><a href="../">../</a></td>'
                    '<td class="colsize">&nbsp;</td><td class="coldate">&nbsp;</td></tr>')
    for entry in [e for e in entries if isinstance(e, Subdir)] + [e for e in entries if not isinstance(e, Subdir)]:
        shown = entry.name[len(prefix):]
        link = html.escape(quote(shown), quote=True)
        if isinstance(entry, Subdir):
            rows.append(f'   <tr class="item subdir"><td class="colname"><a href="{link}">{html.escape(shown)}</a>'
                        '</td><td class="colsize">&nbsp;</td><td class="coldate">&nbsp;</td></tr>')
        else:
            kind = html.escape(entry.content_type.split("/")[0])
            rows.append(f'   <tr class="item type-{kind}"><td class="colname"><a href="{link}">{html.escape(shown)}'
                        f'</a></td><td class="colsize">{entry.size}</td>'
                        f'<td class="coldate">{views.iso(entry.timestamp)[:19].replace("T", " ")}</td></tr>')
    body = ('<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" '
            '"http://www.w3.org/TR/html4/loose.dtd">\n<html>\n <head>\n'
            f'  <title>Listing of {title}</title>\n{style} </head>\n <body>\n'
            f'  <h1 id="title">Listing of {title}</h1>\n  <table id="listing">\n'
            '   <tr id="heading"><th class="colname">Name</th><th class="colsize">Size</th>'
            '<th class="coldate">Date</th></tr>\n' + "\n".join(rows) + "\n  </table>\n </body>\n</html>\n").encode()
    return reply(200, body=b"" if req.method == "HEAD" else body, content_type="text/html; charset=UTF-8",
                 headers={"Content-Length": str(len(body))})
