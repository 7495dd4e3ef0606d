"""Container servers under real runc through the API (no data plane: the servers have no NICs).

Snapshots: createImage, createBackup and shelve.  The first server writes a file as it starts (its metadata's ``container_entrypoint``
runs a shell line before the image's init); its snapshot is an image of the same container format; a
second server booted from it prints the file on its console.  Shelve then unshelve boots the same
container again from the shelved image, with the file.

The serial console: through the console proxy's websocket, a shell in the container.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from onestack.drivers.runc import runtime
from onestack.guestimage import build
from tests.api.helpers import console_output, name, ok, wait
from tests.cloudfixture import Cloud
from tests.drivers.serial import websocket_shell

if os.geteuid() != 0:
    pytest.skip("containers and overlay mounts need root", allow_module_level=True)
if not runtime.installed():
    pytest.skip("runc is not installed (make install installs it)", allow_module_level=True)

pytestmark = pytest.mark.qemu  # a cloud on the QEMU host's driver (its containers under runc, one VM in a stack)
NOVA = {"OpenStack-API-Version": "compute 2.37"}
CGROUPS = Path("/sys/fs/cgroup")  # 'networks': 'none'
WRITE = json.dumps(["/bin/sh", "-c", "mkdir -p /data && echo written-before-the-snapshot > /data/note; "
                                     "exec /sbin/onestack-init"])
READ = json.dumps(["/bin/sh", "-c", "echo note=$(cat /data/note); exec /sbin/onestack-init"])


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    c = Cloud(tmp_path_factory.mktemp("container-snapshots"), settings={"compute": {"driver": "qemu"}}).start()
    registered = subprocess.run([sys.executable, "-m", "onestack", "image", "register", "--data-dir",
                                 str(c.data_dir)], capture_output=True, text=True, timeout=300,
                                env={**c.env, "ONESTACK_IMAGE_CACHE": str(build.default_cache_dir())})
    assert registered.returncode == 0, registered.stdout + registered.stderr
    yield c
    c.purge(check=False)  # the containers outlive onestack: whatever a failure left


@pytest.fixture(scope="module")
def http(cloud):
    with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": cloud.token(), **NOVA}, timeout=120) as client:
        yield client


def boot(http, image_id: str, entrypoint: str) -> str:
    body = {"server": {"name": name("ctr"), "imageRef": image_id, "flavorRef": "1", "networks": "none",
                       "metadata": {"container_entrypoint": entrypoint}}}
    server_id = ok(http.post("/compute/v2.1/servers", json=body), 202)["server"]["id"]
    status(http, server_id, "ACTIVE")
    return server_id


def status(http, server_id: str, wanted: str) -> dict:
    def reached():
        server = ok(http.get(f"/compute/v2.1/servers/{server_id}"))["server"]
        assert server["status"] != "ERROR", server.get("fault")
        return server if server["status"] == wanted and server["OS-EXT-STS:task_state"] is None else None

    return wait(reached, 120, f"server {server_id} to be {wanted}", every=0.1)


def active_image(http, image_id: str) -> dict:
    def done():
        image = ok(http.get(f"/image/v2/images/{image_id}"))
        assert image["status"] not in ("killed", "deleted"), image
        return image if image["status"] == "active" else None

    return wait(done, 120, f"image {image_id} to be active", every=0.1)


def log(http, server_id: str) -> str:
    return console_output(http, server_id, "/compute/v2.1")


def note_on_console(http, server_id: str) -> str:
    return wait(lambda: "note=" in log(http, server_id) and log(http, server_id), 60,
                "the note on the console", every=0.1)


def test_a_server_booted_from_a_container_snapshot_sees_the_files_the_first_one_wrote(http):
    [base] = ok(http.get("/image/v2/images", params={"name": "onestack-tiny-container"}))["images"]
    first = boot(http, base["id"], WRITE)
    wait(lambda: "onestack-tiny-container: up" in log(http, first), 60, "the first container's init")

    made = http.post(f"/compute/v2.1/servers/{first}/action", json={"createImage": {"name": name("snap")}})
    assert made.status_code == 202, made.text  # before 2.45: the image in Location, no body
    snap = active_image(http, made.headers["Location"].rsplit("/", 1)[1])
    assert (snap["container_format"], snap["disk_format"]) == ("oci", "raw"), snap
    assert snap["image_type"] == "snapshot" and snap["instance_uuid"] == first
    assert status(http, first, "ACTIVE")  # the container thawed after the copy

    second = boot(http, snap["id"], READ)
    assert "note=written-before-the-snapshot" in note_on_console(http, second)

    # createBackup: the same image, rotated
    backup = http.post(f"/compute/v2.1/servers/{first}/action", json={"createBackup": {
        "name": name("backup"), "backup_type": "daily", "rotation": 1}})
    assert backup.status_code == 202, backup.text
    assert active_image(http, backup.headers["Location"].rsplit("/", 1)[1])["image_type"] == "backup"

    # shelve (offloaded at once) then unshelve: the container again from the shelved image, the file kept
    ok(http.post(f"/compute/v2.1/servers/{second}/action", json={"shelve": None}), 202)
    shelved = status(http, second, "SHELVED_OFFLOADED")
    assert shelved["OS-EXT-STS:vm_state"] == "shelved_offloaded"
    ok(http.post(f"/compute/v2.1/servers/{second}/action", json={"unshelve": None}), 202)
    status(http, second, "ACTIVE")
    # a new container (the shelved one was destroyed, its console log with it) that has the note
    assert "note=written-before-the-snapshot" in note_on_console(http, second)

    for server_id in (first, second):
        ok(http.delete(f"/compute/v2.1/servers/{server_id}"), 204)


def test_the_serial_console_of_a_container_is_a_shell_in_it_through_the_websocket(http):
    [base] = ok(http.get("/image/v2/images", params={"name": "onestack-tiny-container"}))["images"]
    server_id = boot(http, base["id"], WRITE)
    wait(lambda: "onestack-tiny-container: up" in log(http, server_id), 60, "the container's init")
    url = ok(http.post(f"/compute/v2.1/servers/{server_id}/remote-consoles", json={
        "remote_console": {"protocol": "serial", "type": "serial"}}))["remote_console"]["url"]
    assert url.startswith("ws://")
    shell = websocket_shell(url).ready(60)
    try:
        assert shell.run("cat /data/note; hostname; tty") == \
            f"written-before-the-snapshot\n{ok(http.get(f'/compute/v2.1/servers/{server_id}'))['server']['name']}" \
            "\n/dev/pts/0"
        shell.run("echo typed-on-the-console > /proof")
    finally:
        shell.close()
    # the legacy action (before 2.6) gives a URL to the same console: a new shell sees the file
    legacy = ok(http.post(f"/compute/v2.1/servers/{server_id}/action", json={"os-getSerialConsole": {"type": "serial"}},
                          headers={"OpenStack-API-Version": "compute 2.1"}))["console"]
    assert legacy["type"] == "serial"
    again = websocket_shell(legacy["url"]).ready(60)
    try:
        assert again.run("cat /proof") == "typed-on-the-console"
    finally:
        again.close()
    # no console for a stopped container: Nova's 409
    ok(http.post(f"/compute/v2.1/servers/{server_id}/action", json={"os-stop": None}), 202)
    status(http, server_id, "SHUTOFF")
    refused = http.post(f"/compute/v2.1/servers/{server_id}/remote-consoles", json={
        "remote_console": {"protocol": "serial", "type": "serial"}})
    assert refused.status_code == 409, refused.text
    ok(http.delete(f"/compute/v2.1/servers/{server_id}"), 204)


# -- DockerInc::Docker::Container through python-heatclient ------------------------------------------------
DOCKER_TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "description": "Heat's Docker plugin's container, with a network added, beside a VM",
    "parameters": {"public_net": {"type": "string"}},
    "resources": {
        "net": {"type": "OS::Neutron::Net"},
        "subnet": {"type": "OS::Neutron::Subnet",
                   "properties": {"network": {"get_resource": "net"}, "cidr": "10.78.0.0/24"}},
        "router": {"type": "OS::Neutron::Router",
                   "properties": {"external_gateway_info": {"network": {"get_param": "public_net"}}}},
        "iface": {"type": "OS::Neutron::RouterInterface",
                  "properties": {"router": {"get_resource": "router"}, "subnet": {"get_resource": "subnet"}}},
        "web": {"type": "DockerInc::Docker::Container", "depends_on": ["iface"], "properties": {
            "docker_endpoint": "tcp://192.0.2.10:2376", "image": "onestack-tiny-container",
            "cmd": ["--from", "heat"], "env": ["PORT=8080", "ONESTACK_ADDRESS_WAIT=1"],
            "memory": 100 * 1024 * 1024, "port_specs": ["8080/tcp"], "port_bindings": {"8080/tcp": [{"HostPort": "80"}]},
            "networks": [{"network": {"get_resource": "net"}}], "floating_network": {"get_param": "public_net"}}},
        "vm": {"type": "OS::Nova::Server", "depends_on": ["subnet"], "properties": {
            "image": "onestack-tiny", "flavor": "m1.tiny", "networks": [{"network": {"get_resource": "net"}}]}},
    },
    "outputs": {
        "web_ip": {"value": {"get_attr": ["web", "network_ip"]}},
        "web_gateway": {"value": {"get_attr": ["web", "network_gateway"]}},
        "web_tcp_ports": {"value": {"get_attr": ["web", "network_tcp_ports"]}},
        "web_floating_ip": {"value": {"get_attr": ["web", "floating_ip"]}},
        "web_id": {"value": {"get_resource": "web"}},
        "web_logs_head": {"value": {"get_attr": ["web", "logs_head"]}},
        "vm_ip": {"value": {"get_attr": ["vm", "first_address"]}},
    },
}


@pytest.fixture(scope="module")
def heat(cloud):
    from heatclient import client as heat_client
    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    entry = cloud.clouds["onestack-admin"]["auth"]
    auth = v3.Password(auth_url=entry["auth_url"], username=entry["username"], password=entry["password"],
                       project_name=entry["project_name"], user_domain_name=entry.get("user_domain_name", "Default"),
                       project_domain_name=entry.get("project_domain_name", "Default"))
    return heat_client.Client("1", session=session.Session(auth=auth, verify=cloud.verify))


def stack_settled(heat, stack_id: str, wanted: str):
    def done():
        stack = heat.stacks.get(stack_id)
        assert not stack.stack_status.endswith("FAILED") or wanted.endswith("FAILED"), stack.stack_status_reason
        return stack if stack.stack_status == wanted else None

    return wait(done, 240, f"stack {stack_id} {wanted}", every=0.5)


def stack_gone(heat, stack_id: str) -> bool:
    from heatclient import exc

    try:
        return heat.stacks.get(stack_id).stack_status == "DELETE_COMPLETE"
    except exc.HTTPNotFound:
        return True


def test_a_docker_plugin_template_runs_a_container_beside_a_vm_on_one_network(http, heat):
    public = ok(http.post("/network/v2.0/networks", json={"network": {
        "name": name("public"), "router:external": True}}), 201)["network"]
    ok(http.post("/network/v2.0/subnets", json={"subnet": {
        "network_id": public["id"], "ip_version": 4, "cidr": "203.0.113.0/24", "enable_dhcp": False}}), 201)
    created = heat.stacks.create(stack_name=name("docker"), template=DOCKER_TEMPLATE,
                                 parameters={"public_net": public["id"]})
    stack = stack_settled(heat, created["stack"]["id"], "CREATE_COMPLETE")
    outputs = {o["output_key"]: o["output_value"] for o in stack.outputs}
    web = ok(http.get(f"/compute/v2.1/servers/{outputs['web_id']}"))["server"]
    # a container server of this cloud: the Docker properties became its metadata, a flavor by memory
    assert web["metadata"] == {"container_cmd": '["--from", "heat"]', "container_env_PORT": "8080",
                               "container_env_ONESTACK_ADDRESS_WAIT": "1"}, web["metadata"]
    flavors = ok(http.get("/compute/v2.1/flavors/detail"))["flavors"]
    chosen = next(f for f in flavors if f["id"] == web["flavor"]["id"])
    assert chosen["ram"] == min(f["ram"] for f in flavors if f["ram"] >= 100), chosen  # the smallest with 100 MiB
    # both on the stack's network
    assert outputs["web_ip"].startswith("10.78.0.") and outputs["vm_ip"].startswith("10.78.0.")
    assert outputs["web_gateway"] == "10.78.0.1"
    # port_specs: a floating IP forwarding its port 80 to the container's 8080, and a group letting 8080 in
    assert outputs["web_tcp_ports"] == "80"
    [fip] = ok(http.get("/network/v2.0/floatingips", params={"floating_ip_address": outputs["web_floating_ip"]}))[
        "floatingips"]
    [forwarding] = ok(http.get(f"/network/v2.0/floatingips/{fip['id']}/port_forwardings"))["port_forwardings"]
    assert (forwarding["internal_ip_address"], forwarding["internal_port"], forwarding["external_port"],
            forwarding["protocol"]) == (outputs["web_ip"], 8080, 80, "tcp"), forwarding
    [port] = ok(http.get("/network/v2.0/ports", params={"device_id": web["id"]}))["ports"]
    rules = [r for g in port["security_groups"]
             for r in ok(http.get(f"/network/v2.0/security-groups/{g}"))["security_group"]["security_group_rules"]]
    assert any(r["direction"] == "ingress" and r["port_range_min"] == 8080 and r["protocol"] == "tcp" for r in rules)
    # the container runs: its init printed its marker (the env's short address wait), its cmd and env inside
    wait(lambda: "onestack-tiny-container: up" in log(http, web["id"]), 60, "the container's marker")
    url = ok(http.post(f"/compute/v2.1/servers/{web['id']}/remote-consoles", json={
        "remote_console": {"protocol": "serial", "type": "serial"}}))["remote_console"]["url"]
    shell = websocket_shell(url).ready(60)
    try:
        assert shell.run("tr '\\0' ' ' < /proc/1/cmdline; echo; echo port=$PORT") == \
            "/bin/sh /sbin/onestack-init --from heat \nport=8080"
    finally:
        shell.close()
    shown = {o["output_key"]: o["output_value"] for o in heat.stacks.get(stack.id).outputs}
    assert "onestack-tiny-container: up" in shown["web_logs_head"], shown

    # stack suspend stops the container (it cannot be suspended), resume starts it
    heat.actions.suspend(stack.id)
    stack_settled(heat, stack.id, "SUSPEND_COMPLETE")
    assert ok(http.get(f"/compute/v2.1/servers/{web['id']}"))["server"]["status"] == "SHUTOFF"
    heat.actions.resume(stack.id)
    stack_settled(heat, stack.id, "RESUME_COMPLETE")
    assert ok(http.get(f"/compute/v2.1/servers/{web['id']}"))["server"]["status"] == "ACTIVE"

    # delete: the servers, the floating IP and the ports' group go
    group_ids = set(port["security_groups"])
    heat.stacks.delete(stack.id)
    wait(lambda: stack_gone(heat, stack.id), 240, "the stack deleted", every=0.5)
    assert http.get(f"/compute/v2.1/servers/{web['id']}").status_code == 404
    assert http.get(f"/network/v2.0/floatingips/{fip['id']}").status_code == 404
    remaining = {g["id"] for g in ok(http.get("/network/v2.0/security-groups"))["security_groups"]}
    assert [g for g in group_ids & remaining
            if ok(http.get(f"/network/v2.0/security-groups/{g}"))["security_group"]["name"] != "default"] == []


SERVERS_TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "description": "Two OS::Nova::Server on one network: one of a container image, one of a VM image",
    "resources": {
        "net": {"type": "OS::Neutron::Net"},
        "subnet": {"type": "OS::Neutron::Subnet",
                   "properties": {"network": {"get_resource": "net"}, "cidr": "10.79.0.0/24"}},
        "container": {"type": "OS::Nova::Server", "depends_on": ["subnet"], "properties": {
            "image": "onestack-tiny-container", "flavor": "m1.tiny",
            "networks": [{"network": {"get_resource": "net"}}]}},
        "vm": {"type": "OS::Nova::Server", "depends_on": ["subnet"], "properties": {
            "image": "onestack-tiny", "flavor": "m1.tiny", "networks": [{"network": {"get_resource": "net"}}]}},
    },
    "outputs": {
        "container_id": {"value": {"get_resource": "container"}},
        "container_ip": {"value": {"get_attr": ["container", "first_address"]}},
        "vm_id": {"value": {"get_resource": "vm"}},
        "vm_ip": {"value": {"get_attr": ["vm", "first_address"]}},
    },
}


def test_an_os_nova_server_of_a_container_image_runs_in_a_stack_beside_a_vm(cloud, http, heat):
    created = heat.stacks.create(stack_name=name("servers"), template=SERVERS_TEMPLATE)
    stack = stack_settled(heat, created["stack"]["id"], "CREATE_COMPLETE")
    outputs = {o["output_key"]: o["output_value"] for o in stack.outputs}
    assert outputs["container_ip"].startswith("10.79.0.") and outputs["vm_ip"].startswith("10.79.0.")
    # the container's server is a container under runc on this host, the VM's is not
    container_id, vm_id = outputs["container_id"], outputs["vm_id"]
    assert container_pid(cloud, container_id) > 0
    assert not (cloud.data_dir / "compute" / "runc" / "instances" / vm_id).exists()
    assert (cloud.data_dir / "compute" / "instances" / vm_id).is_dir()
    wait(lambda: "onestack-tiny-container: up" in log(http, container_id), 60, "the container's marker")
    heat.stacks.delete(stack.id)
    wait(lambda: stack_gone(heat, stack.id), 240, "the stack deleted", every=0.5)
    for server_id in (container_id, vm_id):
        assert http.get(f"/compute/v2.1/servers/{server_id}").status_code == 404
    assert not (cloud.data_dir / "compute" / "runc" / "instances" / container_id).exists()


def test_docker_properties_this_cloud_cannot_honour_are_refused_with_the_reason(http, heat):
    from heatclient import exc

    for key, value, why in (("privileged", True, "never privileged"), ("volumes", {"/data": "/srv"}, "host directory"),
                            ("links", {"db": "db"}, "shared network"), ("dns", ["192.0.2.53"], "dns_nameservers"),
                            ("restart_policy", {"Name": "always"}, "SHUTOFF"), ("env", ["NOVALUE"], "NAME=value"),
                            ("port_specs", ["80/sctp"], "port/udp"), ("hostname", "other", "follows its server")):
        template = {"heat_template_version": "2018-08-31", "resources": {"c": {
            "type": "DockerInc::Docker::Container", "properties": {
                "image": "onestack-tiny-container", "name": "web", key: value}}}}
        with pytest.raises(exc.HTTPBadRequest) as refused:
            heat.stacks.create(stack_name=name("refused"), template=template)
        assert key in str(refused.value) and why in str(refused.value), str(refused.value)
        with pytest.raises(exc.HTTPBadRequest) as invalid:  # template validate says the same
            heat.stacks.validate(template=template)
        assert why in str(invalid.value), str(invalid.value)
    # the type's schema, as `openstack orchestration resource type show` gives it, says what is ignored and refused
    schema = heat.resource_types.get("DockerInc::Docker::Container")
    assert schema["properties"]["docker_endpoint"]["description"].startswith("Docker daemon endpoint. Ignored")
    assert "Refused" in schema["properties"]["privileged"]["description"]
    assert {"network_ip", "logs", "floating_ip"} <= set(schema["attributes"])
    # an image that makes a VM: the resource fails, saying why
    template = {"heat_template_version": "2018-08-31", "resources": {"c": {
        "type": "DockerInc::Docker::Container", "properties": {"image": "onestack-tiny"}}}}
    made = heat.stacks.create(stack_name=name("vm-image"), template=template)
    failed = stack_settled(heat, made["stack"]["id"], "CREATE_FAILED")
    assert "is not a container image" in failed.stack_status_reason, failed.stack_status_reason
    heat.stacks.delete(made["stack"]["id"])


def test_the_snapshot_of_a_container_whose_image_was_deleted_still_boots_a_container(http):
    from onestack.guestimage import container

    own = ok(http.post("/image/v2/images", json={"name": name("own-base"), "disk_format": "raw",
                                                  "container_format": "oci"}), 201)
    ok(http.put(f"/image/v2/images/{own['id']}/file", content=container.build().path.read_bytes(),
                headers={"Content-Type": "application/octet-stream"}), 204)
    first = boot(http, own["id"], WRITE)
    wait(lambda: "onestack-tiny-container: up" in log(http, first), 60, "the container's init")
    ok(http.delete(f"/image/v2/images/{own['id']}"), 204)  # Glance lets an image in use go
    made = http.post(f"/compute/v2.1/servers/{first}/action", json={"createImage": {"name": name("orphan")}})
    assert made.status_code == 202, made.text
    snap = active_image(http, made.headers["Location"].rsplit("/", 1)[1])
    # nothing to inherit the container format from: Nova's hypervisor_type says what it boots
    assert (snap["container_format"], snap["hypervisor_type"]) == ("bare", "container"), snap
    second = boot(http, snap["id"], READ)
    assert "note=written-before-the-snapshot" in note_on_console(http, second)
    for server_id in (first, second):
        ok(http.delete(f"/compute/v2.1/servers/{server_id}"), 204)


def limits(server_id: str) -> tuple[int, int]:
    """The running container's memory limit (MiB) and CPU quota (µs per period), read from its cgroups."""
    memory = CGROUPS / "memory" / "onestack" / server_id / "memory.limit_in_bytes"
    quota = CGROUPS / "cpu" / "onestack" / server_id / "cpu.cfs_quota_us"
    return int(memory.read_text()) // 2**20, int(quota.read_text())


def container_pid(cloud, server_id: str) -> int:
    state = subprocess.run(["runc", "--root", str(cloud.data_dir / "compute" / "runc" / "runc"), "state", server_id],
                           capture_output=True, text=True, check=True)
    return json.loads(state.stdout)["pid"]


def test_a_resize_gives_the_running_container_the_new_flavors_limits_and_a_revert_the_old(cloud, http):
    [base] = ok(http.get("/image/v2/images", params={"name": "onestack-tiny-container"}))["images"]
    bigger = ok(http.post("/compute/v2.1/flavors", json={"flavor": {
        "name": name("ctr-2cpu"), "ram": 768, "vcpus": 2, "disk": 1}}))["flavor"]
    server_id = boot(http, base["id"], WRITE)
    wait(lambda: "onestack-tiny-container: up" in log(http, server_id), 60, "the container's init")
    pid = container_pid(cloud, server_id)
    assert limits(server_id) == (512, 100_000)  # m1.tiny: 512 MB, one vCPU

    ok(http.post(f"/compute/v2.1/servers/{server_id}/action", json={"resize": {"flavorRef": bigger["id"]}}), 202)
    assert status(http, server_id, "VERIFY_RESIZE")["flavor"]["id"] == bigger["id"]
    assert limits(server_id) == (768, 200_000)
    assert container_pid(cloud, server_id) == pid, "the resize restarted the container"
    ok(http.post(f"/compute/v2.1/servers/{server_id}/action", json={"revertResize": None}), 202)
    assert status(http, server_id, "ACTIVE")["flavor"]["id"] == "1"
    assert limits(server_id) == (512, 100_000)

    ok(http.post(f"/compute/v2.1/servers/{server_id}/action", json={"resize": {"flavorRef": bigger["id"]}}), 202)
    status(http, server_id, "VERIFY_RESIZE")
    ok(http.post(f"/compute/v2.1/servers/{server_id}/action", json={"confirmResize": None}), 204)
    assert status(http, server_id, "ACTIVE")["flavor"]["id"] == bigger["id"]
    assert limits(server_id) == (768, 200_000)
    assert container_pid(cloud, server_id) == pid
    ok(http.delete(f"/compute/v2.1/servers/{server_id}"), 204)
    ok(http.delete(f"/compute/v2.1/flavors/{bigger['id']}"), 202)


def runc_status(cloud, server_id: str) -> str | None:
    state = subprocess.run(["runc", "--root", str(cloud.data_dir / "compute" / "runc" / "runc"), "state", server_id],
                           capture_output=True, text=True)
    return json.loads(state.stdout)["status"] if state.returncode == 0 else None


def test_pause_reboot_stop_and_start_of_a_container_through_the_api(cloud, http):
    [base] = ok(http.get("/image/v2/images", params={"name": "onestack-tiny-container"}))["images"]
    server_id = boot(http, base["id"], WRITE)
    wait(lambda: "onestack-tiny-container: up" in log(http, server_id), 60, "the container's init")
    freezer = CGROUPS / "freezer" / "onestack" / server_id / "freezer.state"

    def act(body: dict, wanted: str) -> None:
        ok(http.post(f"/compute/v2.1/servers/{server_id}/action", json=body), 202)
        status(http, server_id, wanted)

    act({"pause": None}, "PAUSED")
    assert runc_status(cloud, server_id) == "paused" and freezer.read_text().strip() == "FROZEN"
    act({"unpause": None}, "ACTIVE")
    assert runc_status(cloud, server_id) == "running" and freezer.read_text().strip() == "THAWED"
    for kind in ("SOFT", "HARD"):  # a new init each time, the console log kept across
        before = container_pid(cloud, server_id)
        markers = log(http, server_id).count("onestack-tiny-container: up")
        act({"reboot": {"type": kind}}, "ACTIVE")
        assert container_pid(cloud, server_id) != before, kind
        wait(lambda m=markers: log(http, server_id).count("onestack-tiny-container: up") == m + 1, 60,
             f"the marker again after a {kind} reboot")
    act({"os-stop": None}, "SHUTOFF")
    assert runc_status(cloud, server_id) is None and not freezer.exists()
    act({"os-start": None}, "ACTIVE")
    assert runc_status(cloud, server_id) == "running"
    ok(http.delete(f"/compute/v2.1/servers/{server_id}"), 204)


def test_a_kill_9_during_a_container_snapshot_leaves_no_half_image_and_no_frozen_container(cloud, http):
    """Last in the module: it restarts the cloud."""
    [base] = ok(http.get("/image/v2/images", params={"name": "onestack-tiny-container"}))["images"]
    big = json.dumps(["/bin/sh", "-c", "dd if=/dev/zero of=/big bs=1M count=200 2>/dev/null; "
                                       "exec /sbin/onestack-init"])
    server_id = boot(http, base["id"], big)
    wait(lambda: "onestack-tiny-container: up" in log(http, server_id), 120, "the container's init")
    made = http.post(f"/compute/v2.1/servers/{server_id}/action", json={"createImage": {"name": name("cut")}})
    assert made.status_code == 202, made.text
    image_id = made.headers["Location"].rsplit("/", 1)[1]
    staging = cloud.data_dir / "compute" / "snapshots"
    # kill -9 while the driver writes the image (its work directory beside the staged file)
    wait(lambda: staging.is_dir() and any(p.name.startswith(f".{image_id}.") for p in staging.iterdir()), 60,
         "the snapshot's work directory", every=0.002)
    cloud.kill_9()
    state = subprocess.run(["runc", "--root", str(cloud.data_dir / "compute" / "runc" / "runc"), "state", server_id],
                           capture_output=True, text=True)
    assert json.loads(state.stdout)["status"] == "paused", "the kill did not land while the container was frozen"

    cloud.start()
    http.headers["X-Auth-Token"] = cloud.token()
    image = active_image(http, image_id)  # the snapshot taken again from the start
    assert image["size"] > 200 * 1024 * 1024
    status(http, server_id, "ACTIVE")
    state = subprocess.run(["runc", "--root", str(cloud.data_dir / "compute" / "runc" / "runc"), "state", server_id],
                           capture_output=True, text=True)
    assert json.loads(state.stdout)["status"] == "running", "the container stayed frozen"
    assert [p.name for p in staging.iterdir() if image_id in p.name] == [], "a half image was left behind"
    ok(http.delete(f"/compute/v2.1/servers/{server_id}"), 204)
    ok(http.delete(f"/image/v2/images/{image_id}"), 204)
