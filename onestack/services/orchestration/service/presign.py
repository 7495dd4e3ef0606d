"""Pre-signed signal URLs (``CFN_SIGNAL``): a POST to a resource's signal URL that carries, in its query, an
HMAC of the URL's stack and resource under the resource's own signal secret, so a guest's agent signals
with no header and no Keystone user, as Heat's pre-signed CloudFormation URLs let it.  The URL opens that
one resource's signal and nothing else; the secret never leaves the cloud in it."""

from __future__ import annotations

import hashlib
import hmac


def signature(secret: str, project_id: str, stack_name: str, stack_id: str, resource: str) -> str:
    text = f"POST\n{project_id}\n{stack_name}\n{stack_id}\n{resource}".encode()
    return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()


def valid(secret: str | None, given: str | None, project_id: str, stack_name: str, stack_id: str,
          resource: str) -> bool:
    if not secret or not given:
        return False
    return hmac.compare_digest(signature(secret, project_id, stack_name, stack_id, resource), given)
