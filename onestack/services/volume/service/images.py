"""Images and volumes, as Cinder relates them: which image a volume may be made from and how large the
volume must be, the image metadata a volume carries from it, and the image record an upload makes.

Only the Image API's answers are read here (``ImageAPI`` over HTTP with the caller's token).
"""

from __future__ import annotations

import math
import uuid

from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict, NotFound, ServiceUnavailable
from onestack.http.numbers import decimal
from onestack.services.volume.service.catalog import PeerError
from onestack.services.volume.service.imageapi import ImageAPI

GiB = 1024**3
# What an image's record holds that is not a property of its data: never copied to a volume.
NOT_COPIED = frozenset({
    "id", "name", "status", "visibility", "protected", "os_hidden", "owner", "created_at", "updated_at", "tags",
    "self", "file", "schema", "stores", "locations", "direct_url", "virtual_size", "os_hash_algo", "os_hash_value",
    "checksum", "size", "min_disk", "min_ram", "container_format", "disk_format"})
# The image fields Cinder keeps with a volume besides the image's own properties.
CORE = ("checksum", "container_format", "disk_format", "min_disk", "min_ram", "size")
# What a volume's image metadata does not pass on to an image uploaded from it (the image's own fields).
NOT_UPLOADED = frozenset({"image_id", "image_name", *CORE})
SOURCE_FORMATS = ("raw", "qcow2", "vmdk", "vdi", "vhd", "vhdx", "iso")


def peer_error(exc: PeerError, what: str) -> Exception:
    """An API error for a call of another service that failed while a request waited for it."""
    if exc.status is not None and 400 <= exc.status < 500:
        return BadRequest(f"Invalid {what}: {exc}")
    return ServiceUnavailable(f"{what} could not be reached: {exc}")


def usable(api: ImageAPI, ctx: Context, ref: str) -> dict:
    """The image ``ref`` (an id or a name) names, if the caller may read it and a volume can be made of it."""
    if not isinstance(ref, str) or not ref.strip():
        raise BadRequest("Invalid input received: imageRef must be an image id or name.")
    try:
        image = _resolve(api, ctx, ref.strip())
    except PeerError as exc:
        raise peer_error(exc, "image") from exc
    if image.get("status") != "active":
        raise BadRequest(f"Invalid image: Image {image['id']} is not active (it is {image.get('status')}).")
    if image.get("disk_format") not in SOURCE_FORMATS:
        raise BadRequest(f"Invalid image: the disk format {image.get('disk_format')} of image {image['id']} "
                         f"cannot be made a volume.")
    if image.get("container_format") not in ("bare", None):
        raise BadRequest(f"Invalid image: the container format {image['container_format']} of image "
                         f"{image['id']} is not supported (bare only).")
    return image


def _resolve(api: ImageAPI, ctx: Context, ref: str) -> dict:
    try:
        uuid.UUID(ref)
    except ValueError:
        found = api.find(ctx.token, ref)
        if not found:
            raise BadRequest("Invalid image identifier or unable to access requested image.") from None
        if len(found) > 1:
            raise Conflict(f"Multiple matches found for '{ref}', use an ID to be more specific.") from None
        return found[0]
    image = api.show(ctx.token, ref)
    if image is None:
        raise NotFound(f"Image {ref} could not be found.")
    return image


def volume_size(image: dict, asked: int | None) -> int:
    """The volume's size: as asked, or the image's size in whole GiB; never under the image's needs."""
    data_gb = math.ceil(max(image.get("virtual_size") or 0, image.get("size") or 0) / GiB)
    min_disk = image.get("min_disk") or 0
    if asked is None:
        return max(data_gb, min_disk, 1)
    if asked < min_disk:
        raise BadRequest(f"Invalid input received: Volume size {asked}GB cannot be smaller than the image "
                         f"minDisk size {min_disk}GB.")
    if asked < math.ceil((image.get("virtual_size") or 0) / GiB):
        raise BadRequest(f"Invalid input received: Size of specified image {data_gb}GB is larger than volume "
                         f"size {asked}GB.")
    return asked


def volume_image_metadata(image: dict) -> dict[str, str]:
    """What a volume keeps of the image it was made from (Cinder's volume_glance_metadata), as strings."""
    found = {"image_id": image["id"], "image_name": image.get("name") or ""}
    found.update({key: image.get(key) for key in CORE})
    found.update({key: value for key, value in image.items() if key not in NOT_COPIED})
    return {key: "" if value is None else str(value) for key, value in found.items()}


def upload_record(name: str, volume_size: int, image_metadata: dict, disk_format: str, container_format: str,
                  visibility: str | None, protected: bool | None) -> dict:
    """The image an upload makes: the volume's image properties, at least the volume's size to boot."""
    # os_glance_* names are the image service's own to set.
    record = {key: value for key, value in image_metadata.items()
              if key not in NOT_UPLOADED and not key.startswith("os_glance")}
    record.update({"name": name, "disk_format": disk_format, "container_format": container_format,
                   "min_disk": volume_size})
    min_ram = decimal(str(image_metadata.get("min_ram", "")))
    if min_ram is not None:
        record["min_ram"] = min_ram
    if visibility is not None:
        record["visibility"] = visibility
    if protected is not None:
        record["protected"] = protected
    return record
