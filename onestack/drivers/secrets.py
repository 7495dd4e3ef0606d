"""Handing a secret (a volume's LUKS passphrase) to a QEMU or qemu-img process without putting it on a
command line (which every user reads in ``/proc``) or in a file: it is written into a pipe whose read end
the process inherits, and QEMU's ``secret`` object reads it from ``/dev/fd/<n>``.

Also how an encrypted volume's cipher, as Cinder's encryption types name it, becomes QEMU's LUKS options.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator

# The LUKS providers Cinder and Nova name (QEMU opens LUKS itself, as Nova's native LUKS does); "plain"
# dm-crypt has no header to hold the cipher, so QEMU cannot open it and it is refused.
LUKS_PROVIDERS = ("luks", "nova.volume.encryptors.luks.LuksEncryptor",
                  "os_brick.encryptors.luks.LuksEncryptor")
DEFAULT_CIPHER = "aes-xts-plain64"  # os-brick's LUKS defaults when the type names none
DEFAULT_KEY_SIZE = 256
# PBKDF time to unlock a key slot: the passphrase is 256 random bits, not a password, so stretching it
# adds no strength; QEMU's default (2 s of CPU) would be spent at every open of every volume.
ITER_TIME_MS = 10


class LuksError(ValueError):
    """The cipher or key size cannot be given to QEMU's LUKS."""


@dataclasses.dataclass(frozen=True)
class Luks:
    """How a volume's data are encrypted: the passphrase (never shown in ``repr``) and QEMU's LUKS options."""

    secret: bytes = dataclasses.field(repr=False)
    cipher_alg: str = "aes-128"
    cipher_mode: str = "xts"
    ivgen_alg: str = "plain64"

    @classmethod
    def of(cls, secret: bytes, cipher: str | None, key_size: int | None) -> Luks:
        """From a Cinder cipher spec (``aes-xts-plain64``, ``aes-cbc-essiv:sha256``) and key size in bits, as
        dm-crypt reads them: XTS splits its key in two, so 256 bits there is AES-128."""
        cipher = cipher or DEFAULT_CIPHER
        bits = int(key_size or DEFAULT_KEY_SIZE)
        parts = cipher.split("-")
        if len(parts) != 3 or parts[0] not in ("aes", "serpent", "twofish"):
            raise LuksError(f"cipher {cipher!r} is not one QEMU's LUKS knows (e.g. aes-xts-plain64)")
        alg, mode, ivgen = parts
        ivgen = ivgen.split(":")[0]
        if mode not in ("xts", "cbc", "ecb", "ctr") or ivgen not in ("plain", "plain64", "essiv"):
            raise LuksError(f"cipher {cipher!r} is not one QEMU's LUKS knows (e.g. aes-xts-plain64)")
        cipher_bits = bits // 2 if mode == "xts" else bits
        if cipher_bits not in (128, 192, 256):
            raise LuksError(f"key size {bits} does not fit cipher {cipher}")
        return cls(secret=secret, cipher_alg=f"{alg}-{cipher_bits}", cipher_mode=mode, ivgen_alg=ivgen)

    def create_options(self, secret_id: str) -> str:
        """``qemu-img create -o`` options of a qcow2 encrypted with LUKS."""
        return (f"encrypt.format=luks,encrypt.key-secret={secret_id},encrypt.cipher-alg={self.cipher_alg},"
                f"encrypt.cipher-mode={self.cipher_mode},encrypt.ivgen-alg={self.ivgen_alg},"
                f"encrypt.iter-time={ITER_TIME_MS}")


@contextlib.contextmanager
def secret_fd(secret: bytes) -> Iterator[int]:
    """A file descriptor to pass to a child (``pass_fds``) from which it reads ``secret``, closed after."""
    read, write = os.pipe()
    try:
        os.write(write, secret)  # far under a pipe's buffer: never blocks
    finally:
        os.close(write)
    try:
        yield read
    finally:
        os.close(read)


def secret_object(secret_id: str, fd: int) -> str:
    """The ``--object``/``-object`` argument of a QEMU secret read from ``fd``."""
    return f"secret,id={secret_id},file=/dev/fd/{fd},format=raw"
