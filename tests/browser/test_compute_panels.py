"""Images from a URL, launching an instance and watching it change without a reload, console log,
escaping and tenant walls, in a real Chromium."""

from __future__ import annotations

import base64
import http.server
import threading
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.api.helpers import member_of_new_project, name, ok, wait
from tests.browser.conftest import IMAGE_BYTES, LIVE_TIMEOUT_MS, SEEDED_FLAVOR, api, boot, said

pytestmark = pytest.mark.browser



class SlowFiles(http.server.BaseHTTPRequestHandler):
    """Serves one image, holding its body back a moment so the import is seen while it runs."""

    delay = 2.0

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", str(len(IMAGE_BYTES)))
        self.end_headers()
        time.sleep(self.delay)
        self.wfile.write(IMAGE_BYTES)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def image_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowFiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tiny.raw"
    server.shutdown()


@pytest.fixture(scope="module")
def demo_token(cloud):
    return cloud.token("demo", project="demo")


@pytest.fixture(scope="module")
def demo_network(cloud, demo_token):
    """A network of the demo project (the test cloud makes no DevStack networks)."""
    with api(cloud, demo_token, "network/v2.0") as neutron:
        net = ok(neutron.post("/networks", json={"network": {"name": name("dash-net")}}), 201)["network"]
        ok(neutron.post("/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                     "cidr": "10.42.0.0/24"}}), 201)
    return net


def _public_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def _row(page, row_name: str):
    return page.locator("tbody tr", has=page.locator("td.name", has_text=row_name))


def test_image_from_a_url_then_launch_from_its_row_and_watch_it_change_live(cloud, dashboard, image_url,
                                                                             demo_network, demo_token,
                                                                             public_network):
    # the demo project's network reaches the external one through a router, and a group lets ping in
    with api(cloud, demo_token, "network/v2.0") as neutron:
        router = ok(neutron.post("/routers", json={"router": {
            "name": name("dash-router"), "external_gateway_info": {"network_id": public_network["id"]}}}),
            201)["router"]
        (subnet,) = ok(neutron.get("/subnets", params={"network_id": demo_network["id"]}))["subnets"]
        ok(neutron.put(f"/routers/{router['id']}/add_router_interface", json={"subnet_id": subnet["id"]}))
        group = ok(neutron.post("/security-groups", json={"security_group": {"name": name("ping")}}),
                   201)["security_group"]
        ok(neutron.post("/security-group-rules", json={"security_group_rule": {
            "security_group_id": group["id"], "direction": "ingress", "protocol": "icmp"}}), 201)
        address = ok(neutron.post("/floatingips", json={"floatingip": {
            "floating_network_id": public_network["id"]}}), 201)["floatingip"]["floating_ip_address"]
    page = dashboard.sign_in("demo")
    # a key pair, imported in its panel
    key_name = name("key")
    page.goto("/dashboard/keypairs")
    page.fill("input[name=name]", key_name)
    page.fill("textarea[name=public_key]", _public_key())
    page.click("button:has-text('Create key pair')")
    page.wait_for_selector(f"text=Key pair {key_name} imported.")

    # Images > Create image from a URL: the row goes importing, then active, while the page stays
    image_name = name("img")
    page.goto("/dashboard/images")
    page.locator("#create-image").evaluate("details => { details.open = true; }")
    page.fill("#create-image input[name=name]", image_name)
    page.fill("#create-image input[name=url]", image_url)
    page.select_option("#create-image select[name=disk_format]", "raw")
    page.click("button:has-text('Create image')")
    page.wait_for_selector(f"text=Importing {image_name}")
    page.evaluate("window.stayedOnPage = true")
    status = _row(page, image_name).locator("[data-field=status]")
    assert status.inner_text() in ("queued", "importing")
    _row(page, image_name).locator("[data-field=status]:has-text('active')").wait_for(timeout=LIVE_TIMEOUT_MS)
    assert page.evaluate("window.stayedOnPage") is True

    # Launch from the image's row: the form comes with the image chosen
    _row(page, image_name).locator("a:has-text('Launch')").click()
    page.wait_for_selector("#launch")
    assert page.locator("select[name=image] option:checked").inner_text().startswith(image_name)
    server_name = name("vm")
    page.fill("input[name=name]", server_name)
    page.select_option("select[name=network]", demo_network["id"])
    page.select_option("select[name=key_name]", key_name)
    page.select_option("select[name=security_group]", [group["name"]])
    page.select_option("#launch select[name=flavor]", SEEDED_FLAVOR)
    page.click("#launch button:has-text('Launch')")
    page.wait_for_selector(f"text=Launching {server_name}.")
    page.evaluate("window.stayedOnPage = true")
    row = _row(page, server_name)
    row.locator("[data-field=status]:has-text('ACTIVE')").wait_for(timeout=LIVE_TIMEOUT_MS)
    assert row.locator("[data-field=power]").inner_text() == "Running"
    assert "10.42.0." in row.inner_text()

    # a change made elsewhere (the API) shows in the open page without a reload
    with api(cloud, demo_token, "compute/v2.1") as nova:
        server_id = row.get_attribute("data-id")
        launched = ok(nova.get(f"/servers/{server_id}"))["server"]
        assert launched["key_name"] == key_name
        assert [g["name"] for g in launched["security_groups"]] == [group["name"]]

    # a floating IP associated from the instance's row, seen in the row; the topology picture shows the
    # instance on its network, which the router joins to the external one
    row.locator("summary:has-text('More')").click()
    row.locator("[data-action=floating-ip]").click()
    page.select_option("#associate-fip select[name=floating_ip]", label=address)
    page.click("#associate-fip button:has-text('Associate')")
    page.wait_for_selector(f"text=Floating IP {address} associated.")
    page.goto("/dashboard/instances")
    page.locator(f"tr[data-id='{server_id}'] td:has-text('{address}')").wait_for(timeout=LIVE_TIMEOUT_MS)
    page.goto("/dashboard/topology")
    device = page.locator(f"#topology a.device[data-id='{server_id}'][data-status=ACTIVE]")
    device.wait_for(timeout=LIVE_TIMEOUT_MS)
    assert device.get_attribute("data-networks") == demo_network["id"]
    joined = page.locator(f"#topology a.device[data-kind=router][data-id='{router['id']}']")
    assert set(joined.get_attribute("data-networks").split()) == {public_network["id"], demo_network["id"]}
    page.goto("/dashboard/instances")
    page.evaluate("window.stayedOnPage = true")
    row = _row(page, server_name)
    with api(cloud, demo_token, "compute/v2.1") as nova:
        ok(nova.post(f"/servers/{server_id}/action", json={"os-stop": None}), 202)
    row.locator("[data-field=status]:has-text('SHUTOFF')").wait_for(timeout=LIVE_TIMEOUT_MS)
    assert row.locator("[data-field=power]").inner_text() == "Shut down"
    assert page.evaluate("window.stayedOnPage") is True

    # row actions: start it again from its menu
    row.locator("summary:has-text('More')").click()
    row.locator("button[data-action=start]").click()
    page.wait_for_selector("text=Start: requested.")
    _row(page, server_name).locator("[data-field=status]:has-text('ACTIVE')").wait_for(timeout=LIVE_TIMEOUT_MS)

    # the console log, in the page
    _row(page, server_name).locator("a:has-text('Console log')").click()
    assert f"up hostname={server_name}" in page.inner_text("pre.console")

    # delete, confirmed in the browser's dialog
    page.goto("/dashboard/instances")
    page.once("dialog", lambda dialog: dialog.accept())
    _row(page, server_name).locator("summary:has-text('More')").click()
    _row(page, server_name).locator("button[data-action=delete]").click()
    page.wait_for_selector("text=Deleting the instance.")
    _row(page, server_name).wait_for(state="detached", timeout=LIVE_TIMEOUT_MS)
    page.context.close()
    with api(cloud, demo_token, "network/v2.0") as neutron:  # the external network's addresses are shared
        (fip,) = ok(neutron.get("/floatingips", params={"floating_ip_address": address}))["floatingips"]
        ok(neutron.delete(f"/floatingips/{fip['id']}"), 204)


def test_an_image_url_the_cloud_refuses_leaves_no_image(cloud, dashboard):
    page = dashboard.sign_in("demo")
    page.goto("/dashboard/images")
    page.locator("#create-image").evaluate("details => { details.open = true; }")
    image_name = name("refused")
    page.fill("#create-image input[name=name]", image_name)
    page.fill("#create-image input[name=url]", "http://169.254.169.254/latest/meta-data/")
    page.click("button:has-text('Create image')")
    assert "filtering" in page.inner_text(".flash.error")
    assert _row(page, image_name).count() == 0
    page.context.close()


def test_markup_in_names_renders_as_text(cloud, dashboard, demo_token, tiny_image):
    markup = "<script>alert(1)</script>"
    server = boot(cloud, demo_token, tiny_image, markup)
    page = dashboard.sign_in("demo")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/dashboard/instances")
    cell = page.locator(f"tr[data-id='{server['id']}'] td.name")
    assert cell.inner_text().strip().startswith(markup)
    page.wait_for_timeout(3500)  # one live refresh of the table goes by too
    assert page.locator(f"tr[data-id='{server['id']}'] td.name").inner_text().strip().startswith(markup)
    assert dialogs == []
    assert page.locator("td.name script").count() == 0
    with api(cloud, demo_token, "compute/v2.1") as nova:
        nova.delete(f"/servers/{server['id']}")
    page.context.close()


def test_demo_never_sees_another_projects_instances(cloud, admin, dashboard, tiny_image):
    _, _, other_token = member_of_new_project(cloud, admin)
    hidden = boot(cloud, other_token, tiny_image, name("hidden"))
    page = dashboard.sign_in("demo")
    page.goto("/dashboard/instances")
    assert page.locator(f"tr[data-id='{hidden['id']}']").count() == 0
    # nor may it act on it, even with a good CSRF token: the API answers for the tenant wall
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    resp = page.request.post(f"/dashboard/instances/{hidden['id']}/delete", form={"csrf_token": token})
    assert "could not be found" in resp.text()
    page.goto(f"/dashboard/instances/{hidden['id']}/console")
    assert "could not be found" in page.inner_text(".flash.error")
    with api(cloud, other_token, "compute/v2.1") as nova:
        assert nova.get(f"/servers/{hidden['id']}").status_code == 200
    page.context.close()


def test_an_image_from_a_file_with_its_progress(cloud, dashboard, demo_token, tmp_path):
    (tmp_path / "disk.raw").write_bytes(IMAGE_BYTES * 16)  # 1 MiB
    page = dashboard.sign_in("demo")
    page.goto("/dashboard/images")
    page.locator("#upload-image").evaluate("details => { details.open = true; }")
    page.set_input_files("#upload-image input[name=file]", str(tmp_path / "disk.raw"))
    image_name = name("uploaded")
    page.fill("#upload-image input[name=name]", image_name)
    page.select_option("#upload-image select[name=disk_format]", "raw")
    sent = []
    page.on("request", lambda r: sent.append(r.headers) if r.url.endswith("/images/upload") else None)
    page.click("#upload-image button:has-text('Upload image')")
    page.wait_for_selector(f"text=Image {image_name} uploaded.")
    assert [headers.get("x-dashboard-keep-flash") for headers in sent] == ["1"]  # sent by the progress script
    _row(page, image_name).locator("[data-field=status]:has-text('active')").wait_for(timeout=LIVE_TIMEOUT_MS)
    with api(cloud, demo_token, "image/v2") as glance:
        image = ok(glance.get("/images", params={"name": image_name}))["images"][0]
        assert image["size"] == len(IMAGE_BYTES) * 16
        assert glance.get(f"/images/{image['id']}/file").content == IMAGE_BYTES * 16
        ok(glance.delete(f"/images/{image['id']}"), 204)
    page.context.close()


def test_snapshot_resize_shelve_and_rebuild_from_the_row(cloud, dashboard, demo_token, tiny_image):
    server_name = name("ops")
    server = boot(cloud, demo_token, tiny_image, server_name)
    page = dashboard.sign_in("demo")
    page.goto("/dashboard/instances")
    row = page.locator(f"tr[data-id='{server['id']}']")

    def status(value: str):
        row.locator(f"[data-field=status]:text-is('{value}')").wait_for(timeout=LIVE_TIMEOUT_MS)

    def menu(action: str):
        row.locator("summary:has-text('More')").click()
        row.locator(f"[data-action={action}]").click()

    status("ACTIVE")
    menu("snapshot")
    snapshot = name("snap")
    page.fill("#instance-form input[name=name]", snapshot)
    page.click("#instance-form button.primary")
    said(page, f"Snapshot {snapshot} requested")
    with api(cloud, demo_token, "image/v2") as glance:
        assert ok(glance.get("/images", params={"name": snapshot}))["images"]
    with api(cloud, demo_token, "compute/v2.1") as nova:
        # ACTIVE shows while the snapshot still uploads; Nova refuses a resize until its task is done
        wait(lambda: ok(nova.get(f"/servers/{server['id']}"))["server"]["OS-EXT-STS:task_state"] is None,
             60, "the snapshot's task to finish")
    # the launch form offers it as an instance snapshot, apart from the images
    page.goto("/dashboard/instances/launch")
    offered = page.locator("#launch select[name=image] optgroup[label='Instance snapshots'] option", has_text=snapshot)
    assert offered.count() == 1
    assert page.locator("#launch select[name=image] optgroup[label='Images'] option", has_text=snapshot).count() == 0
    page.goto("/dashboard/instances")

    status("ACTIVE")
    menu("resize")
    # the seeded m1.micro: other tests' flavors come and go in this shared cloud
    flavor = page.locator("#instance-form select[name=flavor] option[value='84']")
    assert flavor.get_attribute("disabled") is None, flavor.inner_text()
    new_flavor = flavor.inner_text().split(" — ")[0]
    page.select_option("#instance-form select[name=flavor]", "84")
    page.click("#instance-form button.primary")
    said(page, "Resizing")
    status("VERIFY_RESIZE")
    menu("confirm-resize")
    said(page, "Confirm resize: requested.")
    status("ACTIVE")
    assert new_flavor in row.inner_text()

    menu("shelve")
    row.locator("[data-field=status]:text-matches('^SHELVED')").wait_for(timeout=LIVE_TIMEOUT_MS)
    menu("unshelve")
    status("ACTIVE")

    menu("rebuild")
    page.select_option("#instance-form select[name=image]", tiny_image)
    page.click("#instance-form button.primary")
    said(page, "Rebuilding the instance.")
    status("ACTIVE")
    with api(cloud, demo_token, "compute/v2.1") as nova:
        ok(nova.delete(f"/servers/{server['id']}"), 204)
    with api(cloud, demo_token, "image/v2") as glance:
        for image in ok(glance.get("/images", params={"name": snapshot}))["images"]:
            glance.delete(f"/images/{image['id']}")
    page.context.close()


def test_edit_an_image_and_share_it_with_another_project(cloud, admin, dashboard, demo_token):
    with api(cloud, demo_token, "image/v2") as glance:
        image = ok(glance.post("/images", json={"name": name("mine"), "disk_format": "raw",
                                                "container_format": "bare"}), 201)
    other_project, _, other_token = member_of_new_project(cloud, admin)
    page = dashboard.sign_in("demo")
    page.goto("/dashboard/images")
    page.click(f"tr[data-id='{image['id']}'] td.name a")
    renamed = name("renamed")
    page.fill("#edit-image input[name=name]", renamed)
    page.select_option("#edit-image select[name=visibility]", "shared")
    page.fill("#edit-image input[name=min_ram]", "128")
    page.click("#edit-image button:has-text('Save')")
    page.wait_for_selector("text=Image saved.")
    page.fill("#share-image input[name=member]", other_project["id"])
    page.click("#share-image button:has-text('Share')")
    page.wait_for_selector(f"text=Shared with project {other_project['id']}")
    assert "pending" in page.inner_text("#members")
    with api(cloud, other_token, "image/v2") as theirs:
        shown = ok(theirs.get(f"/images/{image['id']}"))
        assert (shown["name"], shown["min_ram"], shown["visibility"]) == (renamed, 128, "shared")
    page.click("button[data-action=unshare]")
    page.wait_for_selector("text=No longer shared with that project.")
    with api(cloud, other_token, "image/v2") as theirs:
        assert theirs.get(f"/images/{image['id']}").status_code == 404
    # another project's image page offers no edit, and a forged edit gets Glance's answer
    with api(cloud, other_token, "image/v2") as theirs:
        hidden = ok(theirs.post("/images", json={"name": name("theirs"), "disk_format": "raw",
                                                 "container_format": "bare"}), 201)
    page.goto(f"/dashboard/images/{hidden['id']}")
    assert page.locator("h1").inner_text() == "Error"
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    resp = page.request.post(f"/dashboard/images/{hidden['id']}", form={"csrf_token": token, "name": "x"})
    assert "No image found" in resp.text() or "not found" in resp.text().lower()
    with api(cloud, demo_token, "image/v2") as glance:
        ok(glance.delete(f"/images/{image['id']}"), 204)
    page.context.close()


def test_launch_with_user_data_from_a_file_metadata_and_a_server_group(cloud, dashboard, demo_token, tiny_image,
                                                                       tmp_path):
    with api(cloud, demo_token, "compute/v2.1") as nova:
        group = ok(nova.post("/os-server-groups", json={"server_group": {"name": name("grp"),
                                                                         "policies": ["anti-affinity"]}}))
    group = group["server_group"]
    (tmp_path / "init.yaml").write_bytes(b"#cloud-config\nruncmd: [echo from-a-file]\n")
    page = dashboard.sign_in("demo")
    page.goto(f"/dashboard/instances/launch?image={tiny_image}")
    server_name = name("wizard")
    page.fill("#launch input[name=name]", server_name)
    page.select_option("#launch select[name=network]", "")
    page.select_option("#launch select[name=server_group]", group["id"])
    page.set_input_files("#launch input[name=user_data_file]", str(tmp_path / "init.yaml"))
    page.fill("#launch textarea[name=metadata]", "role=web\nowner = <b>me</b>")
    page.select_option("#launch select[name=flavor]", SEEDED_FLAVOR)
    page.click("#launch button:has-text('Launch')")
    page.wait_for_selector(f"text=Launching {server_name}.")
    row = page.locator("tbody tr", has=page.locator("td.name", has_text=server_name))
    row.locator("[data-field=status]:has-text('ACTIVE')").wait_for(timeout=LIVE_TIMEOUT_MS)
    server_id = row.get_attribute("data-id")
    with api(cloud, demo_token, "compute/v2.1") as nova:
        nova.headers["OpenStack-API-Version"] = "compute 2.79"
        shown = ok(nova.get(f"/servers/{server_id}"))["server"]
        assert shown["metadata"] == {"role": "web", "owner": "<b>me</b>"}
        assert server_id in ok(nova.get(f"/os-server-groups/{group['id']}"))["server_group"]["members"]
    with api(cloud, cloud.token(), "compute/v2.1") as nova:  # user data shows to the admin only
        nova.headers["OpenStack-API-Version"] = "compute 2.79"
        shown = ok(nova.get(f"/servers/{server_id}"))["server"]
        assert base64.b64decode(shown["OS-EXT-SRV-ATTR:user_data"]) == (tmp_path / "init.yaml").read_bytes()
    with api(cloud, demo_token, "compute/v2.1") as nova:
        ok(nova.delete(f"/servers/{server_id}"), 204)
    # a malformed metadata line: the dashboard's own message, nothing launched
    page.goto(f"/dashboard/instances/launch?image={tiny_image}")
    page.fill("#launch input[name=name]", name("bad"))
    page.select_option("#launch select[name=network]", "")
    page.fill("#launch textarea[name=metadata]", "no equals sign")
    page.select_option("#launch select[name=flavor]", SEEDED_FLAVOR)
    page.click("#launch button:has-text('Launch')")
    assert "key=value" in page.inner_text(".flash.error")
    page.context.close()


def test_launch_on_a_port_with_a_key_pair_made_in_place_then_attach_and_detach_interfaces(
        cloud, dashboard, demo_token, demo_network, tiny_image):
    with api(cloud, demo_token, "network/v2.0") as neutron:
        port = ok(neutron.post("/ports", json={"port": {"network_id": demo_network["id"], "name": name("port")}}),
                  201)["port"]
    page = dashboard.sign_in("demo")
    page.goto(f"/dashboard/instances/launch?image={tiny_image}")
    server_name, key_name = name("onport"), name("newkey")
    page.fill("#launch input[name=name]", server_name)
    page.select_option("#launch select[name=network]", "")
    page.select_option("#launch select[name=port]", port["id"])
    page.click("#new-keypair summary")
    page.fill("#launch input[name=new_key_name]", key_name)
    page.select_option("#launch select[name=flavor]", SEEDED_FLAVOR)
    page.click("#launch button:has-text('Launch')")
    page.wait_for_selector(f"text=Launching {server_name}.")
    assert f"Key pair {key_name} created" in page.inner_text("main")
    with page.expect_download() as download:
        page.click(f"a:has-text('Download {key_name}.pem')")
    assert download.value.suggested_filename == f"{key_name}.pem"
    assert open(download.value.path()).read().startswith("-----BEGIN")
    # offered once: the server keeps no copy after the download
    assert page.request.get(f"/dashboard/keypairs/{key_name}/private-key").status == 404

    row = _row(page, server_name)
    row.locator("[data-field=status]:has-text('ACTIVE')").wait_for(timeout=LIVE_TIMEOUT_MS)
    server_id = row.get_attribute("data-id")
    with api(cloud, demo_token, "compute/v2.1") as nova:
        nova.headers["OpenStack-API-Version"] = "compute 2.79"
        assert ok(nova.get(f"/servers/{server_id}"))["server"]["key_name"] == key_name
        attached = ok(nova.get(f"/servers/{server_id}/os-interface"))["interfaceAttachments"]
        assert [a["port_id"] for a in attached] == [port["id"]]

        row.locator("summary:has-text('More')").click()
        row.locator("a[data-action=interfaces]").click()
        page.wait_for_selector("h1:has-text('Interfaces')")
        assert page.locator("#interfaces tbody tr").count() == 1
        page.select_option("#attach-network select[name=network]", demo_network["id"])
        page.click("button:has-text('Attach to network')")
        said(page, "Interface attached: 10.42.0.")
        assert page.locator("#interfaces tbody tr[data-id]").count() == 2
        page.once("dialog", lambda d: d.accept())
        page.locator(f"#interfaces tr[data-id='{port['id']}'] button:has-text('Detach')").click()
        page.wait_for_selector("text=Detaching the interface.")
        deadline = time.monotonic() + 15
        while port["id"] in [a["port_id"] for a in ok(nova.get(f"/servers/{server_id}/os-interface"))["interfaceAttachments"]]:
            assert time.monotonic() < deadline, "the interface was not detached"
            time.sleep(0.5)
        # the port is free again: the wizard and the attach form offer it
        page.reload()
        assert page.locator(f"#attach-port option[value='{port['id']}']").count() == 1
        ok(nova.delete(f"/servers/{server_id}"), 204)
        ok(nova.delete(f"/os-keypairs/{key_name}"), 204)
    page.context.close()


def test_row_actions_stop_reboot_pause_suspend_lock_and_revert_a_resize(cloud, dashboard, demo_token, tiny_image):
    """Every lifecycle action of an instance's row menu, each seen in the live row, then in Nova's own record."""
    server = boot(cloud, demo_token, tiny_image, name("life"))
    page = dashboard.sign_in("demo")
    page.goto("/dashboard/instances")
    row = page.locator(f"tr[data-id='{server['id']}']")

    def status(value: str):
        row.locator(f"[data-field=status]:text-is('{value}')").wait_for(timeout=LIVE_TIMEOUT_MS)

    def menu(action: str, message: str | None = None):
        row.locator("summary:has-text('More')").click()
        row.locator(f"[data-action={action}]").click()
        if message:
            said(page, message)

    status("ACTIVE")
    for action, label, then in (("stop", "Stop", "SHUTOFF"), ("start", "Start", "ACTIVE"),
                                ("reboot", "Reboot", "ACTIVE"), ("hard-reboot", "Hard reboot", "ACTIVE"),
                                ("pause", "Pause", "PAUSED"), ("unpause", "Unpause", "ACTIVE"),
                                ("suspend", "Suspend", "SUSPENDED"), ("resume", "Resume", "ACTIVE")):
        menu(action, f"{label}: requested.")
        status(then)
        assert row.locator("[data-field=task]").inner_text() in ("None", "")  # settled, not mid-action
    assert row.locator("[data-field=power]").inner_text() == "Running"

    # locked: the row says so and its menu offers only what Nova still allows the owner who locked it;
    # a stop posted anyway gets Nova's refusal
    menu("lock", "Lock: requested.")
    row.locator("td.name [title=locked]").wait_for(timeout=LIVE_TIMEOUT_MS)
    row.locator("summary:has-text('More')").click()
    offered = row.locator(".menu-items [data-action]")
    assert offered.evaluate_all("items => items.map(i => i.dataset.action)") == ["unlock", "floating-ip"]
    row.locator("summary:has-text('More')").click()
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = page.request.post(f"/dashboard/instances/{server['id']}/stop", form={"csrf_token": token})
    assert f"Instance {server['id']} is locked" in refused.text()
    status("ACTIVE")
    menu("unlock", "Unlock: requested.")
    row.locator("td.name [title=locked]").wait_for(state="detached", timeout=LIVE_TIMEOUT_MS)

    # a resize reverted from the row goes back to the flavor it had
    before = row.locator("td").nth(3).inner_text()
    menu("resize")
    page.select_option("#instance-form select[name=flavor]", "84")  # the seeded m1.micro, from m1.nano
    page.click("#instance-form button.primary")
    said(page, "Resizing")
    status("VERIFY_RESIZE")
    menu("revert-resize", "Revert resize: requested.")
    status("ACTIVE")
    assert row.locator("td").nth(3).inner_text() == before == "m1.nano"

    with api(cloud, demo_token, "compute/v2.1") as nova:
        nova.headers["OpenStack-API-Version"] = "compute 2.79"
        shown = ok(nova.get(f"/servers/{server['id']}"))["server"]
        assert (shown["status"], shown["locked"], shown["flavor"]["original_name"]) == ("ACTIVE", False, "m1.nano")
        done = [a["action"] for a in ok(nova.get(f"/servers/{server['id']}/os-instance-actions"))["instanceActions"]]
        for action in ("stop", "start", "reboot", "pause", "unpause", "suspend", "resume", "lock", "unlock",
                       "resize", "revertResize"):
            assert action in done, (action, done)
        ok(nova.delete(f"/servers/{server['id']}"), 204)
    page.context.close()


def _usage(page, label: str) -> str:
    return page.locator(".usage-label", has_text=label).locator("span").inner_text()


def test_quota_on_the_overview_and_a_launch_of_two_that_greys_what_no_longer_fits(cloud, admin, dashboard,
                                                                                   tiny_image):
    """A project of its own (so no other test's instances count): 2 instances and 3 vCPUs allowed."""
    project, user, token = member_of_new_project(cloud, admin)
    with api(cloud, cloud.token(), "compute/v2.1") as nova:
        ok(nova.put(f"/os-quota-sets/{project['id']}", json={"quota_set": {"instances": 2, "cores": 3}}))
    page = dashboard.sign_in(user["name"], "secret-pass-1")
    assert page.locator("select[name=project_id] option:checked").inner_text() == project["name"]
    assert (_usage(page, "Instances"), _usage(page, "vCPUs")) == ("0 of 2", "0 of 3")

    page.goto(f"/dashboard/instances/launch?image={tiny_image}")
    flavors = page.locator("#launch select[name=flavor]")
    medium, nano = flavors.locator("option[value='3']"), flavors.locator(f"option[value='{SEEDED_FLAVOR}']")
    assert medium.get_attribute("disabled") is None  # one m1.medium takes 2 of the 3 vCPUs
    page.fill("#launch input[name=count]", "2")  # two take 4: greyed, while two m1.nano still fit
    assert medium.get_attribute("disabled") is not None and medium.inner_text().endswith("(over quota)")
    assert nano.get_attribute("disabled") is None
    page.fill("#launch input[name=count]", "3")  # one instance too many: nothing fits
    assert flavors.locator("option:not([disabled])").count() == 0
    page.fill("#launch input[name=count]", "2")

    # two at once, on a config drive, with a key pair imported in place
    server_name, key_name = name("pair"), name("imported")
    page.fill("#launch input[name=name]", server_name)
    page.select_option("#launch select[name=network]", "")
    page.select_option("#launch select[name=flavor]", SEEDED_FLAVOR)
    page.check("#launch input[name=config_drive]")
    page.click("#new-keypair summary")
    page.fill("#launch input[name=new_key_name]", key_name)
    page.fill("#launch textarea[name=new_public_key]", _public_key())
    page.click("#launch button:has-text('Launch')")
    page.wait_for_selector(f"text=Launching {server_name}.")
    assert f"Key pair {key_name} imported." in page.inner_text("main")
    for member in (f"{server_name}-1", f"{server_name}-2"):
        _row(page, member).locator("[data-field=status]:has-text('ACTIVE')").wait_for(timeout=LIVE_TIMEOUT_MS)
    with api(cloud, token, "compute/v2.1") as nova:
        servers = ok(nova.get("/servers/detail"))["servers"]
        assert sorted(s["name"] for s in servers) == [f"{server_name}-1", f"{server_name}-2"]
        assert {(s["key_name"], s["config_drive"], s["flavor"]["id"]) for s in servers} == {
            (key_name, "True", SEEDED_FLAVOR)}

        # the overview counts them, and the launch form now offers nothing
        page.goto("/dashboard/")
        assert (_usage(page, "Instances"), _usage(page, "vCPUs")) == ("2 of 2", "2 of 3")
        assert page.locator("svg.bar[aria-label='Instances 100% used'] rect.fill.full").count() == 1
        page.goto("/dashboard/instances/launch")
        assert page.locator("#launch select[name=flavor] option:not([disabled])").count() == 0
        for server in servers:
            ok(nova.delete(f"/servers/{server['id']}"), 204)
    page.context.close()


def test_a_protected_image_cannot_be_deleted_until_unprotected(cloud, dashboard, demo_token):
    with api(cloud, demo_token, "image/v2") as glance:
        image = ok(glance.post("/images", json={"name": name("keep"), "disk_format": "raw",
                                                "container_format": "bare"}), 201)
    page = dashboard.sign_in("demo")
    page.goto(f"/dashboard/images/{image['id']}")
    page.check("#edit-image input[name=protected]")
    page.click("#edit-image button:has-text('Save')")
    said(page, "Image saved.")
    page.goto("/dashboard/images")
    row = page.locator(f"tr[data-id='{image['id']}']")
    assert row.locator("td").nth(5).inner_text() == "Yes"
    assert row.locator("button:has-text('Delete')").count() == 0  # not offered
    # and a delete posted anyway gets Glance's refusal on the page; the image stays
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = page.request.post(f"/dashboard/images/{image['id']}/delete", form={"csrf_token": token})
    assert f"Image {image['id']} is protected" in refused.text()  # the page it leads to says why
    with api(cloud, demo_token, "image/v2") as glance:
        assert ok(glance.get(f"/images/{image['id']}"))["protected"] is True

    page.goto(f"/dashboard/images/{image['id']}")
    page.uncheck("#edit-image input[name=protected]")
    page.click("#edit-image button:has-text('Save')")
    said(page, "Image saved.")
    page.goto("/dashboard/images")
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button:has-text('Delete')").click()
    said(page, "Image deleted.")
    assert row.count() == 0
    with api(cloud, demo_token, "image/v2") as glance:
        assert glance.get(f"/images/{image['id']}").status_code == 404
    page.context.close()


def test_an_instances_own_page_from_its_row_and_the_topology_live_with_its_action_log(
        cloud, dashboard, demo_token, demo_network, tiny_image):
    server_name = name("detail")
    server = boot(cloud, demo_token, tiny_image, server_name, [{"uuid": demo_network["id"]}])
    with api(cloud, demo_token, "compute/v2.1") as nova:
        ok(nova.post(f"/servers/{server['id']}/metadata", json={"metadata": {"note": "<b>bold</b>"}}))
    with api(cloud, demo_token, "image/v2") as glance:
        image_name = ok(glance.get(f"/images/{tiny_image}"))["name"]
    page = dashboard.sign_in("demo")
    page.goto("/dashboard/instances")
    row = page.locator(f"tr[data-id='{server['id']}']")
    row.locator("[data-field=status]:text-is('ACTIVE')").wait_for(timeout=LIVE_TIMEOUT_MS)
    row.locator("td.name a").click()
    page.wait_for_selector(f"h1:has-text('{server_name}')")
    assert page.url.endswith(f"/dashboard/instances/{server['id']}")
    facts = page.locator("#instance-facts")
    assert facts.locator("[data-field=flavor]").inner_text() == "m1.nano — 1 vCPU, 128 MB RAM, 1 GB disk"
    assert facts.locator("[data-field=image]").inner_text() == image_name
    assert facts.locator("[data-field=power]").inner_text() == "Running"
    (address,) = page.locator("#instance-addresses td.addr").all_inner_texts()
    assert address.startswith("10.42.0.") and page.inner_text("#instance-addresses td.type") == "fixed"
    assert page.inner_text("#instance-metadata td.value") == "<b>bold</b>"  # text, not markup
    assert page.locator("#instance-metadata b").count() == 0
    assert page.locator("#instance-action-log td.action").all_inner_texts() == ["create"]

    # an action from the page's toolbar keeps the page; the status and the action log follow without a reload
    page.click("#instance-actions-bar button[data-action=stop]")
    said(page, "Stop: requested.")
    assert page.url.endswith(f"/dashboard/instances/{server['id']}")
    page.evaluate("window.stayedOnPage = true")
    page.locator("#instance-actions-bar [data-field=status]:text-is('SHUTOFF')").wait_for(timeout=LIVE_TIMEOUT_MS)
    with api(cloud, demo_token, "compute/v2.1") as nova:
        ok(nova.post(f"/servers/{server['id']}/action", json={"os-start": None}), 202)
    page.locator("#instance-actions-bar [data-field=status]:text-is('ACTIVE')").wait_for(timeout=LIVE_TIMEOUT_MS)
    page.locator("#instance-action-log td.action:text-is('start')").wait_for(timeout=LIVE_TIMEOUT_MS)
    assert page.locator("#instance-action-log td.action").all_inner_texts() == ["start", "stop", "create"]
    assert page.evaluate("window.stayedOnPage") is True

    # the topology picture's box for it leads here too
    page.goto("/dashboard/topology")
    page.locator(f"#topology a.device[data-id='{server['id']}']").click()
    page.wait_for_selector(f"h1:has-text('{server_name}')")
    assert page.url.endswith(f"/dashboard/instances/{server['id']}")

    # deleted from its page, back to the list
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#instance-actions-bar button[data-action=delete]")
    said(page, "Deleting the instance.")
    assert page.url.endswith("/dashboard/instances")
    with api(cloud, demo_token, "compute/v2.1") as nova:
        wait(lambda: nova.get(f"/servers/{server['id']}").status_code == 404, 30, "the instance to go")
    page.goto(f"/dashboard/instances/{server['id']}")
    assert "could not be found" in page.inner_text(".flash.error")  # Nova's answer, on the error page
    page.context.close()


def test_an_image_shared_with_a_project_is_accepted_or_rejected_there(cloud, admin, dashboard, demo_token):
    other_project, other_user, other_token = member_of_new_project(cloud, admin)
    with api(cloud, demo_token, "image/v2") as glance:
        image = ok(glance.post("/images", json={"name": name("offered"), "disk_format": "raw",
                                                "container_format": "bare", "visibility": "shared"}), 201)
        ok(glance.put(f"/images/{image['id']}/file", content=IMAGE_BYTES,
                      headers={"Content-Type": "application/octet-stream"}), 204)
        ok(glance.post(f"/images/{image['id']}/members", json={"member": other_project["id"]}))
    page = dashboard.sign_in(other_user["name"], "secret-pass-1")
    page.goto("/dashboard/images")
    offer = page.locator(f"#image-offers tr[data-id='{image['id']}']")
    assert offer.locator("[data-field=member-status]").inner_text() == "pending"
    assert page.locator(f"#images tr[data-id='{image['id']}']").count() == 0  # not the project's until accepted

    offer.locator("button[data-action=rejected]").click()
    said(page, "Image rejected.")
    assert offer.locator("[data-field=member-status]").inner_text() == "rejected"
    assert offer.locator("button[data-action=rejected]").count() == 0  # a change of mind is still offered
    offer.locator("button[data-action=accepted]").click()
    said(page, "Image accepted")
    assert offer.count() == 0
    listed = page.locator(f"#images tr[data-id='{image['id']}']")
    listed.locator("a:has-text('Launch')").wait_for()
    with api(cloud, other_token, "image/v2") as theirs:
        assert ok(theirs.get(f"/images/{image['id']}/members/{other_project['id']}"))["status"] == "accepted"
    # an answer that is neither is refused by the dashboard before Glance is asked
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    answered = page.request.post(f"/dashboard/images/{image['id']}/answer", form={"csrf_token": token,
                                                                                  "status": "bogus"})
    assert "Accept or reject" in answered.text()
    with api(cloud, demo_token, "image/v2") as glance:
        ok(glance.delete(f"/images/{image['id']}"), 204)
    page.context.close()


def test_launch_on_two_networks_at_once(cloud, dashboard, demo_token, demo_network, tiny_image):
    with api(cloud, demo_token, "network/v2.0") as neutron:
        second = ok(neutron.post("/networks", json={"network": {"name": name("second")}}), 201)["network"]
        ok(neutron.post("/subnets", json={"subnet": {"network_id": second["id"], "ip_version": 4,
                                                     "cidr": "10.43.0.0/24"}}), 201)
    page = dashboard.sign_in("demo")
    page.goto(f"/dashboard/instances/launch?image={tiny_image}&network={second['id']}")
    networks = page.locator("#launch select[name=network]")
    assert networks.evaluate("select => [...select.selectedOptions].map(o => o.value)") == [second["id"]]
    server_name = name("twonics")
    page.fill("#launch input[name=name]", server_name)
    page.select_option("#launch select[name=network]", [demo_network["id"], second["id"]])
    page.select_option("#launch select[name=flavor]", SEEDED_FLAVOR)
    page.click("#launch button:has-text('Launch')")
    page.wait_for_selector(f"text=Launching {server_name}.")
    row = _row(page, server_name)
    row.locator("[data-field=status]:has-text('ACTIVE')").wait_for(timeout=LIVE_TIMEOUT_MS)
    assert "10.42.0." in row.inner_text() and "10.43.0." in row.inner_text()
    with api(cloud, demo_token, "compute/v2.1") as nova:
        server_id = row.get_attribute("data-id")
        attached = ok(nova.get(f"/servers/{server_id}/os-interface"))["interfaceAttachments"]
        assert sorted(a["net_id"] for a in attached) == sorted([demo_network["id"], second["id"]])
        ok(nova.delete(f"/servers/{server_id}"), 204)
        wait(lambda: nova.get(f"/servers/{server_id}").status_code == 404, 30, "the instance to go")
    with api(cloud, demo_token, "network/v2.0") as neutron:
        ok(neutron.delete(f"/networks/{second['id']}"), 204)
    page.context.close()
