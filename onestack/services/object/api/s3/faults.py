"""S3's errors: a code, a message and a status, rendered as S3's XML error document."""

from __future__ import annotations

from onestack.http import errors

STATUS = {
    "AccessDenied": 403, "AuthorizationHeaderMalformed": 400, "AuthorizationQueryParametersError": 400,
    "BadDigest": 400, "BucketAlreadyOwnedByYou": 409, "BucketNotEmpty": 409, "EntityTooLarge": 400,
    "EntityTooSmall": 400, "IncompleteBody": 400, "InternalError": 500, "InvalidAccessKeyId": 403,
    "InvalidArgument": 400, "InvalidBucketName": 400, "InvalidDigest": 400, "InvalidPart": 400,
    "InvalidPartOrder": 400, "InvalidRange": 416, "InvalidRequest": 400, "KeyTooLongError": 400,
    "MalformedXML": 400, "MethodNotAllowed": 405, "MissingContentLength": 411, "NoSuchBucket": 404,
    "NoSuchKey": 404, "NoSuchUpload": 404, "NotImplemented": 501, "OperationAborted": 409,
    "PreconditionFailed": 412,
    "QuotaExceeded": 413, "RequestTimeTooSkewed": 403, "ServiceUnavailable": 503, "SignatureDoesNotMatch": 403,
    "XAmzContentSHA256Mismatch": 400,
}
# What an error the object service raised means to an S3 client.
BY_STATUS = {400: "InvalidArgument", 401: "AccessDenied", 403: "AccessDenied", 404: "NoSuchKey",
             405: "MethodNotAllowed", 409: "OperationAborted", 411: "MissingContentLength",
             412: "PreconditionFailed", 413: "EntityTooLarge", 416: "InvalidRange", 422: "BadDigest",
             503: "ServiceUnavailable"}


class S3Error(errors.APIError):
    def __init__(self, code: str, message: str, status: int | None = None, extra: dict | None = None,
                 headers: dict | None = None):
        self.status = status or STATUS.get(code, 400)
        super().__init__(message, headers=headers, kind=code)
        self.extra = extra or {}


def translate(err: errors.APIError) -> S3Error:
    if isinstance(err, S3Error):
        return err
    if err.kind in STATUS:  # the service named S3's code itself
        return S3Error(err.kind, err.message, headers=err.headers)
    code = BY_STATUS.get(err.status, "InternalError" if err.status >= 500 else "InvalidRequest")
    if err.status == 413 and "quota" in err.message.lower():
        code = "QuotaExceeded"
    return S3Error(code, err.message, headers=err.headers)
