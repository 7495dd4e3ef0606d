"""Resource classes and traits: the standard ones from the libraries, custom ones from the tables; and
what a provider carries of them (traits, aggregates)."""

from __future__ import annotations

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from onestack.http.errors import BadRequest, Conflict, NotFound
from onestack.services.placement.models import (
    Allocation,
    CustomResourceClass,
    CustomTrait,
    Inventory,
    Provider,
    ProviderAggregate,
    ProviderTrait,
)
from onestack.services.placement.service import codes, providers, standard


# -- resource classes ------------------------------------------------------------------------------
def resource_class_exists(session: Session, name: str) -> bool:
    return name in standard.RESOURCE_CLASSES or session.get(CustomResourceClass, name) is not None


def known_classes(session: Session):
    """A predicate over resource class names with the custom ones read once (a request naming several)."""
    custom = set(session.scalars(select(CustomResourceClass.name)))
    return lambda name: name in standard.RESOURCE_CLASSES or name in custom


def resource_classes(session: Session) -> list[str]:
    custom = session.scalars(select(CustomResourceClass.name).order_by(CustomResourceClass.name)).all()
    return [*standard.RESOURCE_CLASS_ORDER, *custom]


def get_resource_class(session: Session, name: str) -> CustomResourceClass | None:
    """None for a standard class; 404 for one that does not exist."""
    if name in standard.RESOURCE_CLASSES:
        return None
    row = session.get(CustomResourceClass, name)
    if row is None:
        raise NotFound(f"No such resource class {name}.")
    return row


def create_resource_class(session: Session, name: str) -> CustomResourceClass:
    if resource_class_exists(session, name):
        raise Conflict(f"Conflicting resource class already exists: {name}", kind=codes.DUPLICATE_NAME)
    row = CustomResourceClass(name=name)
    session.add(row)
    session.flush()
    return row


def _refuse_standard(name: str, verb: str) -> None:
    if name in standard.RESOURCE_CLASSES:
        raise BadRequest(f"Cannot {verb} standard resource class {name}")


def rename_resource_class(session: Session, name: str, new: str) -> CustomResourceClass:
    """Before 1.7, PUT renamed a custom class; what refers to it follows."""
    _refuse_standard(name, "update")
    row = get_resource_class(session, name)
    if resource_class_exists(session, new):
        raise Conflict(f"Resource class already exists: {new}", kind=codes.DUPLICATE_NAME)
    for model in (Inventory, Allocation):
        session.execute(update(model).where(model.resource_class == name).values(resource_class=new))
    session.delete(row)
    renamed = CustomResourceClass(name=new, created_at=row.created_at)
    session.add(renamed)
    session.flush()
    return renamed


def delete_resource_class(session: Session, name: str) -> None:
    _refuse_standard(name, "delete")
    row = get_resource_class(session, name)
    if session.scalar(select(exists().where(Inventory.resource_class == name))):
        raise Conflict(f"Unable to delete resource class {name}. Delete all inventory associated with it "
                       "first.")
    session.delete(row)


# -- traits --------------------------------------------------------------------------------------------
def trait_exists(session: Session, name: str) -> bool:
    return name in standard.TRAITS or session.get(CustomTrait, name) is not None


def known_traits(session: Session):
    """A predicate over trait names with the custom ones read once."""
    custom = set(session.scalars(select(CustomTrait.name)))
    return lambda name: name in standard.TRAITS or name in custom


def traits(session: Session, names: frozenset[str] | None = None, prefix: str | None = None,
           associated: bool | None = None) -> list[str]:
    every = set(standard.TRAITS) | set(session.scalars(select(CustomTrait.name)))
    if names is not None:
        every &= names
    if prefix is not None:
        every = {t for t in every if t.startswith(prefix)}
    if associated is not None:
        used = set(session.scalars(select(ProviderTrait.trait).distinct()))
        every = every & used if associated else every - used
    return sorted(every)


def ensure_trait(session: Session, name: str) -> bool:
    """True when the trait was created."""
    if trait_exists(session, name):
        return False
    session.add(CustomTrait(name=name))
    session.flush()
    return True


def delete_trait(session: Session, name: str) -> None:
    if name in standard.TRAITS:
        raise BadRequest(f"Cannot delete standard trait {name}.")
    row = session.get(CustomTrait, name)
    if row is None:
        raise NotFound(f"No such trait(s): {name}.")
    if session.scalar(select(exists().where(ProviderTrait.trait == name))):
        raise Conflict(f"The trait {name} is in use by a resource provider.")
    session.delete(row)


def provider_traits(session: Session, provider: Provider) -> list[str]:
    return sorted(session.scalars(select(ProviderTrait.trait).where(ProviderTrait.provider_id == provider.id)))


def set_provider_traits(session: Session, provider: Provider, names: list[str], generation: int | None) -> None:
    known = known_traits(session)
    unknown = sorted({n for n in names if not known(n)})
    if unknown:
        raise BadRequest(f"No such trait(s): {', '.join(unknown)}")
    if generation is not None:
        providers.check_generation(provider, generation)
    session.execute(delete(ProviderTrait).where(ProviderTrait.provider_id == provider.id))
    session.add_all(ProviderTrait(provider_id=provider.id, trait=n) for n in sorted(set(names)))
    session.flush()
    providers.bump(session, provider)


# -- aggregates ----------------------------------------------------------------------------------------
def provider_aggregates(session: Session, provider: Provider) -> list[str]:
    return sorted(session.scalars(select(ProviderAggregate.aggregate)
                                  .where(ProviderAggregate.provider_id == provider.id)))


def set_provider_aggregates(session: Session, provider: Provider, aggregates: list[str],
                            generation: int | None) -> None:
    """``generation``: from 1.19 the caller names the generation it saw and the change bumps it."""
    if generation is not None:
        providers.check_generation(provider, generation)
    session.execute(delete(ProviderAggregate).where(ProviderAggregate.provider_id == provider.id))
    session.add_all(ProviderAggregate(provider_id=provider.id, aggregate=a) for a in sorted(set(aggregates)))
    session.flush()
    if generation is not None:
        providers.bump(session, provider)
