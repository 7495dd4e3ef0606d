"""Imports every service's tables so that Alembic sees the whole schema."""

import importlib

SERVICES_WITH_TABLES = ("identity", "image", "network", "compute")


def load_all() -> None:
    for name in SERVICES_WITH_TABLES:
        importlib.import_module(f"onestack.services.{name}.models")
