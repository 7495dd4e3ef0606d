"""The QEMU compute driver (no libvirt): see ``driver.py``."""

from onestack.drivers.qemu.driver import QemuDriver

__all__ = ["QemuDriver"]
