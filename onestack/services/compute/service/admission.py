"""What a request must pass before an instance is made or changed: its flavor, image and keypair exist and
fit, its zone is one of the cloud's, and the project's quotas have room."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.http.context import Context
from onestack.http.errors import BadRequest, Forbidden, NotFound
from onestack.services.compute.models import ComputeHost
from onestack.services.compute.service import flavors, keypairs
from onestack.services.compute.service.quotas import QuotaExceeded, Quotas
from onestack.services.image.public import ImageInfo, Images


@dataclasses.dataclass(eq=False)
class Admission:
    quotas: Quotas
    images: Images

    # -- quotas ------------------------------------------------------------------------------------
    def check_quota(self, session: Session, project_id: str, user_id: str | None, deltas: dict[str, int]) -> None:
        """Raise Nova's 403 ("Quota exceeded for instances: Requested 1, but already used 10 of 10
        instances") if adding ``deltas`` passes a limit.  Call it inside the creating transaction: the
        project's quota lock is held until it ends."""
        self.quotas.check(session, project_id, user_id, deltas)

    def check_metadata_quota(self, session: Session, project_id: str, metadata: dict | None) -> None:
        """Nova's 403 when a server's metadata holds more items than the project's ``metadata_items``
        (the limit ``/limits`` shows as maxServerMeta)."""
        if not metadata:
            return
        allowed = self.quotas.limits(session, project_id).get("metadata_items", -1)
        if 0 <= allowed < len(metadata):
            raise Forbidden(f"Quota exceeded for metadata_items: Maximum number of metadata items exceeds "
                            f"{allowed}")

    def quota_room(self, session: Session, ctx: Context, flavor: dict, low: int, high: int) -> int:
        """How many of ``low``..``high`` servers of ``flavor`` fit the quotas (Nova boots the most that
        fit, and refuses when even ``low`` do not)."""
        for count in range(high, low, -1):
            try:
                self.check_quota(session, ctx.project_id, ctx.user_id, self._deltas(flavor, count))
                return count
            except QuotaExceeded:
                continue
        self.check_quota(session, ctx.project_id, ctx.user_id, self._deltas(flavor, low))
        return low

    @staticmethod
    def _deltas(flavor: dict, count: int) -> dict[str, int]:
        return {"instances": count, "cores": flavor["vcpus"] * count, "ram": flavor["ram"] * count}

    # -- what a boot request names -------------------------------------------------------------------
    @staticmethod
    def flavor_for_boot(session: Session, ctx: Context, ref: str) -> dict:
        """The flavor as the instance keeps it (a snapshot: later flavor changes do not touch it)."""
        try:
            flavor = flavors.get(session, ctx, ref)
        except NotFound:
            raise BadRequest(f"Flavor {ref} could not be found.") from None
        if flavor.disabled:
            raise BadRequest(f"Flavor {ref} is disabled.")
        return {"id": flavor.flavorid, "original_name": flavor.name, "vcpus": flavor.vcpus, "ram": flavor.memory_mb,
                "disk": flavor.root_gb, "ephemeral": flavor.ephemeral_gb, "swap": flavor.swap,
                "extra_specs": flavor.extra_specs}

    @staticmethod
    def keypair_for_boot(session: Session, ctx: Context, name: str) -> str:
        try:
            return keypairs.get(session, ctx.user_id, name).public_key
        except NotFound:
            raise BadRequest("Invalid key_name provided.") from None

    def check_image(self, ctx: Context, image_id: str, flavor: dict, missing_ok: bool = False,
                    known: ImageInfo | None = None) -> ImageInfo | None:
        """A boot's (or rebuild's) image must exist and fit the flavor; a resize only checks the fit of an
        image still there (``missing_ok``: the image may have gone since the boot, then None).  ``known``: the
        image as this request already read it for this caller, not read again."""
        try:
            image = known if known is not None and known.id == image_id else self.images.image(ctx, image_id)
        except NotFound:
            if missing_ok:
                return None
            raise BadRequest(f"Image {image_id} could not be found.") from None
        if image.status != "active":
            raise BadRequest(f"Image {image_id} is not active.")
        if image.min_ram > flavor["ram"]:
            raise BadRequest("Flavor's memory is too small for requested image.")
        if flavor["disk"] and image.min_disk > flavor["disk"]:
            raise BadRequest("Flavor's disk is too small for requested image.")
        return image

    @staticmethod
    def availability_zones(session: Session) -> set[str]:
        return set(session.scalars(select(ComputeHost.availability_zone))) or {"nova"}
