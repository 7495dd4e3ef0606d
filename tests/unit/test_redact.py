"""onestack.redact: what a log record may not carry is masked, what helps reading a log is kept."""

from __future__ import annotations

import logging
import sys

import pytest

from onestack.redact import Redactor, redact, redact_short

FERNET = "gAAAAABnZ2tva2VuLXRoYXQtaXMtbG9uZy1lbm91Z2gtdG8tYmUtYS1mZXJuZXQtdG9rZW4tX2E"


@pytest.mark.parametrize(("line", "secret", "kept"), [
    ("Could not download https://h:8080/v1/AUTH_p/c/o?temp_url_sig=abcdef0123&temp_url_expires=1700000000: 404",
     "abcdef0123", "https://h:8080/v1/AUTH_p/c/o?temp_url_sig=***&temp_url_expires=***"),
    ("GET http://h/s3/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=f00dfeed99 \"200\"", "f00dfeed99",
     "http://h/s3/b/k?X-Amz-Algorithm=***&X-Amz-Signature=***"),
    ("fetching ftp://alice:hunter2secret@files.example/disk.img", "hunter2secret", "ftp://alice:***@files.example"),
    ("headers {'X-Auth-Token': 'tok-1234567', 'Accept': 'json'}", "tok-1234567", "'Accept': 'json'"),
    ('{"user": {"name": "u", "password": "Pa55-word!x"}}', "Pa55-word!x", '"name": "u"'),
    ("Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261205/r/s3/aws4_request, Signature=9a9b9c", "9a9b9c",
     "Authorization: ***"),
    ("X-Account-Meta-Temp-URL-Key: k3y-value", "k3y-value", "X-Account-Meta-Temp-URL-Key: ***"),
    (f"token {FERNET} refused", FERNET, "token *** refused"),
    ("secret=s3cr3t-ec2&access=AKID", "s3cr3t-ec2", "access=AKID"),
    ("headers [(b'x-account-meta-temp-url-key', b'k3y-in-bytes'), (b'date', b'today')]", "k3y-in-bytes",
     "(b'date', b'today')"),
])
def test_secrets_are_masked_and_the_rest_kept(line, secret, kept):
    clean = redact(line)
    assert secret not in clean and kept in clean
    assert redact_short(line) == clean  # the access log's shortcut masks the same


def test_the_shortcut_skips_only_texts_with_nothing_to_mask():
    assert redact_short("/object/v1/AUTH_p/c/plain-name.txt") == "/object/v1/AUTH_p/c/plain-name.txt"
    assert "hunter2" not in redact_short("/object/v1/AUTH_p/c/password=hunter2")
    assert FERNET not in redact_short(f"/object/v1/AUTH_p/c/{FERNET}")


def test_a_record_built_from_masked_fields_passes_as_it_is():
    """The access log masks its one free field itself and marks the record; the filter does not scan it again
    (the line below would otherwise be masked)."""
    line = '{"path":"/a", "note": "token=kept-as-is"}'
    record = logging.LogRecord("onestack.access", logging.INFO, __file__, 1, line, None, None)
    record.redacted = True
    assert Redactor().filter(record) and record.getMessage() == line


def test_a_line_without_secrets_is_untouched():
    line = '{"request_id":"req-1","method":"POST","path":"/identity/v3/auth/tokens","status":201,"ms":3.1}'
    assert redact(line) == line
    assert redact("instance 5d1e: volume 7a2c was not extended: busy") == "instance 5d1e: volume 7a2c was not extended: busy"


def test_the_filter_masks_the_message_and_the_traceback():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "failed: %s", ("http://h/o?temp_url_sig=abc123",), None)
    assert Redactor().filter(record) and "abc123" not in record.getMessage()
    try:
        raise ValueError("bad http://h/o?sig=zz9zz9")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    Redactor().filter(record)
    assert "zz9zz9" not in logging.Formatter().format(record) and "ValueError" in record.exc_text
    broken = logging.LogRecord("x", logging.INFO, __file__, 1, "%s %s", ("one",), None)
    assert Redactor().filter(broken)  # a malformed record is left to the handler to report
