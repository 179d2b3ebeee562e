"""Domain errors, each carrying the Medusa error type the API reports."""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """A rule said no. `type` is Medusa's error type string."""

    type: ClassVar[str] = "invalid_data"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidDataError(DomainError):
    type = "invalid_data"


class NotAllowedError(DomainError):
    type = "not_allowed"


class NotFoundError(DomainError):
    type = "not_found"


class DuplicateError(DomainError):
    type = "duplicate_error"


class UnauthorizedError(DomainError):
    type = "unauthorized"


class BatchJobNotFoundError(NotFoundError):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"Batch job with id {job_id} was not found")


class NotJobOwnerError(NotAllowedError):
    """Medusa's canAccessBatchJob: only the creator may see or change a job."""

    def __init__(self) -> None:
        super().__init__(
            "Cannot access a batch job that does not belong to the logged in user"
        )


class SalesChannelsNotFoundError(InvalidDataError):
    """Medusa's validateSalesChannelsExist: a list of errors, in a body of its own."""

    def __init__(self, channel_ids: list[str]) -> None:
        super().__init__(
            "Provided request body contains errors. Please check the data and retry "
            "the request"
        )
        self.errors = [f"Sales Channels {', '.join(channel_ids)} do not exist"]
