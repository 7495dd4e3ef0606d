"""What other services and the process may ask of identity: who a token's caller is, and the unified
limit a service enforces."""

from __future__ import annotations

from typing import Protocol

from onestack.http.context import Context


class Identity(Protocol):
    def context(self, token: str) -> Context:
        """The caller a token stands for; 401 when it is not (or no longer) valid."""

    def peek_context(self, token: str) -> Context | None:
        """The caller if known from memory alone (no I/O), else None."""

    def ec2_credential(self, access: str) -> tuple[str, Context] | None:
        """The secret of the EC2 credential ``access`` and the caller it stands for (its user on its
        project, with the roles held there now); None when there is no such credential or it reaches
        nothing (user or project disabled, no role left).  What S3 signatures are checked against."""

    def effective_limit(self, service_type: str, resource: str, project_id: str) -> int | None:
        """The project's own limit, else the registered default; None when the resource is not limited,
        -1 when it is unlimited."""
