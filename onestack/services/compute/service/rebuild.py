"""Rebuild: the same server (id, ports, flavor) started again from a fresh disk of a given image.

The API checks the image as a boot does, writes the new image (and name, metadata, access
addresses, description if given) and the task; the reconciler destroys the guest (rebuilding), then
spawns it from the new image (rebuild_spawning).  A volume-backed server (2.93) has its root volume re-imaged
in between (rebuild_block_device_mapping, ``volume_rebuild``).  A stopped server is stopped again afterwards, as
Nova leaves it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from onestack.http.context import Context
from onestack.http.errors import APIError, BadRequest
from onestack.http.microversion import Version, at_least
from onestack.services.compute.models import Instance
from onestack.services.compute.models import states as st
from onestack.services.compute.service import guest_kinds, volume_rebuild
from onestack.services.compute.service.servers import Servers, auto_disk_config, check_user_data, hostname_for

OLD_VM_STATE = "old_vm_state"
# Nova re-images a volume-backed server's root volume from this microversion
REIMAGE_SINCE = "2.93"
GiB = 1024**3
REBUILD_STATES = (st.ACTIVE, st.STOPPED, st.ERROR)
# request field -> instance column, for what a rebuild may change besides the image
CHANGES = {"name": "name", "accessIPv4": "access_ip_v4", "accessIPv6": "access_ip_v6", "description": "description",
           "user_data": "user_data", "trusted_image_certificates": "trusted_image_certificates",
           "hostname": "hostname"}


def request(servers: Servers, session: Session, ctx: Context, instance: Instance, args: dict, request_id: str,
            version: Version | None = None) -> None:
    image_ref = str(args.get("imageRef") or "").rstrip("/").rsplit("/", 1)[-1]
    if not image_ref:
        raise BadRequest("Invalid imageRef provided.")
    volume_backed = not instance.image_ref
    # a volume-backed server's root disk is its volume: the flavor's disk does not bind the image (Nova's rule)
    image = servers.admission.check_image(ctx, image_ref, {**instance.flavor, "disk": 0} if volume_backed
                                          else instance.flavor)
    reimage = volume_backed and at_least(version, REIMAGE_SINCE)
    if volume_backed:
        root = volume_rebuild.root_of(session, instance.id)
        if root is None:
            raise BadRequest(f"Instance {instance.id} has no root volume to re-image.")
        # Nova before 2.93: only on the image the root volume holds, which stays as it is (no re-image)
        if not reimage and _volume_image(servers, ctx, root.volume_id) != image.id:
            raise BadRequest("Unable to rebuild with a different image for a volume-backed server.")
        if reimage and root.volume_size and image.min_disk > root.volume_size:
            raise BadRequest(f"Volume is smaller than the minimum size specified in image metadata. Volume size "
                             f"is {root.volume_size * GiB} bytes, minimum size is {image.min_disk * GiB} bytes.")
    guest_kinds.require_same_kind(instance, image)
    if args.get("user_data") is not None:
        check_user_data(args["user_data"])
    if "key_name" in args:  # 2.54: a new key, or none (null)
        key_name = args["key_name"]
        instance.key_name = key_name
        instance.key_data = None if key_name is None else servers.admission.keypair_for_boot(session, ctx, key_name)
    old_vm_state = instance.vm_state
    task_args = {OLD_VM_STATE: old_vm_state}
    if reimage:  # the reconciler re-images the root volume as the caller (the image is read with its token)
        task_args.update(volume_rebuild.task_args(image_ref, ctx.token))
    servers.start_task(session, ctx, instance, "rebuild", st.REBUILDING, request_id, REBUILD_STATES,
                       task_args=task_args)
    if not volume_backed:  # a volume-backed server keeps no image of its own (Nova shows "")
        instance.image_ref = image_ref
    instance.auto_disk_config = auto_disk_config(args, instance.auto_disk_config)
    for field, column in CHANGES.items():
        if field in args:
            setattr(instance, column, args[field])
    if "name" in args and "hostname" not in args:
        instance.hostname = hostname_for(args["name"])
    if "metadata" in args:
        instance.metadata_ = args["metadata"]
    instance.progress = 0


def _volume_image(servers: Servers, ctx: Context, volume_id: str) -> str | None:
    """The image the volume was made from (its ``volume_image_metadata``), as Nova reads it from Cinder."""
    volumes = servers.boot_volumes.volumes
    if volumes is None:
        return None
    try:
        return volumes.volume(ctx, volume_id).image_id
    except APIError:
        return None
