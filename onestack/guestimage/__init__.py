"""onestack-tiny: a small bootable guest disk built from Debian's own packages.

The disk is an MBR with syslinux and one FAT partition holding Debian's cloud kernel and an
initramfs (static busybox, the virtio/ISO9660 modules, dropbear, an init script).  It boots as
it is (``qemu-system-x86_64 -drive file=onestack-tiny.qcow2``), so it can be uploaded to the
image service like any cloud image.  See ``build.py``.
"""
