"""Networks, routers, floating IPs, the security group rule editor and the live topology picture,
in a real Chromium."""

from __future__ import annotations

import pytest

from tests.api.helpers import name, ok
from tests.browser.conftest import LIVE_TIMEOUT_MS, api, boot, said

pytestmark = pytest.mark.browser


def _row(page, row_name: str):
    return page.locator("tbody tr", has=page.locator("td.name", has_text=row_name))


def test_build_a_network_and_router_from_the_topology_and_watch_an_instance_join(
        cloud, dashboard, public_network, tiny_image):
    page = dashboard.sign_in("demo")
    page.goto("/dashboard/topology")
    # create network from the picture's toolbar
    page.click("a:has-text('Create network')")
    page.locator("#create-network").evaluate("details => { details.open = true; }")
    net_name = name("net")
    page.fill("#create-network input[name=name]", net_name)
    page.fill("#create-network input[name=cidr]", "10.77.0.0/24")
    page.click("button:has-text('Create network')")
    page.wait_for_selector(f"text=Network {net_name} created.")
    net_id = _row(page, net_name).get_attribute("data-id")
    assert "10.77.0.0/24" in _row(page, net_name).inner_text()

    # and a router with its gateway on the external network, then an interface on the new subnet
    page.goto("/dashboard/topology")
    page.click("a:has-text('Create router')")
    page.locator("#create-router").evaluate("details => { details.open = true; }")
    router_name = name("router")
    page.fill("#create-router input[name=name]", router_name)
    page.select_option("#create-router select[name=external_network]", public_network["id"])
    page.click("button:has-text('Create router')")
    page.wait_for_selector(f"text=Router {router_name} created.")
    _row(page, router_name).locator("a").click()
    option = page.locator("#add-interface select[name=subnet] option", has_text="10.77.0.0/24")
    page.select_option("#add-interface select[name=subnet]", option.get_attribute("value"))
    page.click("button:has-text('Add interface')")
    page.wait_for_selector("text=Interface added.")
    assert "10.77.0.1" in page.inner_text("#interfaces")

    # the picture: the router sits on both networks
    page.goto("/dashboard/topology")
    router = page.locator("#topology a.device[data-kind=router]", has_text=router_name)
    assert set(router.get_attribute("data-networks").split()) == {public_network["id"], net_id}
    page.evaluate("window.stayedOnPage = true")

    # an instance launched elsewhere appears on its network, and its colour follows its state
    token = cloud.token("demo", project="demo")
    vm_name = name("vm")
    server = boot(cloud, token, tiny_image, vm_name, [{"uuid": net_id}])
    device = page.locator(f"#topology a.device[data-id='{server['id']}']")
    page.locator(f"#topology a.device.ok[data-id='{server['id']}'][data-status=ACTIVE]").wait_for(
        timeout=LIVE_TIMEOUT_MS)
    assert device.get_attribute("data-networks") == net_id
    with api(cloud, token, "compute/v2.1") as nova:
        ok(nova.post(f"/servers/{server['id']}/action", json={"os-stop": None}), 202)
    page.locator(f"#topology a.device.off[data-id='{server['id']}'][data-status=SHUTOFF]").wait_for(
        timeout=LIVE_TIMEOUT_MS)
    assert page.evaluate("window.stayedOnPage") is True

    # click-through from the picture to the network, the router and the instance
    page.locator(f"#topology a.net[data-id='{net_id}']").click()
    page.wait_for_selector(f"h1:has-text('{net_name}')")
    page.goto("/dashboard/topology")
    page.locator("#topology a.device[data-kind=router]", has_text=router_name).click()
    page.wait_for_selector(f"h1:has-text('{router_name}')")
    assert "10.77.0.1" in page.inner_text("#interfaces")
    page.goto("/dashboard/topology")
    page.locator(f"#topology a.device[data-kind=instance][data-id='{server['id']}']").click()
    page.wait_for_selector(f"h1:has-text('{vm_name}')")
    assert page.inner_text("#instance-addresses td.addr").startswith("10.77.0.")

    # a floating IP from the external network, associated with the instance
    page.goto("/dashboard/floating-ips")
    page.select_option("#allocate select[name=pool]", public_network["id"])
    target = page.locator("#allocate select[name=port] option", has_text="10.77.0.")
    page.select_option("#allocate select[name=port]", target.get_attribute("value"))
    page.click("button:has-text('Allocate IP')")
    page.wait_for_selector("text=allocated.")
    row = page.locator("#floating-ips tbody tr", has_text="172.30.9.")
    assert row.locator("[data-field=attached]").inner_text().startswith(f"{vm_name}: 10.77.0.")
    row.locator("button:has-text('Disassociate')").click()
    page.wait_for_selector("text=Floating IP disassociated.")
    address = row.locator("td").first.inner_text().strip()

    # the same from the instance's row: the free address associated, seen in the row, then disassociated
    page.goto("/dashboard/instances")
    vm = page.locator(f"tr[data-id='{server['id']}']")
    vm.locator("summary:has-text('More')").click()
    vm.locator("[data-action=floating-ip]").click()
    page.select_option("#associate-fip select[name=floating_ip]", label=address)
    page.click("#associate-fip button:has-text('Associate')")
    page.wait_for_selector(f"text=Floating IP {address} associated.")
    page.locator(f"tr[data-id='{server['id']}'] td:has-text('{address}')").wait_for(timeout=LIVE_TIMEOUT_MS)
    page.goto(f"/dashboard/instances/{server['id']}/do/floating-ip")
    assert address in page.inner_text("#attached-fips")
    page.click("button[data-action=disassociate]")
    page.wait_for_selector("text=Floating IP disassociated.")
    with api(cloud, token, "network/v2.0") as neutron:
        assert not ok(neutron.get("/floatingips", params={"floating_ip_address": address}))["floatingips"][0]["port_id"]
    page.context.close()


def test_security_group_rules_from_templates_and_by_hand(dashboard):
    page = dashboard.sign_in("demo")
    page.goto("/dashboard/security-groups")
    page.click("summary:has-text('Create security group')")
    group = name("web")
    page.fill("input[name=name]", group)
    page.click("button:has-text('Create security group')")
    page.wait_for_selector(f"text=Security group {group} created.")
    for template in ("ssh", "icmp"):
        page.select_option("#add-rule select[name=template]", template)
        page.click("button:has-text('Add rule')")
        page.wait_for_selector("text=Rule added.")
    # the template fills the fields (script); by hand: a custom TCP range from one network
    page.select_option("#add-rule select[name=template]", "http")
    assert page.input_value("#add-rule input[name=port_range_min]") == "80"
    page.select_option("#add-rule select[name=template]", "custom")
    page.select_option("#add-rule select[name=protocol]", "tcp")
    page.fill("#add-rule input[name=port_range_min]", "8080")
    page.fill("#add-rule input[name=port_range_max]", "8090")
    page.fill("#add-rule input[name=remote_ip_prefix]", "192.0.2.0/24")
    page.click("button:has-text('Add rule')")
    page.wait_for_selector("text=Rule added.")
    ingress = [r.inner_text() for r in page.locator("#rules tbody tr", has_text="ingress").all()]
    assert any("tcp" in r and "22" in r for r in ingress)
    assert any("icmp" in r for r in ingress)
    assert any("8080–8090" in r and "192.0.2.0/24" in r for r in ingress)
    # a bad rule is the API's message, not a crash
    page.select_option("#add-rule select[name=template]", "custom")
    page.fill("#add-rule input[name=port_range_min]", "9000")
    page.fill("#add-rule input[name=port_range_max]", "8000")
    page.click("button:has-text('Add rule')")
    # the submit is a page load: wait for the answer rather than count what is there mid-flight
    assert "port_range_min must be <= port_range_max" in page.inner_text(".flash.error")
    assert page.locator(".flash.error").count() == 1
    page.context.close()


def test_ports_panel_and_router_static_routes(cloud, dashboard):
    demo = cloud.token("demo", project="demo")
    with api(cloud, demo, "network/v2.0") as neutron:
        net = ok(neutron.post("/networks", json={"network": {"name": name("portnet")}}), 201)["network"]
        subnet = ok(neutron.post("/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                              "cidr": "10.88.0.0/24"}}), 201)["subnet"]
        router = ok(neutron.post("/routers", json={"router": {"name": name("rtr")}}), 201)["router"]
        ok(neutron.put(f"/routers/{router['id']}/add_router_interface", json={"subnet_id": subnet["id"]}))
    page = dashboard.sign_in("demo")
    page.goto("/dashboard/ports")
    page.locator("#create-port").evaluate("details => { details.open = true; }")
    port_name = name("port")
    page.fill("#create-port input[name=name]", port_name)
    page.select_option("#create-port select[name=network]", net["id"])
    page.fill("#create-port input[name=fixed_ip]", "10.88.0.50")
    page.click("button:has-text('Create port')")
    page.wait_for_selector(f"text=Port {port_name} created: 10.88.0.50.")
    row = _row(page, port_name)
    port_id = row.get_attribute("data-id")
    assert row.locator("td.ips").inner_text() == "10.88.0.50"
    # the router's interface is listed too, leading to its router
    interface = page.locator("#ports tr", has=page.locator("td.ips", has_text="10.88.0.1"))
    assert interface.locator("td.device").inner_text().startswith("router ")
    row.locator("a:has-text('Launch on it')").click()
    assert page.locator(f"#launch select[name=port] option[value='{port_id}']").evaluate("o => o.selected")

    page.goto(f"/dashboard/routers/{router['id']}")
    page.fill("#add-route input[name=destination]", "192.168.77.0/24")
    page.fill("#add-route input[name=nexthop]", "10.88.0.50")
    page.click("button:has-text('Add route')")
    said(page, "Route to 192.168.77.0/24 added.")
    assert page.locator("#routes td.nexthop").all_inner_texts() == ["10.88.0.50"]
    page.fill("#add-route input[name=destination]", "192.168.78.0/24")
    page.fill("#add-route input[name=nexthop]", "10.99.0.1")  # on no subnet of the router: Neutron's 400
    page.click("button:has-text('Add route')")
    page.wait_for_selector(".flash.error")
    with api(cloud, demo, "network/v2.0") as neutron:
        assert ok(neutron.get(f"/routers/{router['id']}"))["router"]["routes"] == [
            {"destination": "192.168.77.0/24", "nexthop": "10.88.0.50"}]
        page.once("dialog", lambda d: d.accept())
        page.click("#routes button:has-text('Remove')")
        page.wait_for_selector("text=Route to 192.168.77.0/24 removed.")
        assert ok(neutron.get(f"/routers/{router['id']}"))["router"]["routes"] == []

        page.goto("/dashboard/ports")
        page.once("dialog", lambda d: d.accept())
        _row(page, port_name).locator("button:has-text('Delete')").click()
        page.wait_for_selector("text=Port deleted.")
        assert neutron.get(f"/ports/{port_id}").status_code == 404
        ok(neutron.put(f"/routers/{router['id']}/remove_router_interface", json={"subnet_id": subnet["id"]}))
        ok(neutron.delete(f"/routers/{router['id']}"), 204)
        ok(neutron.delete(f"/networks/{net['id']}"), 204)
    page.context.close()


def test_create_here_from_inside_the_topology_picture(cloud, dashboard, public_network):
    demo = cloud.token("demo", project="demo")
    with api(cloud, demo, "network/v2.0") as neutron:
        net = ok(neutron.post("/networks", json={"network": {"name": name("here")}}), 201)["network"]
        subnet = ok(neutron.post("/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4,
                                                              "cidr": "10.89.0.0/24"}}), 201)["subnet"]
    page = dashboard.sign_in("demo")
    page.goto("/dashboard/topology")
    # an instance on this network
    page.locator(f"#topology a[data-create=instance][data-network='{net['id']}']").click()
    page.wait_for_selector("#launch")
    assert page.locator("#launch select[name=network]").input_value() == net["id"]
    # a router with an interface on its subnet, and its gateway on the external network
    page.goto("/dashboard/topology")
    page.locator(f"#topology a[data-create=router][data-network='{net['id']}']").click()
    assert page.locator("#create-router").evaluate("details => details.open")
    assert page.locator("#create-router select[name=subnet]").input_value() == subnet["id"]
    router_name = name("here-rtr")
    page.fill("#create-router input[name=name]", router_name)
    page.select_option("#create-router select[name=external_network]", public_network["id"])
    page.click("button:has-text('Create router')")
    page.wait_for_selector(f"text=Router {router_name} created.")
    page.goto("/dashboard/topology")
    router = page.locator("#topology a.device[data-kind=router]", has_text=router_name)
    assert set(router.get_attribute("data-networks").split()) == {net["id"], public_network["id"]}
    # the external network's button fills in the gateway
    page.locator(f"#topology a[data-create=router][data-network='{public_network['id']}']").click()
    assert page.locator("#create-router select[name=external_network]").input_value() == public_network["id"]
    # and a new network (no instance goes straight onto the external one)
    page.goto("/dashboard/topology")
    assert page.locator(f"#topology a[data-create=instance][data-network='{public_network['id']}']").count() == 0
    page.locator("#topology a[data-create=network]").click()
    assert page.locator("#create-network").evaluate("details => details.open")
    page.context.close()
    with api(cloud, demo, "network/v2.0") as neutron:
        router_id = ok(neutron.get("/routers", params={"name": router_name}))["routers"][0]["id"]
        ok(neutron.put(f"/routers/{router_id}/remove_router_interface", json={"subnet_id": subnet["id"]}))
        ok(neutron.delete(f"/routers/{router_id}"), 204)
        ok(neutron.delete(f"/networks/{net['id']}"), 204)
