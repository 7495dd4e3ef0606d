"""Address scopes: the routing domains subnet pools belong to (Neutron's address-scope extension).

Like Neutron's, they carry no standard attributes (no description, tags, timestamps or revision).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from onestack.http.context import Context
from onestack.http.errors import BadRequest
from onestack.services.network import schemas, views
from onestack.services.network.models import AddressScope, SubnetPool
from onestack.services.network.service import rbac


class AddressScopes(rbac.Shareable):
    singular, plural, kind, model = "address_scope", "address_scopes", "Address scope", AddressScope
    path = "address-scopes"
    standard_attributes = False
    table = schemas.ADDRESS_SCOPES
    shown_as = staticmethod(views.address_scope)
    in_use = (SubnetPool.address_scope_id,
              "Unable to complete operation on address scope {id}. There are one or more subnet pools in use on the "
              "address scope.", "AddressScopeInUse")

    def create(self, session: Session, ctx: Context, body: dict) -> AddressScope:
        row = self.new_row(ctx, body, ip_version=int(body["ip_version"]), shared=False)
        self.admit(session, ctx, row)
        return self.insert(session, row, body["shared"])

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

