"""Domain errors: what a service refuses, with a stable code a program can act on.

Services raise these; the API's exception handler (``pagtracker.api.errors``) turns them into
the error envelope, and the admin shows their message. They carry no HTTP knowledge beyond a
suggested status.
"""

from typing import Any


class DomainError(Exception):
    code = "invalid_input"
    status = 422
    default_message = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        code: str | None = None,
        status: int | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details or {}
        if code:
            self.code = code
        if status:
            self.status = status
        super().__init__(self.message)


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 422


class NotFound(DomainError):
    code = "resource_not_found"
    status = 404
    default_message = "Resource not found."


class AlreadyExists(DomainError):
    code = "resource_already_exists"
    status = 409


class InvalidState(DomainError):
    code = "invalid_state"
    status = 409


class InsufficientFunds(DomainError):
    code = "insufficient_funds"
    status = 422
    default_message = "Insufficient balance for this operation."


class ProviderError(DomainError):
    code = "provider_error"
    status = 502
    default_message = "The payment provider could not process the request."


class IdempotencyConflict(DomainError):
    code = "idempotency_conflict"
    status = 422
