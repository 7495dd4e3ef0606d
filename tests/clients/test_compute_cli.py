"""The unmodified `openstack` CLI on compute's catalogue: flavors, keypairs, quotas and limits."""

import json
import time

import httpx

from tests.api.helpers import name


def cli_json(cloud, *args, os_cloud="onestack-admin"):
    return json.loads(cloud.openstack(*args, "-f", "json", cloud=os_cloud).stdout)


def test_flavor_lifecycle(cloud):
    fname = name("cli-fl")
    created = cli_json(cloud, "flavor", "create", fname, "--ram", "256", "--disk", "1", "--vcpus", "2",
                       "--private", "--project", "demo", "--property", "hw:cpu_policy=shared")
    assert created["ram"] == 256 and created["vcpus"] == 2 and created["os-flavor-access:is_public"] is False
    cloud.openstack("flavor", "set", "--property", "hw:numa_nodes=1", fname)
    shown = cli_json(cloud, "flavor", "show", fname)
    assert shown["properties"] == {"hw:cpu_policy": "shared", "hw:numa_nodes": "1"}
    assert len(shown["access_project_ids"]) == 1
    # the demo project was given access; a private flavor shows up in its list
    assert fname in [f["Name"] for f in cli_json(cloud, "flavor", "list", os_cloud="onestack")]
    assert "m1.tiny" in [f["Name"] for f in cli_json(cloud, "flavor", "list")]
    cloud.openstack("flavor", "delete", fname)
    assert cloud.openstack("flavor", "show", fname, check=False).returncode != 0
    refused = cloud.openstack("flavor", "create", name("cli-fl"), "--ram", "1", "--vcpus", "1", cloud="onestack",
                              check=False)
    assert refused.returncode != 0 and "403" in refused.stderr


def test_keypair_lifecycle(cloud, tmp_path):
    kname = name("cli-kp")
    private = tmp_path / "id_kp"
    created = cli_json(cloud, "keypair", "create", kname, "--private-key", str(private), os_cloud="onestack")
    assert created["name"] == kname and created["type"] == "ssh" and private.read_text().startswith("-----BEGIN")
    names = [k["Name"] for k in cli_json(cloud, "keypair", "list", os_cloud="onestack")]
    assert kname in names
    # another user does not see it
    assert kname not in [k["Name"] for k in cli_json(cloud, "keypair", "list")]
    cloud.openstack("keypair", "delete", kname, cloud="onestack")
    assert kname not in [k["Name"] for k in cli_json(cloud, "keypair", "list", os_cloud="onestack")]


def test_quota_show_and_set(cloud):
    cloud.openstack("quota", "set", "--instances", "17", "--cores", "33", "demo")
    try:
        rows = {r["Resource"]: r["Limit"] for r in cli_json(cloud, "quota", "show", "--compute", "demo")}
        assert rows["instances"] == 17 and rows["cores"] == 33 and rows["ram"] == 51200
        refused = cloud.openstack("quota", "set", "--instances", "1", "demo", cloud="onestack", check=False)
        assert refused.returncode != 0 and "403" in refused.stderr
    finally:
        cloud.openstack("quota", "set", "--instances", "10", "--cores", "20", "demo")


def test_limits_show_absolute(cloud):
    """`limits show` asks compute, then the volume service the catalog lists: the table shows both (under
    openstacksdk's names); what the CLI received from compute is checked in its debug log too."""
    cloud.openstack("quota", "set", "--instances", "9", "demo")
    try:
        out = cloud.openstack("limits", "show", "--absolute", "-f", "json", "--debug", cloud="onestack", check=False)
    finally:
        cloud.openstack("quota", "set", "--instances", "10", "demo")
    assert '"GET /compute/v2.1/limits?reserved=False HTTP/1.1" 200' in out.stderr
    received = next(json.loads(line.split("RESP BODY: ", 1)[1]) for line in out.stderr.splitlines()
                    if line.startswith('RESP BODY: {"limits"'))
    absolute = received["limits"]["absolute"]
    assert absolute["maxTotalInstances"] == 9 and absolute["maxTotalCores"] == 20
    # Other tests in this cloud leave demo's servers behind: usage is what demo's servers really hold.
    servers = demo_servers(cloud)
    assert absolute["totalInstancesUsed"] == len(servers)
    assert absolute["totalRAMUsed"] == sum(s["flavor"]["ram"] for s in servers)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = {r["Name"]: r["Value"] for r in json.loads(out.stdout)}
    assert rows["max_total_instances"] == 9 and rows["max_total_volumes"] == 10


def demo_servers(cloud) -> list[dict]:
    """The demo project's servers, each with its flavor's sizes (compute 2.47 embeds them)."""
    demo = cli_json(cloud, "project", "show", "demo")["id"]
    with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": cloud.token()}, timeout=30) as http:
        answer = http.get("/compute/v2.1/servers/detail", params={"all_tenants": "1", "project_id": demo},
                          headers={"OpenStack-API-Version": "compute 2.47"})
    assert answer.status_code == 200, answer.text
    return answer.json()["servers"]


def cli_network(cloud, cidr: str) -> str:
    """A demo-project network with one subnet on ``cidr``, made with the CLI; its name."""
    net = name("cli-net")
    cli_json(cloud, "network", "create", net, os_cloud="onestack")
    cli_json(cloud, "subnet", "create", "--network", net, "--subnet-range", cidr, name("cli-sub"), os_cloud="onestack")
    return net


def cli_image(cloud) -> str:
    """A small public raw image, made with the CLI; its name."""
    image = name("cli-img")
    cloud.openstack("image", "create", "--file", "/etc/hostname", "--disk-format", "raw", "--container-format",
                    "bare", "--public", image)
    return image


def cli_server(cloud, cidr: str) -> tuple[dict, str]:
    """A demo-project server ACTIVE on a network of its own: the server (as `server create` shows it) and
    the network's name."""
    net = cli_network(cloud, cidr)
    server = cli_json(cloud, "server", "create", "--image", cli_image(cloud), "--flavor", "m1.tiny", "--network",
                      net, "--wait", name("cli-vm"), os_cloud="onestack")
    return server, net


def test_server_lifecycle_with_the_cli(cloud, tmp_path):
    """The first-instance story: a network, a key, a server that reaches ACTIVE with an address, power actions."""
    key, demo = name("cli-key"), {"os_cloud": "onestack"}
    net, image = cli_network(cloud, "10.44.0.0/24"), cli_image(cloud)
    cli_json(cloud, "keypair", "create", key, "--private-key", str(tmp_path / "key"), **demo)
    server = cli_json(cloud, "server", "create", "--image", image, "--flavor", "m1.tiny", "--network", net,
                      "--key-name", key, "--wait", name("cli-vm"), **demo)
    assert server["status"] == "ACTIVE" and server["key_name"] == key
    assert server["addresses"][net][0].startswith("10.44.0.")
    listed = cli_json(cloud, "server", "list", "--long", **demo)
    row = next(r for r in listed if r["ID"] == server["id"])
    assert row["Status"] == "ACTIVE" and row["Power State"] in (1, "Running")  # JSON output keeps the number
    cloud.openstack("server", "stop", server["id"], cloud="onestack")
    assert wait_status(cloud, server["id"], "SHUTOFF")
    cloud.openstack("server", "start", server["id"], cloud="onestack")
    assert wait_status(cloud, server["id"], "ACTIVE")
    cloud.openstack("server", "reboot", "--hard", "--wait", server["id"], cloud="onestack")
    assert cli_json(cloud, "server", "show", server["id"], **demo)["status"] == "ACTIVE"
    cloud.openstack("server", "delete", "--wait", server["id"], cloud="onestack")
    assert cloud.openstack("server", "show", server["id"], cloud="onestack", check=False).returncode != 0


def wait_status(cloud, server_id: str, status: str, timeout: float = 30, os_cloud: str = "onestack") -> bool:
    """`openstack server stop/start` return at once (no --wait in this client): poll as a user would."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cli_json(cloud, "server", "show", server_id, os_cloud=os_cloud)["status"] == status:
            return True
        time.sleep(0.5)
    return False


def test_anti_affinity_with_the_cli(cloud):
    group = cli_json(cloud, "server", "group", "create", "--policy", "anti-affinity", name("cli-grp"),
                     os_cloud="onestack")
    image = cli_image(cloud)
    made = [cli_json(cloud, "server", "create", "--image", image, "--flavor", "m1.tiny", "--nic", "none",
                     "--hint", f"group={group['id']}", "--wait", name("cli-aa"))
            for _ in range(2)]
    hosts = {m["OS-EXT-SRV-ATTR:host"] for m in made}
    assert len(hosts) == 2  # the test cloud runs two fake hosts
    third = cloud.openstack("server", "create", "--image", image, "--flavor", "m1.tiny", "--nic", "none",
                            "--hint", f"group={group['id']}", "--wait", name("cli-aa"), check=False)
    assert third.returncode != 0
    errored = [s for s in cli_json(cloud, "server", "list", "--status", "ERROR") if s["Name"].startswith("cli-aa")]
    assert errored
    fault = cli_json(cloud, "server", "show", errored[0]["ID"])["fault"]
    assert "No valid host was found" in fault["message"]
