"""OpenAPI for what Litestar cannot infer: qs-style query parameters and raw bodies."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
)

STRING = Schema(type=OpenAPIType.STRING)
OBJECT = Schema(type=OpenAPIType.OBJECT, additional_properties=True)
BOOLEAN = Schema(type=OpenAPIType.BOOLEAN)


def query(name: str, description: str, schema: Schema = STRING) -> Parameter:
    return Parameter(
        name=name,
        param_in="query",
        required=False,
        description=description,
        schema=schema,
    )


def json_body(
    properties: dict[str, Schema | Reference], required: list[str]
) -> RequestBody:
    schema = Schema(type=OpenAPIType.OBJECT, properties=properties, required=required)
    return RequestBody(
        content={"application/json": OpenAPIMediaType(schema=schema)}, required=True
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
CREATE_BODY = json_body(
    {"type": STRING, "context": OBJECT, "dry_run": BOOLEAN},
    required=["type", "context"],
)
CREDENTIALS_BODY = json_body(
    {"email": STRING, "password": STRING}, ["email", "password"]
)
