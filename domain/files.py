"""Stored files' owners, and who may read, delete or import a stored file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.domain import BaseAggregate

from domain import aggregates
from domain.errors import NotAllowedError, NotFoundError
from domain.users import UserRole

OWNER_PREFIX = "file-owner:"


class FileOwner(BaseAggregate[str]):
    """The user a stored file belongs to, recorded once, before the file appears.

    Its id is `file-owner:<key>`: a second record for the same key collides on the
    id, so a key never changes hands (keys are never reused either).
    """

    @dataclass(frozen=True)
    class Event(aggregates.Event):
        pass

    @dataclass(frozen=True)
    class Created(Event, aggregates.Created):
        NAME = "file_owner.created"
        owner: str

    @dataclass(frozen=True)
    class Expired(Event):
        """The file was removed for its age (`retention_hours` after it was stored)."""

        NAME = "file_owner.expired"
        retention_hours: float

        def apply(self, aggregate: Any) -> None:
            aggregate.expired_at = self.timestamp
            aggregate.retention_hours = self.retention_hours

    def __init__(self, owner: str, actor: str) -> None:
        self.owner = owner
        self.created_actor = actor
        self.expired_at: datetime | None = None
        self.retention_hours: float | None = None

    def expire(self, retention_hours: float, actor: str) -> bool:
        """Record the file's removal for its age; False if recorded already."""
        if self.expired_at is not None:
            return False
        self.trigger_event(self.Expired, retention_hours=retention_hours, actor=actor)
        return True

    @staticmethod
    def id_for(file_key: str) -> str:
        return f"{OWNER_PREFIX}{file_key}"

    @classmethod
    def record(cls, file_key: str, owner: str, actor: str) -> FileOwner:
        return cls._create(
            cls.Created, id=cls.id_for(file_key), owner=owner, actor=actor
        )


class FileNotYoursError(NotAllowedError):
    """Another user's file, or (for a non-admin) a file stored before owners were."""

    def __init__(self, file_key: str, owner: str | None) -> None:
        if owner is None:
            message = (
                f"File {file_key} has no recorded owner (it was stored before file "
                "owners were recorded): only an admin may use it"
            )
        else:
            message = f"File {file_key} belongs to another user"
        super().__init__(message)
        self.file_key = file_key


class FileExpiredError(NotFoundError):
    """A file removed for its age: Medusa's not_found, saying when and why."""

    def __init__(
        self, file_key: str, expired_at: datetime, retention_hours: float
    ) -> None:
        super().__init__(
            f"File with key {file_key} was not found: it was removed on "
            f"{expired_at:%Y-%m-%d %H:%M} UTC, {retention_hours:g} hours after it was "
            "stored (files are kept for a limited time)"
        )
        self.file_key = file_key


def may_use(owner: str | None, user_id: str, role: UserRole | None) -> bool:
    """Everyone only their own files, admins included, as with batch jobs.

    A file stored before owners were recorded belongs to no one: admins may use it,
    so such files can still be read or removed.
    """
    if owner is None:
        return role is UserRole.ADMIN
    return owner == user_id
