"""Nova's legacy quotas: limits per project (and per user within it), the ``default`` quota class, checks.

A limit comes from the most specific place that sets it: the user's row, the project's row, the
``default`` quota class (``os-quota-class-sets/default``), then Nova's ``[quota]`` defaults (``quota_resources``).
``-1`` means unlimited.  What is in use is not counted here: the service passes a ``usage`` function
(resource -> count), so that servers, cores and RAM are counted where servers live.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.db.locks import lock_or_create
from onestack.http.errors import BadRequest, Forbidden
from onestack.services.compute.models import Quota, QuotaClass, QuotaLock
from onestack.services.compute.models.quota_resources import DEFAULT_CLASS, DEFAULTS, UNLIMITED

Usage = Callable[[Session, str, "str | None"], dict[str, int]]


class QuotaExceeded(Forbidden):
    """Nova's 403 ``OverQuota``; ``resources`` names what ran out, for callers that word it their way."""

    def __init__(self, resources: list[str], requested: list[int], used: list[int], allowed: list[int]):
        names = ", ".join(resources)

        def join(values: list[int]) -> str:
            return ", ".join(str(v) for v in values)

        super().__init__(f"Quota exceeded for {names}: Requested {join(requested)}, but already used "
                         f"{join(used)} of {join(allowed)} {names}")
        self.resources = resources


class Quotas:
    def __init__(self, usage: Usage):
        self.usage = usage

    # -- reading -------------------------------------------------------------------
    @staticmethod
    def class_limits(session: Session, class_name: str = DEFAULT_CLASS) -> dict[str, int]:
        found = dict(DEFAULTS)
        names = (DEFAULT_CLASS,) if class_name == DEFAULT_CLASS else (DEFAULT_CLASS, class_name)
        for name in names:  # a named class falls back on the default class, as in Nova
            found.update(session.execute(select(QuotaClass.resource, QuotaClass.hard_limit)
                                         .where(QuotaClass.class_name == name)).all())
        return found

    def limits(self, session: Session, project_id: str, user_id: str | None = None) -> dict[str, int]:
        found = {**self.class_limits(session), **self._rows(session, project_id, "")}
        return {**found, **self._rows(session, project_id, user_id)} if user_id else found

    @staticmethod
    def _rows(session: Session, project_id: str, user_id: str) -> dict[str, int]:
        """The limits set for the project (``user_id`` empty) or for one user in it."""
        return dict(session.execute(select(Quota.resource, Quota.hard_limit).where(
            Quota.project_id == project_id, Quota.user_id == user_id)).all())

    def details(self, session: Session, project_id: str, user_id: str | None = None) -> dict[str, dict]:
        used = self.usage(session, project_id, user_id)
        return {name: {"limit": limit, "in_use": used.get(name, 0), "reserved": 0}
                for name, limit in self.limits(session, project_id, user_id).items()}

    # -- checking ------------------------------------------------------------------
    def check(self, session: Session, project_id: str, user_id: str | None, deltas: dict[str, int]) -> None:
        """Raise ``QuotaExceeded`` if adding ``deltas`` passes the project's or the user's limits.

        Call it in the transaction that creates the resources: the project's lock row is held until it ends.
        """
        if not any(delta > 0 for delta in deltas.values()):
            return
        project = self.limits(session, project_id)
        scopes = [(project, None)]
        if user_id:  # the user's limits are the project's with the user's own rows on top
            scopes.append(({**project, **self._rows(session, project_id, user_id)}, user_id))
        # Only a growth some limit bounds needs what is in use counted (and the lock that keeps two creates
        # from both fitting the last room): with every grown resource unlimited there is nothing to pass.
        bounded = [(limits, user) for limits, user in scopes
                   if any(delta > 0 and limits.get(resource, UNLIMITED) != UNLIMITED
                          for resource, delta in deltas.items())]
        if not bounded:
            return
        self._lock(session, project_id)
        over: dict[str, tuple[int, int, int]] = {}
        for limits, user in bounded:
            used = self.usage(session, project_id, user)
            for resource, delta in deltas.items():
                limit = limits.get(resource, UNLIMITED)
                in_use = used.get(resource, 0)
                if delta > 0 and limit != UNLIMITED and in_use + delta > limit:
                    over.setdefault(resource, (delta, in_use, limit))
        if over:
            names = sorted(over)
            raise QuotaExceeded(names, *([over[n][i] for n in names] for i in range(3)))

    @staticmethod
    def _lock(session: Session, scope: str) -> None:
        lock_or_create(session, QuotaLock, scope, scope=scope)

    # -- changing ------------------------------------------------------------------
    def update(self, session: Session, project_id: str, user_id: str | None, values: dict[str, int],
               force: bool) -> None:
        """Set limits.  Unless forced, a limit may not go below what is in use; a user's limit may never
        pass its project's (Nova's settable range)."""
        if not force:
            used = self.usage(session, project_id, user_id)
            project = self.limits(session, project_id) if user_id else {}
            for resource, limit in values.items():
                _within(resource, limit, minimum=used.get(resource, 0), maximum=project.get(resource, UNLIMITED))
        for resource, limit in values.items():
            session.merge(Quota(project_id=project_id, user_id=user_id or "", resource=resource, hard_limit=limit))

    @staticmethod
    def reset(session: Session, project_id: str, user_id: str | None = None) -> None:
        """Back to the defaults: the user's own limits, or the project's and all its users'."""
        stmt = delete(Quota).where(Quota.project_id == project_id)
        if user_id:
            stmt = stmt.where(Quota.user_id == user_id)
        session.execute(stmt)

    @staticmethod
    def update_class(session: Session, class_name: str, values: dict[str, int]) -> None:
        for resource, limit in values.items():
            session.merge(QuotaClass(class_name=class_name, resource=resource, hard_limit=limit))


def _within(resource: str, limit: int, minimum: int, maximum: int) -> None:
    def finite(value: int) -> float:
        return float("inf") if value == UNLIMITED else value

    if finite(limit) < finite(minimum):
        raise BadRequest(f"Quota limit {limit} for {resource} must be greater than or equal to already used "
                         f"and reserved {minimum}.")
    if finite(limit) > finite(maximum):
        raise BadRequest(f"Quota limit {limit} for {resource} must be less than or equal to {maximum}.")


class QuotaSets:
    """The quota APIs' transactions (os-quota-sets, os-quota-class-sets, limits)."""

    def __init__(self, db: Database, quotas: Quotas):
        self.db = db
        self.quotas = quotas

    def limits(self, project_id: str, user_id: str | None = None) -> dict[str, int]:
        with self.db.read() as session:
            return self.quotas.limits(session, project_id, user_id)

    def details(self, project_id: str, user_id: str | None = None) -> dict[str, dict]:
        with self.db.read() as session:
            return self.quotas.details(session, project_id, user_id)

    def limits_and_usage(self, project_id: str) -> tuple[dict[str, int], dict[str, int]]:
        with self.db.read() as session:
            return self.quotas.limits(session, project_id), self.quotas.usage(session, project_id, None)

    def class_limits(self, class_name: str = DEFAULT_CLASS) -> dict[str, int]:
        with self.db.read() as session:
            return self.quotas.class_limits(session, class_name)

    def update(self, project_id: str, user_id: str | None, values: dict[str, int], force: bool) -> dict[str, int]:
        """Set limits, and answer the limits now in force."""
        with self.db.write() as session:
            self.quotas.update(session, project_id, user_id, values, force)
            session.flush()
            return self.quotas.limits(session, project_id, user_id)

    def reset(self, project_id: str, user_id: str | None = None) -> None:
        with self.db.write() as session:
            self.quotas.reset(session, project_id, user_id)

    def update_class(self, class_name: str, values: dict[str, int]) -> dict[str, int]:
        with self.db.write() as session:
            self.quotas.update_class(session, class_name, values)
            session.flush()
            return self.quotas.class_limits(session, class_name)
