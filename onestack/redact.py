"""What a log line must never carry, taken out of every record before it is written.

onestack's own lines name ids, never secrets; but a line may quote a URI a user gave (a web-download from a
TempURL or a presigned S3 URL, whose signature is a credential), an exception's text, or a library's line
about a request.  So the handler that writes the log passes every record through ``Redactor`` first:

- in a URL, the password of its user info and the value of every query parameter become ``***``;
- a value after a secret's name (``password``, ``secret``, ``token``, ``X-Auth-Token``, ``temp_url_sig``,
  ``Signature``...) followed by ``=`` or ``:`` becomes ``***``, and so does a whole ``Authorization`` value;
- a Fernet token (Keystone's tokens, application credentials' ids are not) becomes ``***``.
"""

from __future__ import annotations

import logging
import re

MASK = "***"
_URL = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)([^\s/?#\"'<>@]*@)?([^\s?#\"'<>]*)\?([^\s#\"'<>]*)")
_USERINFO = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@\"'<>]*):[^\s/@\"'<>]*@")
_PARAM = re.compile(r"([^&=;]+)=([^&;]*)")
_NAMED = re.compile(
    r"(?i)((?:x-auth-token|x-subject-token|x-service-token|x-auth-key|x-storage-token|x-amz-security-token|"
    r"x-account-meta-temp-url-key(?:-2)?|x-container-meta-temp-url-key(?:-2)?|temp_url_sig|x-amz-signature|"
    r"x-amz-credential|signature|awsaccesskeyid|original_password|password|secret|passcode|token)"
    r"[\"']?\s*(?:[=:]|,(?=\s*b?[\"']))\s*b?[\"']?)([^\s\"'&,;}\]]+)")
_AUTHORIZATION = re.compile(r"(?i)(authorization[\"']?\s*[=:]\s*[\"']?)([^\"'\n]+)")
_FERNET = re.compile(r"gAAAAA[A-Za-z0-9_-]{40,}")


def _query(match: re.Match) -> str:
    scheme, userinfo, rest, query = match.groups()
    masked = _PARAM.sub(lambda p: f"{p.group(1)}={MASK}", query)
    return f"{scheme}{userinfo or ''}{rest}?{masked}"


def redact(text: str) -> str:
    text = _URL.sub(_query, text)
    text = _USERINFO.sub(rf"\1:{MASK}@", text)
    text = _AUTHORIZATION.sub(rf"\1{MASK}", text)
    text = _NAMED.sub(rf"\1{MASK}", text)
    return _FERNET.sub(MASK, text)


# Every pattern above needs one of these (a URL's ':', a name's '=' or ':', a quoted value's ',', a token's
# prefix): a text without any has nothing to mask.
_TRIGGERS = re.compile(r"[:=,@]|gAAAAA")


def redact_short(text: str) -> str:
    """``redact`` for a short text of one field (a request's path), skipping the patterns when none can match."""
    return redact(text) if _TRIGGERS.search(text) else text


class Redactor(logging.Filter):
    """A handler's filter: the record's message (and its traceback) with every secret masked.  A record made
    with ``extra={"redacted": True}`` was built from fields each already masked (the access log's), and passes
    as it is: the access log writes a line for every request, and the patterns over a whole line cost more
    than the request they log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "redacted", False) and not record.exc_info:
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is the handler's to report, not the caller's to die of
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install() -> None:
    """Every handler of the root logger (where onestack's and its libraries' records end) redacts."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, Redactor) for f in handler.filters):
            handler.addFilter(Redactor())
