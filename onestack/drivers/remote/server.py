"""The host end of the link: a small ASGI app answering signed calls on this process's drivers, and
relaying a guest's console socket over a websocket.  Served by uvicorn in a thread of the process
that runs the hosts (``onestack compute join``, or the supervisor of several API workers)."""

from __future__ import annotations

import json
import logging
import threading

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from onestack.drivers.compute import ComputeDriver, ConsoleUnavailable
from onestack.drivers.remote import relay, wire

LOG = logging.getLogger("onestack.hostlink")


def app(drivers: dict[str, ComputeDriver], secrets: dict[str, str]) -> Starlette:
    """The link of the hosts in ``drivers``, each taking calls signed with its secret in ``secrets``."""

    def allowed(host: str, method: str, path: str, body: bytes, headers) -> bool:
        secret = secrets.get(host)
        return secret is not None and wire.verify(secret, method, path, body, headers)

    async def call(request: Request) -> JSONResponse:
        host, uuid, method = (request.path_params[k] for k in ("host", "uuid", "method"))
        body = await request.body()
        if not allowed(host, "POST", request.url.path, body, request.headers):
            return JSONResponse({"error": "Unauthorized", "message": "bad or stale signature"}, 401)
        if host not in drivers or method not in wire.CALLS:
            return JSONResponse({"error": "NotFound", "message": f"no {method} on host {host}"}, 404)
        try:
            args = wire.decode_args(method, json.loads(body or b"{}"), secrets[host])
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": "BadRequest", "message": str(exc)}, 400)
        try:
            leading = () if method in wire.SPEC_CALLS else (uuid,)
            result = await run_in_threadpool(getattr(drivers[host], method), *leading, *args)
        except tuple(wire.ERRORS.values()) as exc:
            return JSONResponse({"error": type(exc).__name__, "message": str(exc)}, 409)
        return JSONResponse({"result": wire.encode_result(result)})

    async def console(ws: WebSocket) -> None:
        host, uuid, kind = (ws.path_params[k] for k in ("host", "uuid", "kind"))
        if host not in drivers or not allowed(host, "GET", ws.url.path, b"", ws.headers):
            await ws.close(code=1008)
            return
        try:
            path = await run_in_threadpool(drivers[host].console_socket, uuid, kind)
            guest = await relay.UnixPeer.open(path)
        except (ConsoleUnavailable, OSError) as exc:
            LOG.info("console %s of %s refused: %s", kind, uuid, exc)
            await ws.close(code=1011)
            return
        await ws.accept()
        await relay.relay(ws, guest)

    return Starlette(routes=[Route("/hosts/{host}/instances/{uuid}/{method}", call, methods=["POST"]),
                             WebSocketRoute("/hosts/{host}/instances/{uuid}/console/{kind}", console)])


class LinkServer:
    """uvicorn serving the link in a thread, on ``bind``: ``HOST:PORT`` (port 0: any free one) or
    ``unix:PATH``."""

    def __init__(self, asgi: Starlette, bind: str):
        self.bind = bind
        where = {"uds": bind[5:]} if bind.startswith("unix:") else {"host": bind.rsplit(":", 1)[0].strip("[]"),
                                                                     "port": int(bind.rsplit(":", 1)[1])}
        self.server = uvicorn.Server(uvicorn.Config(asgi, log_config=None, access_log=False, lifespan="off",
                                                    **where))
        self.server.install_signal_handlers = lambda: None  # the process's own handlers stay
        self.thread = threading.Thread(target=self.server.run, name="hostlink", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        self.thread.start()
        # uvicorn starts within milliseconds; a fine poll keeps a start (a test cloud's too) from waiting longer
        for _ in range(int(timeout / 0.005)):
            if self.server.started or not self.thread.is_alive():
                break
            threading.Event().wait(0.005)
        if not self.server.started:
            raise wire.LinkError(f"the host link cannot listen on {self.bind} (an address of this host, free?)")

    @property
    def url(self) -> str:
        """Where callers reach it, with the port the kernel chose for port 0."""
        if self.bind.startswith("unix:"):
            return self.bind
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
