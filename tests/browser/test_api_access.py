"""API access in a real Chromium: the clouds.yaml and openrc downloaded for the current project, then used
by the real openstack CLI to get a token scoped to that project."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.browser


def _cli_env(cloud, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(HOME=str(cloud.home), PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}", **extra)
    return env


def test_clouds_yaml_and_openrc_work_with_the_cli(cloud, dashboard, tmp_path):
    page = dashboard.sign_in("demo")
    page.goto("/dashboard/api-access")
    assert page.locator("#endpoints td.name:text-is('volume'), #endpoints td.name:text-is('block-storage')").count()
    project_id = cloud.issue("demo", project="demo").json()["token"]["project"]["id"]
    assert project_id in page.inner_text("main")
    with page.expect_download() as got:
        page.click("#download-clouds-yaml")
    clouds = yaml.safe_load(Path(got.value.path()).read_text())["clouds"]
    assert list(clouds) == ["demo"]
    auth = clouds["demo"]["auth"]
    assert (auth["username"], auth["project_id"], auth["user_domain_name"]) == ("demo", project_id, "Default")
    assert "password" not in auth
    with page.expect_download() as got:
        page.click("#download-openrc")
    assert got.value.suggested_filename == "demo-openrc.sh"
    openrc = tmp_path / "demo-openrc.sh"
    got.value.save_as(openrc)
    password = cloud.password("onestack")

    # the clouds.yaml, with the password added where its comment says, takes the CLI to the project
    auth["password"] = password
    (tmp_path / "clouds.yaml").write_text(yaml.safe_dump({"clouds": clouds}))
    done = subprocess.run(["openstack", "--os-cloud", "demo", "token", "issue", "-f", "value", "-c", "project_id"],
                          env=_cli_env(cloud, OS_CLIENT_CONFIG_FILE=str(tmp_path / "clouds.yaml")),
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == project_id, done.stderr
    # the openrc asks for the password and does the same
    done = subprocess.run(["bash", "-c", f"source {openrc} >/dev/null && openstack token issue -f value -c project_id"],
                          input=password + "\n", env=_cli_env(cloud), capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == project_id, done.stderr
    page.context.close()
