"""The metadata service: what a guest reads at ``http://169.254.169.254/``, as Nova's metadata API serves it.

A small ASGI app of its own (never on the cloud's API port).  The network's metadata proxy forwards a
guest's request with the address it came from and the network (or router) it came in on, as Neutron's
metadata agent is told them; or, where ``trust_proxy_headers`` is off (TCP), the request carries Nova's
signed instance id.  Trees and files come from ``metadata``: the config drive holds the same.
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onestack.http.errors import PayloadTooLarge
from onestack.http.jsonbody import read_limited
from onestack.services.compute.models import Instance
from onestack.services.compute.service import ComputeService, guest_metadata


class MetadataError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _required(request: Request, header: str) -> str:
    value = request.headers.get(header)
    if value is None:
        raise MetadataError(400, f"{header} header is missing from request.")
    return value


class MetadataService:
    def __init__(self, compute: ComputeService, trust_proxy_headers: bool):
        """``compute``: the ComputeService; ``trust_proxy_headers``: take the address-and-network
        headers at their word (the Unix socket only the cloud's own proxy reaches)."""
        self.compute = compute
        self.settings = compute.settings.metadata
        self.trust_proxy_headers = trust_proxy_headers

    # -- who is asking ---------------------------------------------------------------------------
    def identify(self, request: Request) -> Instance:
        if self.trust_proxy_headers and request.headers.get("X-Instance-ID") is None:
            address = _required(request, "X-Forwarded-For").split(",")[0].strip()
            network_id = request.headers.get("X-Neutron-Network-ID")
            router_id = request.headers.get("X-Neutron-Router-ID")
            if network_id is None and router_id is None:
                raise MetadataError(400, "X-Neutron-Network-ID or X-Neutron-Router-ID header is missing from request.")
            instance_id = self.compute.instance_at(address, network_id, router_id)
            tenant_id = None
        else:
            instance_id = _required(request, "X-Instance-ID")
            tenant_id = _required(request, "X-Tenant-ID")
            signature = _required(request, "X-Instance-ID-Signature")
            secret = self.settings.proxy_shared_secret
            if not secret:
                raise MetadataError(403, "Signed requests are not accepted: metadata.proxy_shared_secret is not set.")
            expected = hmac.new(secret.encode(), instance_id.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, signature):
                raise MetadataError(403, "Invalid proxy request signature.")
        instance = self.compute.instance(instance_id) if instance_id is not None else None
        if instance is None:
            raise MetadataError(404, "The resource could not be found.")
        if tenant_id is not None and tenant_id != instance.project_id:
            raise MetadataError(404, f"Tenant_id {tenant_id} does not match tenant_id of instance {instance_id}.")
        return instance

    # -- what it asks for --------------------------------------------------------------------------
    def answer(self, request: Request, parts: list[str], body: bytes) -> Response:
        instance = self.identify(request)
        guest = self.compute.guest(instance)
        if parts[0] == "openstack":
            return self._openstack(request, instance, guest, parts[1:], body)
        if parts[0] in (*guest_metadata.EC2_VERSIONS, guest_metadata.LATEST):
            return self._ec2(request, guest, parts[1:])
        raise MetadataError(404, "The resource could not be found.")

    def _openstack(self, request: Request, instance: Instance, guest: guest_metadata.Guest, parts: list[str],
                   body: bytes) -> Response:
        if not parts:
            return _listing([*guest_metadata.OPENSTACK_VERSIONS, guest_metadata.LATEST])
        version, rest = parts[0], parts[1:]
        if version not in (*guest_metadata.OPENSTACK_VERSIONS, guest_metadata.LATEST) or len(rest) > 1:
            raise MetadataError(404, "The resource could not be found.")
        files = guest_metadata.openstack_files(guest, version, with_password=True)
        if not rest:
            return _listing(list(files))
        name = rest[0]
        if name not in files:
            raise MetadataError(404, "The resource could not be found.")
        if name == "password":
            return self._password(request, instance, body)
        _read_only(request)
        kind = "application/json" if name.endswith(".json") else "text/plain"
        return Response(files[name], media_type=kind)

    def _password(self, request: Request, instance: Instance, body: bytes) -> Response:
        """GET: what the guest posted (empty if nothing).  POST: set it, once (Nova's 409 after that)."""
        if request.method in ("GET", "HEAD"):
            return Response(instance.password or "", media_type="text/plain")
        if request.method != "POST":
            raise MetadataError(400, "The password can only be read (GET) or set (POST).")
        if not self.compute.set_guest_password(instance.id, body.decode(errors="replace")):
            raise MetadataError(409, "The password is already set.")
        return Response(b"", media_type="text/plain")

    def _ec2(self, request: Request, guest: guest_metadata.Guest, parts: list[str]) -> Response:
        _read_only(request)
        node: object = guest_metadata.ec2_tree(guest)
        for part in parts:
            if not isinstance(node, dict) or part == "_name":
                raise MetadataError(404, "The resource could not be found.")
            # a key is asked for by its listed name too ("public-keys/0=mykey")
            node = node.get(part, next((v for v in node.values() if isinstance(v, dict) and v.get("_name") == part),
                                       None))
            if node is None:
                raise MetadataError(404, "The resource could not be found.")
        if isinstance(node, dict):
            return _listing([v["_name"] if isinstance(v, dict) and "_name" in v else f"{k}/" if isinstance(v, dict)
                             else k for k, v in node.items() if k != "_name"])
        if isinstance(node, list):
            return _listing(node)
        return Response(node if isinstance(node, bytes) else str(node).encode(), media_type="text/plain")


def _read_only(request: Request) -> None:
    if request.method not in ("GET", "HEAD"):
        raise MetadataError(405, f"{request.method} is not allowed here.")


def _listing(names: list[str]) -> Response:
    return Response("\n".join(names), media_type="text/plain")


def build(compute: ComputeService, trust_proxy_headers: bool) -> Starlette:
    service = MetadataService(compute, trust_proxy_headers)

    async def endpoint(request: Request) -> Response:
        parts = [p for p in request.url.path.split("/") if p]
        if not parts:  # the EC2 versions, which Nova lists before knowing who asks
            _read_only(request)
            return _listing([*guest_metadata.EC2_VERSIONS, guest_metadata.LATEST])
        try:
            body = await read_limited(request, guest_metadata.PASSWORD_MAX) if request.method == "POST" else b""
        except PayloadTooLarge:
            raise MetadataError(400, "Request is too large.") from None
        return await run_in_threadpool(service.answer, request, parts, body)

    async def error(_request: Request, exc: MetadataError) -> Response:
        return Response(exc.message, status_code=exc.status, media_type="text/plain")

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "HEAD", "POST", "PUT", "DELETE"])],
                     exception_handlers={MetadataError: error})
