"""Signing in and out, and switching project.

Sign-in takes the user's password to Keystone once and keeps the token it gets (scoped to their
default project, or else to the first project they have a role on) in a new server-side session; the
browser gets only the session's random key.  The sign-in form has no session yet, so its CSRF token is
a nonce in a short-lived cookie that the form must repeat.
"""

from __future__ import annotations

import hmac
import time

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from onestack.dashboard.client import ApiError, SignedOut, Token
from onestack.dashboard.sessions import COOKIE, Session
from onestack.dashboard.web import (
    LOGIN_COOKIE,
    Dashboard,
    Page,
    base,
    is_tls,
    new_login_nonce,
    panel,
    read_form,
    safe_next,
    same_origin,
)


def _login_page(dash: Dashboard, request: Request, status: int = 200, error: str = "",
                username: str = "", domain: str = "Default") -> Response:
    nonce = new_login_nonce()
    response = dash.render(request, "login.html", status, title="Sign in", error=error or
                           request.query_params.get("reason", ""), nonce=nonce, username=username, domain=domain,
                           next=safe_next(request, request.query_params.get("next", ""), ""))
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=3600, path=base(request) or "/", httponly=True,
                        samesite="lax", secure=is_tls(request))
    return response


async def login_form(request: Request) -> Response:
    return _login_page(request.app.state.dashboard, request)


async def _scoped(dash: Dashboard, login: Token) -> tuple[Token, list[dict]]:
    projects = await dash.keystone.projects(login.value)
    if login.project is not None or not projects:
        return login, projects
    return await dash.keystone.rescope(login.value, projects[0]["id"]), projects


async def login(request: Request) -> Response:
    dash: Dashboard = request.app.state.dashboard
    form = await read_form(request)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    username, domain = form.get("username"), form.get("domain") or "Default"
    if not (nonce and hmac.compare_digest(nonce, form.get("csrf_token")) and same_origin(request)):
        return _login_page(dash, request, 403, "The sign-in form expired; please try again.", username, domain)
    if not username or not form.get("password"):
        return _login_page(dash, request, 400, "Enter a user name and a password.", username, domain)
    try:
        first = await dash.keystone.password(username, form.get("password"), domain)
        token, projects = await _scoped(dash, first)
    except SignedOut:
        return _login_page(dash, request, 401, "The user name, domain or password is wrong.", username, domain)
    except ApiError as err:
        return _login_page(dash, request, 502 if err.status >= 500 else 400, err.message, username, domain)
    key, _ = dash.store.create(
        login_token=first.value, token=token.value, expires_at=min(first.expires_at, token.expires_at),
        user=token.user, project=token.project, projects=projects, roles=token.roles, catalog=token.catalog)
    target = safe_next(request, form.get("next"), base(request) + "/")
    if target.startswith(base(request) + "/login"):
        target = base(request) + "/"
    response = RedirectResponse(target, 303)
    # the cookie lives no longer than the token behind it; it is never readable by script
    lifetime = int(min(first.expires_at, token.expires_at) - time.time())
    response.set_cookie(COOKIE, key, max_age=max(lifetime, 1), path=base(request) or "/", httponly=True,
                        samesite="lax", secure=is_tls(request))
    response.delete_cookie(LOGIN_COOKIE, path=base(request) or "/")
    return response


async def _revoke_all(dash: Dashboard, session: Session) -> None:
    for token in dict.fromkeys([session.token, session.login_token]):
        try:
            await dash.keystone.revoke(token)
        except ApiError:
            pass  # the session ends whatever Keystone says; a token it kept still expires on its own


@panel()
async def logout(page: Page) -> Response:
    await _revoke_all(page.dash, page.session)
    page.dash.store.drop(page.session)
    response = RedirectResponse(f"{page.base}/login?reason=You+have+signed+out.", 303)
    response.delete_cookie(COOKIE, path=page.base or "/")
    return response


@panel()
async def switch_project(page: Page) -> Response:
    session = page.session
    project_id = page.form.get("project_id")
    if project_id not in {p["id"] for p in session.projects}:
        # the list may be stale: ask Keystone again before refusing
        session.projects = await page.dash.keystone.projects(session.login_token)
        if project_id not in {p["id"] for p in session.projects}:
            raise ApiError(403, "You have no role on that project.")
    token = await page.dash.keystone.rescope(session.login_token, project_id)
    if session.token != session.login_token:
        try:
            await page.dash.keystone.revoke(session.token)
        except ApiError:
            pass
    session.token, session.project, session.roles, session.catalog = (
        token.value, token.project, token.roles, token.catalog)
    session.expires_at = min(session.expires_at, token.expires_at)
    return page.done(f"Now working in project {token.project['name']}.", "/")


def routes() -> list[Route]:
    return [Route("/login", login_form, methods=["GET"]), Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]), Route("/project", switch_project, methods=["POST"])]
