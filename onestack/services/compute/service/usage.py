"""What servers used over a period (Nova's simple tenant usage) and the audit periods of instance usage.

A server counts from ``launched_at`` until ``terminated_at`` (or now), clipped to the period asked; its
hours weigh its flavor's vCPUs, memory and disk (root + ephemeral), as Nova bills them.
"""

from __future__ import annotations

import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from onestack.db.base import utcnow
from onestack.db.engine import Database
from onestack.http.errors import BadRequest
from onestack.services.compute.models import ComputeHost, Instance

# The forms Nova accepts for start and end.
TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f")


def parse_time(text: str | None, formats: tuple[str, ...] = TIME_FORMATS) -> datetime.datetime:
    """A naive UTC time; no text means now, as in Nova."""
    if text is None:
        return utcnow().replace(tzinfo=None)
    for fmt in formats:
        try:
            return datetime.datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise BadRequest(f"Invalid input: {text} is not a valid time. Datetime is in invalid format")


def _naive(value: datetime.datetime | None) -> datetime.datetime | None:
    return value.astimezone(datetime.UTC).replace(tzinfo=None) if value and value.tzinfo else value


def servers_in_period(session: Session, start: datetime.datetime, end: datetime.datetime,
                      project_id: str | None = None) -> list[Instance]:
    """Servers launched before the end and not terminated before the start (deleted ones included)."""
    stmt = (select(Instance).where(Instance.launched_at.is_not(None), Instance.launched_at < end,
                                   or_(Instance.terminated_at.is_(None), Instance.terminated_at > start))
            .order_by(Instance.created_at, Instance.id))
    if project_id is not None:
        stmt = stmt.where(Instance.project_id == project_id)
    return list(session.scalars(stmt))


def server_usage(instance: Instance, start: datetime.datetime, end: datetime.datetime,
                 now: datetime.datetime) -> dict:
    launched, terminated = _naive(instance.launched_at), _naive(instance.terminated_at)
    counted_from, counted_to = max(launched, start), min(terminated or now, end)
    hours = max((counted_to - counted_from).total_seconds(), 0) / 3600
    flavor = instance.flavor
    return {"instance_id": instance.id, "name": instance.name, "hours": hours, "memory_mb": flavor["ram"],
            "local_gb": flavor["disk"] + flavor.get("ephemeral", 0), "vcpus": flavor["vcpus"],
            "tenant_id": instance.project_id, "flavor": flavor.get("original_name", flavor.get("id")),
            "started_at": launched.isoformat(), "ended_at": terminated.isoformat() if terminated else None,
            "state": "terminated" if instance.deleted else instance.vm_state,
            "uptime": int(((terminated or now) - launched).total_seconds())}


def tenant_usages(instances: list[Instance], start: datetime.datetime, end: datetime.datetime,
                  detailed: bool) -> list[dict]:
    """One entry per project, in the order its first server appears."""
    now = utcnow().replace(tzinfo=None)
    found: dict[str, dict] = {}
    for instance in instances:
        usage = server_usage(instance, start, end, now)
        entry = found.setdefault(instance.project_id, {
            "tenant_id": instance.project_id, "total_hours": 0.0, "total_vcpus_usage": 0.0,
            "total_memory_mb_usage": 0.0, "total_local_gb_usage": 0.0, "start": start.isoformat(),
            "stop": end.isoformat(), **({"server_usages": []} if detailed else {})})
        entry["total_hours"] += usage["hours"]
        entry["total_vcpus_usage"] += usage["hours"] * usage["vcpus"]
        entry["total_memory_mb_usage"] += usage["hours"] * usage["memory_mb"]
        entry["total_local_gb_usage"] += usage["hours"] * usage["local_gb"]
        if detailed:
            entry["server_usages"].append(usage)
    return list(found.values())


def audit_period(before: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """The last whole month ending at or before ``before`` (Nova's default audit period, ``month``)."""
    end = before.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (end - datetime.timedelta(days=1)).replace(day=1)
    return start, end


def audit_log(hosts: list[str], before: datetime.datetime) -> dict:
    """The audit of instance usage for the period before ``before``.  onestack runs no usage-audit task
    (Nova's ``instance_usage_audit`` is off by default too), so no host has run it for any period."""
    start, end = audit_period(before)
    return {"hosts_not_run": hosts, "log": {}, "num_hosts": len(hosts), "num_hosts_done": 0,
            "num_hosts_not_run": len(hosts), "num_hosts_running": 0,
            "overall_status": f"0 of {len(hosts)} hosts done. 0 errors.",
            "period_beginning": str(start), "period_ending": str(end), "total_errors": 0, "total_instances": 0}


class UsageReports:
    def __init__(self, db: Database):
        self.db = db

    def servers_in_period(self, start: datetime.datetime, end: datetime.datetime,
                          project_id: str | None = None) -> list[Instance]:
        with self.db.read() as session:
            return servers_in_period(session, start, end, project_id)

    def audit_log(self, before: datetime.datetime) -> dict:
        with self.db.read() as session:
            hosts = list(session.scalars(select(ComputeHost.host).order_by(ComputeHost.host)))
        return audit_log(hosts, before)
