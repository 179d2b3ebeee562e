"""The 403 an operator route gives a caller who is not an admin, in Medusa's shape."""

from __future__ import annotations

import msgspec
from litestar import MediaType, Response

from domain.users import User, UserRole
from service.http.schemas import ErrorResponse


def refusal_unless_admin(caller: User, what: str) -> Response[bytes] | None:
    """None for an admin; else 403 `not_allowed` saying who may see `what`."""
    if caller.role is UserRole.ADMIN:
        return None
    body = ErrorResponse(type="not_allowed", message=f"Only admins may see {what}.")
    return Response(
        msgspec.json.encode(body), status_code=403, media_type=MediaType.JSON
    )
