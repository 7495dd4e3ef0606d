"""Nova's instance states: ``vm_state`` (what the guest is), ``task_state`` (what is being done to it)
and the ``status`` the API shows for each pair, plus which actions each state allows."""

from __future__ import annotations

from onestack.http.errors import Conflict

ACTIVE, BUILDING, STOPPED, PAUSED, SUSPENDED = "active", "building", "stopped", "paused", "suspended"
RESIZED, RESCUED, ERROR, DELETED, SHELVED, SHELVED_OFFLOADED = ("resized", "rescued", "error", "deleted",
                                                                "shelved", "shelved_offloaded")
# Nova's deferred delete; onestack deletes at once, so no instance is ever in it
SOFT_DELETED = "soft-delete"

# task states in the order the reconciler walks them
SCHEDULING, NETWORKING, SPAWNING = "scheduling", "networking", "spawning"
POWERING_OFF, POWERING_ON = "powering-off", "powering-on"
REBOOTING, REBOOTING_HARD = "rebooting", "rebooting_hard"
PAUSING, UNPAUSING, SUSPENDING, RESUMING = "pausing", "unpausing", "suspending", "resuming"
DELETING = "deleting"
REBUILDING, REBUILD_SPAWNING = "rebuilding", "rebuild_spawning"
# a volume-backed server's root volume re-imaged (2.93), between the two
REBUILD_BLOCK_DEVICE_MAPPING = "rebuild_block_device_mapping"
RESIZE_PREP, RESIZE_MIGRATING, RESIZE_MIGRATED, RESIZE_FINISH = ("resize_prep", "resize_migrating",
                                                                 "resize_migrated", "resize_finish")
RESIZE_REVERTING, RESIZE_CONFIRMING = "resize_reverting", "resize_confirming"
SHELVING, SHELVING_IMAGE_PENDING_UPLOAD, SHELVING_IMAGE_UPLOADING = ("shelving", "shelving_image_pending_upload",
                                                                     "shelving_image_uploading")
SHELVING_OFFLOADING, UNSHELVING = "shelving_offloading", "unshelving"
RESCUING, UNRESCUING = "rescuing", "unrescuing"
IMAGE_SNAPSHOT, IMAGE_PENDING_UPLOAD, IMAGE_UPLOADING = "image_snapshot", "image_pending_upload", "image_uploading"
UPDATING_PASSWORD = "updating_password"
MIGRATING = "migrating"  # a live migration
REBUILDING_ELSEWHERE = "rebuilding_elsewhere"  # an evacuation: the guest made again on another host

RESIZE_TASKS = (RESIZE_PREP, RESIZE_MIGRATING, RESIZE_MIGRATED, RESIZE_FINISH)
REBUILD_TASKS = (REBUILDING, REBUILD_BLOCK_DEVICE_MAPPING, REBUILD_SPAWNING)

_RESIZING = dict.fromkeys(RESIZE_TASKS, "RESIZE")
_REBUILDING = dict.fromkeys(REBUILD_TASKS, "REBUILD")
_BY_TASK = {
    ACTIVE: {REBOOTING: "REBOOT", REBOOTING_HARD: "HARD_REBOOT", UPDATING_PASSWORD: "PASSWORD", **_RESIZING,
             **_REBUILDING, MIGRATING: "MIGRATING", REBUILDING_ELSEWHERE: "REBUILD"},
    PAUSED: {MIGRATING: "MIGRATING"},
    STOPPED: {**_RESIZING, **_REBUILDING, REBUILDING_ELSEWHERE: "REBUILD"},
    RESIZED: {RESIZE_REVERTING: "REVERT_RESIZE"},
    ERROR: {**_REBUILDING, REBUILDING_ELSEWHERE: "REBUILD"},
}
_DEFAULT = {ACTIVE: "ACTIVE", BUILDING: "BUILD", STOPPED: "SHUTOFF", PAUSED: "PAUSED", SUSPENDED: "SUSPENDED",
            RESIZED: "VERIFY_RESIZE", RESCUED: "RESCUE", ERROR: "ERROR", DELETED: "DELETED", SHELVED: "SHELVED",
            SHELVED_OFFLOADED: "SHELVED_OFFLOADED"}


def status(vm_state: str, task_state: str | None) -> str:
    return _BY_TASK.get(vm_state, {}).get(task_state) or _DEFAULT.get(vm_state, "UNKNOWN")


def require(instance, action: str, vm_states: tuple[str, ...], task_states: tuple[str | None, ...] = (None,)) -> None:
    """Refuse an action the instance's state does not allow, with Nova's 409."""
    if instance.vm_state not in vm_states:
        raise Conflict(f"Cannot '{action}' instance {instance.id} while it is in vm_state {instance.vm_state}")
    if instance.task_state not in task_states:
        raise Conflict(f"Cannot '{action}' instance {instance.id} while it is in task_state "
                       f"{instance.task_state}")


# the task argument holding the host an admin asked a boot for (2.74), which the scheduler keeps to
REQUESTED_HOST = "requested_host"
