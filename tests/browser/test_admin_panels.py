"""Admin panels: open to the admin, 403 to everyone else, in a real Chromium."""

from __future__ import annotations

import pytest

from tests.api.helpers import name, ok
from tests.browser.conftest import api, boot

pytestmark = pytest.mark.browser

ADMIN_PAGES = ["/dashboard/admin/projects", "/dashboard/admin/users", "/dashboard/admin/hypervisors",
               "/dashboard/admin/instances", "/dashboard/admin/volumes"]


def test_admin_pages_answer_403_to_the_demo_user(dashboard):
    page = dashboard.sign_in("demo")
    assert page.locator("nav.side h3:has-text('Admin')").count() == 0
    for path in ADMIN_PAGES:
        response = page.goto(path)
        assert response.status == 403, path
        assert page.inner_text("h1") == "Forbidden"
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    resp = page.request.post("/dashboard/admin/projects", form={"csrf_token": token, "name": name("sneaky")},
                             max_redirects=0)
    assert resp.status == 403
    page.context.close()


def test_admin_sees_projects_users_hypervisors_and_every_projects_instances_and_volumes(cloud, dashboard, tiny_image):
    hidden = boot(cloud, cloud.token("demo", project="demo"), tiny_image, name("demo-vm"))
    page = dashboard.sign_in("admin")
    page.goto("/dashboard/admin/projects")
    assert {"admin", "demo"} <= set(page.locator("#projects td.name").all_inner_texts())
    page.locator("#create-project").evaluate("details => { details.open = true; }")
    project = name("proj")
    page.fill("#create-project input[name=name]", project)
    page.click("button:has-text('Create project')")
    page.wait_for_selector(f"text=Project {project} created.")

    page.goto("/dashboard/admin/users")
    page.locator("#create-user").evaluate("details => { details.open = true; }")
    user = name("user")
    page.fill("#create-user input[name=name]", user)
    page.fill("#create-user input[name=password]", "a-good-pass-1")
    page.select_option("#create-user select[name=project]", label=project)
    page.click("button:has-text('Create user')")
    page.wait_for_selector(f"text=User {user} created.")
    assert project in page.locator("#users tr", has_text=user).inner_text()

    page.goto("/dashboard/admin/hypervisors")
    assert page.locator("#hypervisors tbody tr").count() == 2  # the test cloud's two fake hosts

    page.goto("/dashboard/admin/instances")
    row = page.locator(f"tr[data-id='{hidden['id']}']")
    assert row.locator("td.project").inner_text() == "demo"

    demo = cloud.token("demo", project="demo")
    with api(cloud, demo, "volume/v3") as cinder:
        volume = ok(cinder.post("/volumes", json={"volume": {"size": 1, "name": name("demo-vol")}}), 202)["volume"]
    page.goto("/dashboard/admin/volumes")
    row = page.locator(f"tr[data-id='{volume['id']}']")
    assert row.locator("td.project").inner_text() == "demo"
    row.locator("[data-field=status]:text-is('available')").wait_for(timeout=15_000)
    with api(cloud, demo, "volume/v3") as cinder:
        ok(cinder.delete(f"/volumes/{volume['id']}"), 202)
    page.context.close()

    # the new user signs in to the new project
    mine = dashboard.sign_in(user, "a-good-pass-1")
    assert mine.locator("select[name=project_id] option:checked").inner_text() == project
    mine.context.close()
