"""The unmodified `openstack` CLI against a real onestack server."""

import json
import os
import subprocess
import sys

import httpx

from tests.api.helpers import name


def cli_json(cloud, *args, os_cloud="onestack-admin"):
    return json.loads(cloud.openstack(*args, "-f", "json", cloud=os_cloud).stdout)


def token_issue_from_env(cloud, **variables) -> dict:
    """`openstack token issue` configured by OS_* variables alone, the keystonerc way."""
    env = {k: v for k, v in cloud.env.items() if k != "OS_CLIENT_CONFIG_FILE"}
    env.update(OS_AUTH_URL=cloud.auth_url, OS_IDENTITY_API_VERSION="3", **variables)
    exe = os.path.join(os.path.dirname(sys.executable), "openstack")
    out = subprocess.run([exe, "token", "issue", "-f", "json"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_token_issue_for_both_clouds(cloud):
    admin = cli_json(cloud, "token", "issue")
    demo = cli_json(cloud, "token", "issue", os_cloud="onestack")
    assert admin["id"] and admin["project_id"] != demo["project_id"]


def test_catalog_list(cloud):
    types = {entry["Type"] for entry in cli_json(cloud, "catalog", "list")}
    assert {"identity", "compute", "network", "image", "block-storage", "object-store"} <= types


def test_admin_workflow(cloud):
    project, user = name("cli-p"), name("cli-u")
    created = cli_json(cloud, "project", "create", project, "--description", "from the cli")
    assert created["name"] == project and created["domain_id"] == "default"
    cli_json(cloud, "user", "create", user, "--password", "cli-pass-1", "--project", project)
    cloud.openstack("role", "add", "--project", project, "--user", user, "member")
    rows = cli_json(cloud, "role", "assignment", "list", "--names", "--project", project)
    assert [(r["Role"], r["User"]) for r in rows] == [("member", f"{user}@Default")]
    # The new user logs in with the same CLI and gets a token for its project.
    token = token_issue_from_env(cloud, OS_USERNAME=user, OS_PASSWORD="cli-pass-1", OS_PROJECT_NAME=project,
                                 OS_USER_DOMAIN_NAME="Default", OS_PROJECT_DOMAIN_NAME="Default")
    assert token["project_id"] == created["id"]
    cloud.openstack("user", "delete", user)
    cloud.openstack("project", "delete", project)
    assert cloud.openstack("project", "show", project, check=False).returncode != 0


def test_application_credential_then_authenticate_with_it(cloud):
    cred = cli_json(cloud, "application", "credential", "create", name("cli-ac"), os_cloud="onestack")
    token = token_issue_from_env(cloud, OS_AUTH_TYPE="v3applicationcredential",
                                 OS_APPLICATION_CREDENTIAL_ID=cred["ID"],
                                 OS_APPLICATION_CREDENTIAL_SECRET=cred["Secret"])
    assert token["project_id"] == cred["Project ID"]


def test_token_revoke(cloud):
    token = cli_json(cloud, "token", "issue")["id"]
    cloud.openstack("token", "revoke", token)
    admin = cloud.token()
    resp = httpx.get(f"{cloud.auth_url}/v3/auth/tokens", headers={"X-Auth-Token": admin, "X-Subject-Token": token})
    assert resp.status_code == 404


def test_demo_member_is_refused_admin_calls(cloud):
    result = cloud.openstack("user", "list", cloud="onestack", check=False)
    assert result.returncode != 0 and "403" in result.stderr


def test_image_create_save_and_delete(cloud, tmp_path):
    data = os.urandom(1024 * 1024 + 3)
    (tmp_path / "disk.raw").write_bytes(data)
    image = cli_json(cloud, "image", "create", "--file", str(tmp_path / "disk.raw"), "--disk-format", "raw",
                     "--container-format", "bare", name("cli-img"), os_cloud="onestack")
    assert image["status"] == "active" and image["size"] == len(data)
    cloud.openstack("image", "save", "--file", str(tmp_path / "back.raw"), image["id"], cloud="onestack")
    assert (tmp_path / "back.raw").read_bytes() == data
    listed = cli_json(cloud, "image", "list", os_cloud="onestack")
    assert image["id"] in {row["ID"] for row in listed}
    cloud.openstack("image", "delete", image["id"], cloud="onestack")
    assert cloud.openstack("image", "show", image["id"], cloud="onestack", check=False).returncode != 0
