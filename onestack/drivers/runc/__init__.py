"""The container compute driver: one OCI container per instance under runc; see ``driver.py``."""

from onestack.drivers.runc.driver import RuncDriver

__all__ = ["RuncDriver"]
