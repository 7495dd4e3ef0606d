"""The dashboard driven in Debian's headless Chromium through Playwright: one browser per test module.

``make install`` installs the ``chromium`` package; Playwright only drives it (no browser download).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import name, ok

CHROMIUM = Path("/usr/bin/chromium")
IMAGE_BYTES = b"\0" * 65536  # a raw disk image: the fake compute driver boots anything
# Polls run every 3 s; a change must show within a few of them.
LIVE_TIMEOUT_MS = 15_000

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright (the test extra) is not installed")


def pytest_collection_modifyitems(items):
    if CHROMIUM.exists() or shutil.which("chromium"):
        return
    skip = pytest.mark.skip(reason="Debian's chromium (/usr/bin/chromium) is not installed; `make install` installs it")
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


class Dashboard:
    """The dashboard of the test cloud, and a way to sign a fresh browser context in."""

    def __init__(self, cloud, browser):
        self.cloud = cloud
        self.browser = browser
        self.url = f"{cloud.url}/dashboard"

    def sign_in(self, user: str = "demo", password: str | None = None, domain: str = "Default"):
        if password is None:
            password = self.cloud.password("onestack-admin" if user == "admin" else "onestack")
        context = self.browser.new_context(base_url=self.cloud.url)
        # a page answer waits on a server sharing two cores with the other test worker and its guests
        context.set_default_timeout(20_000)
        page = context.new_page()
        page.goto("/dashboard/")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", password)
        page.fill("input[name=domain]", domain)
        page.click("button:has-text('Sign in')")
        page.wait_for_selector("header .who")
        page.wait_for_load_state("domcontentloaded")  # the rest of the page too, for a caller that counts
        return page

    def session_tokens(self) -> list[str]:
        """Tokens the server keeps for the dashboard's sessions (read from its session files, as an
        operator could), so a test can check what sign-out did to them."""
        found = []
        for path in (self.cloud.data_dir / "dashboard").glob("*.json"):
            data = json.loads(path.read_text())
            found += [data["token"], data["login_token"]]
        return found


@pytest.fixture(scope="module")
def dashboard(cloud, browser):
    return Dashboard(cloud, browser)


def api(cloud, token: str, service: str) -> httpx.Client:
    return httpx.Client(base_url=f"{cloud.url}/{service}", headers={"X-Auth-Token": token}, timeout=30)


@pytest.fixture(scope="module")
def public_network(cloud):
    """An external network the admin offers (the test cloud makes no DevStack networks); of the tenant
    type, because the one flat network on physnet "public" belongs to the CLI's provider-network test."""
    with api(cloud, cloud.token(), "network/v2.0") as neutron:
        net = ok(neutron.post("/networks", json={"network": {
            "name": name("public"), "router:external": True}}), 201)["network"]
        ok(neutron.post("/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4, "enable_dhcp": False,
                                                     "cidr": "172.30.9.0/24"}}), 201)
    return net


# The seeded m1.nano, by id: the first flavor listed may be one another test made in this shared cloud
# (a 999,999 MB one broke the quota).
SEEDED_FLAVOR = "42"


@pytest.fixture(scope="module")
def tiny_image(cloud):
    """A public raw image uploaded by the admin, for servers the tests make through the API."""
    with api(cloud, cloud.token(), "image/v2") as glance:
        image = ok(glance.post("/images", json={"name": name("tiny"), "disk_format": "raw", "container_format": "bare",
                                                "visibility": "public"}), 201)
        ok(glance.put(f"/images/{image['id']}/file", content=IMAGE_BYTES,
                      headers={"Content-Type": "application/octet-stream"}), 204)
    return image["id"]


def said(page, text: str, timeout_ms: int = 20_000) -> None:
    """Wait for the page to show a message with ``text``; when it does not, fail with the messages it shows
    instead (a refused form answers with its error, which says why)."""
    try:
        page.locator(".flash", has_text=text).first.wait_for(timeout=timeout_ms)
    except playwright_api.TimeoutError:
        shown = [m.strip() for m in page.locator(".flash").all_inner_texts()]
        pytest.fail(f"no message {text!r} on {page.url}; it shows {shown}")
    # the message stands above the page's tables: what the caller counts next must be parsed too
    page.wait_for_load_state("domcontentloaded")


def boot(cloud, token: str, image_id: str, server_name: str, networks: str | list = "none") -> dict:
    with api(cloud, token, "compute/v2.1") as nova:
        nova.headers["OpenStack-API-Version"] = "compute 2.79"
        body = {"server": {"name": server_name, "flavorRef": SEEDED_FLAVOR, "imageRef": image_id, "networks": networks}}
        return ok(nova.post("/servers", json=body), 202)["server"]
