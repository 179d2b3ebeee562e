"""Who may see and act on a batch job through the operator API (docs/operator-api.md).

Medusa's own routes keep `BatchJob.ensure_accessible_by` (the creator only, no role
bypass). The operator API adds the admin role's view of every user's jobs; members
and developers keep what Medusa gives them: their own jobs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.errors import NotJobOwnerError
from domain.users import UserRole

if TYPE_CHECKING:
    from domain.users import User


def sees_every_job(user: User) -> bool:
    return user.role is UserRole.ADMIN


def may_act_on(created_by: str | None, user: User) -> bool:
    return sees_every_job(user) or created_by == user.id


def ensure_may_act_on(created_by: str | None, user: User) -> None:
    """Medusa's refusal (400 not_allowed) for another user's job, unless an admin."""
    if not may_act_on(created_by, user):
        raise NotJobOwnerError
