"""The metadata service over its Unix socket (as the network's metadata proxy reaches it) and over TCP
with Nova's signed instance id, for a server of a real cloud on the fake driver."""

import base64
import hashlib
import hmac
import json
import time

import httpx
import pytest

from tests.api.helpers import name, ok
from tests.cloudfixture import Cloud, free_port

SECRET = "proxy-secret-for-tests"
MV = {"X-OpenStack-Nova-API-Version": "2.1"}
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEz6mXv7gGZ0Q2hZJb0bE2mEnp8xkq2uYtfdWlQd8tUm md@onestack"


@pytest.fixture(scope="module")
def md_cloud(tmp_path_factory):
    cloud = Cloud(tmp_path_factory.mktemp("md"), settings={
        "metadata": {"bind": f"127.0.0.1:{free_port()}", "proxy_shared_secret": SECRET}}).start()
    yield cloud
    cloud.stop()


@pytest.fixture(scope="module")
def guest(md_cloud):
    """A server with a key, user data and a floating IP; what the proxy would say about it."""
    headers = {"X-Auth-Token": md_cloud.token()}
    with httpx.Client(base_url=md_cloud.url, headers=headers, timeout=60) as http:
        image = ok(http.post("/image/v2/images", json={"name": "img", "disk_format": "raw",
                                                        "container_format": "bare"}), 201)
        ok(http.put(f"/image/v2/images/{image['id']}/file", content=b"\0" * 4096,
                    headers={"Content-Type": "application/octet-stream"}), 204)
        net = ok(http.post("/network/v2.0/networks", json={"network": {"name": name("net")}}), 201)["network"]
        subnet = ok(http.post("/network/v2.0/subnets", json={"subnet": {
            "network_id": net["id"], "ip_version": 4, "cidr": "10.31.0.0/24"}}), 201)["subnet"]
        public = ok(http.post("/network/v2.0/networks", json={"network": {
            "name": name("ext"), "router:external": True}}), 201)["network"]
        ok(http.post("/network/v2.0/subnets", json={"subnet": {"network_id": public["id"], "ip_version": 4,
                                                               "cidr": "172.31.9.0/24"}}), 201)
        router = ok(http.post("/network/v2.0/routers", json={"router": {
            "name": name("r"), "external_gateway_info": {"network_id": public["id"]}}}), 201)["router"]
        ok(http.put(f"/network/v2.0/routers/{router['id']}/add_router_interface", json={"subnet_id": subnet["id"]}))
        ok(http.post("/compute/v2.1/os-keypairs", headers=MV, json={"keypair": {"name": "mdkey", "public_key": KEY}}))
        body = {"server": {"name": "Meta Data", "imageRef": image["id"], "flavorRef": "1", "key_name": "mdkey",
                           "user_data": base64.b64encode(b"#!/bin/sh\necho hi\n").decode(),
                           "metadata": {"role": "db"}, "networks": [{"uuid": net["id"]}]}}
        server = ok(http.post("/compute/v2.1/servers", headers=MV, json=body), 202)["server"]
        deadline = time.monotonic() + 60
        while ok(http.get(f"/compute/v2.1/servers/{server['id']}", headers=MV))["server"]["status"] != "ACTIVE":
            assert time.monotonic() < deadline, "server never became ACTIVE"
            time.sleep(0.2)
        port = ok(http.get("/network/v2.0/ports", params={"device_id": server["id"]}))["ports"][0]
        fip = ok(http.post("/network/v2.0/floatingips", json={"floatingip": {
            "floating_network_id": public["id"], "port_id": port["id"]}}), 201)["floatingip"]
        project_id = ok(http.get(f"/compute/v2.1/servers/{server['id']}", headers=MV))["server"]["tenant_id"]
    return {"id": server["id"], "ip": port["fixed_ips"][0]["ip_address"], "network_id": net["id"],
            "router_id": router["id"], "image_id": image["id"], "floating": fip["floating_ip_address"],
            "project_id": project_id}


@pytest.fixture(scope="module")
def md(md_cloud):
    """A client of the Unix socket, as the metadata proxy in the DHCP namespace is."""
    transport = httpx.HTTPTransport(uds=str(md_cloud.data_dir / "metadata.sock"))
    with httpx.Client(transport=transport, base_url="http://169.254.169.254", timeout=30) as client:
        yield client


def proxied(guest, **extra) -> dict:
    return {"X-Forwarded-For": guest["ip"], "X-Neutron-Network-ID": guest["network_id"], **extra}


def test_socket_is_private(md_cloud):
    assert (md_cloud.data_dir / "metadata.sock").stat().st_mode & 0o777 == 0o600


def test_openstack_tree(md, guest):
    headers = proxied(guest)
    versions = md.get("/openstack", headers=headers)
    assert versions.status_code == 200
    assert versions.text.split("\n") == ["2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30",
                                         "2016-10-06", "2017-02-22", "2018-08-27", "2020-10-14", "latest"]
    assert set(md.get("/openstack/latest", headers=headers).text.split("\n")) == {
        "meta_data.json", "user_data", "password", "vendor_data.json", "network_data.json", "vendor_data2.json"}
    assert md.get("/openstack/2012-08-10/", headers=headers).text.split("\n") == ["meta_data.json", "user_data"]
    meta = md.get("/openstack/latest/meta_data.json", headers=headers)
    assert meta.headers["content-type"].startswith("application/json")
    body = meta.json()
    assert body["uuid"] == guest["id"] and body["hostname"] == "meta-data" and body["name"] == "Meta Data"
    assert body["public_keys"] == {"mdkey": KEY} and body["keys"][0]["data"] == KEY
    assert body["meta"] == {"role": "db"} and body["project_id"] == guest["project_id"]
    assert body["availability_zone"] == "nova" and len(base64.b64decode(body["random_seed"])) == 512
    assert "random_seed" not in md.get("/openstack/2012-08-10/meta_data.json", headers=headers).json()
    network = md.get("/openstack/latest/network_data.json", headers=headers).json()
    assert network["networks"][0]["network_id"] == guest["network_id"]
    assert md.get("/openstack/latest/user_data", headers=headers).content == b"#!/bin/sh\necho hi\n"
    assert md.get("/openstack/latest/vendor_data.json", headers=headers).json() == {}
    assert md.get("/openstack/latest/vendor_data2.json", headers=headers).json() == {}
    assert md.get("/openstack/2011-01-01/meta_data.json", headers=headers).status_code == 404
    assert md.get("/openstack/latest/nothing", headers=headers).status_code == 404


def test_router_header_finds_the_instance_too(md, guest):
    headers = {"X-Forwarded-For": guest["ip"], "X-Neutron-Router-ID": guest["router_id"]}
    assert md.get("/openstack/latest/meta_data.json", headers=headers).json()["uuid"] == guest["id"]


def test_ec2_tree(md, guest, md_cloud):
    headers = proxied(guest)
    assert md.get("/", headers=headers).text.split("\n")[-2:] == ["2009-04-04", "latest"]
    assert md.get("/").status_code == 200  # the versions are listed before anyone is identified
    assert set(md.get("/latest", headers=headers).text.split("\n")) == {"meta-data/", "user-data"}
    listing = md.get("/latest/meta-data/", headers=headers).text.split("\n")
    assert {"instance-id", "hostname", "local-ipv4", "public-ipv4", "public-keys/", "placement/", "ami-id",
            "instance-type", "security-groups", "block-device-mapping/"} <= set(listing)
    number = md.get("/latest/meta-data/instance-id", headers=headers).text
    assert number.startswith("i-") and len(number) == 10 and int(number[2:], 16) > 0
    assert md.get("/latest/meta-data/local-ipv4", headers=headers).text == guest["ip"]
    assert md.get("/latest/meta-data/public-ipv4", headers=headers).text == guest["floating"]
    assert md.get("/latest/meta-data/hostname", headers=headers).text == "meta-data"
    assert md.get("/latest/meta-data/ami-id", headers=headers).text == "ami-" + guest["image_id"][:8]
    assert md.get("/latest/meta-data/instance-type", headers=headers).text == "m1.tiny"
    assert md.get("/latest/meta-data/placement/availability-zone", headers=headers).text == "nova"
    assert md.get("/latest/meta-data/public-keys/", headers=headers).text == "0=mdkey"
    assert md.get("/latest/meta-data/public-keys/0/", headers=headers).text == "openssh-key"
    assert md.get("/latest/meta-data/public-keys/0/openssh-key", headers=headers).text == KEY
    assert md.get("/2009-04-04/user-data", headers=headers).content == b"#!/bin/sh\necho hi\n"
    assert md.get("/latest/meta-data/nothing", headers=headers).status_code == 404


def test_password_is_posted_once(md, guest, md_cloud):
    headers = proxied(guest)
    assert md.get("/openstack/latest/password", headers=headers).text == ""
    assert md.post("/openstack/latest/password", headers=headers, content=b"x" * 257).status_code == 400
    assert md.post("/openstack/latest/password", headers=headers, content=b"c2VjcmV0").status_code == 200
    assert md.get("/openstack/2013-04-04/password", headers=headers).text == "c2VjcmV0"
    assert md.post("/openstack/latest/password", headers=headers, content=b"again").status_code == 409
    # the owner reads it through the compute API, and clearing it lets the guest post again
    with httpx.Client(base_url=f"{md_cloud.url}/compute/v2.1", headers={"X-Auth-Token": md_cloud.token(), **MV},
                      timeout=30) as nova:
        assert nova.get(f"/servers/{guest['id']}/os-server-password").json() == {"password": "c2VjcmV0"}
        assert nova.delete(f"/servers/{guest['id']}/os-server-password").status_code == 204
        assert nova.get(f"/servers/{guest['id']}/os-server-password").json() == {"password": ""}
    assert md.post("/openstack/latest/password", headers=headers, content=b"bmV3").status_code == 200
    assert md.post("/openstack/latest/meta_data.json", headers=headers).status_code == 405


def test_who_is_asking(md, guest):
    assert md.get("/openstack/latest/meta_data.json").status_code == 400
    assert md.get("/openstack/latest/meta_data.json", headers={"X-Forwarded-For": guest["ip"]}).status_code == 400
    other_net = {"X-Forwarded-For": guest["ip"], "X-Neutron-Network-ID": "00000000-0000-0000-0000-000000000000"}
    assert md.get("/openstack/latest/meta_data.json", headers=other_net).status_code == 404
    unknown_ip = proxied(guest, **{"X-Forwarded-For": "10.31.0.250"})
    assert md.get("/openstack/latest/meta_data.json", headers=unknown_ip).status_code == 404


def test_signed_requests_over_tcp(md_cloud, guest):
    bind = md_cloud.settings["metadata"]["bind"]
    signature = hmac.new(SECRET.encode(), guest["id"].encode(), hashlib.sha256).hexdigest()
    signed = {"X-Instance-ID": guest["id"], "X-Tenant-ID": guest["project_id"], "X-Instance-ID-Signature": signature}
    with httpx.Client(base_url=f"http://{bind}", timeout=30) as tcp:
        body = json.loads(tcp.get("/openstack/latest/meta_data.json", headers=signed).content)
        assert body["uuid"] == guest["id"]
        assert tcp.get("/openstack/latest/meta_data.json", headers={**signed, "X-Instance-ID-Signature": "0" * 64}
                       ).status_code == 403
        assert tcp.get("/openstack/latest/meta_data.json", headers={**signed, "X-Tenant-ID": "another"}
                       ).status_code == 404
        missing = {k: v for k, v in signed.items() if k != "X-Tenant-ID"}
        assert tcp.get("/openstack/latest/meta_data.json", headers=missing).status_code == 400
        # on TCP the proxy's unsigned headers are not believed
        assert tcp.get("/openstack/latest/meta_data.json", headers=proxied(guest)).status_code == 400
