"""Stacks of real onestack resources, made by the engine through the Network, Compute and Block Storage
APIs with the owner's trust (servers on the fake compute driver): a whole environment comes up, its outputs
say where, updates touch only what changed, a failure names the service's reason, and delete leaves nothing."""

import itertools

import httpx
import pytest
import yaml

from tests.api.helpers import name, ok, upload_image, wait
from tests.api.network_helpers import external_network
from tests.api.orchestration_helpers import fault

_CIDRS = itertools.count(40)

ENVIRONMENT = """
heat_template_version: 2018-08-31
description: a network behind a router to the public network, a guarded port, a server and a floating IP
parameters:
  public_net: {type: string}
  image: {type: string}
  flavor: {type: string, default: m1.tiny}
  cidr: {type: string, default: 10.10.0.0/24}
resources:
  key:
    type: OS::Nova::KeyPair
    properties:
      name: {list_join: ["-", [key, {get_param: "OS::stack_name"}]]}
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: {get_param: cidr}, dns_nameservers: [192.0.2.53]}
  router:
    type: OS::Neutron::Router
    properties: {external_gateway_info: {network: {get_param: public_net}}}
  iface:
    type: OS::Neutron::RouterInterface
    properties: {router: {get_resource: router}, subnet: {get_resource: subnet}}
  guard:
    type: OS::Neutron::SecurityGroup
    properties:
      description: ssh and ping
      rules:
        - {protocol: tcp, port_range_min: 22, port_range_max: 22, remote_ip_prefix: 0.0.0.0/0}
        - {protocol: icmp, remote_ip_prefix: 0.0.0.0/0}
  port:
    type: OS::Neutron::Port
    properties: {network: {get_resource: net}, security_groups: [{get_resource: guard}]}
  server:
    type: OS::Nova::Server
    properties:
      image: {get_param: image}
      flavor: {get_param: flavor}
      key_name: {get_resource: key}
      networks: [{port: {get_resource: port}}]
      metadata: {role: web}
      user_data_format: RAW
      user_data: |
        #cloud-config
        runcmd: [echo made-by-heat]
  fip:
    type: OS::Neutron::FloatingIP
    properties: {floating_network: {get_param: public_net}, port_id: {get_resource: port}}
outputs:
  floating_ip: {value: {get_attr: [fip, floating_ip_address]}}
  fixed_ip: {value: {get_attr: [port, fixed_ips, 0, ip_address]}}
  first_address: {value: {get_attr: [server, first_address]}}
  server_networks: {value: {get_attr: [server, networks]}}
"""


@pytest.fixture(scope="module")
def public(nadmin):
    network, _ = external_network(nadmin, "198.51.100.0/24", ("198.51.100.10", "198.51.100.200"))
    return network


def leftovers(heat) -> dict:
    """What the project still has, service by service (the default security group aside)."""
    net = heat.root
    found = {kind: ok(net.get(f"/network/v2.0/{kind}", params={"project_id": heat.project_id}))[kind.replace("-", "_")]
             for kind in ("networks", "subnets", "ports", "routers", "floatingips", "security-groups")}
    found["security-groups"] = [g for g in found["security-groups"] if g["name"] != "default"]
    found["servers"] = ok(net.get("/compute/v2.1/servers"))["servers"]
    found["keypairs"] = ok(net.get("/compute/v2.1/os-keypairs"))["keypairs"]
    found["volumes"] = ok(net.get(f"/volume/v3/{heat.project_id}/volumes"))["volumes"]
    return {kind: items for kind, items in found.items() if items}


def params(public, image, **more) -> dict:
    return {"public_net": public["name"], "image": image["id"], "cidr": f"10.{next(_CIDRS)}.0.0/24", **more}



@pytest.fixture(scope="module")
def image(heat_image):
    return heat_image

def test_a_whole_environment_comes_up_and_goes_away(heat, public, image):
    stack = heat.created(ENVIRONMENT, parameters=params(public, image), timeout_mins=5)
    resources = heat.resources(stack)
    assert {r["resource_status"] for r in resources.values()} == {"CREATE_COMPLETE"}

    server_id = resources["server"]["physical_resource_id"]
    server = ok(heat.root.get(f"/compute/v2.1/servers/{server_id}"))["server"]
    assert server["status"] == "ACTIVE" and server["metadata"] == {"role": "web"}
    assert server["key_name"] == f"key-{stack['stack_name']}"
    assert server["tenant_id"] == heat.project_id and server["user_id"] == heat.user["id"]  # the owner's own

    fip = heat.output(stack, "floating_ip")
    assert fip.startswith("198.51.100.")
    floating = ok(heat.root.get("/network/v2.0/floatingips", params={"floating_ip_address": fip}))["floatingips"]
    assert floating[0]["port_id"] == resources["port"]["physical_resource_id"]
    fixed = heat.output(stack, "fixed_ip")
    assert heat.output(stack, "first_address") == fixed
    net_name = ok(heat.root.get(f"/network/v2.0/networks/{resources['net']['physical_resource_id']}"))["network"]["name"]
    assert fixed in heat.output(stack, "server_networks")[net_name]

    group = ok(heat.root.get(f"/network/v2.0/security-groups/{resources['guard']['physical_resource_id']}"))
    ingress = {(r["protocol"], r["port_range_min"]) for r in group["security_group"]["security_group_rules"]
               if r["direction"] == "ingress"}
    assert ingress == {("tcp", 22), ("icmp", None)}

    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"
    assert leftovers(heat) == {}


def test_updates_resize_in_place_and_replace_only_the_server(heat, public, image, cloud):
    template = """
heat_template_version: 2018-08-31
parameters:
  image: {type: string}
  flavor: {type: string, default: m1.tiny}
  cidr: {type: string}
  public_net: {type: string}
resources:
  net: {type: OS::Neutron::Net}
  subnet: {type: OS::Neutron::Subnet, properties: {network: {get_resource: net}, cidr: {get_param: cidr}}}
  server:
    type: OS::Nova::Server
    properties:
      image: {get_param: image}
      flavor: {get_param: flavor}
      networks: [{network: {get_resource: net}}]
"""
    stack = heat.created(template, parameters=params(public, image))
    before = heat.resources(stack)
    ok(heat.http.patch(heat.path(stack), json={"parameters": {"flavor": "m1.small"}}), 202)
    stack = heat.settle(stack, 120)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    after = heat.resources(stack)
    server_id = before["server"]["physical_resource_id"]
    assert after["server"]["physical_resource_id"] == server_id
    assert after["server"]["resource_status"] == "UPDATE_COMPLETE"
    assert after["net"]["resource_status"] == "CREATE_COMPLETE"
    server = ok(heat.root.get(f"/compute/v2.1/servers/{server_id}"))["server"]
    assert server["status"] == "ACTIVE" and server["flavor"]["id"] in ("2", "m1.small")

    with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": cloud.token()}, timeout=60) as http:
        other = upload_image(http, image_name=name("img2"))
        ok(http.patch(f"/image/v2/images/{other['id']}", json=[{"op": "replace", "path": "/visibility",
                                                                  "value": "public"}],
                      headers={"Content-Type": "application/openstack-images-v2.1-json-patch"}))
    ok(heat.http.patch(heat.path(stack), json={"parameters": {"image": other["id"]}}), 202)
    stack = heat.settle(stack, 120)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    replaced = heat.resources(stack)
    assert replaced["server"]["physical_resource_id"] != server_id
    assert replaced["net"]["physical_resource_id"] == before["net"]["physical_resource_id"]
    assert replaced["subnet"]["physical_resource_id"] == before["subnet"]["physical_resource_id"]
    wait(lambda: heat.root.get(f"/compute/v2.1/servers/{server_id}").status_code == 404, 30, "the old server to go")
    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"
    assert leftovers(heat) == {}


def test_a_service_refusal_is_the_stacks_reason_and_rollback_leaves_nothing(heat, public, image):
    failing = params(public, image, flavor="no-such-flavor")
    stack = heat.settle(heat.create(ENVIRONMENT, parameters=failing, disable_rollback=False), 120)
    assert stack["stack_status"] == "ROLLBACK_COMPLETE"
    assert "Resource CREATE failed: NotFound: resources.server: Flavor no-such-flavor could not be found." in \
        stack["stack_status_reason"]
    assert heat.resources(stack) == {}
    assert leftovers(heat) == {}


def test_a_server_that_cannot_be_scheduled_fails_with_novas_reason(heat, image):
    """Three servers kept apart on a cloud of two hosts: the third has nowhere to go."""
    apart = {"group": {"get_resource": "apart"}}
    server = {"type": "OS::Nova::Server", "properties": {"image": image["id"], "flavor": "m1.tiny",
                                                         "networks": [{"allocate_network": "none"}],
                                                         "scheduler_hints": apart}}
    template = {"heat_template_version": "2018-08-31", "resources": {
        "apart": {"type": "OS::Nova::ServerGroup", "properties": {"policies": ["anti-affinity"]}},
        "one": server, "two": server, "three": server}}
    stack = heat.settle(heat.create(template, disable_rollback=False), 120)
    assert stack["stack_status"] == "ROLLBACK_COMPLETE"
    assert "ResourceInError: resources." in stack["stack_status_reason"]
    assert "Went to status ERROR due to \"Message: No valid host was found" in stack["stack_status_reason"]
    assert leftovers(heat) == {}


def test_volumes_are_made_extended_and_removed(heat):
    template = {"heat_template_version": "2018-08-31",
                "parameters": {"size": {"type": "number", "default": 1}},
                "resources": {"disk": {"type": "OS::Cinder::Volume",
                                       "properties": {"size": {"get_param": "size"}, "metadata": {"a": "b"}}}},
                "outputs": {"size": {"value": {"get_attr": ["disk", "size"]}},
                            "status": {"value": {"get_attr": ["disk", "status"]}}}}
    stack = heat.created(template)
    volume_id = heat.resources(stack)["disk"]["physical_resource_id"]
    volume = ok(heat.root.get(f"/volume/v3/{heat.project_id}/volumes/{volume_id}"))["volume"]
    assert volume["status"] == "available" and volume["metadata"] == {"a": "b"} and volume["size"] == 1
    assert heat.output(stack, "status") == "available"
    ok(heat.http.patch(heat.path(stack), json={"parameters": {"size": 2}}), 202)
    stack = heat.settle(stack)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert heat.resources(stack)["disk"]["physical_resource_id"] == volume_id
    assert heat.output(stack, "size") == 2
    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"
    assert leftovers(heat) == {}


def test_retained_resources_outlive_their_stack(heat):
    template = {"heat_template_version": "2018-08-31", "resources": {
        "kept": {"type": "OS::Neutron::Net", "deletion_policy": "Retain"},
        "gone": {"type": "OS::Neutron::Net"}}}
    stack = heat.created(template)
    kept = heat.resources(stack)["kept"]["physical_resource_id"]
    heat.delete(stack)
    remaining = leftovers(heat)
    assert [n["id"] for n in remaining["networks"]] == [kept]
    ok(heat.root.delete(f"/network/v2.0/networks/{kept}"), 204)


def test_a_resource_group_of_twenty_servers(heat, image, cloud):
    """Twenty servers on one network as one ResourceGroup (fake compute driver): all ACTIVE, each named by
    its index, their addresses through the group's attributes, and nothing left after the delete."""
    with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": cloud.token()}, timeout=60) as admin:
        ok(admin.put(f"/compute/v2.1/os-quota-sets/{heat.project_id}", json={"quota_set": {
            "instances": 20, "cores": 20}}))
    template = {
        "heat_template_version": "2018-08-31",
        "parameters": {"image": {"type": "string"}},
        "resources": {
            "net": {"type": "OS::Neutron::Net"},
            "subnet": {"type": "OS::Neutron::Subnet", "properties": {"network": {"get_resource": "net"},
                                                                     "cidr": f"10.{next(_CIDRS)}.0.0/24"}},
            "servers": {"type": "OS::Heat::ResourceGroup", "depends_on": "subnet", "properties": {
                "count": 20, "resource_def": {"type": "OS::Nova::Server", "properties": {
                    "name": "web-%index%", "image": {"get_param": "image"}, "flavor": "m1.tiny",
                    "networks": [{"network": {"get_resource": "net"}}]}}}},
        },
        "outputs": {"addresses": {"value": {"get_attr": ["servers", "first_address"]}},
                    "ids": {"value": {"get_attr": ["servers", "refs"]}}},
    }
    stack = heat.created(template, parameters={"image": image["id"]}, timeout_mins=5)
    ids = heat.output(stack, "ids")
    servers = {s["id"]: s for s in ok(heat.root.get("/compute/v2.1/servers/detail"))["servers"]}
    assert len(ids) == 20 and set(ids) == set(servers)
    assert {s["status"] for s in servers.values()} == {"ACTIVE"}
    assert {s["name"] for s in servers.values()} == {f"web-{i}" for i in range(20)}
    addresses = heat.output(stack, "addresses")
    assert len(set(addresses)) == 20 and all(a.startswith("10.") for a in addresses)
    assert heat.delete(stack, 120)["stack_status"] == "DELETE_COMPLETE"
    assert leftovers(heat) == {}


def test_a_volume_attached_to_a_server_moves_and_is_detached_before_its_delete(heat, image):
    """A server, two volumes and an attachment (Compute's os-volume_attachments on the fake driver): the
    volume is in-use on the server; an update naming the other volume detaches the first and attaches the
    second in place; the stack's delete detaches, then deletes the volumes and the server."""
    template = {
        "heat_template_version": "2018-08-31",
        "parameters": {"image": {"type": "string"}, "which": {"type": "string", "default": "one"}},
        "conditions": {"first": {"equals": [{"get_param": "which"}, "one"]}},
        "resources": {
            "net": {"type": "OS::Neutron::Net"},
            "subnet": {"type": "OS::Neutron::Subnet", "properties": {"network": {"get_resource": "net"},
                                                                     "cidr": f"10.{next(_CIDRS)}.0.0/24"}},
            "server": {"type": "OS::Nova::Server", "properties": {
                "image": {"get_param": "image"}, "flavor": "m1.tiny",
                "networks": [{"network": {"get_resource": "net"}}]}},
            "one": {"type": "OS::Cinder::Volume", "properties": {"size": 1}},
            "two": {"type": "OS::Cinder::Volume", "properties": {"size": 1}},
            "attachment": {"type": "OS::Cinder::VolumeAttachment", "properties": {
                "instance_uuid": {"get_resource": "server"}, "mountpoint": "/dev/vdb",
                "volume_id": {"if": ["first", {"get_resource": "one"}, {"get_resource": "two"}]}}},
        },
    }
    stack = heat.created(template, parameters={"image": image["id"]}, timeout_mins=5)
    resources = heat.resources(stack)
    server = resources["server"]["physical_resource_id"]
    one, two = resources["one"]["physical_resource_id"], resources["two"]["physical_resource_id"]
    cinder = f"/volume/v3/{heat.project_id}/volumes"

    def attached(volume_id: str) -> list:
        volume = ok(heat.root.get(f"{cinder}/{volume_id}"))["volume"]
        return volume["status"], [(a["server_id"], a["device"]) for a in volume["attachments"]]

    assert attached(one) == ("in-use", [(server, "/dev/vdb")])
    assert attached(two) == ("available", [])
    listed = ok(heat.root.get(f"/compute/v2.1/servers/{server}/os-volume_attachments"))["volumeAttachments"]
    assert [(a["volumeId"], a["device"]) for a in listed] == [(one, "/dev/vdb")]

    ok(heat.http.patch(heat.path(stack), json={"parameters": {"which": "two"}}), 202)
    stack = heat.settle(stack)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert attached(one) == ("available", [])
    assert attached(two) == ("in-use", [(server, "/dev/vdb")])
    assert heat.resources(stack)["attachment"]["resource_status"] == "UPDATE_COMPLETE"

    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"
    events = [(e["resource_name"], e["resource_status"]) for e in heat.events(stack)]
    assert events.index(("attachment", "DELETE_COMPLETE")) < events.index(("one", "DELETE_IN_PROGRESS"))
    assert events.index(("attachment", "DELETE_COMPLETE")) < events.index(("server", "DELETE_IN_PROGRESS"))
    assert leftovers(heat) == {}


def test_an_external_resource_is_used_never_made_changed_or_deleted(heat):
    """``external_id``: the stack stands a resource for a network it did not make (checked to exist, its
    attributes read, others built on it), cannot change that id by an update, and leaves it at delete."""
    made = ok(heat.root.post("/network/v2.0/networks", json={"network": {"name": name("kept")}}), 201)["network"]
    template = {
        "heat_template_version": "2018-08-31",
        "parameters": {"net": {"type": "string"}},
        "resources": {
            "existing": {"type": "OS::Neutron::Net", "external_id": {"get_param": "net"}},
            "subnet": {"type": "OS::Neutron::Subnet", "properties": {"network": {"get_resource": "existing"},
                                                                     "cidr": f"10.{next(_CIDRS)}.0.0/24"}},
        },
        "outputs": {"name": {"value": {"get_attr": ["existing", "name"]}},
                    "subnets": {"value": {"get_attr": ["existing", "subnets"]}}},
    }
    stack = heat.created(template, parameters={"net": made["id"]})
    resources = heat.resources(stack)
    assert resources["existing"]["physical_resource_id"] == made["id"]
    assert heat.output(stack, "name") == made["name"]
    subnet = ok(heat.root.get(f"/network/v2.0/subnets/{resources['subnet']['physical_resource_id']}"))["subnet"]
    assert subnet["network_id"] == made["id"]

    other = ok(heat.root.post("/network/v2.0/networks", json={"network": {"name": name("other")}}), 201)["network"]
    ok(heat.http.patch(heat.path(stack), json={"parameters": {"net": other["id"]}}), 202)
    stack = heat.settle(stack)
    assert stack["stack_status"] == "UPDATE_FAILED"
    assert "NotSupported: resources.existing: Update to property external_id of existing (OS::Neutron::Net) " \
           "is not supported" in stack["stack_status_reason"]

    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"
    assert sorted(n["id"] for n in leftovers(heat)["networks"]) == sorted([made["id"], other["id"]])
    assert "subnets" not in leftovers(heat)

    # one that is not there fails the create with the service's answer; one cannot wait for others
    missing = heat.settle(heat.create(template, parameters={"net": "0b0e5a3c-0000-4000-8000-000000000000"}))
    assert missing["stack_status"] == "CREATE_FAILED"
    assert "NotFound: resources.existing: The external resource 0b0e5a3c-0000-4000-8000-000000000000 could " \
           "not be found" in missing["stack_status_reason"]
    heat.delete(missing)
    waiting = {**template, "resources": {**template["resources"], "existing": {
        "type": "OS::Neutron::Net", "external_id": {"get_param": "net"}, "depends_on": "subnet"}}}
    message = fault(heat.http.post("/stacks", json={"stack_name": name("bad"), "template": yaml.safe_dump(waiting),
                                                    "parameters": {"net": made["id"]}}), 400)
    assert "resources.existing: an external resource (external_id) cannot depend on other resources" in message
    for net in (made, other):
        ok(heat.root.delete(f"/network/v2.0/networks/{net['id']}"), 204)


def test_subnet_pools_rbac_policies_and_floating_ip_associations(heat, make_heat, public):
    """A subnet pool a subnet takes its prefix from, an RBAC policy sharing the stack's network with another
    project, and a floating IP associated with a port by its own resource (moved to another port in place);
    the stack's delete takes them all away."""
    other = make_heat()
    template = {
        "heat_template_version": "2018-08-31",
        "parameters": {"public_net": {"type": "string"}, "target": {"type": "string"},
                       "which": {"type": "string", "default": "a"}},
        "conditions": {"on_a": {"equals": [{"get_param": "which"}, "a"]}},
        "resources": {
            "pool": {"type": "OS::Neutron::SubnetPool", "properties": {
                "prefixes": [f"10.{next(_CIDRS)}.0.0/16"], "default_prefixlen": 26}},
            "net": {"type": "OS::Neutron::Net"},
            "subnet": {"type": "OS::Neutron::Subnet", "properties": {
                "network": {"get_resource": "net"}, "subnetpool": {"get_resource": "pool"}, "prefixlen": 28}},
            "share": {"type": "OS::Neutron::RBACPolicy", "properties": {
                "object_type": "network", "object_id": {"get_resource": "net"}, "action": "access_as_shared",
                "target_tenant": {"get_param": "target"}}},
            "router": {"type": "OS::Neutron::Router",
                       "properties": {"external_gateway_info": {"network": {"get_param": "public_net"}}}},
            "iface": {"type": "OS::Neutron::RouterInterface",
                      "properties": {"router": {"get_resource": "router"}, "subnet": {"get_resource": "subnet"}}},
            "a": {"type": "OS::Neutron::Port", "depends_on": "subnet",
                  "properties": {"network": {"get_resource": "net"}}},
            "b": {"type": "OS::Neutron::Port", "depends_on": "subnet",
                  "properties": {"network": {"get_resource": "net"}}},
            "fip": {"type": "OS::Neutron::FloatingIP", "properties": {"floating_network": {"get_param": "public_net"}}},
            "assoc": {"type": "OS::Neutron::FloatingIPAssociation", "properties": {
                "floatingip_id": {"get_resource": "fip"},
                "port_id": {"if": ["on_a", {"get_resource": "a"}, {"get_resource": "b"}]}}},
        },
    }
    parameters = {"public_net": public["name"], "target": other.project_id}
    stack = heat.created(template, parameters=parameters, timeout_mins=5)
    resources = heat.resources(stack)
    ids = {n: r["physical_resource_id"] for n, r in resources.items()}
    subnet = ok(heat.root.get(f"/network/v2.0/subnets/{ids['subnet']}"))["subnet"]
    assert subnet["subnetpool_id"] == ids["pool"] and subnet["cidr"].endswith("/28")
    # the other project now sees the network, shared with it alone
    seen = ok(other.root.get("/network/v2.0/networks"))["networks"]
    # (networks other tests shared with everyone may be listed too: only the stack's project's count)
    assert [n["id"] for n in seen if n["project_id"] == heat.project_id] == [ids["net"]]
    fip = ok(heat.root.get(f"/network/v2.0/floatingips/{ids['fip']}"))["floatingip"]
    assert fip["port_id"] == ids["a"]

    ok(heat.http.patch(heat.path(stack), json={"parameters": {"which": "b"}}), 202)
    stack = heat.settle(stack)
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    assert ok(heat.root.get(f"/network/v2.0/floatingips/{ids['fip']}"))["floatingip"]["port_id"] == ids["b"]
    assert heat.resources(stack)["assoc"]["resource_status"] == "UPDATE_COMPLETE"

    assert heat.delete(stack)["stack_status"] == "DELETE_COMPLETE"
    assert leftovers(heat) == {}
    assert ok(heat.root.get("/network/v2.0/subnetpools", params={"project_id": heat.project_id}))["subnetpools"] == []
    assert [n for n in ok(other.root.get("/network/v2.0/networks"))["networks"]
            if n["project_id"] == heat.project_id] == []


def test_custom_constraints_refuse_what_the_owner_cannot_find(heat, image, cloud):
    """``custom_constraint``: a flavor, image, key pair, network or volume the owner cannot see is a 400
    naming the parameter and the value, at create and at update, before anything is made; real ones pass."""
    net = ok(heat.root.post("/network/v2.0/networks", json={"network": {"name": name("net")}}), 201)["network"]
    template = {
        "heat_template_version": "2018-08-31",
        "parameters": {
            "flavor": {"type": "string", "default": "m1.tiny", "constraints": [{"custom_constraint": "nova.flavor"}]},
            "image": {"type": "string", "constraints": [{"custom_constraint": "glance.image"}]},
            "net": {"type": "string", "constraints": [{"custom_constraint": "neutron.network"}]},
            "key": {"type": "string", "default": "", "constraints": [{"custom_constraint": "nova.keypair"}]},
            "volumes": {"type": "comma_delimited_list", "default": [],
                        "constraints": [{"custom_constraint": "cinder.volume"}]},
        },
        "resources": {"v": {"type": "OS::Heat::Value", "properties": {"value": {"get_param": "flavor"}}}},
    }
    good = {"image": image["id"], "net": net["name"]}

    def refused(**params) -> str:
        resp = heat.http.post("/stacks", json={"stack_name": name("c"), "template": yaml.safe_dump(template),
                                               "parameters": {**good, **params}})
        return fault(resp, 400, "StackValidationFailed")

    assert refused(flavor="m9.huge") == \
        "Parameter 'flavor' is invalid: Error validating value 'm9.huge': The Flavor ID (m9.huge) could not be found."
    assert refused(image="no-such-image") == ("Parameter 'image' is invalid: Error validating value "
                                              "'no-such-image': No images matching {'name': 'no-such-image'}.")
    assert refused(net="nowhere") == ("Parameter 'net' is invalid: Error validating value 'nowhere': Unable to "
                                      "find network with name or id 'nowhere'")
    assert refused(key="lost") == \
        "Parameter 'key' is invalid: Error validating value 'lost': The Key (lost) could not be found."
    assert "Error validating value 'gone': The Volume (gone) could not be found." in refused(volumes="gone")
    # another project's network is not the owner's to name
    with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": cloud.token()}, timeout=60) as admin:
        theirs = ok(admin.post("/network/v2.0/networks", json={"network": {"name": name("x")}}), 201)["network"]
        assert f"Unable to find network with name or id '{theirs['id']}'" in refused(net=theirs["id"])
        ok(admin.delete(f"/network/v2.0/networks/{theirs['id']}"), 204)
    assert ok(heat.http.get("/stacks"))["stacks"] == []  # nothing was made, no trust left behind
    trusts = ok(heat.root.get("/identity/v3/OS-TRUST/trusts", params={"trustor_user_id": heat.user["id"]}))
    assert trusts["trusts"] == []

    stack = heat.created(template, parameters=good)
    resp = heat.http.patch(heat.path(stack), json={"parameters": {"flavor": "m9.huge"}})
    assert "The Flavor ID (m9.huge) could not be found." in fault(resp, 400, "StackValidationFailed")
    assert heat.show(stack)["stack_status"] == "CREATE_COMPLETE"
    heat.delete(stack)
    ok(heat.root.delete(f"/network/v2.0/networks/{net['id']}"), 204)
