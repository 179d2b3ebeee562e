"""Request bodies checked like Medusa's class-validator DTOs, messages included."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from domain.errors import InvalidDataError
from domain.strategies import BatchJobDraft
from domain.users import is_email
from service.http import input_checks

# class-validator's answer when the body is an array rather than an object.
NOT_AN_OBJECT = "an unknown value was passed to the validate function"


@dataclass(frozen=True)
class Credentials:
    email: str
    password: str


def decode_json_object(body: bytes) -> dict[str, Any]:
    """An empty body reads as {} (express.json); malformed JSON is a 400, never a 500."""
    if not body.strip():
        return {}
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError as error:
        raise InvalidDataError(f"Malformed JSON in request body: {error}") from None
    except RecursionError:
        raise InvalidDataError(input_checks.TOO_DEEP) from None
    input_checks.check_json(body, decoded)
    if isinstance(decoded, list):
        raise InvalidDataError(NOT_AN_OBJECT)
    if not isinstance(decoded, dict):
        raise InvalidDataError("The request body must be a JSON object")
    return decoded


def _unknown(body: dict[str, Any], allowed: tuple[str, ...]) -> list[str]:
    return [f"property {key} should not exist" for key in body if key not in allowed]


def validate_create_batch_job(body: dict[str, Any]) -> BatchJobDraft:
    """AdminPostBatchesReq: type string, context object, optional boolean dry_run."""
    errors = _unknown(body, ("type", "context", "dry_run"))
    if not isinstance(body.get("type"), str):
        errors.append("type must be a string")
    if not isinstance(body.get("context"), dict):
        errors.append("context must be an object")
    dry_run = body.get("dry_run")
    if dry_run is not None and not isinstance(dry_run, bool):
        errors.append("dry_run must be a boolean value")
    if errors:
        raise InvalidDataError(", ".join(errors))
    return BatchJobDraft(
        type=body["type"], context=body["context"], dry_run=bool(dry_run)
    )


def validate_credentials(body: dict[str, Any]) -> Credentials:
    """AdminPostAuthReq: @IsEmail @IsNotEmpty email, @IsString @IsNotEmpty password."""
    errors = _unknown(body, ("email", "password"))
    email, password = body.get("email"), body.get("password")
    # Decorators apply bottom-up, so IsNotEmpty reports before IsEmail / IsString.
    if email in (None, ""):
        errors.append("email should not be empty")
    if not is_email(email):
        errors.append("email must be an email")
    if password in (None, ""):
        errors.append("password should not be empty")
    if not isinstance(password, str):
        errors.append("password must be a string")
    if errors:
        raise InvalidDataError(", ".join(errors))
    return Credentials(email=str(email), password=str(password))
