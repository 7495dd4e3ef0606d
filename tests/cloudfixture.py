"""A real onestack server on a free loopback port, driven over HTTP."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text

from tests.openstackcli import openstack_cli

# Tempest's own compliance settings: tests of lockout and history rely on them.
TEST_SETTINGS = {
    "bcrypt_rounds": 4,
    # Two fake compute hosts: enough for anti-affinity to spread and then run out of room.
    "compute": {"driver": "fake", "fake_hosts": 2},
    # No kernel data plane and no DevStack networks: API tests make no kernel objects (data-plane tests opt in).
    "network": {"dataplane": False, "defaults": False},
    "security_compliance": {"lockout_failure_attempts": 2, "lockout_duration": 5, "unique_last_password_count": 2},
    # web-download tests fetch from a server on 127.0.0.1 (any port): only that address is let through;
    # every other loopback and link-local address stays refused, as by default.
    "image_import": {"enabled_methods": ["glance-direct", "web-download"], "allowed_ports": [],
                     "allowed_networks": ["127.0.0.1/32"], "download_timeout": 10},
    # template_url tests serve templates from 127.0.0.2: only that loopback address is let through (the
    # cloud's own object store on 127.0.0.1 is reachable as this cloud's; any other 127.0.0.1 port is not).
    "orchestration": {"allowed_networks": ["127.0.0.2/32"], "fetch_timeout": 3},
}


# the passwords tests give the users they make (tests/api/helpers.make_user and its kin)
TEST_PASSWORDS = ("secret-pass-1",)
# a Fernet token (Keystone's), a signature parameter whose value the log's filter did not mask, or a
# generated application credential secret (86 URL-safe characters: secrets.token_urlsafe(64))
SECRET_SHAPES = re.compile(r"gAAAAA[A-Za-z0-9_-]{40,}|(?i:temp_url_sig|x-amz-signature|signature)=(?!\*\*\*)[^&\s\"']+"
                           r"|(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{86}(?![A-Za-z0-9_-])")
# What a guest prints (its serial console) is searched for the exact secrets only: a guest's own base64 (a
# host key) may hold a run of 86 such characters.
GUEST_CONSOLE = "console.log"


def _json(value) -> dict:
    """A JSON column as a dict, whichever way the driver hands it over (text from SQLite, parsed from
    PostgreSQL)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie has: it holds no port, file or lock any more)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


def children(parent: int) -> set[int]:
    """The live (not zombie) children of process ``parent``, found by their parent pid in /proc."""
    # (/proc/PID/task/TID/children is only reliable while the children are stopped: it missed a running one)
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process has gone
            continue
        if int(fields[1]) == parent and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


# Test clouds listen below the kernel's ephemeral ports (32768 and up), each test worker in a range of its own.
# A port the kernel hands out (bind to 0, every outgoing connection) could be one a killed cloud is about to
# be restarted on; a port from another worker's range could be one that worker has picked but not yet bound.
PORTS_FROM, PORTS_PER_WORKER, WORKER_RANGES = 20000, 1000, 12
_next_port = itertools.count()


def free_port() -> int:
    """A loopback port free now, from this worker's range, not offered again until the range wraps."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    first = PORTS_FROM + int(worker.removeprefix("gw") or 0) % WORKER_RANGES * PORTS_PER_WORKER
    for _ in range(PORTS_PER_WORKER):
        port = first + next(_next_port) % PORTS_PER_WORKER
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError(f"no free port in {first}-{first + PORTS_PER_WORKER - 1}")


class Cloud:
    def __init__(self, data_dir: Path, database: str | None = None, settings: dict | None = None):
        self.data_dir = data_dir
        self.home = data_dir / "home"
        self.port = free_port()
        self.database = database
        self.tls_flag = False
        # a section given by a test is laid over the same section of TEST_SETTINGS
        self.settings = {**TEST_SETTINGS, **{
            key: {**TEST_SETTINGS[key], **value} if isinstance(value, dict) and key in TEST_SETTINGS else value
            for key, value in (settings or {}).items()}}

    @property
    def tls(self) -> bool:
        """Whether it serves HTTPS (``settings={"tls": {"enabled": True}}`` or ``start("--tls")``)."""
        return self.tls_flag or bool((self.settings.get("tls") or {}).get("enabled"))

    @property
    def ca(self) -> Path:
        """The CA a TLS cloud made for itself, which its clouds.yaml names as ``cacert``."""
        return self.data_dir / "tls" / "ca.pem"

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """httpx's ``verify`` for this cloud."""
        return ssl.create_default_context(cafile=str(self.ca)) if self.tls else True

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def auth_url(self) -> str:
        return f"{self.url}/identity"

    @property
    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(HOME=str(self.home), OS_CLIENT_CONFIG_FILE=str(self.data_dir / "clouds.yaml"))
        return env

    def onestack(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "onestack", *args, "--data-dir", str(self.data_dir)]
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, check=check, timeout=120)

    def start(self, *extra: str) -> Cloud:
        """``onestack up --detach`` with these settings (written to onestack.yaml) and ``extra`` options of
        ``up``: with ``--tls`` it serves HTTPS (give it again to a later ``start``, which rewrites onestack.yaml)."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.tls_flag = "--tls" in extra
        (self.data_dir / "onestack.yaml").write_text(yaml.safe_dump(self.settings))
        args = ["up", "--bind", f"127.0.0.1:{self.port}", "--detach", "--no-user-clouds", *extra]
        if self.database:
            args += ["--database", self.database]
        self.onestack(*args)
        return self

    def kill_9(self, seconds: float = 30) -> int:
        """``kill -9`` of the serving process; returns its pid once it is gone, so a restart finds its port
        free and no process left to take for a running server."""
        pid = int((self.data_dir / "onestack.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + seconds
        while not gone(pid):
            assert time.monotonic() < deadline, f"process {pid} outlived kill -9 by {seconds} s"
            time.sleep(0.01)
        return pid

    def execute(self, statement: str, **params) -> None:
        """Change the cloud's database behind its back, SQLite or PostgreSQL (what a test simulates: a clock
        moved, a row lost)."""
        engine = create_engine(self.database or f"sqlite:///{self.data_dir / 'onestack.db'}")
        try:
            with engine.begin() as conn:
                conn.execute(text(statement), params)
        finally:
            engine.dispose()

    def stop(self) -> None:
        self.onestack("down", check=False)
        self.check_log()

    def purge(self, check: bool = True) -> subprocess.CompletedProcess:
        """Tear the cloud down for good (``onestack down --purge``: what it made on the host and its data dir
        go), its logs searched for secrets first (``check_log``), while they still exist; the purge runs
        whatever that finds."""
        self.onestack("down", check=False)
        try:
            self.check_log()
        finally:
            purged = self.onestack("down", "--purge", check=check)
        return purged

    def check_log(self) -> None:
        """Whatever the tests did with this cloud, none of its log files (``*.log`` under the data dir: the
        server's captured output, dnsmasq's and the like) holds a secret it saw (``seen_secrets``), a token
        or an unmasked signature. Run when the cloud is stopped or torn down, so it fails the test (or the
        last test of the module or worker) that owned the cloud."""
        logs = sorted(self.data_dir.rglob("*.log")) if self.data_dir.exists() else []
        if not logs:
            return
        known = self.seen_secrets()
        found = []
        for log in logs:
            try:
                text = log.read_text(errors="replace")
            except OSError:  # gone under us (a guest's console log as its guest goes)
                continue
            found += [f"{log.name}: {what} {value[:3]}..." for value, what in known.items() if value in text]
            if log.name != GUEST_CONSOLE:
                found += [f"{log.name}: secret-shaped {m.group(0)[:24]}..." for m in SECRET_SHAPES.finditer(text)]
        assert not found, f"secrets in the logs of {self.data_dir}: {found}"

    def seen_secrets(self) -> dict[str, str]:
        """Every secret this cloud was given or made that it still knows, each with what it is: the tests'
        passwords, its generated ones (clouds.yaml, bootstrap-secrets.yaml), and from its database (read
        only, after the tests) the EC2 secrets in credential blobs, the TempURL keys in account and
        container metadata and the OAuth secrets, which it keeps as given. Passwords and application
        credentials' secrets are stored hashed: the generated ones are found by their shape
        (``SECRET_SHAPES``), the tests' own are the passwords above. Values under 8 characters are left
        out: a test's TempURL key ``akey`` is a word any log may hold."""
        known = {p: "password" for p in TEST_PASSWORDS}
        if (self.data_dir / "clouds.yaml").exists():
            known |= {entry["auth"]["password"]: "generated password" for entry in self.clouds.values()}
        bootstrap = self.data_dir / "bootstrap-secrets.yaml"
        if bootstrap.exists():
            known |= {str(v): f"bootstrap secret {k}" for k, v in (yaml.safe_load(bootstrap.read_text()) or {}).items()}
        if self.database or (self.data_dir / "onestack.db").exists():
            known |= self._stored_secrets()
        return {value: what for value, what in known.items() if len(value) >= 8}

    def _stored_secrets(self) -> dict[str, str]:
        engine = create_engine(self.database or f"sqlite:///{self.data_dir / 'onestack.db'}")
        known: dict[str, str] = {}

        def rows(statement: str) -> list:
            try:
                with engine.connect() as conn:
                    return list(conn.execute(text(statement)))
            except Exception:  # noqa: BLE001 - a database from before that table: nothing of it to look for
                return []

        try:
            for (blob,) in rows("select blob from identity_credential where type = 'ec2'"):
                secret = _json(blob).get("secret")
                if isinstance(secret, str):
                    known[secret] = "EC2 secret"
            for table in ("object_account", "object_container"):
                for (meta,) in rows(f"select meta from {table}"):  # noqa: S608 - fixed table names
                    known |= {str(v): "TempURL key" for k, v in _json(meta).items() if "temp-url-key" in k.lower()}
            for table in ("identity_oauth_consumer", "identity_oauth_request_token", "identity_oauth_access_token"):
                known |= {secret: "OAuth secret" for (secret,) in rows(f"select secret from {table}") if secret}  # noqa: S608
        finally:
            engine.dispose()
        return known

    @property
    def clouds(self) -> dict:
        return yaml.safe_load((self.data_dir / "clouds.yaml").read_text())["clouds"]

    def password(self, entry: str = "onestack-admin") -> str:
        return self.clouds[entry]["auth"]["password"]

    def token(self, user: str = "admin", password: str | None = None, project: str | None = "admin",
              domain: str = "Default", **scope) -> str:
        return self.issue(user, password, project, domain, **scope).headers["X-Subject-Token"]

    def issue(self, user: str = "admin", password: str | None = None, project: str | None = "admin",
              domain: str = "Default", scope: dict | None = None) -> httpx.Response:
        if password is None:
            password = self.password("onestack-admin" if user == "admin" else "onestack")
        body = {"auth": {"identity": {"methods": ["password"], "password": {
            "user": {"name": user, "domain": {"name": domain}, "password": password}}}}}
        if scope is not None:
            body["auth"]["scope"] = scope
        elif project is not None:
            body["auth"]["scope"] = {"project": {"name": project, "domain": {"name": domain}}}
        return httpx.post(f"{self.auth_url}/v3/auth/tokens", json=body, timeout=30, verify=self.verify)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"X-Auth-Token": token or self.token()}
        return httpx.Client(base_url=f"{self.auth_url}/v3", headers=headers, timeout=30, verify=self.verify)

    def openstack(self, *args: str, cloud: str = "onestack-admin", check: bool = True) -> subprocess.CompletedProcess:
        """The ``openstack`` CLI's own entry point, run in this process (see ``openstack_cli``)."""
        result = openstack_cli(["--os-cloud", cloud, *args], self.env)
        if check and result.returncode != 0:
            raise AssertionError(f"openstack {' '.join(args)} failed: {result.stderr}")
        return result


def own_cloud(label: str):
    """A module-scoped ``cloud`` fixture on a cloud of the module's own: ``cloud = own_cloud("label")`` in a
    test module overrides the worker's shared cloud for every fixture its tests use, for tests whose outcome
    other tests' leftovers there (shared networks, servers on a host) would change."""

    @pytest.fixture(scope="module")
    def cloud(tmp_path_factory):
        c = Cloud(tmp_path_factory.mktemp(label)).start()
        yield c
        c.stop()

    return cloud
