"""JSON request bodies declared by their Struct, checked with Medusa's messages.

A handler declares `data: JSONBody[MedusaBody[SomeRequest]]` and `dto=MedusaBodyDTO`: the
OpenAPI document shows `SomeRequest`, and the handler calls `data.decode(validate)`
once the caller is authenticated (Litestar reads the body before it resolves
dependencies; Medusa authenticates first, so a bad body from a stranger is a 401).
`validate` gives class-validator's messages (and the cross-field rules a schema
cannot say); the Struct then decodes the same body, so nothing the document does not
describe gets through. The checks take their field lists from the Struct.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, ClassVar, Generic, TypeVar

import msgspec
from litestar.dto import AbstractDTO
from litestar.dto.data_structures import DTOFieldDefinition
from litestar.openapi.spec import Reference, Schema
from litestar.typing import FieldDefinition

from domain.errors import InvalidDataError
from service.http.requests import decode_json_object

S = TypeVar("S", bound=msgspec.Struct)
R = TypeVar("R")


def field_names(struct: type[msgspec.Struct]) -> tuple[str, ...]:
    """The Struct's fields in declaration order (Medusa's DTO order)."""
    return struct.__struct_fields__


class MedusaBody(Generic[S]):
    """A JSON body as it arrived, for the handler to check and decode."""

    __slots__ = ("_raw", "_struct")

    def __init__(self, raw: bytes, struct: type[S]) -> None:
        self._raw = raw
        self._struct = struct

    @classmethod
    def empty(cls, struct: type[S]) -> MedusaBody[S]:
        """A handler's default: no body, or one of another content type.

        Litestar passes none then (JsonOnlyRequest reads such a body as empty), and
        Medusa's express.json reads it as `{}`.
        """
        return cls(b"", struct)

    def decode(self, validate: Callable[[dict[str, Any]], R]) -> R:
        """What `validate` makes of the body, once the Struct decodes it too (else 400).

        An empty body reads as `{}` and malformed JSON is a 400 (express.json).
        """
        body = decode_json_object(self._raw)
        checked = validate(body)
        try:
            msgspec.convert(body, self._struct)
        except msgspec.ValidationError as error:
            raise InvalidDataError(str(error)) from None
        return checked


class MedusaBodyDTO(AbstractDTO[Any]):
    """Hands the raw body to the handler as a `MedusaBody`; documents its Struct.

    The overrides keep Litestar's signatures, arguments they do not need included.
    """

    _structs: ClassVar[dict[str, type[msgspec.Struct]]] = {}

    def decode_bytes(self, value: bytes) -> MedusaBody[Any]:
        handler_id = self.asgi_connection.route_handler.handler_id
        return MedusaBody(value, self._structs[handler_id])

    @classmethod
    def create_for_field_definition(
        cls,
        field_definition: FieldDefinition,
        handler_id: str,
        backend_cls: Any = None,  # noqa: ARG003
    ) -> None:
        if not field_definition.is_subclass_of(MedusaBody):
            message = f"{handler_id}: MedusaBodyDTO needs `data: MedusaBody[Struct]`"
            raise TypeError(message)
        cls._structs[handler_id] = field_definition.inner_types[0].annotation

    @classmethod
    def create_openapi_schema(
        cls,
        field_definition: FieldDefinition,  # noqa: ARG003
        handler_id: str,
        schema_creator: Any,
    ) -> Reference | Schema:
        struct = cls._structs[handler_id]
        schema: Reference | Schema = schema_creator.for_field_definition(
            FieldDefinition.from_annotation(struct)
        )
        return schema

    @classmethod
    def is_supported_model_type_field(cls, field_definition: FieldDefinition) -> bool:
        return field_definition.is_subclass_of(MedusaBody)  # never a return type

    @classmethod
    def generate_field_definitions(
        cls,
        model_type: type[Any],  # noqa: ARG003
    ) -> Generator[DTOFieldDefinition, None, None]:
        yield from ()  # no transfer model: the handler decodes

    @classmethod
    def detect_nested_field(
        cls,
        field_definition: FieldDefinition,  # noqa: ARG003
    ) -> bool:
        return False
