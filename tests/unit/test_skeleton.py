"""Every service package has the one shape docs/architecture.md describes, and nothing else at its top level."""

from pathlib import Path

import pytest

import onestack.services

SERVICES = Path(onestack.services.__file__).parent
PARTS = {"api", "schemas", "responses", "views", "policies", "models", "service", "public", "reconcile", "versions"}
REQUIRED = {"api", "service", "policies", "schemas", "views"}


def packages() -> list[Path]:
    return sorted(p for p in SERVICES.iterdir() if p.is_dir() and (p / "__init__.py").exists())


def parts(package: Path) -> dict[str, list[str]]:
    """Each part's name and the forms it takes there (``x.py`` and ``x/`` both count as part ``x``)."""
    found: dict[str, list[str]] = {}
    for entry in package.iterdir():
        if entry.name in ("__init__.py", "__pycache__"):
            continue
        if entry.is_dir():
            found.setdefault(entry.name, []).append(entry.name + "/")
        elif entry.suffix == ".py":
            found.setdefault(entry.stem, []).append(entry.name)
        else:
            found.setdefault(entry.name, []).append(entry.name)
    return found


def test_every_service_is_found():
    names = {p.name for p in packages()}
    assert {"identity", "image", "network", "placement", "compute"} <= names


@pytest.mark.parametrize("package", packages(), ids=lambda p: p.name)
def test_service_has_the_skeleton_and_nothing_else(package):
    found = parts(package)
    assert sorted(set(found) - PARTS) == [], f"{package.name} has parts outside the skeleton"
    assert sorted(REQUIRED - set(found)) == [], f"{package.name} lacks parts of the skeleton"
    doubled = {name: forms for name, forms in found.items() if len(forms) > 1}
    assert doubled == {}, f"{package.name} has a part both as a module and as a package"
    assert (package / "__init__.py").read_text().lstrip().startswith('"""'), \
        f"{package.name}/__init__.py should say in a docstring what the service is"


@pytest.mark.parametrize("package", packages(), ids=lambda p: p.name)
def test_routes_are_built_in_api_init(package):
    api = (package / "api" / "__init__.py").read_text()
    assert "def service() -> Service" in api
