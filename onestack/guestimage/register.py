"""Register onestack-tiny and onestack-tiny-container in a running cloud as public images (``onestack image
register``, run by ``make up``), so ``openstack server create --image onestack-tiny`` (a VM) and ``--image
onestack-tiny-container`` (a container) work on a fresh install.

It goes through the cloud's own API as its admin (the credentials ``up`` wrote to ``DATA_DIR/clouds.yaml``),
like any client, and only with the standard library: it does nothing when an image of that name exists.
"""

from __future__ import annotations

import json
import ssl
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

IMAGE_NAME = "onestack-tiny"
CONTAINER_IMAGE_NAME = "onestack-tiny-container"
# name -> how the image service is told what it is
FORMATS = {IMAGE_NAME: {"disk_format": "qcow2", "container_format": "bare", "min_disk": 1},
           CONTAINER_IMAGE_NAME: {"disk_format": "raw", "container_format": "oci"}}


def _call(method: str, url: str, token: str | None = None, body: dict | None = None, data=None,
          headers: dict | None = None, context: ssl.SSLContext | None = None):
    all_headers = {**({"X-Auth-Token": token} if token else {}), **(headers or {})}
    if body is not None:
        data = json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    return urllib.request.urlopen(request, timeout=300, context=context)


def _admin_token(data_dir: Path) -> tuple[str, str, ssl.SSLContext | None]:
    """(token, the image service's URL, the TLS context verifying the cloud) for the cloud's admin."""
    entry = yaml.safe_load((data_dir / "clouds.yaml").read_text())["clouds"]["onestack-admin"]
    auth = entry["auth"]
    context = ssl.create_default_context(cafile=entry["cacert"]) if entry.get("cacert") else None
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": auth["username"], "domain": {"name": auth["user_domain_name"]}, "password": auth["password"]}}},
        "scope": {"project": {"name": auth["project_name"], "domain": {"name": auth["project_domain_name"]}}}}}
    with _call("POST", f"{auth['auth_url']}/v3/auth/tokens", body=body, context=context) as reply:
        token = reply.headers["X-Subject-Token"]
        catalog = json.load(reply)["token"]["catalog"]
    image = next(e["url"] for s in catalog if s["type"] == "image" for e in s["endpoints"]
                 if e["interface"] == "public")
    return token, image.rstrip("/"), context


def register(data_dir: Path, disk: Path, name: str = IMAGE_NAME) -> tuple[str, bool]:
    """(the image's id, whether it was made now) for the public image ``name`` (one of ``FORMATS``) with the
    data of ``disk``."""
    token, glance, context = _admin_token(data_dir)
    query = urllib.parse.urlencode({"name": name})
    with _call("GET", f"{glance}/v2/images?{query}", token, context=context) as reply:
        found = json.load(reply)["images"]
    if found:
        return found[0]["id"], False
    body = {"name": name, "visibility": "public", **FORMATS[name]}
    with _call("POST", f"{glance}/v2/images", token, body=body, context=context) as reply:
        image_id = json.load(reply)["id"]
    with open(disk, "rb") as data:
        _call("PUT", f"{glance}/v2/images/{image_id}/file", token, data=data,
              headers={"Content-Type": "application/octet-stream",
                       "Content-Length": str(disk.stat().st_size)}, context=context).close()
    return image_id, True
