"""The object store in a real Chromium: containers, folders by delimiter, upload through a multipart form,
download as an attachment, delete, the public-access toggle seen from an anonymous client; Swift's own
messages, escaping, CSRF and the tenant wall."""

from __future__ import annotations

import httpx
import pytest

from tests.api.helpers import member_of_new_project, name, ok
from tests.browser.conftest import api, said

pytestmark = pytest.mark.browser

MARKUP = "<img src=x onerror=alert(1)>.html"
CONTENT = b"<script>alert(1)</script> stored bytes\n"


def _account(cloud, token: str) -> str:
    project = ok(cloud.client(token).get("/auth/projects"))["projects"][0]["id"]
    return f"object-store/v1/AUTH_{project}"


def _row(page, row_name: str):
    return page.locator("tbody tr", has=page.locator("td.name", has_text=row_name))


def test_containers_folders_upload_download_public_and_delete(cloud, dashboard, tmp_path):
    token = cloud.token("demo", project="demo")
    account = _account(cloud, token)
    page = dashboard.sign_in("demo")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.goto("/dashboard/containers")
    page.locator("#create-container").evaluate("details => { details.open = true; }")
    box = name("box")
    page.fill("#create-container input[name=name]", box)
    page.click("button:has-text('Create container')")
    page.wait_for_selector(f"text=Container {box} created.")

    # a folder, then an upload into it through the browser's file input
    page.fill("#new-folder input[name=folder]", "docs")
    page.click("#new-folder button")
    page.wait_for_selector("text=Folder docs created.")
    page.click("#objects a:has-text('docs/')")
    (tmp_path / "upload.bin").write_bytes(CONTENT)
    page.set_input_files("#upload input[type=file]", str(tmp_path / "upload.bin"))
    page.fill("#upload input[name=object_name]", MARKUP)
    sent = []
    page.on("request", lambda request: sent.append(request.headers) if request.url.endswith("/upload") else None)
    page.click("#upload button:has-text('Upload to docs/')")
    page.wait_for_selector("text=Uploaded docs/")
    # the script sent it (for its progress bar), and the outcome's message still reached the page shown after
    assert [headers.get("x-dashboard-keep-flash") for headers in sent] == ["1"]
    assert _row(page, MARKUP).locator("td.name").inner_text().strip() == MARKUP
    assert page.locator("td.name img").count() == 0
    with api(cloud, token, account) as swift:
        assert swift.get(f"/{box}/docs/{MARKUP}").content == CONTENT
        listing = ok(swift.get(f"/{box}", params={"format": "json", "delimiter": "/"}))
    assert [item.get("subdir") for item in listing] == ["docs/"]

    # download: the bytes, as an attachment of a neutral type (never rendered in the dashboard's origin)
    resp = page.request.get(_row(page, MARKUP).locator("a:has-text('Download')").get_attribute("href"))
    assert resp.body() == CONTENT
    assert resp.headers["content-type"] == "application/octet-stream"
    assert resp.headers["content-disposition"].startswith("attachment;")
    # names a URL parser would otherwise take as steps or separators reach Swift as names
    odd = "docs/..?#%"
    with api(cloud, token, account) as swift:
        ok(swift.put(f"/{box}/docs/%2E%2E%3F%23%25", content=b"odd"), 201)
    page.reload()
    resp = page.request.get(_row(page, "..?#%").locator("a:has-text('Download')").get_attribute("href"))
    assert resp.body() == b"odd"
    _row(page, "..?#%").locator("button[data-action=delete]").click()
    page.wait_for_selector(f"text=Deleted {odd}")
    with api(cloud, token, account) as swift:
        assert swift.get(f"/{box}/docs/%2E%2E%3F%23%25").status_code == 404

    # a temporary URL: anyone holding it reads the object, with no token
    anonymous = httpx.Client(base_url=f"{cloud.url}/{account}", timeout=30)
    _row(page, MARKUP).locator("summary:has-text('Temporary URL')").click()
    _row(page, MARKUP).locator("select[name=lifetime]").select_option("3600")
    _row(page, MARKUP).locator("button[data-action=tempurl]").click()
    url = page.input_value("#tempurl")
    assert "temp_url_sig=" in url and "temp_url_expires=" in url
    assert httpx.get(url, timeout=30).content == CONTENT
    assert httpx.get(url.replace("temp_url_sig=", "temp_url_sig=0"), timeout=30).status_code == 401
    page.click("a:has-text('Back to')")

    # public access, as an anonymous client sees it
    assert anonymous.get(f"/{box}/docs/{MARKUP}").status_code == 401  # Swift's answer to no token
    page.click("button[data-action=access]:has-text('Make public')")
    page.wait_for_selector(f"text=Container {box} is now public")
    assert page.inner_text("#access") == "Public"
    assert page.inner_text("#public-url").endswith(f"/{account}/{box}")
    assert anonymous.get(f"/{box}/docs/{MARKUP}").content == CONTENT
    assert anonymous.get(f"/{box}", params={"format": "json"}).status_code == 200
    page.click("button[data-action=access]:has-text('Make private')")
    page.wait_for_selector(f"text=Container {box} is now private")
    assert anonymous.get(f"/{box}/docs/{MARKUP}").status_code == 401  # Swift's answer to no token

    # Swift refuses to delete a container that is not empty: its message, on the page
    page.goto("/dashboard/containers")
    _row(page, box).locator("button[data-action=delete]").click()
    assert "conflict" in page.inner_text(".flash.error").lower()
    page.goto(f"/dashboard/containers/{box}?prefix=docs/")
    _row(page, MARKUP).locator("button[data-action=delete]").click()
    page.wait_for_selector(f"text=Deleted docs/{MARKUP}")
    with api(cloud, token, account) as swift:
        ok(swift.delete(f"/{box}/docs/"), 204)
    page.goto("/dashboard/containers")
    _row(page, box).locator("button[data-action=delete]").click()
    said(page, "Container deleted.")
    assert _row(page, box).count() == 0
    assert [d.split(" ")[0] for d in dialogs] == ["Delete"] * 4  # the confirmations, and no alert(1)
    page.context.close()


def test_another_projects_containers_stay_out_of_sight_and_forms_need_the_token(cloud, admin, dashboard, tmp_path):
    _, _, other_token = member_of_new_project(cloud, admin)
    other = name("theirs")
    with api(cloud, other_token, _account(cloud, other_token)) as swift:
        ok(swift.put(f"/{other}"), 201)
        ok(swift.put(f"/{other}/secret.txt", content=b"theirs"), 201)
    page = dashboard.sign_in("demo")
    page.goto("/dashboard/containers")
    assert _row(page, other).count() == 0
    page.goto(f"/dashboard/containers/{other}")
    assert page.locator("h1").inner_text() == "Error"
    resp = page.request.get(f"/dashboard/containers/{other}/download?object=secret.txt")
    assert resp.status == 404 and b"theirs" not in resp.body()
    # a multipart post without the CSRF token is refused before anything reaches Swift
    mine = name("mine")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    ok_resp = page.request.post("/dashboard/containers", form={"csrf_token": token, "name": mine})
    assert ok_resp.ok
    resp = page.request.post(f"/dashboard/containers/{mine}/upload", multipart={
        "file": {"name": "x.txt", "mimeType": "text/plain", "buffer": b"x"}})
    assert resp.status == 403
    demo = cloud.token("demo", project="demo")
    with api(cloud, demo, _account(cloud, demo)) as swift:
        assert ok(swift.get(f"/{mine}", params={"format": "json"})) == []
        ok(swift.delete(f"/{mine}"), 204)
    with api(cloud, other_token, _account(cloud, other_token)) as swift:
        assert swift.get(f"/{other}/secret.txt").content == b"theirs"
    page.context.close()


def test_the_overview_counts_the_object_store(cloud, admin, dashboard):
    _, user, token = member_of_new_project(cloud, admin)
    with api(cloud, token, _account(cloud, token)) as swift:
        for container in ("a", "b"):
            ok(swift.put(f"/{container}"), 201)
        ok(swift.put("/a/blob", content=b"x" * 3000), 201)
    page = dashboard.sign_in(user["name"], "secret-pass-1")
    card = page.locator("section.card", has=page.locator("h2:text-is('Object store')"))
    assert [label.split()[0] for label in card.locator(".usage-label").all_inner_texts()] == [
        "Containers", "Objects", "Stored"]
    assert "2 of unlimited" in card.locator(".usage", has_text="Containers").inner_text()
    assert "1 of unlimited" in card.locator(".usage", has_text="Objects").inner_text()
    assert "3 KiB of unlimited" in card.locator(".usage", has_text="Stored data").inner_text()
    stacks = page.locator("section.card", has=page.locator("h2:text-is('Orchestration')"))
    assert "0 of unlimited" in stacks.inner_text()
    page.context.close()
