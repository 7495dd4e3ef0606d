"""Writing a blob's bytes to a file on two threads once it is large.

Per MiB of a large upload, MD5 costs about 1.5 ms of CPU, the block CRCs and the write into the page cache
about as much again; done one after the other on the thread that also takes the bytes from the network,
they bound an upload to one core.  From ``BATCH`` bytes on, the caller's thread takes the MD5 (and the
size, and the limit) and hands the bytes, a batch at a time and at most ``DEPTH`` batches ahead, to a
writer thread that takes the CRCs and writes them with one ``writev`` a batch (no join, no copy).  Both
release the GIL on buffers this large, so they run at once.  The writer also asks the kernel to start
writing each batch back to disk (``sync_file_range``), so the caller's final fsync finds little left to
do.  A small blob is written on the caller's thread, with no thread started.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import queue
import threading
from collections.abc import Iterable

from onestack.drivers.objectstore import TooLarge
from onestack.drivers.objectstore.blocks import Summer

BATCH = 1 << 20
PIECES = 256  # chunks a batch at most (one writev takes at most IOV_MAX, 1,024, of them)
DEPTH = 8
SYNC_FILE_RANGE_WRITE = 2


def _sync_file_range():
    """libc's ``sync_file_range`` (Linux), or None where there is none."""
    try:
        fn = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    fn.argtypes = (ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint)
    fn.restype = ctypes.c_int
    return fn


SYNC_FILE_RANGE = _sync_file_range()


def spool(fd: int, chunks: Iterable[bytes], summer: Summer, max_size: int) -> None:
    """Write ``chunks`` to ``fd`` in order, feeding ``summer``; ``TooLarge`` once more than ``max_size``
    bytes arrive.  Whatever the outcome, no thread is left behind when this returns or raises."""
    batch: list[bytes] = []
    held = 0
    writer: _Writer | None = None
    try:
        for chunk in chunks:
            if summer.size + len(chunk) > max_size:
                raise TooLarge()
            summer.digest(chunk)
            batch.append(chunk)
            held += len(chunk)
            if held >= BATCH or len(batch) >= PIECES:
                if writer is None and summer.size < BATCH:  # many small pieces of a small blob
                    _write(fd, batch, summer)
                else:
                    if writer is None:
                        writer = _Writer(fd, summer)
                    writer.put(batch)
                batch, held = [], 0
        if writer is None:
            _write(fd, batch, summer)
        else:
            writer.put(batch)
            writer.finish()
    finally:
        if writer is not None:
            writer.close()


def _write(fd: int, batch: list[bytes], summer: Summer) -> None:
    for chunk in batch:
        summer.checksum(chunk)
    pending = [chunk for chunk in batch if chunk]
    while pending:
        written = os.writev(fd, pending)
        while pending and written >= len(pending[0]):
            written -= len(pending[0])
            pending.pop(0)
        if written:  # a short write (a regular file gives one only near a full disk): the rest again
            pending[0] = memoryview(pending[0])[written:]


class _Writer:
    """The writer thread: takes batches in order; its first error is raised to the caller at its next
    ``put`` or at ``finish`` (and later batches are dropped, never written out of order)."""

    def __init__(self, fd: int, summer: Summer):
        self.fd, self.summer = fd, summer
        self.batches: queue.Queue[list[bytes] | None] = queue.Queue(DEPTH)
        self.error: BaseException | None = None
        self.offset = 0
        self.thread = threading.Thread(target=self._run, name="objectstore-spool", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (batch := self.batches.get()) is not None:
            if self.error is not None:
                continue
            try:
                _write(self.fd, batch, self.summer)
                size = sum(len(chunk) for chunk in batch)
                if SYNC_FILE_RANGE is not None:  # start writing it back now; the caller's fsync waits for it
                    SYNC_FILE_RANGE(self.fd, self.offset, size, SYNC_FILE_RANGE_WRITE)
                self.offset += size
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                self.error = exc

    def put(self, batch: list[bytes]) -> None:
        if self.error is not None:
            raise self.error
        self.batches.put(batch)

    def finish(self) -> None:
        """Wait for every batch to be written; the writer's error, if it had one."""
        self.close()
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        if self.thread.is_alive():
            self.batches.put(None)
            self.thread.join()
