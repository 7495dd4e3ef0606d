"""What every page shares: the session gate, CSRF, forms, rendering, and the security headers.

A panel handler is ``async def handler(page: Page) -> Response`` wrapped in ``@panel()``: the wrapper
finds the session (or sends the browser to sign in), refuses a state-changing request without the
session's CSRF token, keeps non-admins out of admin panels, and turns the APIs' errors into a message
on the next page (forms) or an error page (reads).  A token the cloud no longer takes ends the session.
"""

from __future__ import annotations

import dataclasses
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import jinja2
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from onestack.dashboard.client import ApiError, Cloud, Keystone, SignedOut
from onestack.dashboard.sessions import COOKIE, Session, SessionStore

MAX_FORM_BYTES = 1024 * 1024  # a stack template (Heat takes up to 512 KiB) fits, urlencoded
MAX_FILES = 4
LOGIN_COOKIE = "onestack_dashboard_login"
# No inline script or style anywhere: every script and stylesheet is a file this package serves.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]


@dataclasses.dataclass
class DashboardConfig:
    auth_url: str
    session_dir: Path
    # (prefix, replacement) for catalog URLs: this cloud's public URL reached over loopback instead
    rewrite: tuple[str, str] | None = None


class Dashboard:
    """The dashboard's state in one serving process: config, sessions, templates, its HTTP client."""

    def __init__(self, config: DashboardConfig):
        self.config = config
        self.store = SessionStore(config.session_dir)
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("onestack.dashboard", "templates"),
            autoescape=True, undefined=jinja2.ChainableUndefined, trim_blocks=True, lstrip_blocks=True)
        self._http: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        # made on first use, inside the serving process and its event loop (workers fork before that)
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0))
        return self._http

    @property
    def keystone(self) -> Keystone:
        return Keystone(self.http, self.config.auth_url)

    def cloud(self, session: Session) -> Cloud:
        return Cloud(self.http, session.token, session.catalog, self.config.rewrite)

    def render(self, request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
        html = self.templates.get_template(name).render(base=base(request), **context)
        return HTMLResponse(html, status, headers={"Cache-Control": "no-store"})


def base(request: Request) -> str:
    """Where the dashboard is mounted (``/dashboard``): every link and form action starts with it."""
    return request.scope.get("root_path", "")


def is_tls(request: Request) -> bool:
    return request.url.scheme == "https"


class Form:
    def __init__(self, pairs: list[tuple[str, str]], files: dict[str, UploadFile] | None = None):
        self.pairs = pairs
        # a multipart form's files, by field name (an object upload, a template file)
        self.files = files or {}

    def get(self, name: str, default: str = "") -> str:
        return next((v for k, v in self.pairs if k == name), default).strip()

    def getlist(self, name: str) -> list[str]:
        return [v for k, v in self.pairs if k == name and v]

    def key_values(self, name: str) -> dict[str, str]:
        """A text area of ``key=value`` lines (metadata, extra specs, QoS keys); a line without ``=`` is refused."""
        found = {}
        for line in self.get(name).splitlines():
            if line.strip():
                key, sep, value = line.partition("=")
                if not sep or not key.strip():
                    raise ApiError(400, f"Each line is key=value: {line.strip()!r} is not.")
                found[key.strip()] = value.strip()
        return found

    def int(self, name: str, default: int | None = None) -> int | None:
        value = self.get(name)
        try:
            return int(value) if value else default
        except ValueError:
            raise ApiError(400, f"{name} must be a whole number.") from None


async def read_form(request: Request) -> Form:
    """A form body: ``application/x-www-form-urlencoded`` bounded in size, or ``multipart/form-data`` whose
    files are spooled to disk by Starlette (fields still bounded) and handed on as they are."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        try:
            parsed = await request.form(max_files=MAX_FILES, max_fields=100, max_part_size=MAX_FORM_BYTES)
        except HTTPException as exc:
            raise ApiError(400, f"The form could not be read: {exc.detail}") from None
        pairs, files = [], {}
        for key, value in parsed.multi_items():
            if isinstance(value, UploadFile):
                if value.filename:
                    files[key] = value
            else:
                pairs.append((key, value))
        return Form(pairs, files)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise ApiError(413, "The form is too large.")
    return Form(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def same_origin(request: Request) -> bool:
    """A browser's Origin, when it sends one, names this host: a cross-site post is refused outright."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    parts = urlsplit(origin)
    return parts.netloc == request.headers.get("host") and parts.scheme == request.url.scheme


def csrf_ok(request: Request, expected: str, form: Form) -> bool:
    given = form.get("csrf_token") or request.headers.get("x-csrf-token", "")
    return bool(given) and hmac.compare_digest(given, expected) and same_origin(request)


def safe_next(request: Request, target: str, fallback: str) -> str:
    """A path inside the dashboard to go back to; anything else (another site, ``//host``) is ignored."""
    root = base(request) + "/"
    if target.startswith(root) and not target.startswith("//") and "\\" not in target:
        return target
    return fallback


def login_redirect(request: Request, message: str | None = None) -> Response:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = f"{base(request)}/login?next={quote(here, safe='')}"
    if message:
        target += f"&reason={quote(message)}"
    if request.headers.get("x-dashboard-fragment"):
        # a live fragment's poll: the script sends the whole page to sign in
        return Response(status_code=401, headers={"X-Dashboard-Login": target})
    response = RedirectResponse(target, 303)
    if COOKIE in request.cookies:
        response.delete_cookie(COOKIE, path=base(request) or "/")
    return response


def forbidden(dash: Dashboard, request: Request, message: str, session: Session | None = None) -> Response:
    return dash.render(request, "error.html", 403, title="Forbidden", message=message, session=session,
                       csrf=session.csrf if session else "", flash=[])


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)


class Page:
    """One request to a panel: the session, the user's cloud, the form, and ways to answer."""

    def __init__(self, dash: Dashboard, request: Request, session: Session, form: Form):
        self.dash = dash
        self.request = request
        self.session = session
        self.form = form
        self.cloud = dash.cloud(session)
        self.base = base(request)
        self.started = time.perf_counter()

    @property
    def project_id(self) -> str:
        return self.session.project["id"] if self.session.project else ""

    def render(self, name: str, status: int = 200, **context) -> HTMLResponse:
        flash = self.session.flash
        # the upload script reads the page a form led to and then shows it: the messages wait for that
        if not self.request.headers.get("x-dashboard-keep-flash"):
            self.session.flash = []
            if flash:
                self.dash.store.save(self.session)
        return self.dash.render(self.request, name, status, session=self.session, csrf=self.session.csrf,
                                flash=flash, path=self.request.url.path, services=set(self.cloud.endpoints),
                                **context)

    def fragment(self, name: str, **context) -> HTMLResponse:
        """Part of a page, for the live poll: no layout and no messages."""
        return self.dash.render(self.request, name, session=self.session, csrf=self.session.csrf, **context)

    def done(self, message: str, to: str) -> Response:
        """After a form did its work: say so on the next page, which is ``to`` unless the form named one."""
        self.session.say("ok", message)
        self.dash.store.save(self.session)
        return RedirectResponse(safe_next(self.request, self.form.get("next"), self.base + to), 303)


Handler = Callable[[Page], Awaitable[Response]]


def panel(*, admin: bool = False, back: str = "/") -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a panel handler: session, CSRF, admin gate, API errors.  ``back``: where a failed form returns."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            dash: Dashboard = request.app.state.dashboard
            session = dash.store.load(request.cookies.get(COOKIE))
            if session is None:
                if request.method != "GET":
                    return forbidden(dash, request, "Your session has ended; sign in again.")
                return login_redirect(request)
            form = Form([])
            try:
                if request.method != "GET":
                    form = await read_form(request)
                    if not csrf_ok(request, session.csrf, form):
                        return forbidden(dash, request, "The form's CSRF token is missing or wrong; reload the "
                                         "page and try again.", session)
                if admin and not session.is_admin:
                    return forbidden(dash, request, "This panel is for administrators of the project.", session)
                page = Page(dash, request, session, form)
                return await handler(page)
            except SignedOut:
                dash.store.drop(session)
                return login_redirect(request, "Your session has ended.")
            except ApiError as err:
                if request.method == "GET":
                    status = err.status if 400 <= err.status < 500 else 502
                    return dash.render(request, "error.html", status, title="Error", message=err.message,
                                       session=session, csrf=session.csrf, flash=[])
                session.say("error", err.message)
                dash.store.save(session)
                return RedirectResponse(safe_next(request, form.get("next"), base(request) + back), 303)
            finally:
                for upload in form.files.values():
                    await upload.close()

        endpoint.__name__ = handler.__name__
        return endpoint

    return wrap


class SecurityHeaders:
    """Every dashboard answer forbids framing and inline script, and is not sniffed as another type."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)
