"""The signing secrets: from the environment, or generated once per embedded data dir."""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING

from service import data_dir
from service.ports import Secrets
from service.settings_checks import MIN_SECRET_BYTES

if TYPE_CHECKING:
    from service.settings import Settings


def resolve_secrets(settings: Settings) -> Secrets:
    """Env first; embedded mode keeps generated ones under the data dir across restarts."""
    for name, value in (
        ("JWT", settings.jwt_secret),
        ("COOKIE", settings.cookie_secret),
    ):
        if value is not None and len(value.encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"JOBSTREAM_{name}_SECRET must be at least {MIN_SECRET_BYTES} bytes "
                "(HMAC-SHA256 keys shorter than the hash are guessable)"
            )
    if settings.jwt_secret and settings.cookie_secret:
        return Secrets(settings.jwt_secret, settings.cookie_secret)
    if settings.is_postgres:
        raise ValueError(
            "Set JOBSTREAM_JWT_SECRET and JOBSTREAM_COOKIE_SECRET: every process "
            "sharing the database must sign and verify with the same secrets."
        )
    path = settings.data_path / "secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    generated = {
        key: secrets.token_urlsafe(32)
        for key in ("jwt_secret", "cookie_secret")
        if key not in stored
    }
    if generated:
        data_dir.prepare(settings.data_path)
        data_dir.write_private(path, json.dumps({**stored, **generated}))
        stored = {**stored, **generated}
    return Secrets(
        settings.jwt_secret or stored["jwt_secret"],
        settings.cookie_secret or stored["cookie_secret"],
    )
