"""What authentication uses: users, sessions, login checks and the signing secrets."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from domain.users import User
    from service.application import Jobstream
    from service.auth.logins import LoginGuard
    from service.auth.sessions import SessionStore
    from service.ports import Secrets
    from service.settings import Settings


class AuthService(ABC):  # an ABC: see BatchJobsService
    secrets: Secrets
    session_ttl_seconds: int
    secure_cookies: bool

    @abstractmethod
    async def verify_login(
        self, email: str, password: str, address: str
    ) -> User | None:
        """The user these credentials name, or None (raises when throttled or busy)."""

    @abstractmethod
    def create_session(self, user_id: str) -> str:
        """A new session's id."""

    @abstractmethod
    def delete_session(self, session_id: str) -> None: ...

    @abstractmethod
    def session_user_id(self, session_id: str) -> str | None:
        """The user of a live session, else None."""

    @abstractmethod
    def get_user(self, user_id: str) -> User | None: ...

    @abstractmethod
    def find_user_by_api_token(self, api_token: str) -> User | None: ...

    @abstractmethod
    def cached_user(self, user_id: str) -> User | None:
        """From memory alone (no I/O); None means "ask the store"."""

    @abstractmethod
    def cached_user_by_api_token(self, api_token: str) -> User | None:
        """From memory alone (no I/O); None means "ask the store"."""


class Auth(AuthService):
    """Over the process's application (users), session store and login guard."""

    def __init__(
        self,
        app: Jobstream,
        sessions: SessionStore,
        logins: LoginGuard,
        secrets: Secrets,
        settings: Settings,
    ) -> None:
        self._app, self._sessions, self._logins = app, sessions, logins
        self.secrets = secrets
        self.session_ttl_seconds = settings.session_ttl_seconds
        self.secure_cookies = settings.secure_cookies

    async def verify_login(
        self, email: str, password: str, address: str
    ) -> User | None:
        return await self._logins.verify(
            email, password, address, self._app.find_user_by_email
        )

    def create_session(self, user_id: str) -> str:
        return self._sessions.create(user_id)

    def delete_session(self, session_id: str) -> None:
        self._sessions.delete(session_id)

    def session_user_id(self, session_id: str) -> str | None:
        return self._sessions.user_id(session_id)

    def get_user(self, user_id: str) -> User | None:
        return self._app.get_user(user_id)

    def find_user_by_api_token(self, api_token: str) -> User | None:
        return self._app.find_user_by_api_token(api_token)

    def cached_user(self, user_id: str) -> User | None:
        return self._app.cached_user(user_id)

    def cached_user_by_api_token(self, api_token: str) -> User | None:
        return self._app.cached_user_by_api_token(api_token)
