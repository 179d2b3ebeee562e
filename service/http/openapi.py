"""OpenAPI for what Litestar cannot infer: qs-style queries, the logins, error bodies."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.enums import MediaType
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Components,
    OpenAPIType,
    Operation,
    Parameter,
    RequestBody,
    Schema,
    SecurityScheme,
)

from service.http.identity import API_TOKEN_HEADER, SESSION_COOKIE
from service.http.schemas import ErrorResponse, HealthDetailsResponse, HealthResponse

STRING = Schema(type=OpenAPIType.STRING)
OBJECT = Schema(type=OpenAPIType.OBJECT, additional_properties=True)

# The three ways in, as service.http.identity accepts them (tried in this order).
SECURITY_SCHEMES = {
    "session": SecurityScheme(
        type="apiKey",
        name=SESSION_COOKIE,
        security_scheme_in="cookie",
        description="The signed session cookie `POST /admin/auth` sets.",
    ),
    "jwt": SecurityScheme(
        type="http",
        scheme="bearer",
        bearer_format="JWT",
        description="`Authorization: Bearer <token>` from `POST /admin/auth/token` "
        "(HS256, 24 hours; `exp` and `iat` required).",
    ),
    "api_token": SecurityScheme(
        type="apiKey",
        name=API_TOKEN_HEADER,
        security_scheme_in="header",
        description="A user's API token (`jobstream user create --api-token`).",
    ),
}
COMPONENTS = Components(security_schemes=dict(SECURITY_SCHEMES))
# Any one of them (a list of alternatives): for every operation that needs a login.
LOGGED_IN: list[dict[str, list[str]]] = [{name: []} for name in SECURITY_SCHEMES]


def query(name: str, description: str, schema: Schema = STRING) -> Parameter:
    return Parameter(
        name=name,
        param_in="query",
        required=False,
        description=description,
        schema=schema,
    )


def documented(
    parameters: list[Parameter] | None = None, body: RequestBody | None = None
) -> type[Operation]:
    """An Operation class that adds these parameters and body to the generated ones."""
    extra_parameters = list(parameters or [])

    # Re-applying @dataclass makes the generated __init__ call __post_init__.
    @dataclass
    class DocumentedOperation(Operation):
        def __post_init__(self) -> None:
            self.parameters = [*(self.parameters or []), *extra_parameters]
            if body is not None:
                self.request_body = body

    return DocumentedOperation


DATE_FILTER = (
    "`null` for unset, or an object with any of lt, gt, lte, gte "
    "(ISO 8601 date, or unix seconds), e.g. `completed_at[gte]=2024-01-01`"
)
LIST_PARAMETERS = [
    query("limit", "Page size (default 10).", Schema(type=OpenAPIType.INTEGER)),
    query("offset", "Rows to skip (default 0).", Schema(type=OpenAPIType.INTEGER)),
    query(
        "order", "A field to order by; `-field` for descending (default -created_at)."
    ),
    query("fields", "Comma-separated fields; `+field`/`-field` adjust the defaults."),
    query("expand", "Comma-separated relations: `created_by_user`."),
    query("id[]", "Only these job ids.", Schema(type=OpenAPIType.ARRAY, items=STRING)),
    query(
        "type[]",
        "Only these batch types.",
        Schema(type=OpenAPIType.ARRAY, items=STRING),
    ),
    *(
        query(stamp, DATE_FILTER, OBJECT)
        for stamp in (
            "created_at",
            "updated_at",
            "confirmed_at",
            "pre_processed_at",
            "completed_at",
            "failed_at",
            "canceled_at",
        )
    ),
]


_ERRORS = {
    400: ResponseSpec(
        ErrorResponse,
        description="`invalid_data` (validation, malformed JSON) or `not_allowed` "
        "(a lifecycle rule, or another user's job)",
        generate_examples=False,
    ),
    401: ResponseSpec(
        str,
        media_type=MediaType.TEXT,
        description="Plain text `Unauthorized`: no valid session, bearer or API token",
        generate_examples=False,
    ),
    404: ResponseSpec(
        ErrorResponse,
        description="`not_found`: no such job, batch type or route",
        generate_examples=False,
    ),
    409: ResponseSpec(
        ErrorResponse,
        description="`conflict` (`code: invalid_state_error`): lost concurrent updates",
        generate_examples=False,
    ),
    429: ResponseSpec(
        ErrorResponse,
        description="`not_allowed`: too many failed logins for the account or the "
        "client address; `Retry-After` says when to try again",
        generate_examples=False,
    ),
    503: ResponseSpec(
        ErrorResponse,
        description="`unexpected_state`: the read model did not catch up in time, or "
        "(logins) too many password checks at once; retry",
        generate_examples=False,
    ),
}
HEALTH_UNAVAILABLE = {
    503: ResponseSpec(
        HealthResponse,
        description="A dependency is down; `checks` says which",
        generate_examples=False,
    )
}
HEALTH_DETAILS = {
    code: ResponseSpec(
        HealthDetailsResponse, description=description, generate_examples=False
    )
    for code, description in (
        (200, "Every check is `ok`"),
        (503, "A dependency is down; `checks` says which"),
    )
}


def ok(body: type) -> ResponseSpec:
    """A 200 with this JSON body, for a handler that returns its ASGI response itself."""
    return ResponseSpec(
        data_container=body, description="Request fulfilled, document follows"
    )


def errors(*codes: int) -> dict[int, ResponseSpec]:
    """The documented error responses of a handler."""
    return {code: _ERRORS[code] for code in codes}
