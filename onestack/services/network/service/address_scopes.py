"""Address scopes: the routing domains subnet pools belong to (Neutron's address-scope extension).

Like Neutron's, they carry no standard attributes (no description, tags, timestamps or revision).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict
from onestack.services.network import schemas, views
from onestack.services.network.models import AddressScope, SubnetPool
from onestack.services.network.service import rbac
from onestack.services.network.service.collection import Collection


class AddressScopes(Collection):
    singular, plural, kind, model = "address_scope", "address_scopes", "Address scope", AddressScope
    path = "address-scopes"
    standard_attributes = False
    table = schemas.ADDRESS_SCOPES

    def project_scope(self, session: Session, ctx: Context):
        return rbac.owned_or_shared(AddressScope, "address_scope", ctx.project_id)

    def render(self, session: Session, ctx: Context, row: AddressScope) -> dict:
        return views.address_scope(row, shared=rbac.shared_with(session, "address_scope", row, ctx.project_id))

    def create(self, session: Session, ctx: Context, body: dict) -> AddressScope:
        row = self.new_row(ctx, body, ip_version=int(body["ip_version"]), shared=False)
        self.authorize(ctx, "create", {"project_id": row.project_id})
        self.quotas.check(session, row.project_id, "address_scope")
        session.add(row)
        session.flush()
        if body["shared"]:
            rbac.share(session, "address_scope", row, True)
        return row

    def update(self, session: Session, ctx: Context, row: AddressScope, changes: dict) -> None:
        if "shared" in changes:
            shared = changes.pop("shared")
            # Neutron never unshares a scope: other projects' pools may already sit in it.
            if row.shared and not shared:
                raise BadRequest(f"Unable to update address scope {row.id} : Shared address scope can't be "
                                 "unshared.", kind="AddressScopeUpdateError")
            if shared and not row.shared:
                rbac.share(session, "address_scope", row, True)
        super().update(session, ctx, row, changes)

    def delete(self, session: Session, ctx: Context, row: AddressScope) -> None:
        in_use = session.scalar(select(SubnetPool.id).where(SubnetPool.address_scope_id == row.id).limit(1))
        if in_use is not None:
            raise Conflict(f"Unable to complete operation on address scope {row.id}. There are one or more subnet "
                           "pools in use on the address scope.", kind="AddressScopeInUse")
        rbac.revoke(session, "address_scope", row.id, target=None)
        session.delete(row)
