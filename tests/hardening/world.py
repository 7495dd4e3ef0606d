"""Project A's estate: one of each resource a project can own, made through the public APIs.

The sweeps substitute these into route paths.  ``values`` maps (service prefix, the path segment before a
parameter) to what a path of that shape names, e.g. ("/network", "ports") -> A's port; ``owned`` is every
identifier of A's that no other project may ever read in an answer.
"""

from __future__ import annotations

import dataclasses
import time
import uuid

import httpx
import yaml

from tests.api.helpers import name, ok, wait
from tests.hardening.cast import Tenant

TEMPLATE = yaml.safe_dump({
    "heat_template_version": "2018-08-31",
    "resources": {"word": {"type": "OS::Heat::RandomString", "properties": {"length": 8}}},
    "outputs": {"word": {"value": {"get_attr": ["word", "value"]}}},
})


@dataclasses.dataclass
class World:
    a: Tenant
    b: Tenant
    values: dict[tuple[str, str], str]
    owned: set[str]
    # the Swift paths (account, container, object) A owns, for /v1/{rest}
    swift: list[str]

    def value(self, prefix: str, before: str, param: str) -> str | None:
        return self.values.get((prefix, before)) or self.values.get((prefix, "{" + param + "}"))


def client(cloud, prefix: str, token: str, **headers) -> httpx.Client:
    return httpx.Client(base_url=f"{cloud.url}{prefix}", headers={"X-Auth-Token": token, **headers}, timeout=60)


def build(cloud, a: Tenant, b: Tenant) -> World:
    values: dict[tuple[str, str], str] = {}
    owned: set[str] = set()

    def own(prefix: str, before: str, value: str) -> str:
        values[(prefix, before)] = value
        owned.add(value)
        return value

    admin_token = cloud.token()
    pid = a.project["id"]
    with client(cloud, "", admin_token) as root, client(cloud, "", a.member_token) as mine:
        _identity(cloud, root, mine, a, values, own)
        net = _network(root, mine, values, own)
        image_id = _image(root, mine, pid, values, own)
        _compute(mine, image_id, net, values, own)
        _volume(mine, pid, values, own)
        swift = _object_store(mine, pid)
        owned |= {path.split("/")[-1] for path in swift[1:]}
        _orchestration(mine, pid, values, own)
        _admin_things(root, values)
    for prefix in ("/identity", "/network", "/compute", "/volume", "/orchestration", "/placement"):
        for param in ("{project_id}", "{tenant_id}", "{target_project}"):
            own(prefix, param, pid)
    owned |= {a.member["id"], a.reader["id"]}
    return World(a, b, values, owned, swift)


def _identity(cloud, root: httpx.Client, mine: httpx.Client, a: Tenant, values: dict, own) -> None:
    p = "/identity"
    uid, pid = a.member["id"], a.project["id"]
    ok(root.put(f"/identity/v3/projects/{pid}/tags/tag-a"), 201)
    own(p, "projects", pid)
    own(p, "users", uid)
    values[(p, "tags")] = "tag-a"
    values[(p, "{domain_id}")] = values[(p, "domains")] = "default"
    member_role = ok(root.get("/identity/v3/roles", params={"name": "member"}))["roles"][0]["id"]
    values[(p, "roles")] = values[(p, "implies")] = member_role
    values[(p, "regions")] = "RegionOne"
    catalog = ok(root.get("/identity/v3/services"))["services"]
    values[(p, "services")] = catalog[0]["id"]
    values[(p, "endpoints")] = ok(root.get("/identity/v3/endpoints"))["endpoints"][0]["id"]
    cred = ok(mine.post("/identity/v3/credentials", json={"credential": {
        "user_id": uid, "project_id": pid, "type": "totp", "blob": "secret-of-a"}}), 201)["credential"]
    own(p, "credentials", cred["id"])
    ec2 = ok(mine.post(f"/identity/v3/users/{uid}/credentials/OS-EC2", json={"tenant_id": pid}), 201)
    own(p, "OS-EC2", ec2["credential"]["access"])
    app = ok(mine.post(f"/identity/v3/users/{uid}/application_credentials", json={"application_credential": {
        "name": name("app"), "access_rules": [{"service": "compute", "method": "GET", "path": "/v2.1/servers"}]}}),
        201)["application_credential"]
    own(p, "application_credentials", app["id"])
    own(p, "access_rules", app["access_rules"][0]["id"])
    admin_user = ok(root.get("/identity/v3/users", params={"name": "admin"}))["users"][0]
    trust = ok(mine.post("/identity/v3/OS-TRUST/trusts", json={"trust": {
        "trustor_user_id": uid, "trustee_user_id": admin_user["id"], "project_id": pid, "impersonation": False,
        "roles": [{"name": "member"}]}}), 201)["trust"]
    own(p, "trusts", trust["id"])
    group = ok(root.post("/identity/v3/groups", json={"group": {"name": name("g")}}), 201)["group"]
    values[(p, "groups")] = group["id"]


def _network(root: httpx.Client, mine: httpx.Client, values: dict, own) -> dict:
    p = "/network"
    n = "/network/v2.0"
    ext = ok(root.post(f"{n}/networks", json={"network": {
        "name": name("ext"), "router:external": True, "provider:network_type": "vxlan"}}), 201)["network"]
    ok(root.post(f"{n}/subnets", json={"subnet": {
        "network_id": ext["id"], "ip_version": 4, "cidr": "198.51.100.0/24", "enable_dhcp": False,
        "gateway_ip": "198.51.100.1", "allocation_pools": [{"start": "198.51.100.10", "end": "198.51.100.99"}]}}),
        201)

    def create(plural: str, singular: str, **body) -> dict:
        made = ok(mine.post(f"{n}/{plural}", json={singular: body}), 201)[singular]
        own(p, plural, made["id"])
        return made

    net = create("networks", "network", name=name("net-a"))
    subnet = create("subnets", "subnet", network_id=net["id"], ip_version=4, cidr="10.77.0.0/24",
                    name=name("sub-a"))
    port = create("ports", "port", network_id=net["id"], name=name("port-a"))
    router = create("routers", "router", name=name("r-a"), external_gateway_info={"network_id": ext["id"]})
    ok(mine.put(f"{n}/routers/{router['id']}/add_router_interface", json={"subnet_id": subnet["id"]}))
    group = create("security-groups", "security_group", name=name("sg-a"))
    create("security-group-rules", "security_group_rule", security_group_id=group["id"], direction="ingress",
           protocol="tcp", port_range_min=22, port_range_max=22, ethertype="IPv4")
    create("subnetpools", "subnetpool", name=name("pool-a"), prefixes=["10.200.0.0/16"])
    create("address-scopes", "address_scope", name=name("scope-a"), ip_version=4)
    fip = create("floatingips", "floatingip", floating_network_id=ext["id"])
    own(p, "floatingips", fip["id"])
    forwarding = ok(mine.post(f"{n}/floatingips/{fip['id']}/port_forwardings", json={"port_forwarding": {
        "protocol": "tcp", "internal_port_id": port["id"], "internal_ip_address": port["fixed_ips"][0]["ip_address"],
        "internal_port": 22, "external_port": 2222}}), 201)["port_forwarding"]
    own(p, "port_forwardings", forwarding["id"])
    # A's network shared with a third project: the policy is A's
    create("rbac-policies", "rbac_policy", object_type="network", object_id=net["id"],
           target_tenant=uuid.uuid4().hex, action="access_as_shared")
    for plural in ("networks", "subnets", "ports", "security-groups", "subnetpools", "routers", "floatingips"):
        ok(mine.put(f"{n}/{plural}/{values[(p, plural)]}/tags/tag-a"), 201)
    values[(p, "tags")] = "tag-a"
    values[(p, "extensions")] = "router"
    return {"network": net, "port": port, "group": group, "fip": fip,
            "rule": values[(p, "security-group-rules")]}


def _image(root: httpx.Client, mine: httpx.Client, pid: str, values: dict, own) -> str:
    p = "/image"
    public = ok(root.post("/image/v2/images", json={"name": "tiny", "disk_format": "raw", "container_format": "bare",
                                                     "visibility": "public"}), 201)
    ok(root.put(f"/image/v2/images/{public['id']}/file", content=b"\0" * 4096,
                headers={"Content-Type": "application/octet-stream"}), 204)
    private = ok(mine.post("/image/v2/images", json={"name": name("img-a"), "disk_format": "raw",
                                                      "container_format": "bare", "tags": ["tag-a"]}), 201)
    ok(mine.put(f"/image/v2/images/{private['id']}/file", content=b"a" * 4096,
                headers={"Content-Type": "application/octet-stream"}), 204)
    own(p, "images", private["id"])
    values[(p, "tags")] = "tag-a"
    # DELETE /v2/stores/{store_id}/{image_id}: A's image in the file store
    values[(p, "stores")] = "file"
    values[(p, "{store_id}")] = private["id"]
    # shared with a third project, which stays pending: the membership is A's business
    third = uuid.uuid4().hex
    ok(mine.patch(f"/image/v2/images/{private['id']}", json=[{"op": "replace", "path": "/visibility",
                                                                "value": "shared"}],
                  headers={"Content-Type": "application/openstack-images-v2.1-json-patch"}))
    ok(mine.post(f"/image/v2/images/{private['id']}/members", json={"member": third}))
    values[(p, "members")] = third
    namespace = own(p, "namespaces", name("ns-a"))
    # metadefs are the admin's to write (Glance's defaults); this private namespace belongs to A
    ok(root.post("/image/v2/metadefs/namespaces", json={"namespace": namespace, "visibility": "private",
                                                        "owner": pid}), 201)
    ok(root.post(f"/image/v2/metadefs/namespaces/{namespace}/objects", json={"name": "obj-a"}), 201)
    ok(root.post(f"/image/v2/metadefs/namespaces/{namespace}/properties",
                 json={"name": "prop-a", "title": "p", "type": "string"}), 201)
    ok(root.post(f"/image/v2/metadefs/namespaces/{namespace}/tags/tag-a"), 201)
    values[(p, "objects")], values[(p, "properties")] = "obj-a", "prop-a"
    values[(p, "resource_types")] = "OS::Glance::Image"
    return public["id"]


def _compute(mine: httpx.Client, image_id: str, net: dict, values: dict, own) -> None:
    p = "/compute"
    c = "/compute/v2.1"
    latest = {"OpenStack-API-Version": "compute 2.96"}
    keypair = ok(mine.post(f"{c}/os-keypairs", json={"keypair": {"name": name("kp-a")}}))["keypair"]
    own(p, "os-keypairs", keypair["name"])
    server = ok(mine.post(f"{c}/servers", json={"server": {
        "name": name("vm-a"), "imageRef": image_id, "flavorRef": "1", "networks": [{"uuid": net["network"]["id"]}],
        "metadata": {"key-a": "value-a"}, "key_name": keypair["name"]}}), 202)["server"]
    sid = own(p, "servers", server["id"])
    wait(lambda: ok(mine.get(f"{c}/servers/{sid}"))["server"]["status"] == "ACTIVE", 60, "A's server ACTIVE")
    ok(mine.put(f"{c}/servers/{sid}/tags/tag-a", headers=latest), 201)
    values[(p, "tags")] = "tag-a"
    values[(p, "metadata")] = "key-a"
    values[(p, "ips")] = net["network"]["name"]
    action = ok(mine.get(f"{c}/servers/{sid}/os-instance-actions"))["instanceActions"][0]
    own(p, "os-instance-actions", action["request_id"])
    interface = ok(mine.get(f"{c}/servers/{sid}/os-interface"))["interfaceAttachments"][0]
    own(p, "os-interface", interface["port_id"])
    group = ok(mine.post(f"{c}/os-server-groups", json={"server_group": {"name": name("sg-a"),
                                                                         "policies": ["affinity"]}}))["server_group"]
    own(p, "os-server-groups", group["id"])
    own(p, "os-security-groups", net["group"]["id"])
    own(p, "os-security-group-rules", net["rule"])
    own(p, "os-floating-ips", net["fip"]["id"])
    own(p, "os-tenant-networks", net["network"]["id"])
    own(p, "os-networks", net["network"]["id"])
    values[(p, "images")] = image_id
    values[(p, "flavors")] = "1"
    values[(p, "os-extra_specs")] = "hw:cpu_policy"
    values[(p, "os-quota-class-sets")] = "default"
    values[(p, "extensions")] = "os-keypairs"
    values[(p, "os-instance_usage_audit_log")] = "2030-01-01 00:00:00"


def _volume(mine: httpx.Client, pid: str, values: dict, own) -> None:
    p = "/volume"
    v = f"/volume/v3/{pid}"
    mv = {"OpenStack-API-Version": "volume 3.67"}
    volume = ok(mine.post(f"{v}/volumes", json={"volume": {"size": 1, "name": name("vol-a"),
                                                          "metadata": {"key-a": "value-a"}}}), 202)["volume"]
    wait(lambda: ok(mine.get(f"{v}/volumes/{volume['id']}"))["volume"]["status"] == "available", 60,
         "A's volume available")
    own(p, "volumes", volume["id"])
    snapshot = ok(mine.post(f"{v}/snapshots", json={"snapshot": {"volume_id": volume["id"], "name": name("snap-a"),
                                                                "metadata": {"key-a": "value-a"}}}), 202)["snapshot"]
    wait(lambda: ok(mine.get(f"{v}/snapshots/{snapshot['id']}"))["snapshot"]["status"] == "available", 60,
         "A's snapshot available")
    own(p, "snapshots", snapshot["id"])
    values[(p, "metadata")] = "key-a"
    second = ok(mine.post(f"{v}/volumes", json={"volume": {"size": 1, "name": name("vol-a2")}}), 202)["volume"]
    wait(lambda: ok(mine.get(f"{v}/volumes/{second['id']}"))["volume"]["status"] == "available", 60,
         "A's second volume available")
    owned_server = values[("/compute", "servers")]
    attachment = ok(mine.post(f"{v}/attachments", headers=mv, json={"attachment": {
        "volume_uuid": second["id"], "instance_uuid": owned_server}}))["attachment"]
    own(p, "attachments", attachment["id"])
    types = ok(mine.get(f"{v}/types"))["volume_types"]
    values[(p, "types")] = types[0]["id"]
    values[(p, "extra_specs")] = "volume_backend_name"
    values[(p, "os-quota-class-sets")] = "default"


def _object_store(mine: httpx.Client, pid: str) -> list[str]:
    account = f"AUTH_{pid}"
    container, obj = name("c-a"), name("o-a")
    assert mine.put(f"/object-store/v1/{account}/{container}").status_code == 201
    assert mine.put(f"/object-store/v1/{account}/{container}/{obj}", content=b"a's data").status_code == 201
    return [account, f"{account}/{container}", f"{account}/{container}/{obj}"]


def _orchestration(mine: httpx.Client, pid: str, values: dict, own) -> None:
    p = "/orchestration"
    o = f"/orchestration/v1/{pid}"
    stack_name = name("stack-a")
    stack = ok(mine.post(f"{o}/stacks", json={"stack_name": stack_name, "template": TEMPLATE}), 201)["stack"]
    deadline = time.monotonic() + 60
    while ok(mine.get(f"{o}/stacks/{stack_name}/{stack['id']}"))["stack"]["stack_status"] != "CREATE_COMPLETE":
        assert time.monotonic() < deadline, "A's stack never completed"
        time.sleep(0.2)
    own(p, "stacks", stack_name)
    own(p, "{stack_name}", stack["id"])
    values[(p, "outputs")] = "word"
    values[(p, "resources")] = "word"
    event = ok(mine.get(f"{o}/stacks/{stack_name}/{stack['id']}/events"))["events"][0]
    own(p, "events", event["id"])
    config = ok(mine.post(f"{o}/software_configs", json={"name": "c", "config": "echo a"}))["software_config"]
    own(p, "software_configs", config["id"])
    deployment = ok(mine.post(f"{o}/software_deployments", json={
        "config_id": config["id"], "server_id": name("server-a")}))["software_deployment"]
    own(p, "software_deployments", deployment["id"])
    own(p, "metadata", deployment["server_id"])
    values[(p, "resource_types")] = "OS::Heat::RandomString"
    values[(p, "template_versions")] = "heat_template_version.2018-08-31"


def _admin_things(root: httpx.Client, values: dict) -> None:
    """The cloud's own records (hosts, providers, classes): real ones, so an admin-only route that forgot its
    policy answers 2xx here rather than a 404 that hides it."""
    c = "/compute/v2.1"
    values[("/compute", "os-hypervisors")] = ok(root.get(f"{c}/os-hypervisors", headers={
        "OpenStack-API-Version": "compute 2.53"}))["hypervisors"][0]["id"]
    services = ok(root.get(f"{c}/os-services", headers={"OpenStack-API-Version": "compute 2.53"}))["services"]
    values[("/compute", "os-services")] = services[0]["id"]
    values[("/compute", "os-hosts")] = services[0]["host"]
    aggregate = ok(root.post(f"{c}/os-aggregates", json={"aggregate": {"name": name("agg")}}))["aggregate"]
    values[("/compute", "os-aggregates")] = str(aggregate["id"])
    provider = ok(root.get("/placement/resource_providers"))["resource_providers"][0]
    values[("/placement", "resource_providers")] = provider["uuid"]
    values[("/placement", "inventories")] = values[("/placement", "resource_classes")] = "VCPU"
    values[("/placement", "traits")] = "COMPUTE_NODE"
    values[("/placement", "allocations")] = values[("/compute", "servers")]
