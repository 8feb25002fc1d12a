"""The official error answer: `{"code", "reason", "message", "metadata": {"trace_id"}}`."""

from __future__ import annotations

import uuid


class ApiError(Exception):
    """An answer other than 2xx, in the provider's words."""

    def __init__(self, status: int, reason: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict:
        return error_body(self.status, self.reason, self.message)


def error_body(status: int, reason: str, message: str) -> dict:
    return {
        "code": status,
        "reason": reason,
        "message": message,
        "metadata": {"trace_id": str(uuid.uuid4())},
    }
