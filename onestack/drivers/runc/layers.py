"""Applying an image layer (a tar stream) to a root filesystem on disk, as the OCI image spec says.

Layers come from images anyone may upload, so nothing in one may write outside the root:
- an entry's path is resolved inside the root, component by component, without following symlinks
  out of it (a symlink on the way is followed as the container would see it, its absolute target
  taken from the root); a path that climbs out (``..``) is refused;
- a symlink whose relative target climbs out of the root, and a hard link to anything outside the
  root or to a non-regular file, are refused;
- whiteouts (``.wh.<name>``) remove what lower layers had; an opaque marker (``.wh..wh..opq``)
  empties a directory of what lower layers put there, not of what this layer adds.
Device nodes, FIFOs and extended attributes are not made (a container gets its devices from the
runtime); owners are kept when running as root.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tarfile
from pathlib import Path
from typing import IO

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
_SYMLINK_HOPS = 40  # as the kernel's MAXSYMLINKS


class LayerError(ValueError):
    """The layer is malformed or tries to reach outside the root."""


def _clean(name: str) -> str:
    """The entry's path relative to the root ("a/b", "" for the root); LayerError if it climbs out."""
    path = posixpath.normpath(name.lstrip("/") or ".")
    if path == ".." or path.startswith("../"):
        raise LayerError(f"entry {name!r} climbs out of the root")
    return "" if path == "." else path


class Root:
    """A root directory and path resolution confined to it."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def resolve_parent(self, relative: str, create: bool = True) -> Path | None:
        """The host path of ``relative``'s parent directory (symlinks on the way followed inside the root,
        missing directories made when ``create``, else None) joined with its last component, which is
        not followed."""
        parts = [p for p in relative.split("/") if p]
        if not parts:
            return self.path
        try:
            return self._walk(parts[:-1], create=create) / parts[-1]
        except FileNotFoundError:
            return None

    def lookup(self, relative: str) -> Path | None:
        """The host path ``relative`` names inside the root (every symlink followed inside the root),
        None when it does not exist."""
        parts = [p for p in relative.split("/") if p]
        try:
            return self._walk(parts, create=False)
        except FileNotFoundError:
            return None

    def _walk(self, parts: list[str], create: bool) -> Path:
        current: list[str] = []  # components below the root, already resolved
        pending = list(parts)
        hops = 0
        while pending:
            part = pending.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if current:
                    current.pop()
                continue  # ".." at the root stays at the root, as in a chroot
            candidate = self.path.joinpath(*current, part)
            try:
                st = candidate.lstat()
            except FileNotFoundError:
                if not create:
                    raise
                candidate.mkdir(mode=0o755)
                current.append(part)
                continue
            if stat.S_ISLNK(st.st_mode):
                hops += 1
                if hops > _SYMLINK_HOPS:
                    raise LayerError(f"too many symlinks resolving {'/'.join(parts)!r}")
                target = os.readlink(candidate)
                if target.startswith("/"):
                    current = []
                pending = [p for p in target.split("/") if p] + pending
                continue
            if pending and not stat.S_ISDIR(st.st_mode):
                if not create:
                    raise FileNotFoundError(str(candidate))
                raise LayerError(f"{'/'.join(current + [part])!r} is not a directory")
            current.append(part)
        return self.path.joinpath(*current)


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        pass


def _check_symlink(relative: str, target: str) -> None:
    if target.startswith("/"):
        return  # taken from the container's root, whatever it names
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(relative), target))
    if joined == ".." or joined.startswith("../"):
        raise LayerError(f"symlink {relative!r} -> {target!r} points out of the root")


def _finish(path: Path, member: tarfile.TarInfo, as_root: bool) -> None:
    if as_root:
        os.lchown(path, member.uid, member.gid)
    if not member.issym():
        os.chmod(path, member.mode & 0o7777)  # after chown, which clears set-id bits
    os.utime(path, (member.mtime, member.mtime), follow_symlinks=False)


def apply(layer: IO[bytes], root_dir: Path) -> None:
    """Apply the (uncompressed or gzip) tar stream ``layer`` to ``root_dir``."""
    root = Root(root_dir)
    as_root = os.geteuid() == 0
    added: set[str] = set()  # what this layer made: an opaque marker keeps it
    directories: list[tuple[Path, tarfile.TarInfo]] = []
    try:
        archive = tarfile.open(fileobj=layer, mode="r|*")
    except tarfile.TarError as exc:
        raise LayerError(f"layer is not a tar archive: {exc}") from exc
    with archive:
        try:
            for member in archive:
                _entry(archive, member, root, added, directories, as_root)
        except tarfile.TarError as exc:
            raise LayerError(f"layer is damaged: {exc}") from exc
    # directories last, deepest first: writing into them changed their times
    for path, member in reversed(directories):
        _finish(path, member, as_root)


def _entry(archive: tarfile.TarFile, member: tarfile.TarInfo, root: Root, added: set[str],
           directories: list, as_root: bool) -> None:
    relative = _clean(member.name)
    if not relative:
        if member.isdir():
            directories.append((root.path, member))
        return
    folder, base = posixpath.split(relative)
    if base == OPAQUE:
        target = root.lookup(folder) if folder else root.path
        if target is not None and target.is_dir():
            for child in target.iterdir():
                if posixpath.join(folder, child.name) not in added:
                    _remove(child)
        return
    if base.startswith(WHITEOUT):
        hidden = posixpath.join(folder, base[len(WHITEOUT):])
        gone = root.resolve_parent(hidden, create=False)
        if hidden not in added and gone is not None:
            _remove(gone)
        return
    path = root.resolve_parent(relative)
    assert path is not None
    added.add(relative)
    existing = path.lstat() if os.path.lexists(path) else None
    if member.isdir():
        if existing is not None and not stat.S_ISDIR(existing.st_mode):
            _remove(path)
            existing = None
        if existing is None:
            path.mkdir(mode=0o700)
        directories.append((path, member))
        return
    if existing is not None:
        _remove(path)
    if member.isreg():
        source = archive.extractfile(member)
        assert source is not None
        with source, open(path, "xb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
        _finish(path, member, as_root)
    elif member.issym():
        _check_symlink(relative, member.linkname)
        os.symlink(member.linkname, path)
        _finish(path, member, as_root)
    elif member.islnk():
        target = root.resolve_parent(_clean(member.linkname), create=False)
        if target is None or target == root.path or not os.path.lexists(target):
            raise LayerError(f"hard link {relative!r} -> {member.linkname!r}: no such file in the root")
        if not stat.S_ISREG(target.lstat().st_mode):
            raise LayerError(f"hard link {relative!r} -> {member.linkname!r} is not to a regular file")
        os.link(target, path, follow_symlinks=False)
    # device nodes and FIFOs: the runtime gives the container its devices
