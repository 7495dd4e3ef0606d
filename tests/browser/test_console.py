"""The interactive consoles in the page, on a real QEMU guest: the serial console's shell answers what is
typed into the page, and noVNC's page in its frame reaches the guest's screen.  On the fake driver, which
has no console, the page says so as Nova does."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.api.helpers import name, ok, upload_image, wait
from tests.browser.conftest import LIVE_TIMEOUT_MS, Dashboard, api, boot
from tests.cloudfixture import Cloud

pytestmark = pytest.mark.browser


def test_a_guest_without_a_console_says_so(cloud, dashboard, tiny_image):
    server = boot(cloud, cloud.token("demo", project="demo"), tiny_image, name("noconsole"))
    page = dashboard.sign_in("demo")
    page.goto(f"/dashboard/instances/{server['id']}/remote-console")
    assert "Unavailable console type serial" in page.inner_text("#console-error")
    page.goto(f"/dashboard/instances/{server['id']}/remote-console?type=novnc")
    assert page.locator("#console-error").count() == 1
    assert page.goto(f"/dashboard/instances/{server['id']}/remote-console?type=rdp").status == 404
    page.context.close()
    with api(cloud, cloud.token("demo", project="demo"), "compute/v2.1") as nova:
        ok(nova.delete(f"/servers/{server['id']}"), 204)


@pytest.fixture(scope="module")
def qemu_cloud(tmp_path_factory):
    from onestack.guestimage import build

    image_path = build.build()
    cloud = Cloud(tmp_path_factory.mktemp("qemu-dashboard"), settings={"compute": {"driver": "qemu"}}).start()
    with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": cloud.token()}, timeout=120) as http:
        image = upload_image(http, image_path.path)
        ok(http.patch(f"/image/v2/images/{image['id']}", json=[{"op": "replace", "path": "/visibility",
                                                                 "value": "public"}],
                      headers={"Content-Type": "application/openstack-images-v2.1-json-patch"}))
    yield cloud, image["id"]
    cloud.stop()


@pytest.mark.qemu
def test_serial_and_novnc_consoles_of_a_real_guest(qemu_cloud, browser):
    cloud, image_id = qemu_cloud
    demo = cloud.token("demo", project="demo")
    with api(cloud, demo, "network/v2.0") as neutron:
        net = ok(neutron.post("/networks", json={"network": {"name": name("net")}}), 201)["network"]
        ok(neutron.post("/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                     "cidr": "10.66.0.0/24"}}), 201)
    nova = api(cloud, demo, "compute/v2.1")
    nova.headers["OpenStack-API-Version"] = "compute 2.79"
    body = {"server": {"name": name("tiny"), "imageRef": image_id, "flavorRef": "42",
                       "networks": [{"uuid": net["id"]}]}}
    server_id = ok(nova.post("/servers", json=body), 202)["server"]["id"]
    try:
        wait(lambda: ok(nova.get(f"/servers/{server_id}"))["server"]["status"] == "ACTIVE", 180, "ACTIVE")
        page = Dashboard(cloud, browser).sign_in("demo")
        page.goto("/dashboard/instances")
        page.locator(f"tr[data-id='{server_id}'] a[data-action=remote-console]").click()
        page.wait_for_selector("text=Connected: click the console")
        screen = page.locator("pre.terminal")
        screen.click()
        deadline = time.monotonic() + 120
        while "con42sole" not in screen.inner_text():
            assert time.monotonic() < deadline, f"no shell answered: {screen.inner_text()[-300:]!r}"
            page.keyboard.press("Enter")
            page.keyboard.type("echo con$((6*7))sole")
            page.keyboard.press("Enter")
            page.wait_for_timeout(3000)

        page.click("a:has-text('Graphical console (noVNC)')")
        frame = page.frame_locator("iframe.vnc")
        # connected to the guest's screen: noVNC marks its page so, and draws it on a canvas
        frame.locator("html.noVNC_connected").wait_for(state="attached", timeout=LIVE_TIMEOUT_MS * 2)
        assert frame.locator("#noVNC_container canvas").count() == 1
        page.context.close()
    finally:
        nova.delete(f"/servers/{server_id}")
        wait(lambda: nova.get(f"/servers/{server_id}").status_code == 404, 120, "the server to go")
        nova.close()
