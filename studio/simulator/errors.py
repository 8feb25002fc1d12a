"""Refusals in the simulator's neutral words; each front renders them in its own dialect.

`reason` uses the official API's vocabulary (FieldInvalid, TaskNotFound, ...) because the
catalog already speaks it; a gateway front maps it to its own codes and body.
"""

from __future__ import annotations


class ApiError(Exception):
    """An answer other than 2xx: HTTP status, neutral reason, message, and the field at fault."""

    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        headers: dict | None = None,
        *,
        field: str = "",
    ):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.headers = headers or {}
        self.field = field  # the request field at fault ("images", "input.prompt"), if one


class NoAnswer(Exception):
    """The submit_timeout fault: the task stands, the client never hears back."""


def bad(reason: str, message: str, field: str = "") -> ApiError:
    return ApiError(400, reason, message, field=field)
