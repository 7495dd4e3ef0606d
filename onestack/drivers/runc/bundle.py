"""The OCI runtime configuration (``config.json``) of an instance's container.

What runs comes from the image's configuration, which the server's metadata may override:

| metadata key | what it replaces | value |
| --- | --- | --- |
| ``container_entrypoint`` | the image's Entrypoint (and, as ``docker run --entrypoint`` does, its Cmd) | a JSON array, or words split as a shell would |
| ``container_cmd`` | the image's Cmd | a JSON array, or words split as a shell would |
| ``container_workdir`` | WorkingDir | an absolute path |
| ``container_user`` | User | ``uid``, ``uid:gid``, ``name`` or ``name:group`` (names from the image's ``/etc/passwd`` and ``/etc/group``) |
| ``container_env_<NAME>`` | the variable ``NAME`` of Env | its value |

The flavor gives the limits: its vCPUs as a CPU quota (``vcpus`` × the period), its RAM as the memory
limit.  The container has its own PID, IPC, UTS and mount namespaces, and the network namespace the
driver made for its NICs; Docker's default capabilities; no seccomp filter.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from onestack.drivers.compute import DriverError, InstanceSpec
from onestack.drivers.runc.layers import Root

CPU_PERIOD_US = 100_000
PIDS_LIMIT = 4096
ENV_PREFIX = "container_env_"
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# what Docker grants a container by default
CAPABILITIES = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
                "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
                "CAP_KILL", "CAP_AUDIT_WRITE"]
MASKED = ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
          "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"]
READ_ONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


def _words(key: str, value: str) -> list[str]:
    text = value.strip()
    if text.startswith("["):
        try:
            words = json.loads(text)
        except ValueError as exc:
            raise DriverError(f"metadata {key} is not a JSON array: {exc}") from exc
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise DriverError(f"metadata {key} must be an array of strings")
        return words
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise DriverError(f"metadata {key} cannot be split into words: {exc}") from exc


def command(image_config: dict, metadata: dict) -> list[str]:
    """The container's argv: entrypoint + cmd, after the metadata's overrides."""
    entrypoint = image_config.get("Entrypoint") or []
    cmd = image_config.get("Cmd") or []
    if "container_entrypoint" in metadata:
        entrypoint, cmd = _words("container_entrypoint", metadata["container_entrypoint"]), []
    if "container_cmd" in metadata:
        cmd = _words("container_cmd", metadata["container_cmd"])
    argv = list(entrypoint) + list(cmd)
    if not argv:
        raise DriverError("the image names no command (Entrypoint or Cmd) and the server's metadata gives none "
                          "(container_cmd)")
    return argv


def environment(image_config: dict, metadata: dict, home: str) -> list[str]:
    variables: dict[str, str] = {}
    for item in image_config.get("Env") or []:
        name, _, value = item.partition("=")
        variables[name] = value
    for key, value in metadata.items():
        if key.startswith(ENV_PREFIX) and len(key) > len(ENV_PREFIX):
            variables[key[len(ENV_PREFIX):]] = str(value)
    variables.setdefault("PATH", DEFAULT_PATH.split("=", 1)[1])
    variables.setdefault("HOME", home)
    return [f"{k}={v}" for k, v in variables.items()]


def _table(rootfs: Path, name: str) -> list[list[str]]:
    """The lines of the image's ``/etc/<name>`` split at colons (the file found inside the root only)."""
    found = Root(rootfs).lookup(f"etc/{name}")
    if found is None or not found.is_file():
        return []
    return [line.split(":") for line in found.read_text(errors="replace").splitlines() if line.count(":") >= 2]


def user(spec_user: str, rootfs: Path) -> tuple[int, int, str]:
    """(uid, gid, home) for an image's or the metadata's user string."""
    name, _, group = (spec_user or "0").partition(":")
    passwd = _table(rootfs, "passwd")
    if name.isdigit():
        uid = int(name)
        entry = next((e for e in passwd if e[2] == name), None)
    else:
        entry = next((e for e in passwd if e[0] == name), None)
        if entry is None:
            raise DriverError(f"user {name!r} is not in the image's /etc/passwd")
        uid = int(entry[2])
    gid = int(entry[3]) if entry is not None and len(entry) > 3 and entry[3].isdigit() else 0
    home = entry[5] if entry is not None and len(entry) > 5 and entry[5] else "/"
    if group:
        if group.isdigit():
            gid = int(group)
        else:
            found = next((e for e in _table(rootfs, "group") if e[0] == group), None)
            if found is None:
                raise DriverError(f"group {group!r} is not in the image's /etc/group")
            gid = int(found[2])
    return uid, gid, home


def runtime_config(spec: InstanceSpec, image_config: dict, rootfs: Path, netns_path: str, files: dict[str, Path],
                   cgroup: str) -> dict:
    """config.json for ``spec``: ``rootfs`` is the image's root (users are looked up there); ``files`` are
    host files bound over paths in the container (``/etc/resolv.conf`` ...)."""
    metadata = {k: str(v) for k, v in (spec.metadata or {}).items()}
    uid, gid, home = user(metadata.get("container_user", image_config.get("User") or ""), rootfs)
    cwd = metadata.get("container_workdir") or image_config.get("WorkingDir") or "/"
    if not cwd.startswith("/"):
        raise DriverError(f"working directory {cwd!r} is not an absolute path")
    mounts = [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
    ]
    mounts += [{"destination": inside, "type": "bind", "source": str(host), "options": ["rbind", "rprivate"]}
               for inside, host in files.items()]
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False, "user": {"uid": uid, "gid": gid}, "args": command(image_config, metadata),
            "env": environment(image_config, metadata, home), "cwd": cwd,
            "capabilities": {kind: CAPABILITIES for kind in ("bounding", "effective", "permitted")},
            "noNewPrivileges": False,
        },
        "root": {"path": "rootfs", "readonly": False},
        "hostname": spec.hostname or spec.name,
        "mounts": mounts,
        "linux": {
            "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
                           {"type": "network", "path": netns_path}],
            "cgroupsPath": cgroup,
            "resources": limits(spec),
            "maskedPaths": MASKED,
            "readonlyPaths": READ_ONLY,
        },
    }


def limits(spec: InstanceSpec) -> dict:
    """The flavor as cgroup limits (``runc update`` takes the same shape)."""
    return {
        "devices": [{"allow": False, "access": "rwm"}],
        "memory": {"limit": spec.memory_mb * 1024 * 1024},
        "cpu": {"quota": max(spec.vcpus, 1) * CPU_PERIOD_US, "period": CPU_PERIOD_US},
        "pids": {"limit": PIDS_LIMIT},
    }
