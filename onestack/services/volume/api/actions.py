"""POST /v3/{project_id}/volumes/{volume_id}/action: one action per body (extend, admin resets, bootable
and read-only flags, image metadata, upload to an image, revert to the latest snapshot (3.40), re-image (3.68), and the older
attach and detach actions, ``os-migrate_volume`` (to another backend) and ``os-migrate_volume_completion``,
which ends compute's swap of a volume)."""

from __future__ import annotations

from onestack.http.errors import BadRequest, NotFound
from onestack.http.routing import Call, Reply
from onestack.services.volume import schemas, views
from onestack.services.volume.api.paths import flag, v3
from onestack.services.volume.service import VolumeService
from onestack.services.volume.service.volumes import RESETTABLE


def _reset_status(svc: VolumeService, call: Call, volume_id: str, args: dict) -> None:
    status = args.get("status")
    if status is not None and status not in RESETTABLE:
        raise BadRequest(f"Invalid input received: '{status}' is not a valid volume status.")
    if status is None and "attach_status" not in args and "migration_status" not in args:
        raise BadRequest("Must specify 'status', 'attach_status' or 'migration_status' for update.")
    svc.volumes.reset_status(call.ctx, volume_id, status, args.get("attach_status"))


def _initialize_connection(svc: VolumeService, call: Call, volume_id: str, args: dict) -> Reply:
    connection = svc.attachments.initialize_connection(call.ctx, volume_id, args["connector"])
    return Reply({"connection_info": connection.as_dict()}, 200)


def _terminate_connection(svc: VolumeService, call: Call, volume_id: str, args: dict) -> None:
    # A file connection holds nothing on the storage side; asking is still checked like Cinder does.
    svc.volume(call.ctx, volume_id)


def _revert(svc: VolumeService, call: Call, volume_id: str, args: dict) -> None:
    if not call.version.at_least("3.40"):  # as Cinder answers an action newer than the version asked
        raise NotFound(f"API version {call.version} is not supported on this method.")
    svc.reverts.revert(call.ctx, volume_id, args.get("snapshot_id"))


def _reimage(svc: VolumeService, call: Call, volume_id: str, args: dict) -> None:
    if not call.version.at_least("3.68"):  # as Cinder answers an action newer than the version asked
        raise NotFound(f"API version {call.version} is not supported on this method.")
    svc.reimages.reimage(call.ctx, volume_id, args["image_id"], flag(args.get("reimage_reserved", False)))


def _migrate_volume_completion(svc: VolumeService, call: Call, volume_id: str, args: dict) -> Reply:
    saved = svc.attachments.migrate_completion(call.ctx, volume_id, args["new_volume"],
                                               flag(args.get("error") or False))
    return Reply({"save_volume_id": saved}, 200)


def _set_bootable(svc: VolumeService, call: Call, volume_id: str, args: dict) -> Reply:
    svc.volumes.set_bootable(call.ctx, volume_id, flag(args["bootable"]))
    return Reply(status=200)  # Cinder answers this one 200, the others 202


def _upload_image(svc: VolumeService, call: Call, volume_id: str, args: dict) -> Reply:
    asked = {"image_name": args["image_name"], "force": flag(args.get("force", False)),
             "disk_format": args.get("disk_format", "raw"), "container_format": args.get("container_format", "bare"),
             "visibility": "private", "protected": None}
    if call.version.at_least("3.1"):  # before it, every uploaded image is private
        asked["visibility"] = args.get("visibility", "private")
        asked["protected"] = flag(args["protected"]) if "protected" in args else None
    volume, image = svc.volumes.upload_to_image(call.ctx, volume_id, asked)
    return Reply({"os-volume_upload_image": views.upload(volume, image)}, 202)


def _set_image_metadata(svc: VolumeService, call: Call, volume_id: str, args: dict) -> Reply:
    return Reply({"metadata": svc.volumes.set_image_metadata(call.ctx, volume_id, args["metadata"])}, 200)


def _unset_image_metadata(svc: VolumeService, call: Call, volume_id: str, args: dict) -> Reply:
    svc.volumes.unset_image_metadata(call.ctx, volume_id, args["key"])
    return Reply(status=200)


def _show_image_metadata(svc: VolumeService, call: Call, volume_id: str, args: dict) -> Reply:
    return Reply({"metadata": svc.volumes.image_metadata(call.ctx, volume_id)}, 200)


ACTIONS = {
    "os-extend": lambda svc, call, v, args: svc.volumes.extend(call.ctx, v, args["new_size"],
                                                               attached=call.version.at_least("3.42")),
    "os-reset_status": _reset_status,
    "os-force_delete": lambda svc, call, v, args: svc.volumes.delete(call.ctx, v, force=True),
    "os-set_bootable": _set_bootable,
    "os-update_readonly_flag": lambda svc, call, v, args: svc.volumes.set_readonly(call.ctx, v,
                                                                                   flag(args["readonly"])),
    "os-reserve": lambda svc, call, v, args: svc.attachments.reserve(call.ctx, v),
    "os-unreserve": lambda svc, call, v, args: svc.attachments.unreserve(call.ctx, v),
    "os-attach": lambda svc, call, v, args: svc.attachments.attach(
        call.ctx, v, args.get("instance_uuid"), args.get("host_name"), args["mountpoint"], args.get("mode", "rw")),
    "os-begin_detaching": lambda svc, call, v, args: svc.attachments.begin_detaching(call.ctx, v),
    "os-roll_detaching": lambda svc, call, v, args: svc.attachments.roll_detaching(call.ctx, v),
    "os-detach": lambda svc, call, v, args: svc.attachments.detach(call.ctx, v, (args or {}).get("attachment_id")),
    "os-force_detach": lambda svc, call, v, args: svc.attachments.detach(
        call.ctx, v, (args or {}).get("attachment_id"), force=True),
    "os-initialize_connection": _initialize_connection,
    "os-terminate_connection": _terminate_connection,
    "os-volume_upload_image": _upload_image,
    "os-set_image_metadata": _set_image_metadata,
    "os-unset_image_metadata": _unset_image_metadata,
    "os-show_image_metadata": _show_image_metadata,
    "os-retype": lambda svc, call, v, args: svc.volumes.retype(call.ctx, v, args["new_type"],
                                                               args.get("migration_policy")),
    "os-migrate_volume": lambda svc, call, v, args: svc.migrations.migrate(
        call.ctx, v, args["host"], flag(args.get("lock_volume", False))),
    "revert": _revert,
    "os-reimage": _reimage,
    "os-migrate_volume_completion": _migrate_volume_completion,
}


def act(call: Call) -> Reply:
    ((name, args),) = call.body.items()
    result = ACTIONS[name](call.runtime.volume, call, call.path["volume_id"], args)
    return result if isinstance(result, Reply) else Reply(status=202)


ROUTES = v3("/volumes/{volume_id}/action", "POST", act, schema=schemas.one_action(schemas.VOLUME_ACTIONS))
