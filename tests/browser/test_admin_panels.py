"""Admin panels: open to the admin, 403 to everyone else, in a real Chromium."""

from __future__ import annotations

import pytest

from tests.api.helpers import member_of_new_project, name, ok
from tests.browser.conftest import api, boot, said

pytestmark = pytest.mark.browser

ADMIN_PAGES = ["/dashboard/admin/" + p for p in (
    "domains", "projects", "users", "groups", "roles", "assignments", "hypervisors", "instances", "volumes", "images", "networks",
    "routers", "floating-ips", "flavors", "flavors/1", "services", "quotas", "volume-types", "qos")]


def test_admin_pages_answer_403_to_the_demo_user(dashboard):
    page = dashboard.sign_in("demo")
    assert page.locator("nav.side h3:has-text('Admin')").count() == 0
    for path in ADMIN_PAGES:
        response = page.goto(path)
        assert response.status == 403, path
        assert page.inner_text("h1") == "Forbidden"
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    for path, form in (("/admin/projects", {"name": name("sneaky")}), ("/admin/flavors", {"name": name("f")}),
                       ("/admin/assignments/grant", {"actor_kind": "user", "user": "x", "role": "x", "scope_id": "x"}),
                       ("/admin/quotas/compute", {"instances": "999"})):
        resp = page.request.post("/dashboard" + path, form={"csrf_token": token, **form}, max_redirects=0)
        assert resp.status == 403, path
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

    page.goto("/dashboard/admin/domains")
    domain = name("dom")
    page.fill("#create-domain input[name=name]", domain)
    page.click("button:has-text('Create domain')")
    page.wait_for_selector(f"text=Domain {domain} created.")
    row = page.locator("#domains tr", has=page.locator("td.name", has_text=domain))
    row.locator("button:has-text('Disable')").click()
    page.wait_for_selector("text=Domain disabled.")
    assert row.locator("td.enabled").inner_text() == "No"
    page.once("dialog", lambda d: d.accept())
    row.locator("button:has-text('Delete')").click()
    said(page, "Domain deleted.")
    assert row.count() == 0

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


def _open(page, details: str):
    page.locator(details).evaluate("details => { details.open = true; }")


def test_admin_groups_members_roles_and_assignments(cloud, dashboard):
    with cloud.client() as keystone:
        user = ok(keystone.post("/users", json={"user": {"name": name("member"), "password": "a-good-pass-1"}}), 201)["user"]
        demo = ok(keystone.get("/projects", params={"name": "demo"}))["projects"][0]
    page = dashboard.sign_in("admin")
    page.goto("/dashboard/admin/groups")
    _open(page, "#create-group")
    group = name("group")
    page.fill("#create-group input[name=name]", group)
    page.click("button:has-text('Create group')")
    page.wait_for_selector(f"text=Group {group} created.")  # on the group's own page
    page.select_option("#add-member select[name=user]", label=user["name"])
    page.click("button:has-text('Add member')")
    said(page, "Member added.")
    assert page.locator("#members td.name").all_inner_texts() == [user["name"]]

    page.goto("/dashboard/admin/roles")
    role = name("role")
    page.fill("#create-role input[name=name]", role)
    page.click("button:has-text('Create role')")
    page.wait_for_selector(f"text=Role {role} created.")

    page.goto("/dashboard/admin/assignments")
    page.select_option("#grant-role select[name=actor_kind]", "group")
    page.select_option("#grant-role select[name=group]", label=group)
    page.select_option("#grant-role select[name=role]", label=role)
    page.select_option("#grant-role select[name=scope_id]", label="demo")
    page.click("button:has-text('Grant')")
    page.wait_for_selector("text=Role granted.")
    row = page.locator("#assignments tr", has=page.locator("td.role", has_text=role))
    assert group in row.inner_text() and "project: demo" in row.inner_text()

    def effective() -> set[str]:
        with cloud.client() as keystone:
            found = ok(keystone.get("/role_assignments", params={"user.id": user["id"], "effective": "true",
                                                                  "include_names": "true"}))["role_assignments"]
        return {(a["role"]["name"], a["scope"]["project"]["id"]) for a in found if "project" in a["scope"]}

    assert (role, demo["id"]) in effective()  # the group's member holds the role on demo
    # the project filter narrows the table to demo's assignments
    page.select_option("form.toolbar select[name=project]", label="demo")
    page.wait_for_url("**/admin/assignments?project=*")
    assert {t.split(": ", 1)[1] for t in page.locator("#assignments td.scope").all_inner_texts()} == {"demo"}
    page.once("dialog", lambda d: d.accept())
    page.locator("#assignments tr", has=page.locator("td.role", has_text=role)).locator("button:has-text('Revoke')").click()
    page.wait_for_selector("text=Role revoked.")
    assert (role, demo["id"]) not in effective()
    # a domain-scoped grant to the user, and its revocation from its row
    page.select_option("#grant-role select[name=actor_kind]", "user")
    page.select_option("#grant-role select[name=user]", label=user["name"])
    page.select_option("#grant-role select[name=role]", label=role)
    page.select_option("#grant-role select[name=scope_kind]", "domain")
    page.select_option("#grant-role select[name=domain_id]", label="Default")
    page.click("button:has-text('Grant')")
    page.wait_for_selector("text=Role granted.")
    with cloud.client() as keystone:
        assert ok(keystone.get(f"/domains/default/users/{user['id']}/roles"))["roles"][0]["name"] == role
    row = page.locator("#assignments tr", has=page.locator("td.role", has_text=role))
    assert row.locator("td.scope").inner_text() == "domain: Default"
    page.once("dialog", lambda d: d.accept())
    row.locator("button:has-text('Revoke')").click()
    page.wait_for_selector("text=Role revoked.")
    with cloud.client() as keystone:
        assert ok(keystone.get(f"/domains/default/users/{user['id']}/roles"))["roles"] == []

    page.goto("/dashboard/admin/groups")
    page.click(f"a:has-text('{group}')")
    page.click("#members button:has-text('Remove')")
    page.wait_for_selector("text=Member removed.")
    page.goto("/dashboard/admin/roles")
    page.once("dialog", lambda d: d.accept())
    page.locator("#roles tr", has_text=role).locator("button:has-text('Delete')").click()
    page.wait_for_selector("text=Role deleted.")
    page.goto("/dashboard/admin/groups")
    page.once("dialog", lambda d: d.accept())
    page.locator("#groups tr", has_text=group).locator("button:has-text('Delete')").click()
    page.wait_for_selector("text=Group deleted.")
    page.context.close()
    with cloud.client() as keystone:
        keystone.delete(f"/users/{user['id']}")


def test_admin_private_flavor_and_its_access_list(cloud, dashboard):
    demo = cloud.token("demo", project="demo")
    page = dashboard.sign_in("admin")
    page.goto("/dashboard/admin/flavors")
    _open(page, "#create-flavor")
    flavor = name("flv")
    page.fill("#create-flavor input[name=name]", flavor)
    page.fill("#create-flavor input[name=ram]", "256")
    page.select_option("#create-flavor select[name=public]", "no")
    page.click("button:has-text('Create flavor')")
    page.wait_for_selector(f"text=Flavor {flavor} created.")  # on the flavor's page, for its access list
    flavor_id = page.url.rsplit("/", 1)[1]
    page.fill("#set-flavor-specs textarea[name=extra_specs]", "hw:cpu_policy=dedicated\nquota:disk_read_iops_sec=100")
    page.click("#set-flavor-specs button:has-text('Set')")
    page.wait_for_selector("text=Extra specs set.")
    page.locator("#flavor-specs tr", has=page.locator("td.name", has_text="hw:cpu_policy")).locator("button").click()
    page.wait_for_selector("text=Extra spec hw:cpu_policy removed.")
    with api(cloud, cloud.token(), "compute/v2.1") as nova:
        assert ok(nova.get(f"/flavors/{flavor_id}/os-extra_specs"))["extra_specs"] == {"quota:disk_read_iops_sec": "100"}
    with api(cloud, demo, "compute/v2.1") as nova:
        assert nova.get(f"/flavors/{flavor_id}").status_code == 404
        page.select_option("#add-access select[name=project]", label="demo")
        page.click("button:has-text('Give access')")
        said(page, "Access granted.")
        assert page.locator("#flavor-access td.name").all_inner_texts() == ["demo"]
        assert ok(nova.get(f"/flavors/{flavor_id}"))["flavor"]["name"] == flavor
        page.click("#flavor-access button:has-text('Remove access')")
        page.wait_for_selector("text=Access removed.")
        assert nova.get(f"/flavors/{flavor_id}").status_code == 404
    page.goto("/dashboard/admin/flavors")
    assert page.locator(f"#flavors tr[data-id='{flavor_id}'] td.public").inner_text() == "No"
    page.once("dialog", lambda d: d.accept())
    page.locator(f"#flavors tr[data-id='{flavor_id}'] button:has-text('Delete')").click()
    said(page, "Flavor deleted.")
    assert page.locator(f"#flavors tr[data-id='{flavor_id}']").count() == 0
    page.context.close()


def test_admin_sees_and_removes_every_projects_images_networks_routers_and_floating_ips(cloud, admin, dashboard):
    page = dashboard.sign_in("admin")
    # an external network made from the admin panel, for the demo project's floating IP
    page.goto("/dashboard/admin/networks")
    _open(page, "#create-network")
    public = name("ext")
    page.fill("#create-network input[name=name]", public)
    page.check("#create-network input[name=external]")
    page.click("button:has-text('Create network')")
    page.wait_for_selector(f"text=Network {public} created.")
    with api(cloud, cloud.token(), "network/v2.0") as neutron:
        ext = ok(neutron.get("/networks", params={"name": public}))["networks"][0]
        assert ext["router:external"] is True
        ok(neutron.post("/subnets", json={"subnet": {"network_id": ext["id"], "ip_version": 4, "enable_dhcp": False,
                                                     "cidr": "172.30.19.0/24"}}), 201)
    # a project of its own, so that filtering by it finds this test's rows on the first page however
    # many other tests have made
    project, _, demo = member_of_new_project(cloud, admin)
    with api(cloud, demo, "network/v2.0") as neutron:
        net = ok(neutron.post("/networks", json={"network": {"name": name("demo-net")}}), 201)["network"]
        router = ok(neutron.post("/routers", json={"router": {"name": name("demo-rtr"), "external_gateway_info": {
            "network_id": ext["id"]}}}), 201)["router"]
        fip = ok(neutron.post("/floatingips", json={"floatingip": {"floating_network_id": ext["id"]}}), 201)["floatingip"]
    with api(cloud, demo, "image/v2") as glance:
        image = ok(glance.post("/images", json={"name": name("demo-img"), "disk_format": "raw",
                                                "container_format": "bare"}), 201)

    page.goto("/dashboard/admin/images")
    page.select_option("#project-filter select[name=project]", project["id"])
    page.click("#project-filter button")
    page.wait_for_url(f"**/admin/images?project={project['id']}")
    assert page.locator("#images tbody tr").count() == 1
    for kind, item in (("images", image), ("networks", net), ("routers", router), ("floating-ips", fip)):
        page.goto(f"/dashboard/admin/{kind}?project={project['id']}")
        row = page.locator(f"tr[data-id='{item['id']}']")
        assert row.locator("td.project").inner_text() == project["name"], kind
        if kind == "routers":
            assert public in row.inner_text()
    # removed by the admin, in the order Neutron allows
    for kind, item, said_text in (("floating-ips", fip, "Released."), ("routers", router, "Deleted."),
                             ("networks", net, "Deleted."), ("images", image, "Deleted.")):
        page.goto(f"/dashboard/admin/{kind}?project={project['id']}")
        page.once("dialog", lambda d: d.accept())
        page.locator(f"tr[data-id='{item['id']}'] .actions button").click()
        said(page, said_text)
        assert page.locator(f"tr[data-id='{item['id']}']").count() == 0, kind
    with api(cloud, demo, "network/v2.0") as neutron:
        assert neutron.get(f"/networks/{net['id']}").status_code == 404
        assert neutron.get(f"/floatingips/{fip['id']}").status_code == 404
    with api(cloud, cloud.token(), "network/v2.0") as neutron:
        neutron.delete(f"/networks/{ext['id']}")
    page.context.close()


def test_admin_services_state_and_quotas(cloud, dashboard):
    page = dashboard.sign_in("admin")
    page.goto("/dashboard/admin/services")
    rows = page.locator("#compute-services tbody tr")
    assert rows.count() == 2 and set(page.locator("#compute-services .status").all_inner_texts()) == {"up"}
    assert page.locator("#volume-services tbody tr").count() >= 1
    assert "compute" in page.locator("#catalog td.name").all_inner_texts()
    host = rows.nth(1).locator("td.name").inner_text()
    nova = api(cloud, cloud.token(), "compute/v2.1")
    service_id = ok(nova.get("/os-services", params={"host": host}))["services"][0]["id"]
    try:
        rows.nth(1).locator("button:has-text('Disable')").click()
        page.wait_for_selector("text=Compute service disabled.")
        found = ok(nova.get("/os-services", params={"host": host}))["services"][0]
        assert found["status"] == "disabled" and found["disabled_reason"] == "disabled in the dashboard"
        page.locator("#compute-services tr", has_text=host).locator("button:has-text('Enable')").click()
        page.wait_for_selector("text=Compute service enabled.")
        assert ok(nova.get("/os-services", params={"host": host}))["services"][0]["status"] == "enabled"

        # the defaults: compute's moved and put back; the network's shown but not editable
        page.goto("/dashboard/admin/quotas")
        before = int(page.input_value("#quota-compute input[name=instances]"))
        page.fill("#quota-compute input[name=instances]", str(before + 7))
        page.click("#quota-compute button:has-text('Save')")
        page.wait_for_selector("text=Compute quotas defaults saved.")
        assert ok(nova.get("/os-quota-class-sets/default"))["quota_class_set"]["instances"] == before + 7
        page.fill("#quota-compute input[name=instances]", str(before))
        page.click("#quota-compute button:has-text('Save')")
        page.wait_for_selector("text=Compute quotas defaults saved.")
        assert page.locator("#quota-network input[name=router]").is_disabled()
    finally:
        nova.put(f"/os-services/{service_id}", json={"status": "enabled"}, headers={"OpenStack-API-Version": "compute 2.53"})
        nova.close()

    # one project's own quotas, in each service
    with cloud.client() as keystone:
        project = ok(keystone.post("/projects", json={"project": {"name": name("quota")}}), 201)["project"]
    page.reload()
    page.select_option("form.toolbar select[name=project]", label=project["name"])
    page.wait_for_url(f"**/admin/quotas?project={project['id']}")
    page.fill("#quota-network input[name=router]", "3")
    page.click("#quota-network button:has-text('Save')")
    page.wait_for_selector("text=Network quotas of the project saved.")
    page.fill("#quota-block-storage input[name=gigabytes]", "77")
    page.click("#quota-block-storage button:has-text('Save')")
    page.wait_for_selector("text=Block Storage quotas of the project saved.")
    # past the browser's min=-1, the dashboard refuses it itself
    token = page.locator("#quota-compute input[name=csrf_token]").get_attribute("value")
    page.request.post("/dashboard/admin/quotas/compute", form={"csrf_token": token, "project": project["id"], "cores": "-5"},
                      max_redirects=0)
    page.reload()
    page.wait_for_selector("text=cores must be -1 (unlimited) or more.")
    with api(cloud, cloud.token(), "network/v2.0") as neutron:
        assert ok(neutron.get(f"/quotas/{project['id']}"))["quota"]["router"] == 3
    with cloud.client() as keystone:
        admin_id = ok(keystone.get("/projects", params={"name": "admin"}))["projects"][0]["id"]
    with api(cloud, cloud.token(), f"volume/v3/{admin_id}") as cinder:
        assert ok(cinder.get(f"/os-quota-sets/{project['id']}"))["quota_set"]["gigabytes"] == 77
    page.context.close()
    with cloud.client() as keystone:
        keystone.delete(f"/projects/{project['id']}")
