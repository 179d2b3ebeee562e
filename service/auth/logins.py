"""Password logins: limited per account and address, constant-time, on their own threads."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import structlog

from service.auth.hash_pool import HashPool
from service.auth.login_limits import LoginLimiter
from service.auth.passwords import check_password

if TYPE_CHECKING:
    from collections.abc import Callable

    from domain.users import User
    from service.settings import Settings

log = structlog.get_logger("auth")


def hash_threads(settings: Settings) -> int:
    """The setting, or one less than the cores (at least one): a core stays for HTTP."""
    if settings.login_hash_threads > 0:
        return settings.login_hash_threads
    # The cores this process may run on (a container's cpuset), where the OS says.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return max(1, (cores or os.cpu_count() or 1) - 1)


class LoginGuard:
    def __init__(self, settings: Settings) -> None:
        self.limiter = LoginLimiter(
            per_account=settings.login_failures_per_account,
            per_address=settings.login_failures_per_address,
            window_seconds=settings.login_failure_window_seconds,
        )
        self.pool = HashPool(
            hash_threads(settings),
            settings.login_hash_queue,
            settings.login_hash_wait_seconds,
        )

    async def verify(
        self,
        email: str,
        password: str,
        address: str,
        find_user: Callable[[str], User | None],
    ) -> User | None:
        """The user these credentials name, or None.

        Raises LoginThrottledError (too many failures) and HashPoolBusyError (too many
        logins at once) before any password is checked.
        """
        attempt = self.limiter.begin(email, address)
        try:
            user = await self.pool.run(_check, email, password, find_user)
        except BaseException:
            self.limiter.abandoned(attempt)
            raise
        if user is None:
            log.info("auth.login_failed", email=email, address=address)
            return None
        self.limiter.succeeded(attempt)
        return user

    def close(self) -> None:
        self.pool.close()


def _check(
    email: str, password: str, find_user: Callable[[str], User | None]
) -> User | None:
    """On a hashing thread: the lookup, then one full hash whether or not it found one."""
    user = find_user(email)
    valid = check_password(password, None if user is None else user.password_hash)
    return user if valid else None
