"""Nova's proxy APIs: images, security groups, floating IPs and networks as Nova v2.1 showed them, served by
the image and network services in this process, always with the caller's own context (so every wall the
owning service keeps — visibility, policy, quotas — is the wall the proxy keeps).

Nova deprecated them at 2.36 (image metadata at 2.39, the floating IP server actions at 2.44): a request
at a later microversion gets the 404 Nova gives for a method its version does not have.
"""

from __future__ import annotations

from onestack.http.errors import NotFound
from onestack.http.microversion import Version

PROXY_LAST = "2.35"
IMAGE_METADATA_LAST = "2.38"
FLOATING_IP_ACTIONS_LAST = "2.43"


def served_until(version: Version | None, last: str) -> None:
    """404 for a request past the last microversion that served the API (Nova's answer, not a 410)."""
    if version is not None and version > Version.parse(last):
        raise NotFound("The resource could not be found.")
