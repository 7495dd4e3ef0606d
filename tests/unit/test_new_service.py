"""scripts/new-service lays out a package with the skeleton's parts, a migration after the newest and a test;
the package it writes imports and answers version discovery."""

import importlib
import subprocess
import sys
from pathlib import Path

import anyio
import httpx
import pytest

import onestack.services
from tests.unit.test_skeleton import PARTS, REQUIRED, parts

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "new-service"


class Runtime:
    """What the request chain reads of a runtime for an unauthenticated GET."""

    def base_url(self, request) -> str:
        return "http://cloud.example"


@pytest.fixture
def scaffolded(tmp_path):
    versions = tmp_path / "onestack" / "db" / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "0041_earlier.py").write_text("revision = '0041'\n")
    (tmp_path / "onestack" / "db" / "migrate.py").write_text('HEAD = "0041"\n')
    done = subprocess.run([sys.executable, str(SCRIPT), "gadget", "--type", "gadgetry", "--root", str(tmp_path)],
                          capture_output=True, text=True, check=True)
    return tmp_path, done.stdout


def test_the_package_has_the_skeleton_and_nothing_else(scaffolded):
    root, note = scaffolded
    package = root / "onestack" / "services" / "gadget"
    found = parts(package)
    assert REQUIRED <= set(found) <= PARTS
    assert found["service"] == ["service/"] and "public" in found and "models" in found
    assert "def service() -> Service" in (package / "api" / "__init__.py").read_text()
    assert "def authorize(" in (package / "policies.py").read_text()
    assert "class GadgetService" in (package / "service" / "__init__.py").read_text()
    assert "onestack/registry.py" in note and '"gadgetry"' in note


def test_the_migration_follows_the_newest_and_becomes_head(scaffolded):
    root, _ = scaffolded
    migration = (root / "onestack" / "db" / "migrations" / "versions" / "0042_gadget.py").read_text()
    assert "revision = '0042'" in migration and "down_revision = '0041'" in migration
    assert (root / "onestack" / "db" / "migrate.py").read_text() == 'HEAD = "0042"\n'
    assert (root / "tests" / "api" / "test_gadget.py").exists()


def test_an_existing_service_is_not_overwritten(scaffolded):
    root, _ = scaffolded
    again = subprocess.run([sys.executable, str(SCRIPT), "gadget", "--root", str(root)], capture_output=True,
                           text=True)
    assert again.returncode != 0 and "exists already" in again.stderr


def test_the_package_imports_and_answers_discovery(scaffolded, monkeypatch):
    root, _ = scaffolded
    monkeypatch.setattr(onestack.services, "__path__", [*onestack.services.__path__,
                                                        str(root / "onestack" / "services")])
    api = importlib.import_module("onestack.services.gadget.api")
    importlib.import_module("onestack.services.gadget.policies")
    importlib.import_module("onestack.services.gadget.public")
    service = api.service()
    assert (service.name, service.prefix) == ("gadgetry", "/gadget")

    async def with_runtime(scope, receive, send):
        await service.asgi()({**scope, "onestack.runtime": Runtime()}, receive, send)

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=with_runtime), base_url="http://x") as c:
            return await c.get("/")

    resp = anyio.run(get)
    assert resp.status_code == 300
    assert resp.json()["versions"][0]["links"] == [{"rel": "self", "href": "http://cloud.example/v1/"}]
    for module in [m for m in sys.modules if m.startswith("onestack.services.gadget")]:
        monkeypatch.delitem(sys.modules, module)
