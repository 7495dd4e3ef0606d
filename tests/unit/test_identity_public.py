"""Other services hold identity as ``public.Identity``: the service object must offer all of it, alike."""

import inspect

from onestack.services.identity.public import Identity
from onestack.services.identity.service import IdentityService


def test_identity_service_offers_the_public_interface_with_the_same_signatures():
    wanted = {name for name, member in vars(Identity).items() if inspect.isfunction(member) and name[0] != "_"}
    assert wanted >= {"context", "peek_context", "effective_limit"}
    for name in wanted:
        assert inspect.signature(getattr(IdentityService, name)) == inspect.signature(getattr(Identity, name)), name
