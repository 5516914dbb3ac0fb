"""Roles, what each may do, and the namespaces a token is limited to.

A token carries one role and optionally a set of namespaces; an empty set means every
namespace. Roles are fixed (not configurable) so that what a role may see is written in
one place and documented in docs/server.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    viewer = "viewer"
    analyst = "analyst"
    engineer = "engineer"
    steward = "steward"
    auditor = "auditor"
    admin = "admin"


class Permission(StrEnum):
    read_summary = "read summaries"
    read_records = "read full records"
    see_confidential = "see confidential fields"
    disclose = "read disclosed confidential values"
    write_lineage = "write lineage records"
    write_governance = "write governance annotations"
    read_access_log = "read the access log"
    audit = "run an audit"
    sign_checkpoint = "sign checkpoints"


_ALL = frozenset(Role)
GRANTS: dict[Permission, frozenset[Role]] = {
    Permission.read_summary: _ALL,
    Permission.read_records: _ALL - {Role.viewer},
    Permission.see_confidential: frozenset({Role.steward, Role.auditor, Role.admin}),
    Permission.disclose: frozenset({Role.steward, Role.admin}),
    Permission.write_lineage: frozenset({Role.engineer, Role.admin}),
    Permission.write_governance: frozenset({Role.steward, Role.admin}),
    Permission.read_access_log: frozenset({Role.auditor, Role.admin}),
    Permission.audit: frozenset({Role.auditor, Role.admin}),
    Permission.sign_checkpoint: frozenset({Role.admin}),
}
"""Which roles hold each permission: the whole access policy."""

GOVERNANCE_KINDS = frozenset(
    {
        "intended_use",
        "policy",
        "lifecycle",
        "sensitivity",
        "approval",
        "exemption",
        "certificate",
        "revocation",
    }
)
"""Annotation kinds only stewards (and admins) may write; engineers may write the others
(evaluation, tag, note, custom kinds) alongside the lineage they record."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's id, its role, its namespaces, and the actor written
    into records it appends."""

    token_id: str
    name: str
    role: Role
    namespaces: frozenset[str] = field(default_factory=frozenset)

    @property
    def actor(self) -> str:
        return f"token:{self.name}" if self.name else f"token:{self.token_id}"

    def can(self, permission: Permission) -> bool:
        return self.role in GRANTS[permission]

    @property
    def scoped(self) -> bool:
        return bool(self.namespaces)

    def sees(self, namespace: str | None) -> bool:
        """Whether a node of ``namespace`` is within this token's grant (``None``: an
        agent, which belongs to no namespace)."""
        return namespace is None or not self.namespaces or namespace in self.namespaces


def roles_with(permission: Permission) -> str:
    """``steward, auditor or admin``: for error messages."""
    names = [r.value for r in Role if r in GRANTS[permission]]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
