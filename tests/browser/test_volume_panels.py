"""Volumes, snapshots and backups in a real Chromium: create, extend, attach to an instance and detach,
snapshot and a volume from it, back up and restore, delete; status seen changing without a reload;
escaping, CSRF and the tenant wall."""

from __future__ import annotations

import pytest

from tests.api.helpers import member_of_new_project, name, ok, wait
from tests.browser.conftest import LIVE_TIMEOUT_MS, SEEDED_FLAVOR, api, boot, said

pytestmark = pytest.mark.browser


def _row(page, row_name: str):
    return page.locator("tbody tr", has=page.locator("td.name", has_text=row_name))


def _act(row, action: str):
    row.locator("summary:has-text('Actions')").click()
    return row.locator(f"form:has(button[data-action={action}])")


def _status(row, status: str):
    row.locator(f"[data-field=status]:text-is('{status}')").wait_for(timeout=LIVE_TIMEOUT_MS)


@pytest.fixture(scope="module")
def demo_token(cloud):
    return cloud.token("demo", project="demo")


def test_a_volume_through_its_life(cloud, dashboard, demo_token, tiny_image):
    server_name = name("vm")
    server = boot(cloud, demo_token, tiny_image, server_name)
    page = dashboard.sign_in("demo")
    page.goto("/dashboard/volumes")
    page.locator("#create-volume").evaluate("details => { details.open = true; }")
    vol = name("vol")
    page.fill("#create-volume input[name=name]", vol)
    page.fill("#create-volume input[name=size]", "1")
    page.click("button:has-text('Create volume')")
    page.wait_for_selector(f"text=Creating volume {vol}.")
    page.evaluate("window.stayedOnPage = true")
    _status(_row(page, vol), "available")

    # extend it, from its row's menu
    form = _act(_row(page, vol), "extend")
    form.locator("input[name=new_size]").fill("2")
    form.locator("button").click()
    page.wait_for_selector("text=Extending the volume to 2 GB.")
    _row(page, vol).locator("td:text-is('2 GB')").wait_for(timeout=LIVE_TIMEOUT_MS)
    _status(_row(page, vol), "available")

    # attach to the instance (through compute), and watch it become in-use without a reload
    with api(cloud, demo_token, "compute/v2.1") as nova:
        wait(lambda: ok(nova.get(f"/servers/{server['id']}"))["server"]["status"] == "ACTIVE", 60, "the server")
    page.goto("/dashboard/volumes")
    _row(page, vol).locator("summary:has-text('Actions')").click()
    _row(page, vol).locator("a[data-action=attach]").click()
    page.select_option("#attach select[name=server_id]", server["id"])
    page.click("#attach button:has-text('Attach volume')")
    page.wait_for_selector("text=Attaching the volume.")
    page.evaluate("window.stayedOnPage = true")
    _status(_row(page, vol), "in-use")
    assert page.evaluate("window.stayedOnPage") is True
    assert server_name in _row(page, vol).locator("[data-field=attached]").inner_text()
    with api(cloud, demo_token, "compute/v2.1") as nova:
        attached = ok(nova.get(f"/servers/{server['id']}/os-volume_attachments"))["volumeAttachments"]
    assert [a["volumeId"] for a in attached] == [_row(page, vol).get_attribute("data-id")]
    _act(_row(page, vol), "detach").locator("button").click()
    page.wait_for_selector("text=Detaching the volume.")
    _status(_row(page, vol), "available")

    # the same from the instance's row: attach from its menu, then detach
    volume_id = _row(page, vol).get_attribute("data-id")
    page.goto("/dashboard/instances")
    vm = page.locator(f"tr[data-id='{server['id']}']")
    vm.locator("summary:has-text('More')").click()
    vm.locator("a[data-action=attach-volume]").click()
    page.select_option("#attach-volume select[name=volume_id]", volume_id)
    page.click("#attach-volume button:has-text('Attach volume')")
    page.wait_for_selector("text=Attaching the volume.")
    vm = page.locator(f"tr[data-id='{server['id']}']")
    vm.locator(f"button[data-action=detach-volume][title='{volume_id}']").wait_for(state="attached",
                                                                                 timeout=LIVE_TIMEOUT_MS)
    vm.locator("summary:has-text('More')").click()
    vm.locator(f"button[data-action=detach-volume][title='{volume_id}']").click()
    page.wait_for_selector("text=Detaching the volume.")
    with api(cloud, demo_token, "volume/v3") as cinder:
        wait(lambda: ok(cinder.get(f"/volumes/{volume_id}"))["volume"]["status"] == "available", 30, "detached")
    page.goto("/dashboard/volumes")

    # a snapshot, and a new volume from it
    form = _act(_row(page, vol), "snapshot")
    snap = name("snap")
    form.locator("input[name=name]").fill(snap)
    form.locator("button").click()
    page.wait_for_selector("text=Creating a snapshot of the volume.")
    _status(_row(page, snap), "available")
    _row(page, snap).locator("a:has-text('Create volume')").click()
    assert page.locator("#create-volume select[name=source] option:checked").inner_text().startswith(snap)
    from_snap = name("fromsnap")
    page.fill("#create-volume input[name=name]", from_snap)
    page.fill("#create-volume input[name=size]", "2")
    page.click("button:has-text('Create volume')")
    _status(_row(page, from_snap), "available")

    # uploaded to an image: the Images panel follows it to active
    form = _act(_row(page, from_snap), "upload")
    image = name("volimg")
    form.locator("input[name=image_name]").fill(image)
    form.locator("select[name=disk_format]").select_option("qcow2")
    form.locator("button").click()
    page.wait_for_selector(f"text=Uploading the volume to image {image}.")
    _status(_row(page, image), "active")
    with api(cloud, demo_token, "image/v2") as glance:
        made = ok(glance.get("/images", params={"name": image}))["images"][0]
        assert made["disk_format"] == "qcow2"
        ok(glance.delete(f"/images/{made['id']}"), 204)
    page.goto("/dashboard/volumes")
    _status(_row(page, from_snap), "available")

    # a backup, restored to a new volume
    form = _act(_row(page, vol), "backup")
    backup = name("backup")
    form.locator("input[name=name]").fill(backup)
    form.locator("button").click()
    page.wait_for_selector("text=Backing up the volume.")
    _status(_row(page, backup), "available")
    _row(page, backup).locator("button[data-action=restore]").click()
    page.wait_for_selector("text=Restoring the backup to a new volume.")
    restored = page.locator("tbody tr", has=page.locator("td.name", has_text="restore_backup_"))
    restored.locator("[data-field=status]:text-is('available')").wait_for(timeout=LIVE_TIMEOUT_MS)

    # delete what was made, each confirmed in the browser's dialog
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/dashboard/backups")
    _row(page, backup).locator("button[data-action=delete]").click()
    page.wait_for_selector("text=Deleting the backup.")
    _row(page, backup).wait_for(state="detached", timeout=LIVE_TIMEOUT_MS)
    page.goto("/dashboard/volumes")
    for label in (from_snap, "restore_backup_"):
        _act(_row(page, label), "delete").locator("button").click()
        page.wait_for_selector("text=Deleting the volume.")
        _row(page, label).wait_for(state="detached", timeout=LIVE_TIMEOUT_MS)
    page.goto("/dashboard/snapshots")
    _row(page, snap).locator("button[data-action=delete]").click()
    _row(page, snap).wait_for(state="detached", timeout=LIVE_TIMEOUT_MS)
    page.goto("/dashboard/volumes")
    _act(_row(page, vol), "delete").locator("button").click()
    _row(page, vol).wait_for(state="detached", timeout=LIVE_TIMEOUT_MS)
    with api(cloud, demo_token, "compute/v2.1") as nova:
        nova.delete(f"/servers/{server['id']}")
    page.context.close()


def test_volume_errors_markup_csrf_and_the_tenant_wall(cloud, admin, dashboard, demo_token):
    _, _, other_token = member_of_new_project(cloud, admin)
    other_project = ok(cloud.client(other_token).get("/auth/projects"))["projects"][0]["id"]
    with api(cloud, other_token, f"volume/v3/{other_project}") as cinder:
        hidden = ok(cinder.post("/volumes", json={"volume": {"size": 1, "name": name("hidden")}}), 202)["volume"]
    markup = "<img src=x onerror=alert(1)>"
    with api(cloud, demo_token, "volume/v3") as cinder:
        mine = ok(cinder.post("/volumes", json={"volume": {"size": 1, "name": markup}}), 202)["volume"]
    page = dashboard.sign_in("demo")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/dashboard/volumes")
    assert page.locator(f"tr[data-id='{mine['id']}'] td.name").inner_text().strip() == markup
    assert page.locator("td.name img").count() == 0
    assert page.locator(f"tr[data-id='{hidden['id']}']").count() == 0

    # the API's own message for a bad size, shown on the page
    page.locator("#create-volume").evaluate("details => { details.open = true; }")
    page.fill("#create-volume input[name=size]", "100000")
    page.click("button:has-text('Create volume')")
    assert "quota" in page.inner_text(".flash.error").lower()

    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    resp = page.request.post(f"/dashboard/volumes/{mine['id']}/delete", form={"name": "x"})
    assert resp.status == 403
    resp = page.request.post(f"/dashboard/volumes/{hidden['id']}/delete", form={"csrf_token": token})
    assert "could not be found" in resp.text()
    with api(cloud, other_token, f"volume/v3/{other_project}") as cinder:
        assert ok(cinder.get(f"/volumes/{hidden['id']}"))["volume"]["status"] in ("creating", "available")
    with api(cloud, demo_token, "volume/v3") as cinder:
        wait(lambda: ok(cinder.get(f"/volumes/{mine['id']}"))["volume"]["status"] == "available", 30, "the volume")
        ok(cinder.delete(f"/volumes/{mine['id']}"), 202)
    assert dialogs == []
    page.context.close()


def test_launch_an_instance_on_a_new_volume_and_from_a_volumes_row(cloud, dashboard, demo_token, tiny_image):
    page = dashboard.sign_in("demo")
    page.goto("/dashboard/instances/launch")
    server_name = name("onvol")
    page.fill("#launch input[name=name]", server_name)
    page.select_option("#launch select[name=image]", tiny_image)
    page.check("#launch input[name=new_volume]")
    page.fill("#launch input[name=volume_size]", "2")
    page.check("#launch input[name=delete_on_termination]")
    page.select_option("#launch select[name=network]", "")
    page.select_option("#launch select[name=flavor]", SEEDED_FLAVOR)
    page.click("#launch button:has-text('Launch')")
    page.wait_for_selector(f"text=Launching {server_name}.")
    row = page.locator("tbody tr", has=page.locator("td.name", has_text=server_name))
    row.locator("[data-field=status]:has-text('ACTIVE')").wait_for(timeout=LIVE_TIMEOUT_MS)
    assert row.locator("td").nth(1).inner_text() == "(volume)"
    server_id = row.get_attribute("data-id")
    # the volume it boots from: in-use, bootable, attached to it
    page.goto("/dashboard/volumes")
    boot = page.locator("tbody tr", has=page.locator("[data-field=attached]", has_text=server_name))
    _status(boot, "in-use")
    assert "2 GB" in boot.inner_text() and "Yes" in boot.inner_text()
    volume_id = boot.get_attribute("data-id")
    with api(cloud, demo_token, "compute/v2.1") as nova:
        ok(nova.delete(f"/servers/{server_id}"), 204)
    boot.wait_for(state="detached", timeout=LIVE_TIMEOUT_MS)  # deleted with the instance

    # a volume's row launches an instance from it; asking for both an image and a volume is refused
    with api(cloud, demo_token, "volume/v3") as cinder:
        made = ok(cinder.post("/volumes", json={"volume": {"size": 1, "name": name("bootable"),
                                                           "imageRef": tiny_image}}), 202)["volume"]
        wait(lambda: ok(cinder.get(f"/volumes/{made['id']}"))["volume"]["status"] == "available", 30, "the volume")
    page.goto("/dashboard/volumes")
    page.locator(f"tr[data-id='{made['id']}'] a[data-action=launch]").click()
    assert page.input_value("#launch select[name=boot_volume]") == f"volume:{made['id']}"
    from_volume = name("fromvol")
    page.fill("#launch input[name=name]", from_volume)
    page.select_option("#launch select[name=network]", "")
    page.select_option("#launch select[name=image]", tiny_image)
    page.select_option("#launch select[name=flavor]", SEEDED_FLAVOR)
    page.click("#launch button:has-text('Launch')")
    assert "not both" in page.inner_text(".flash.error")
    page.select_option("#launch select[name=boot_volume]", f"volume:{made['id']}")
    page.fill("#launch input[name=name]", from_volume)
    page.select_option("#launch select[name=network]", "")
    page.select_option("#launch select[name=flavor]", SEEDED_FLAVOR)
    page.click("#launch button:has-text('Launch')")
    page.wait_for_selector(f"text=Launching {from_volume}.")
    row = page.locator("tbody tr", has=page.locator("td.name", has_text=from_volume))
    row.locator("[data-field=status]:has-text('ACTIVE')").wait_for(timeout=LIVE_TIMEOUT_MS)
    with api(cloud, demo_token, "compute/v2.1") as nova:
        attached = ok(nova.get(f"/servers/{row.get_attribute('data-id')}/os-volume_attachments"))["volumeAttachments"]
        assert [a["volumeId"] for a in attached] == [made["id"]]
        ok(nova.delete(f"/servers/{row.get_attribute('data-id')}"), 204)
    with api(cloud, demo_token, "volume/v3") as cinder:
        wait(lambda: ok(cinder.get(f"/volumes/{made['id']}"))["volume"]["status"] == "available", 30, "detached")
        ok(cinder.delete(f"/volumes/{made['id']}"), 202)
        assert volume_id not in {v["id"] for v in ok(cinder.get("/volumes"))["volumes"]}
    page.context.close()


def test_admin_volume_types_and_qos_then_a_volume_page_and_retype(cloud, dashboard, demo_token):
    page = dashboard.sign_in("admin")
    page.goto("/dashboard/admin/volume-types")
    page.locator("#create-volume-type").evaluate("details => { details.open = true; }")
    vtype = name("type")
    page.fill("#create-volume-type input[name=name]", vtype)
    page.select_option("#create-volume-type select[name=public]", "no")
    page.fill("#create-volume-type textarea[name=extra_specs]", "volume_backend_name=file")
    page.click("button:has-text('Create volume type')")
    page.wait_for_selector(f"text=Volume type {vtype} created.")  # on the type's own page
    type_id = page.url.rsplit("/", 1)[1]
    page.fill("#set-specs textarea[name=extra_specs]", "color=blue\nsize=large")
    page.click("#set-specs button:has-text('Set')")
    page.wait_for_selector("text=Extra specs set.")
    page.locator("#extra-specs tr", has=page.locator("td.name", has_text="size")).locator("button").click()
    said(page, "Extra spec size removed.")
    assert page.locator("#extra-specs td.name").all_inner_texts() == ["color", "volume_backend_name"]
    page.select_option("#add-type-access select[name=project]", label="demo")
    page.click("button:has-text('Give access')")
    page.wait_for_selector("text=Access granted.")

    page.goto("/dashboard/admin/qos")
    qos = name("qos")
    page.fill("#create-qos input[name=name]", qos)
    page.fill("#create-qos textarea[name=specs]", "total_iops_sec=100")
    page.click("button:has-text('Create QoS spec')")
    page.wait_for_selector(f"text=QoS spec {qos} created.")
    page.goto(f"/dashboard/admin/volume-types/{type_id}")
    page.select_option("#type-qos select[name=qos]", label=f"{qos} (front-end)")
    page.click("#type-qos button:has-text('Associate')")
    page.wait_for_selector("text=QoS associated.")
    page.goto("/dashboard/admin/qos")
    row = page.locator("#qos tr", has_text=qos)
    assert row.locator("td.types").inner_text() == vtype
    row.locator("input[name=specs]").fill("read_iops_sec=50")
    row.locator("button:has-text('Set')").click()
    page.wait_for_selector("text=QoS keys set.")
    row.locator("form:has(input[value=total_iops_sec]) button").click()
    said(page, "QoS key total_iops_sec removed.")
    assert row.locator("code").all_inner_texts() == ["read_iops_sec=50"]
    page.goto("/dashboard/admin/volume-types")
    assert page.locator(f"#volume-types tr[data-id='{type_id}'] td.qos").inner_text() == qos

    # the demo project, given access, retypes its volume from the volume's own page
    with api(cloud, demo_token, "volume/v3") as cinder:
        volume = ok(cinder.post("/volumes", json={"volume": {"size": 1, "name": name("retype")}}), 202)["volume"]
        wait(lambda: ok(cinder.get(f"/volumes/{volume['id']}"))["volume"]["status"] == "available", 30, "available")
    mine = dashboard.sign_in("demo")
    mine.goto("/dashboard/volumes")
    mine.click(f"a:has-text('{volume['name']}')")
    mine.wait_for_selector("#volume-facts")
    mine.fill("#edit-volume input[name=description]", "<i>kept as text</i>")
    mine.click("#edit-volume button:has-text('Save')")
    said(mine, "Volume updated.")
    assert mine.locator("p.muted", has_text="<i>kept as text</i>").count() == 1
    mine.fill("#set-metadata textarea[name=metadata]", "owner=ops\ntier=gold")
    mine.click("#set-metadata button:has-text('Set')")
    mine.wait_for_selector("text=Metadata set.")
    mine.locator("#volume-metadata tr", has=mine.locator("td.name", has_text="owner")).locator("button").click()
    said(mine, "Metadata owner removed.")
    assert mine.locator("#volume-metadata td.name").all_inner_texts() == ["tier"]
    mine.select_option("#retype select[name=new_type]", vtype)
    mine.click("#retype button:has-text('Retype')")
    mine.wait_for_selector(f"text=Changing the volume's type to {vtype}.")
    with api(cloud, demo_token, "volume/v3") as cinder:
        wait(lambda: ok(cinder.get(f"/volumes/{volume['id']}"))["volume"]["volume_type"] == vtype, 30, "retyped")
        mine.reload()
        assert mine.inner_text("#volume-facts td.type") == vtype
        ok(cinder.delete(f"/volumes/{volume['id']}"), 202)
        wait(lambda: cinder.get(f"/volumes/{volume['id']}").status_code == 404, 30, "the volume to go")
    mine.context.close()

    page.goto("/dashboard/admin/volume-types")
    page.once("dialog", lambda d: d.accept())
    page.locator(f"#volume-types tr[data-id='{type_id}'] button:has-text('Delete')").click()
    page.wait_for_selector("text=Volume type deleted.")
    page.goto("/dashboard/admin/qos")
    page.once("dialog", lambda d: d.accept())
    page.locator("#qos tr", has_text=qos).locator("button:has-text('Delete')").click()
    page.wait_for_selector("text=QoS spec deleted.")
    page.context.close()


def test_launch_from_a_volume_snapshot_onto_a_new_volume(cloud, dashboard, demo_token, tiny_image):
    with api(cloud, demo_token, "volume/v3") as cinder:
        source = ok(cinder.post("/volumes", json={"volume": {"size": 1, "name": name("source"),
                                                             "imageRef": tiny_image}}), 202)["volume"]
        wait(lambda: ok(cinder.get(f"/volumes/{source['id']}"))["volume"]["status"] == "available", 30, "the volume")
        snapshot = ok(cinder.post("/snapshots", json={"snapshot": {"volume_id": source["id"],
                                                                   "name": name("golden")}}), 202)["snapshot"]
        wait(lambda: ok(cinder.get(f"/snapshots/{snapshot['id']}"))["snapshot"]["status"] == "available", 30,
             "the snapshot")
    page = dashboard.sign_in("demo")
    page.goto("/dashboard/instances/launch")
    choice = page.locator("#launch select[name=boot_volume] optgroup[label^='Volume snapshot'] option",
                          has_text=snapshot["name"])
    assert choice.get_attribute("value") == f"snapshot:{snapshot['id']}"
    server_name = name("fromsnap")
    page.fill("#launch input[name=name]", server_name)
    page.select_option("#launch select[name=boot_volume]", f"snapshot:{snapshot['id']}")
    page.check("#launch input[name=delete_on_termination]")
    page.select_option("#launch select[name=network]", "")
    page.select_option("#launch select[name=flavor]", SEEDED_FLAVOR)
    page.click("#launch button:has-text('Launch')")
    page.wait_for_selector(f"text=Launching {server_name}.")
    row = _row(page, server_name)
    row.locator("[data-field=status]:has-text('ACTIVE')").wait_for(timeout=LIVE_TIMEOUT_MS)
    assert row.locator("td").nth(1).inner_text() == "(volume)"
    server_id = row.get_attribute("data-id")
    with api(cloud, demo_token, "compute/v2.1") as nova, api(cloud, demo_token, "volume/v3") as cinder:
        (attached,) = ok(nova.get(f"/servers/{server_id}/os-volume_attachments"))["volumeAttachments"]
        made = ok(cinder.get(f"/volumes/{attached['volumeId']}"))["volume"]
        assert made["id"] != source["id"] and made["snapshot_id"] == snapshot["id"]
        ok(nova.delete(f"/servers/{server_id}"), 204)
        # the new volume goes with the instance (delete on termination)
        wait(lambda: cinder.get(f"/volumes/{made['id']}").status_code == 404, 30, "the boot volume to go")
        ok(cinder.delete(f"/snapshots/{snapshot['id']}"), 202)
        wait(lambda: cinder.get(f"/snapshots/{snapshot['id']}").status_code == 404, 30, "the snapshot to go")
        ok(cinder.delete(f"/volumes/{source['id']}"), 202)
    page.context.close()
