"""Sign-in, sessions, the project switcher, CSRF and sign-out, in a real Chromium."""

from __future__ import annotations

import httpx
import pytest

from tests.api.helpers import grant, make_project, member_of_new_project

pytestmark = pytest.mark.browser


def _cookie(page) -> dict:
    return next(c for c in page.context.cookies() if c["name"] == "onestack_dashboard")


def test_a_browser_at_the_root_lands_on_sign_in_and_clients_keep_json(cloud, dashboard):
    page = dashboard.browser.new_page()
    page.goto(cloud.url + "/")
    assert page.url.startswith(f"{cloud.url}/dashboard/login")
    assert page.inner_text("h1") == "Sign in"
    page.close()
    assert "services" in httpx.get(cloud.url + "/").json()
    assert httpx.get(cloud.url + "/", headers={"Accept": "application/json"}).status_code == 200


def test_wrong_password_is_refused_with_a_message(dashboard):
    context = dashboard.browser.new_context(base_url=dashboard.cloud.url)
    page = context.new_page()
    page.goto("/dashboard/login")
    page.fill("input[name=username]", "demo")
    page.fill("input[name=password]", "not-the-password")
    page.click("button:has-text('Sign in')")
    assert "wrong" in page.inner_text(".flash.error")
    assert page.locator("header .who").count() == 0
    context.close()


def test_sign_in_keeps_the_token_on_the_server(cloud, dashboard):
    page = dashboard.sign_in("demo")
    assert page.inner_text("main h1").startswith("Overview")
    assert page.inner_text("header .who").startswith("demo")
    assert page.locator("select[name=project_id] option:checked").inner_text() == "demo"
    cookie = _cookie(page)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/dashboard"
    assert not cookie["secure"]  # plain HTTP here; under TLS the cookie is Secure
    # the cookie is an opaque key, not a token: Keystone does not take it
    check = httpx.get(f"{cloud.auth_url}/v3/auth/projects", headers={"X-Auth-Token": cookie["value"]})
    assert check.status_code == 401
    assert page.evaluate("document.cookie") == ""  # and script cannot read it
    page.context.close()


def test_every_page_forbids_framing_and_inline_script(cloud, dashboard):
    page = dashboard.sign_in("demo")
    response = page.goto("/dashboard/")
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert page.locator("script:not([src])").count() == 0
    page.context.close()


def test_project_switcher_rescopes_the_session(cloud, admin, dashboard):
    project, user, _ = member_of_new_project(cloud, admin)
    second = make_project(admin)
    grant(admin, second["id"], user["id"])
    page = dashboard.sign_in(user["name"], "secret-pass-1")
    names = page.locator("select[name=project_id] option").all_inner_texts()
    assert sorted(names) == sorted([project["name"], second["name"]])
    page.select_option("select[name=project_id]", second["id"])
    page.wait_for_selector(f"text=Now working in project {second['name']}")
    assert page.locator("select[name=project_id] option:checked").inner_text() == second["name"]
    assert page.inner_text("main h1").endswith(second["name"])
    page.context.close()


def test_a_post_without_the_csrf_token_is_refused(cloud, dashboard):
    page = dashboard.sign_in("demo")
    projects = page.locator("select[name=project_id] option")
    project_id = projects.first.get_attribute("value")
    # the browser's own cookie goes with these posts (same context), only the token is missing or wrong
    for form in ({"project_id": project_id}, {"project_id": project_id, "csrf_token": "guess"}):
        resp = page.request.post("/dashboard/project", form=form, max_redirects=0)
        assert resp.status == 403
        assert "CSRF" in resp.text()
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    # the right token from another site's page is refused too
    resp = page.request.post("/dashboard/project", form={"project_id": project_id, "csrf_token": token},
                             headers={"Origin": "http://evil.example"}, max_redirects=0)
    assert resp.status == 403
    resp = page.request.post("/dashboard/project", form={"project_id": project_id, "csrf_token": token},
                             max_redirects=0)
    assert resp.status == 303
    page.context.close()


def test_sign_out_revokes_the_token_and_the_old_cookie_no_longer_works(cloud, dashboard):
    before = set(dashboard.session_tokens())
    page = dashboard.sign_in("demo")
    tokens = set(dashboard.session_tokens()) - before
    assert tokens
    for token in tokens:
        assert httpx.get(f"{cloud.auth_url}/v3/auth/projects", headers={"X-Auth-Token": token}).status_code == 200
    cookie = _cookie(page)
    page.click("button:has-text('Sign out')")
    page.wait_for_selector("text=You have signed out.")
    for token in tokens:
        assert httpx.get(f"{cloud.auth_url}/v3/auth/projects", headers={"X-Auth-Token": token}).status_code == 401
    # a browser that kept the old cookie is sent to sign in
    context = dashboard.browser.new_context(base_url=cloud.url)
    context.add_cookies([{k: cookie[k] for k in ("name", "value", "domain", "path")}])
    stale = context.new_page()
    stale.goto("/dashboard/")
    assert "/dashboard/login" in stale.url
    assert stale.locator("header .who").count() == 0
    context.close()
    page.context.close()


def test_every_form_on_every_panel_carries_the_sessions_csrf_token(cloud, dashboard):
    """Walked as the admin, who sees every panel of the side menu: each post form carries the token."""
    page = dashboard.sign_in("admin")
    panels = sorted({href for href in page.locator("nav.side a").evaluate_all("links => links.map(a => a.pathname)")})
    assert "/dashboard/instances" in panels and "/dashboard/admin/quotas" in panels
    tokens, forms = set(), 0
    for path in panels:
        response = page.goto(path)
        assert response.status == 200, (path, response.status)
        posted = page.locator("form[method=post i]")
        for index in range(posted.count()):
            field = posted.nth(index).locator("input[name=csrf_token]")
            assert field.count() == 1, (path, posted.nth(index).get_attribute("action"))
            tokens.add(field.get_attribute("value"))
        forms += posted.count()
    assert forms > len(panels)  # the walk saw forms, and every one carried the same, non-empty token
    (token,) = tokens
    assert len(token) >= 32
    page.context.close()
