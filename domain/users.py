"""Admin users, and the index aggregates that make email and API token unique."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from eventsourcing.domain import BaseAggregate

from domain import aggregates, ids
from domain.errors import InvalidDataError

# class-validator's isEmail, in practice: one @, no spaces, a dot in the domain.
_EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")


def is_email(value: object) -> bool:
    return isinstance(value, str) and _EMAIL.match(value) is not None


class UserRole(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"
    DEVELOPER = "developer"


class User(BaseAggregate[str]):
    """A Medusa admin user. The password arrives already hashed."""

    @dataclass(frozen=True)
    class Event(aggregates.Event):
        pass

    @dataclass(frozen=True)
    class Created(Event, aggregates.Created):
        NAME = "user.created"
        email: str
        password_hash: str
        api_token: str | None
        role: str
        first_name: str | None
        last_name: str | None
        metadata: dict[str, Any] | None

    @staticmethod
    def create_id(*_: Any, **__: Any) -> str:
        return ids.new_id("usr")

    def __init__(  # noqa: PLR0913 - one argument per Medusa user column
        self,
        *,
        email: str,
        password_hash: str,
        api_token: str | None,
        role: str,
        first_name: str | None,
        last_name: str | None,
        metadata: dict[str, Any] | None,
        actor: str,
    ) -> None:
        self.email = email
        self.password_hash = password_hash
        self.api_token = api_token
        self.role = UserRole(role)
        self.first_name = first_name
        self.last_name = last_name
        self.metadata = metadata
        self.created_actor = actor

    @classmethod
    def register(  # noqa: PLR0913 - Medusa's `medusa user` options, all by name
        cls,
        *,
        email: str,
        password_hash: str,
        actor: str,
        api_token: str | None = None,
        role: UserRole = UserRole.ADMIN,
        first_name: str | None = None,
        last_name: str | None = None,
        user_id: str | None = None,
    ) -> User:
        if not is_email(email):
            raise InvalidDataError("email must be an email")
        return cls._create(
            cls.Created,
            id=user_id,
            email=email,
            password_hash=password_hash,
            api_token=api_token,
            role=role.value,
            first_name=first_name,
            last_name=last_name,
            metadata=None,
            actor=actor,
        )


class UserIndex(BaseAggregate[str]):
    """Points a unique key (an email, a token digest) at a user.

    Saved with the user in one transaction: a second user with the same key
    collides on the index id, so uniqueness holds without a lock.
    """

    @dataclass(frozen=True)
    class Event(aggregates.Event):
        pass

    @dataclass(frozen=True)
    class Created(Event, aggregates.Created):
        NAME = "user_index.created"
        user_id: str

    def __init__(self, user_id: str, actor: str) -> None:
        self.user_id = user_id
        self.created_actor = actor

    @staticmethod
    def email_key(email: str) -> str:
        return f"user-email:{email.strip().lower()}"

    @staticmethod
    def token_key(api_token: str) -> str:
        # A digest, so tokens never appear as ids in logs or the event store's index.
        return f"user-token:{hashlib.sha256(api_token.encode()).hexdigest()}"

    @classmethod
    def pointing(cls, key: str, user_id: str, actor: str) -> UserIndex:
        return cls._create(cls.Created, id=key, user_id=user_id, actor=actor)
