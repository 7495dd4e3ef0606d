"""The two systems under test: onestack and Keystone 30 from PyPI, each on a free loopback port."""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.error import URLError
from urllib.request import Request, urlopen

import yaml

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".bench"
BCRYPT_ROUNDS = 12


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urlopen(url, timeout=1):
                return
        except URLError as exc:
            if getattr(exc, "code", None):  # any HTTP answer means it is up
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds}s")


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return round(total / 1024, 1)


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds the processes have used (``/proc/<pid>/stat`` utime and stime): the figure
    a machine shared with other work does not stretch, as it does wall-clock latency."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def password_body(user: str, password: str, project: str) -> bytes:
    return json.dumps({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}).encode()


@contextlib.contextmanager
def scratch_postgres(server: str | None, prefix: str = "onestack_load") -> Iterator[str | None]:
    """A new database on the PostgreSQL server ``server``, dropped afterwards (None: SQLite)."""
    if not server:
        yield None
        return
    from sqlalchemy import create_engine, text

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Onestack:
    name = "onestack"

    def __init__(self, settings: dict | None = None, name: str = "onestack", data_dir: Path | None = None):
        """``settings``: onestack.yaml entries besides the bcrypt cost (workers, quotas...); the data dir is
        ``data_dir`` or ``.bench/<name>``."""
        self.data_dir = data_dir or WORK / name
        self.port = free_port()
        self.cli = [sys.executable, "-m", "onestack"]
        settings = dict(settings or {})
        # The APIs are measured, not the kernel: no data plane (a bench data dir is removed, not purged).
        network = {"dataplane": False, **settings.pop("network", {})}
        self.settings = {"bcrypt_rounds": BCRYPT_ROUNDS, "network": network, **settings}

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def identity(self) -> str:
        return f"http://127.0.0.1:{self.port}/identity/v3"

    def _run(self, *args: str, env: dict | None = None) -> None:
        subprocess.run([*self.cli, *args, "--data-dir", str(self.data_dir)], check=True, capture_output=True,
                       env={**(env or os.environ), "HOME": str(WORK)})

    def start(self, env: dict | None = None) -> None:
        """A fresh data dir and ``onestack up --detach``; ``env``: the server's environment (default ours)."""
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.data_dir.mkdir(parents=True)
        (self.data_dir / "onestack.yaml").write_text(yaml.safe_dump(self.settings))
        self._run("up", "--bind", f"127.0.0.1:{self.port}", "--detach", "--no-user-clouds", env=env)

    def restart_seconds(self) -> float:
        """Wall time of ``onestack up --detach`` on the initialised data dir, until the API answers."""
        self.stop()
        started = time.perf_counter()
        self._run("up", "--bind", f"127.0.0.1:{self.port}", "--detach", "--no-user-clouds")
        return time.perf_counter() - started

    def pids(self) -> list[int]:
        """The serving process and its workers, if it has any."""
        parent = int((self.data_dir / "onestack.pid").read_text())
        children = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout.split()
        return [parent, *map(int, children)]

    def workers(self) -> int:
        """Its serving processes, as its settings (the defaults, unless the bench set them) have it."""
        from onestack.config import load

        return load(self.data_dir).workers

    def admin_password(self) -> str:
        return yaml.safe_load((self.data_dir / "bootstrap-secrets.yaml").read_text())["admin_password"]

    def stop(self) -> None:
        subprocess.run([*self.cli, "down", "--data-dir", str(self.data_dir)], capture_output=True)

    def purge(self) -> None:
        """Stop it and remove what it made on the host (guests, the data plane's kernel objects), data dir too."""
        subprocess.run([*self.cli, "down", "--purge", "--data-dir", str(self.data_dir)], capture_output=True)


class UwsgiServer:
    """A server run by uWSGI in a process group of its own (``self.proc``)."""

    proc: subprocess.Popen | None = None

    def pids(self) -> list[int]:
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        return [self.proc.pid, *map(int, children)]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None


class Keystone(UwsgiServer):
    """Keystone 30.0.0 from PyPI: SQLite, Fernet tokens, in-memory cache, one uWSGI worker, same bcrypt cost."""

    name = "keystone"
    version = "30.0.0"

    def __init__(self):
        self.dir = WORK / "keystone"
        self.venv = WORK / "keystone-venv"
        self.port = free_port()
        self.password = "bench-admin-secret"
        self.proc: subprocess.Popen | None = None

    @property
    def identity(self) -> str:
        return f"http://127.0.0.1:{self.port}/v3"

    def install(self) -> None:
        if not (self.venv / "bin" / "uwsgi").exists():
            subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
            subprocess.run([str(self.venv / "bin/pip"), "install", "--quiet", f"keystone=={self.version}", "uwsgi"],
                           check=True)

    def _manage(self, *args: str) -> None:
        subprocess.run([str(self.venv / "bin/keystone-manage"), "--config-file", str(self.dir / "keystone.conf"),
                        *args], check=True, capture_output=True)

    def start(self) -> None:
        self.install()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        (self.dir / "keystone.conf").write_text(f"""[DEFAULT]
log_file = {self.dir / 'keystone.log'}
[database]
connection = sqlite:///{self.dir / 'keystone.db'}
[token]
provider = fernet
[fernet_tokens]
key_repository = {self.dir / 'fernet-keys'}
[fernet_receipts]
key_repository = {self.dir / 'fernet-receipts'}
[credential]
key_repository = {self.dir / 'credential-keys'}
[identity]
password_hash_rounds = {BCRYPT_ROUNDS}
[cache]
# Keystone at its best: DevStack caches in memcached; one worker's in-process memory is the same idea.
# Without a cache, validation here takes ~85 ms instead of ~9.
enabled = true
backend = dogpile.cache.memory
""")
        self._manage("db_sync")
        for what in ("fernet_setup", "credential_setup"):
            self._manage(what, "--keystone-user", "root", "--keystone-group", "root")
        self._manage("bootstrap", "--bootstrap-password", self.password, "--bootstrap-admin-url", self.identity,
                     "--bootstrap-public-url", self.identity, "--bootstrap-region-id", "RegionOne")
        env = {**os.environ, "OS_KEYSTONE_CONFIG_FILES": str(self.dir / "keystone.conf")}
        self.proc = subprocess.Popen(
            # Plain --http-socket (a connection per request): uWSGI's keep-alive socket stalls on delayed ACKs
            # (~40 ms a request), which would be unfair to Keystone.
            [str(self.venv / "bin/uwsgi"), "--http-socket", f"127.0.0.1:{self.port}", "--master",
             "--processes", "1", "--threads", "1", "--module", "keystone.wsgi.api:application",
             "--die-on-term", "--disable-logging", "--logto", str(self.dir / "uwsgi.log")],
            env=env, start_new_session=True)
        wait_for(self.identity)

    def admin_password(self) -> str:
        return self.password


class Placement(UwsgiServer):
    """Placement 16.0.0 from PyPI: SQLite, one uWSGI worker with one thread, ``noauth2`` (no token check at
    all: its best case, since onestack still validates a Keystone token on every request)."""

    name = "placement"
    version = "16.0.0"
    description = "uWSGI, 1 process, 1 thread, SQLite, auth_strategy = noauth2"
    token = "admin"  # noauth2 reads ``user:project`` from X-Auth-Token; ``admin`` has the admin role

    def __init__(self):
        self.dir = WORK / "placement"
        self.venv = WORK / "placement-venv"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def install(self) -> None:
        if not (self.venv / "bin" / "uwsgi").exists():
            subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
            subprocess.run([str(self.venv / "bin/pip"), "install", "--quiet", f"openstack-placement=={self.version}",
                            "uwsgi"], check=True)

    def start(self) -> None:
        self.install()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        (self.dir / "placement.conf").write_text(f"""[DEFAULT]
log_file = {self.dir / 'placement.log'}
[api]
auth_strategy = noauth2
[placement_database]
connection = sqlite:///{self.dir / 'placement.db'}
""")
        env = {**os.environ, "OS_PLACEMENT_CONFIG_DIR": str(self.dir)}
        subprocess.run([str(self.venv / "bin/placement-manage"), "--config-dir", str(self.dir), "db", "sync"],
                       check=True, capture_output=True, env=env)
        self.proc = subprocess.Popen(
            # --http-socket as for Keystone (a connection per request; see Keystone.start)
            [str(self.venv / "bin/uwsgi"), "--http-socket", f"127.0.0.1:{self.port}", "--master",
             "--processes", "1", "--threads", "1", "--module", "placement.wsgi.api:application",
             "--die-on-term", "--disable-logging", "--logto", str(self.dir / "uwsgi.log")],
            env=env, start_new_session=True)
        wait_for(self.base + "/")



class Swift:
    """Swift from PyPI on loopback: a proxy (tempauth, the memcache middleware over a memcached of its own,
    bulk, SLO and DLO) and one account, one container and one object server, one worker each, one replica,
    on one device: a plain directory under .bench/ (Swift keeps its metadata in user xattrs, which the
    machine's ext4 has; ``mount_check = false``).  Per-request logging is off, as onestack's is."""

    name = "swift"
    version = "2.38.3"
    description = ("proxy (tempauth, memcache, bulk, slo, dlo) + account, container, object servers, 1 worker each, "
                   "1 replica, 1 device on the same ext4 disk")
    user, key = "bench:bench", "bench-swift-secret"

    def __init__(self):
        self.dir = WORK / "swift"
        self.venv = WORK / "swift-venv"
        self.port = free_port()
        self.ports = {"account": free_port(), "container": free_port(), "object": free_port()}
        self.memcached_port = free_port()
        self.procs: list[subprocess.Popen] = []

    def install(self) -> None:
        if not (self.venv / "bin" / "swift-proxy-server").exists():
            subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
            subprocess.run([str(self.venv / "bin/pip"), "install", "--quiet", f"swift=={self.version}"], check=True)

    def _conf(self, server: str, port: int, pipeline: str, extra: str) -> Path:
        path = self.dir / "etc" / f"{server}-server.conf"
        path.write_text(f"""[DEFAULT]
bind_ip = 127.0.0.1
bind_port = {port}
workers = 1
user = {getpass.getuser()}
swift_dir = {self.dir / 'etc'}
devices = {self.dir / 'devices'}
mount_check = false
log_level = WARNING
log_name = swift-{server}

[pipeline:main]
pipeline = {pipeline}
{extra}""")
        return path

    def _ring(self, kind: str) -> None:
        builder = str(self.dir / "etc" / f"{kind}.builder")
        tool = str(self.venv / "bin/swift-ring-builder")
        for args in (["create", "10", "1", "1"],
                     ["add", f"r1z1-127.0.0.1:{self.ports[kind]}/d1", "100"], ["rebalance"]):
            done = subprocess.run([tool, builder, *args], capture_output=True, text=True)
            if done.returncode not in (0, 1):  # 1: a warning (one replica, one device)
                raise RuntimeError(f"swift-ring-builder {kind} {args}: {done.stdout}{done.stderr}")

    def start(self) -> None:
        self.install()
        shutil.rmtree(self.dir, ignore_errors=True)
        (self.dir / "etc").mkdir(parents=True)
        (self.dir / "devices" / "d1").mkdir(parents=True)
        (self.dir / "etc" / "swift.conf").write_text(
            "[swift-hash]\nswift_hash_path_suffix = bench\n\n[storage-policy:0]\nname = gold\ndefault = yes\n")
        for kind in self.ports:
            self._ring(kind)
        confs = [self._conf(kind, port, f"{kind}-server",
                            f"\n[app:{kind}-server]\nuse = egg:swift#{kind}\nlog_requests = false\n")
                 for kind, port in self.ports.items()]
        middlewares = ("catch_errors", "gatekeeper", "healthcheck", "cache", "listing_formats", "bulk", "slo",
                       "dlo", "tempauth", "copy")
        filters = "".join(f"\n[filter:{m}]\nuse = egg:swift#{'memcache' if m == 'cache' else m}\n"
                          for m in middlewares)
        confs.append(self._conf("proxy", self.port, " ".join(middlewares) + " proxy-server", f"""
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
{filters.replace('use = egg:swift#memcache', f'use = egg:swift#memcache{chr(10)}memcache_servers = 127.0.0.1:{self.memcached_port}')
          .replace('use = egg:swift#tempauth', f'use = egg:swift#tempauth{chr(10)}user_bench_bench = {self.key} .admin')}"""))
        user = ["-u", "root"] if os.getuid() == 0 else []
        self.procs.append(subprocess.Popen(["memcached", "-l", "127.0.0.1", "-p", str(self.memcached_port), "-U", "0",
                                            "-m", "64", *user], start_new_session=True,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        log = (self.dir / "servers.log").open("ab")
        for conf, kind in zip(confs, [*self.ports, "proxy"], strict=True):
            self.procs.append(subprocess.Popen([str(self.venv / f"bin/swift-{kind}-server"), str(conf)],
                                               start_new_session=True, stdout=log, stderr=log))
        wait_for(f"http://127.0.0.1:{self.port}/healthcheck")
        for port in self.ports.values():
            wait_for(f"http://127.0.0.1:{port}/", 30)

    def session(self) -> tuple[str, str]:
        """(tempauth token, the account's URL path)."""
        req = Request(f"http://127.0.0.1:{self.port}/auth/v1.0",
                      headers={"X-Auth-User": self.user, "X-Auth-Key": self.key})
        with urlopen(req, timeout=30) as resp:
            storage = resp.headers["X-Storage-Url"]
            return resp.headers["X-Auth-Token"], "/" + storage.split("/", 3)[3]

    def pids(self) -> list[int]:
        return [pid for pids in self.processes().values() for pid in pids]

    def processes(self) -> dict[str, list[int]]:
        """Each process started, by name (memcached, then each server's parent and its worker)."""
        found = {}
        for proc, name in zip(self.procs, ["memcached", *self.ports, "proxy"], strict=False):
            found[name] = [proc.pid, *map(int, Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split())]
        return found

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs = []
