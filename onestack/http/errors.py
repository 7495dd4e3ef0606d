"""One exception tree for every service.

    APIError
     ├── BadRequest (400)          ├── Conflict (409)
     ├── Unauthorized (401)        ├── Gone (410)
     ├── Forbidden (403)           ├── PayloadTooLarge (413)
     ├── NotFound (404)            ├── UnsupportedMediaType (415)
     ├── MethodNotAllowed (405)    ├── PreconditionFailed (412)
     ├── NotAcceptable (406)       ├── NotImplemented_ (501)
     └── ...                       └── ServiceUnavailable (503)

Services raise these; each service renders them once in its own fault shape
(see ``FaultFormat``), so a handler never builds an error body itself.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from onestack.http.shapes import INTEGER, STRING, nullable, obj


class APIError(Exception):
    status = 500
    # Set when the error is rendered: the request's id and negotiated microversion, for fault shapes
    # that carry them (Placement's).
    request_id: str | None = None
    version = None

    def __init__(self, message: str | None = None, *, headers: dict | None = None, kind: str | None = None):
        """``kind`` names the error for services whose faults carry a type (Neutron's ``NetworkNotFound``)."""
        self.message = message or HTTPStatus(self.status).description
        self.headers = headers or {}
        self.kind = kind
        super().__init__(self.message)

    @property
    def title(self) -> str:
        return HTTPStatus(self.status).phrase


class BadRequest(APIError):
    status = 400


class Unauthorized(APIError):
    status = 401

    def __init__(self, message: str = "The request you have made requires authentication.", **kw):
        super().__init__(message, **kw)


class Forbidden(APIError):
    status = 403


class NotFound(APIError):
    status = 404


class MethodNotAllowed(APIError):
    status = 405


class NotAcceptable(APIError):
    status = 406


class Conflict(APIError):
    status = 409


class Gone(APIError):
    status = 410


class PreconditionFailed(APIError):
    status = 412


class PayloadTooLarge(APIError):
    status = 413

    def __init__(self, message: str = "Request Entity Too Large", **kw):
        super().__init__(message, **kw)


class UnsupportedMediaType(APIError):
    status = 415


class NotImplemented_(APIError):
    status = 501


class ServiceUnavailable(APIError):
    status = 503


class LengthRequired(APIError):
    status = 411


class RangeNotSatisfiable(APIError):
    status = 416


class UnprocessableEntity(APIError):
    status = 422


FaultFormat = Callable[[APIError], dict]


def shaped(schema: dict) -> Callable[[FaultFormat], FaultFormat]:
    """Attach the JSON Schema of the bodies a fault format renders (``fault.schema``), which the OpenAPI
    description declares for every 4xx and 5xx answer and the fuzzer checks each error against: written once,
    beside the function that renders it."""

    def attach(fault: FaultFormat) -> FaultFormat:
        fault.schema = schema  # type: ignore[attr-defined]
        return fault

    return attach




@shaped(obj({"error": obj({"code": INTEGER, "title": STRING, "message": STRING})}))
def keystone_fault(err: APIError) -> dict:
    return {"error": {"code": err.status, "title": err.title, "message": err.message}}


_NOVA_KEYS = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
              405: "badMethod", 409: "conflictingRequest", 412: "preconditionFailed", 413: "overLimit", 406: "notAcceptable"}


# Nova's and Cinder's fault: one key naming the kind of fault
@shaped({"type": "object", "minProperties": 1, "maxProperties": 1,
         "propertyNames": {"enum": [*_NOVA_KEYS.values(), "computeFault"]},
         "additionalProperties": obj({"code": INTEGER, "message": STRING})})
def nova_fault(err: APIError) -> dict:
    key = _NOVA_KEYS.get(err.status, "computeFault")
    return {key: {"code": err.status, "message": err.message}}


@shaped(obj({"NeutronError": obj({"type": STRING, "message": STRING, "detail": STRING})}))
def neutron_fault(err: APIError) -> dict:
    kind = err.kind or type(err).__name__.rstrip("_")
    return {"NeutronError": {"type": kind, "message": err.message, "detail": ""}}


GENERIC_ENTRY = {"status": INTEGER, "title": STRING, "detail": STRING}


@shaped(obj({"errors": {"type": "array", "minItems": 1, "items": obj(GENERIC_ENTRY)}}))
def generic_fault(err: APIError) -> dict:
    """The webob-style shape used by Glance, Cinder, Heat and Placement."""
    return {"errors": [{"status": err.status, "title": err.title, "detail": err.message}]}


@shaped(obj({"code": STRING, "title": STRING, "message": STRING}))
def glance_fault(err: APIError) -> dict:
    """webob's JSON error page, which is what Glance answers a JSON client."""
    return {"code": f"{err.status} {err.title}", "title": err.title, "message": err.message}


# webob's explanation of each status, which Heat's fault bodies carry.
_EXPLANATIONS = {
    400: "The server could not comply with the request since it is either malformed or otherwise incorrect.",
    401: "This server could not verify that you are authorized to access the document you requested. Either you "
         "supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply "
         "the credentials required.",
    403: "Access was denied to this resource.",
    404: "The resource could not be found.",
    405: "The method specified is not allowed for this resource.",
    409: "There was a conflict when trying to complete your request.",
    413: "The request is larger than the server is willing or able to process.",
    415: "The request media type is not supported by this server.",
    500: "The server has either erred or is incapable of performing the requested operation.",
    501: "The server has not implemented the requested functionality.",
    503: "The server is currently unavailable. Please try again at a later time.",
}


@shaped(obj({"code": INTEGER, "title": STRING, "explanation": STRING, "error": obj(
    {"message": STRING, "type": STRING}, {"traceback": nullable(STRING)})}))
def heat_fault(err: APIError) -> dict:
    """Heat's fault: the error's type and message inside webob's code, title and explanation."""
    kind = err.kind or "HTTP" + err.title.replace(" ", "").replace("-", "")
    return {"code": err.status, "title": err.title, "explanation": _EXPLANATIONS.get(err.status, err.title),
            "error": {"message": err.message, "traceback": None, "type": kind}}
