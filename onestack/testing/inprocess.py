"""One complete cloud inside the test's own process, on a free loopback port, gone without a trace on exit.

The same start as ``onestack up`` (``server.prepare``: migrate, seed, write clouds.yaml), with what makes
it fast and self-contained: the database starts as a copy of one migrated once per process
(``schema.py``), passwords are hashed at bcrypt's lowest cost, the compute driver is the fake one, the
kernel data plane is off, and uvicorn serves from a thread on a socket bound before anything else, so the
catalog already holds the real port.  The metadata service is not started: no guest runs to ask it.

SQLite lives in a file of the cloud's temporary directory rather than in memory: an in-memory database is
one per connection unless it uses a shared cache, whose table locks fail at once where the API's threads
and the reconcilers' need to wait for each other.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import socket
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import uvicorn
import yaml

from onestack import server
from onestack.app import build
from onestack.config import SECTIONS, Settings
from onestack.drivers.fake import FakeDriver
from onestack.serving import Server
from onestack.testing import schema
from onestack.testing.faults import FaultLayer, Faults

# What a test cloud is unless a test says otherwise (``cloud(settings=...)``).
DEFAULTS = {
    "bcrypt_rounds": 4,  # bcrypt's lowest cost: a test cloud's passwords protect nothing
    "compute": {"driver": "fake", "fake_hosts": 1},
    "network": {"dataplane": False, "defaults": False},
}
IMAGE_NAME = "onestack-tiny"
# what the fake driver "boots": a raw disk of one sector, honestly declared
IMAGE_DATA = b"onestack.testing: the fake compute driver boots nothing from this disk\n".ljust(512, b"\0")
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


def _merged(given: dict | None) -> dict:
    """``given`` laid over ``DEFAULTS``, section by section."""
    merged = {key: dict(value) if isinstance(value, dict) else value for key, value in DEFAULTS.items()}
    for key, value in (given or {}).items():
        if key in SECTIONS and isinstance(value, dict):
            merged[key] = {**merged.get(key, {}), **value}
        else:
            merged[key] = value
    return merged


def _settings(data_dir: Path, bind: str, given: dict | None) -> Settings:
    raw = _merged(given)
    for refused in ("data_dir", "bind"):
        if refused in raw:
            raise ValueError(f"a test cloud chooses its own {refused}")
    sections = {name: kind(**raw.pop(name, {})) for name, kind in SECTIONS.items()}
    return Settings(data_dir=data_dir, bind=bind, **sections, **raw)


class InProcessCloud:
    """A context manager: ``__enter__`` starts the cloud (and returns it), ``__exit__`` removes it.

    ``cloud_name`` and ``admin_cloud_name`` name entries of ``clouds_yaml`` (also written to
    ``clouds_yaml_path``): the ``demo`` user, a member of project ``demo``, and ``admin``, admin of project
    ``admin``.  ``connection`` and ``admin_connection`` are openstacksdk connections made from them.
    """

    cloud_name = "onestack"
    admin_cloud_name = "onestack-admin"
    system_admin_cloud_name = "onestack-system-admin"

    def __init__(self, settings: dict | None = None, *, image: bool = True):
        self._given = settings
        self._image = image
        self.faults = Faults()
        self.data_dir: Path | None = None
        self.settings: Settings | None = None
        self.clouds_yaml: dict = {}
        self.image_id: str | None = None
        self.startup_seconds: float | None = None
        self._socket: socket.socket | None = None
        self._runtime = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: list = []
        self._trust: tuple[str | None] | None = None

    # -- what a test uses -------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The cloud's root, ``http://127.0.0.1:PORT`` (``https`` with ``tls.enabled``: its CA is
        ``clouds_yaml``'s ``cacert``)."""
        return self.settings.base_url

    @property
    def auth_url(self) -> str:
        return f"{self.url}/identity"

    @property
    def port(self) -> int:
        return self.settings.port

    @property
    def clouds_yaml_path(self) -> Path:
        return self.data_dir / "clouds.yaml"

    @property
    def environ(self) -> dict[str, str]:
        """Environment variables under which openstacksdk, keystoneauth's loaders and the ``openstack`` CLI
        use this cloud as the demo member (``OS_CLOUD``); remove any other ``OS_`` variable first."""
        return {"OS_CLIENT_CONFIG_FILE": str(self.clouds_yaml_path), "OS_CLOUD": self.cloud_name}

    @functools.cached_property
    def connection(self):
        """An openstacksdk ``Connection`` as ``demo``, a member of project ``demo``."""
        return self.connect(self.cloud_name)

    @functools.cached_property
    def admin_connection(self):
        """An openstacksdk ``Connection`` as ``admin`` in project ``admin``."""
        return self.connect(self.admin_cloud_name)

    def connect(self, cloud: str | None = None, **options):
        """A new openstacksdk ``Connection`` to entry ``cloud`` of ``clouds_yaml`` (default the demo
        member), closed with the cloud; ``options`` go to ``openstack.connect``."""
        try:
            import openstack
        except ImportError:
            raise RuntimeError("connections need openstacksdk: pip install 'onestack[testing]'") from None
        entry = self.clouds_yaml["clouds"][cloud or self.cloud_name]
        conn = openstack.connect(load_yaml_config=False, load_envvars=False, **{**entry, **options})
        self._connections.append(conn)
        return conn

    # -- start and stop ---------------------------------------------------------------------------------------
    def __enter__(self) -> InProcessCloud:
        started = time.perf_counter()
        try:
            self._start()
        except BaseException:
            self._stop()
            raise
        self.startup_seconds = time.perf_counter() - started
        return self

    def __exit__(self, *_exc) -> None:
        self._stop()

    def _start(self) -> None:
        if self.data_dir is not None:
            raise RuntimeError("a test cloud starts once; make another for a fresh one")
        self.data_dir = Path(tempfile.mkdtemp(prefix="onestack-cloud-"))
        # Bound first and handed to uvicorn: the port is ours from now on and the catalog can name it.
        self._socket = socket.create_server(("127.0.0.1", 0))
        bind = f"127.0.0.1:{self._socket.getsockname()[1]}"
        self.settings = _settings(self.data_dir, bind, self._given)
        if not self.settings.database:
            schema.write(self.data_dir / "onestack.db")
        # A cloud with ``tls.enabled`` makes this process trust its CA (``SSL_CERT_FILE``) while it runs.
        self._trust = (os.environ.get("SSL_CERT_FILE"),)
        self._runtime = server.prepare(self.settings, user_clouds=False)
        self.clouds_yaml = yaml.safe_load(self.clouds_yaml_path.read_text())
        self._runtime.start()
        for host in self._runtime.compute.hosts.names():
            driver = self._runtime.compute.hosts.driver(host)
            if isinstance(driver, FakeDriver):
                driver.spawn_fault = self.faults.build_fault
        self._serve()
        if self._image:
            self.image_id = self._register_image()

    def _serve(self) -> None:
        config = uvicorn.Config(FaultLayer(build(self._runtime), self.faults), log_config=None, access_log=False,
                                lifespan="off", server_header=False, timeout_graceful_shutdown=STOP_TIMEOUT / 2,
                                **server.serving_tls(self.settings))
        self._server = Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name=f"onestack-cloud-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the test cloud's API did not start on {self.settings.bind}")
            time.sleep(0.002)

    def _register_image(self) -> str:
        """The public image ``onestack-tiny``, as ``make up`` registers one, through the image API."""
        auth = self.clouds_yaml["clouds"][self.admin_cloud_name]["auth"]
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": auth["username"], "domain": {"name": "Default"}, "password": auth["password"]}}},
            "scope": {"project": {"name": auth["project_name"], "domain": {"name": "Default"}}}}}
        with self._call("POST", "/identity/v3/auth/tokens", json.dumps(body).encode()) as reply:
            token = reply.headers["X-Subject-Token"]
        image = {"name": IMAGE_NAME, "disk_format": "raw", "container_format": "bare", "visibility": "public"}
        with self._call("POST", "/image/v2/images", json.dumps(image).encode(), token) as reply:
            image_id = json.load(reply)["id"]
        self._call("PUT", f"/image/v2/images/{image_id}/file", IMAGE_DATA, token,
                   "application/octet-stream").close()
        return image_id

    def _call(self, method: str, path: str, data: bytes, token: str | None = None,
              content_type: str = "application/json"):
        headers = {"Content-Type": content_type, **({"X-Auth-Token": token} if token else {})}
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        return urllib.request.urlopen(request, timeout=START_TIMEOUT)

    def _stop(self) -> None:
        """Everything ``_start`` made, in reverse, whatever point it reached."""
        for conn in self._connections:
            with contextlib.suppress(Exception):
                conn.close()
        self._connections.clear()
        try:
            if self._server is not None:
                self._server.should_exit = True  # uvicorn notices within a tick; the runtime stops meanwhile
            if self._runtime is not None:
                self._runtime.stop()
            if self._thread is not None:
                self._thread.join(STOP_TIMEOUT)
                if self._thread.is_alive():
                    raise RuntimeError(f"the test cloud's API on {self.settings.bind} did not stop")
        finally:
            if self._socket is not None:
                self._socket.close()
            if self._runtime is not None:
                self._runtime.close()
            if self._trust is not None:
                os.environ.pop("SSL_CERT_FILE", None)
                if self._trust[0] is not None:
                    os.environ["SSL_CERT_FILE"] = self._trust[0]
            if self.data_dir is not None:
                shutil.rmtree(self.data_dir, ignore_errors=True)
            self._server = self._thread = self._socket = self._runtime = None
