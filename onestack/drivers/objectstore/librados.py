"""A small ctypes binding to librados (Debian's librados2), for the object store's data path.

Why our own: Ceph's Python bindings are Debian packages built for ``/usr/bin/python3`` and absent from PyPI,
and the ``rados`` tool costs a process (about 0.4 s) a call, far too slow for objects.  Only what the
object store needs is bound: connect to a cluster, open a pool, whole-object writes (atomically with an
xattr, as one write operation), reads at an offset, asynchronous whole writes and reads (so the next stripe
goes or comes while this one is handled), stat, xattrs, removes, and listing.  ctypes releases
the GIL for the length of each call, so requests served by other threads go on while one waits for an OSD.

Every call's error comes back as ``RadosError`` with the errno; ``ENOENT`` is ``NotFound`` and a call the
cluster did not answer in time (the client's ``rados_osd_op_timeout``) is ``TimedOut``.
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Iterator

_lib: ctypes.CDLL | None = None


class RadosError(Exception):
    def __init__(self, call: str, code: int):
        super().__init__(f"{call}: {os.strerror(code)} (errno {code})")
        self.errno = code


class NotFound(RadosError):
    pass


class TimedOut(RadosError):
    pass


def available() -> bool:
    try:
        _library()
    except OSError:
        return False
    return True


def _library() -> ctypes.CDLL:
    global _lib
    if _lib is None:
        lib = ctypes.CDLL("librados.so.2", use_errno=True)
        p, c, i, sz, u64 = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_size_t, ctypes.c_uint64
        signatures = {
            "rados_create2": (i, [ctypes.POINTER(p), c, c, u64]),
            "rados_conf_read_file": (i, [p, c]),
            "rados_conf_set": (i, [p, c, c]),
            "rados_connect": (i, [p]),
            "rados_shutdown": (None, [p]),
            "rados_ioctx_create": (i, [p, c, ctypes.POINTER(p)]),
            "rados_ioctx_destroy": (None, [p]),
            "rados_ioctx_set_namespace": (None, [p, c]),
            "rados_write_full": (i, [p, c, c, sz]),
            "rados_read": (i, [p, c, p, sz, u64]),
            "rados_stat": (i, [p, c, ctypes.POINTER(u64), ctypes.POINTER(ctypes.c_long)]),
            "rados_remove": (i, [p, c]),
            "rados_getxattr": (i, [p, c, c, p, sz]),
            "rados_create_write_op": (p, []),
            "rados_release_write_op": (None, [p]),
            "rados_write_op_create": (None, [p, i, c]),
            "rados_write_op_write_full": (None, [p, c, sz]),
            "rados_write_op_setxattr": (None, [p, c, c, sz]),
            "rados_write_op_operate": (i, [p, p, c, ctypes.POINTER(ctypes.c_long), i]),
            "rados_aio_create_completion2": (i, [p, p, ctypes.POINTER(p)]),
            "rados_aio_write_full": (i, [p, c, p, c, sz]),
            "rados_aio_read": (i, [p, c, p, p, sz, u64]),
            "rados_aio_wait_for_complete": (i, [p]),
            "rados_aio_get_return_value": (i, [p]),
            "rados_aio_release": (None, [p]),
            "rados_nobjects_list_open": (i, [p, ctypes.POINTER(p)]),
            "rados_nobjects_list_next": (i, [p, ctypes.POINTER(c), ctypes.POINTER(c), ctypes.POINTER(c)]),
            "rados_nobjects_list_close": (None, [p]),
        }
        for name, (restype, argtypes) in signatures.items():
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = restype, argtypes
        _lib = lib
    return _lib


def _check(call: str, ret: int) -> int:
    if ret >= 0:
        return ret
    code = -ret
    if code == errno.ENOENT:
        raise NotFound(call, code)
    if code == errno.ETIMEDOUT:
        raise TimedOut(call, code)
    raise RadosError(call, code)


class Cluster:
    """A connection to a cluster as ``client.<client>``.  ``timeout`` bounds the connect and every later
    operation (the monitors' and the OSDs' answers alike): past it a call raises ``TimedOut``."""

    def __init__(self, conf: str, client: str, keyring: str = "", timeout: float = 30):
        lib = _library()
        self._handle = ctypes.c_void_p()
        _check("rados_create2", lib.rados_create2(ctypes.byref(self._handle), b"ceph",
                                                  f"client.{client}".encode(), 0))
        try:
            _check("rados_conf_read_file", lib.rados_conf_read_file(self._handle, conf.encode()))
            options = {"rados_osd_op_timeout": timeout, "rados_mon_op_timeout": timeout,
                       "client_mount_timeout": timeout}
            if keyring:
                options["keyring"] = keyring
            for key, value in options.items():
                _check(f"rados_conf_set {key}", lib.rados_conf_set(self._handle, key.encode(), str(value).encode()))
            _check("rados_connect", lib.rados_connect(self._handle))
        except BaseException:
            lib.rados_shutdown(self._handle)
            self._handle = None
            raise

    def pool(self, name: str, namespace: str = "") -> Pool:
        return Pool(self, name, namespace)

    def close(self) -> None:
        if self._handle:
            _library().rados_shutdown(self._handle)
            self._handle = None


class Pending:
    """An asynchronous operation: holds its buffer and its completion until ``wait`` (which releases both)."""

    def __init__(self, lib: ctypes.CDLL, call: str, buffer):
        self.lib, self.call, self.buffer = lib, call, buffer
        self.completion: ctypes.c_void_p | None = None
        self.started = False
        completion = ctypes.c_void_p()
        _check("rados_aio_create_completion2", lib.rados_aio_create_completion2(None, None,
                                                                              ctypes.byref(completion)))
        self.completion = completion

    def wait(self):
        """The operation's outcome: the bytes read, or None for a write; ``RadosError`` if it failed."""
        if self.completion is None:
            raise RuntimeError(f"{self.call}: waited for twice")
        try:
            if self.started:
                self.lib.rados_aio_wait_for_complete(self.completion)
            ret = self.lib.rados_aio_get_return_value(self.completion) if self.started else 0
        finally:
            self.lib.rados_aio_release(self.completion)
            self.completion = None
        _check(self.call, ret)
        if isinstance(self.buffer, bytes):
            return None
        return self.buffer.raw if ret == len(self.buffer) else self.buffer.raw[:ret]

    def __del__(self):
        # never dropped while librados may still use the buffer: wait, then release
        if getattr(self, "completion", None) is not None:
            try:
                self.wait()
            except RadosError:
                pass


class Pool:
    """An I/O context on one pool (and a namespace in it: "" is the default one)."""

    def __init__(self, cluster: Cluster, name: str, namespace: str = ""):
        self.lib = _library()
        self.cluster = cluster
        self._io = ctypes.c_void_p()
        _check(f"rados_ioctx_create {name}", self.lib.rados_ioctx_create(cluster._handle, name.encode(),
                                                                         ctypes.byref(self._io)))
        if namespace:
            self.lib.rados_ioctx_set_namespace(self._io, namespace.encode())

    def close(self) -> None:
        if self._io:
            self.lib.rados_ioctx_destroy(self._io)
            self._io = None

    def write_full(self, oid: str, data: bytes) -> None:
        """Replace the object's bytes with ``data`` (one atomic operation)."""
        _check(f"rados_write_full {oid}", self.lib.rados_write_full(self._io, oid.encode(), data, len(data)))

    def write_full_with_xattrs(self, oid: str, data: bytes, xattrs: dict[str, bytes],
                               exclusive: bool = False) -> None:
        """The object's bytes and xattrs in one atomic operation: a reader sees all of it or none;
        ``exclusive``: fail with EEXIST if the object exists already."""
        op = self.lib.rados_create_write_op()
        if not op:
            raise RadosError("rados_create_write_op", errno.ENOMEM)
        try:
            if exclusive:
                self.lib.rados_write_op_create(op, 1, None)
            self.lib.rados_write_op_write_full(op, data, len(data))
            for key, value in xattrs.items():
                self.lib.rados_write_op_setxattr(op, key.encode(), value, len(value))
            _check(f"rados_write_op_operate {oid}", self.lib.rados_write_op_operate(op, self._io, oid.encode(),
                                                                                   None, 0))
        finally:
            self.lib.rados_release_write_op(op)

    def write_full_async(self, oid: str, data: bytes) -> Pending:
        """``write_full`` started; ``wait()`` on what it returns (always, even after an error elsewhere:
        librados reads ``data`` until then)."""
        pending = Pending(self.lib, f"rados_aio_write_full {oid}", data)
        _check(pending.call, self.lib.rados_aio_write_full(self._io, oid.encode(), pending.completion, data,
                                                           len(data)))
        pending.started = True
        return pending

    def read_async(self, oid: str, length: int, offset: int = 0) -> Pending:
        """``read`` started; ``wait()`` returns the bytes."""
        buf = ctypes.create_string_buffer(length)
        pending = Pending(self.lib, f"rados_aio_read {oid}", buf)
        _check(pending.call, self.lib.rados_aio_read(self._io, oid.encode(), pending.completion, buf, length,
                                                     offset))
        pending.started = True
        return pending

    def read(self, oid: str, length: int, offset: int = 0) -> bytes:
        """Up to ``length`` bytes from ``offset`` (fewer at the object's end)."""
        buf = ctypes.create_string_buffer(length)
        got = _check(f"rados_read {oid}", self.lib.rados_read(self._io, oid.encode(), buf, length, offset))
        return buf.raw if got == length else buf.raw[:got]

    def stat(self, oid: str) -> tuple[int, int]:
        """(size, modification time in epoch seconds)."""
        size, mtime = ctypes.c_uint64(), ctypes.c_long()
        _check(f"rados_stat {oid}", self.lib.rados_stat(self._io, oid.encode(), ctypes.byref(size),
                                                        ctypes.byref(mtime)))
        return size.value, mtime.value

    def getxattr(self, oid: str, name: str, limit: int = 256) -> bytes:
        buf = ctypes.create_string_buffer(limit)
        got = _check(f"rados_getxattr {oid}", self.lib.rados_getxattr(self._io, oid.encode(), name.encode(),
                                                                      buf, limit))
        return buf.raw[:got]

    def remove(self, oid: str) -> None:
        _check(f"rados_remove {oid}", self.lib.rados_remove(self._io, oid.encode()))

    def names(self) -> Iterator[str]:
        """Every object's name in this namespace (in the cluster's hash order)."""
        ctx = ctypes.c_void_p()
        _check("rados_nobjects_list_open", self.lib.rados_nobjects_list_open(self._io, ctypes.byref(ctx)))
        try:
            entry, key, nspace = ctypes.c_char_p(), ctypes.c_char_p(), ctypes.c_char_p()
            while True:
                ret = self.lib.rados_nobjects_list_next(ctx, ctypes.byref(entry), ctypes.byref(key),
                                                        ctypes.byref(nspace))
                if ret == -errno.ENOENT:
                    return
                _check("rados_nobjects_list_next", ret)
                yield (entry.value or b"").decode()
        finally:
            self.lib.rados_nobjects_list_close(ctx)
