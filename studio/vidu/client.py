"""The HTTP client for Vidu's official API (ent/v2), with requests and responses as
pydantic models and every failure sorted into what the caller may do about it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

import httpx
from django.conf import settings
from pydantic import ValidationError

from studio.vidu import schemas

log = logging.getLogger(__name__)

CREATE_PATHS = {"img2video": "/ent/v2/img2video", "start-end2video": "/ent/v2/start-end2video"}

# What each provider reason means, in the words we show a user.
PLAIN_REASONS = {
    "BadRequest": "Vidu could not read the request.",
    "FieldLacking": "A required field was missing.",
    "FieldUnwanted": "A field was sent that this model does not take.",
    "FieldInvalid": "A field had a value Vidu does not accept.",
    "FieldItemCountOutOfRange": "The number of images was not what this kind of video needs.",
    "ImageDownloadFailure": "Vidu could not download the image.",
    "ImageFormatInvalid": "Vidu could not read the image format.",
    "ImageCheckBodyJointsFailed": "Vidu could not find a clear body pose in the image.",
    "ImageCheckFaceFailed": "Vidu could not find a clear face in the image.",
    "ImageObjectsUndetected": "Vidu could not find any subject in the image.",
    "TaskPromptPolicyViolation": "Vidu refused the prompt under its content policy.",
    "CreationPolicyViolation": "Vidu refused to deliver the video under its content policy.",
    "AuditSubmitIllegal": "Vidu's content review refused this request.",
    "CreditInsufficient": "The Vidu account has run out of credits.",
    "ModelUnavailable": "This model is not available right now.",
    "UserCancelled": "The task was cancelled.",
    "OperationInProcess": "Vidu is still working on this task.",
    "Unauthorized": "Vidu refused the studio's API key.",
    "Forbidden": "The Vidu account may not do this.",
    "TaskNotFound": "Vidu does not know this task.",
    "QuotaExceeded": "The Vidu account is at its limit of tasks at once.",
    "TooManyRequests": "Vidu asked us to slow down.",
    "SystemThrottling": "Vidu is busy.",
    "InternalServiceFailure": "Vidu had an internal failure.",
}


def plain_reason(reason: str, message: str = "") -> str:
    text = PLAIN_REASONS.get(reason, "Vidu refused the request.")
    if message and message not in text:
        text = f"{text} Vidu said: {message}"
    return text


class ViduError(Exception):
    """The provider answered with an error (or not at all)."""

    retryable = False

    def __init__(self, reason: str, message: str = "", status: int = 0):
        super().__init__(f"{status} {reason}: {message}")
        self.reason, self.message, self.status = reason, message, status

    @property
    def plain(self) -> str:
        return plain_reason(self.reason, self.message)


class Refused(ViduError):
    """A final 4xx: sending the same request again will fail again."""


class Retryable(ViduError):
    """429, 5xx or a connection that never reached the provider: safe to send again."""

    retryable = True


class OutcomeUnknown(Retryable):
    """The request may have reached the provider, but no answer came back."""


class ViduClient:
    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        self.base_url = (base_url or settings.VIDU_BASE_URL).rstrip("/")
        key = api_key or settings.VIDU_API_KEY
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
            timeout=httpx.Timeout(timeout or settings.VIDU_TIMEOUT, connect=10),
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ViduClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs) -> dict:
        try:
            response = self._http.request(method, path, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # Nothing reached the provider.
            raise Retryable("NetworkError", f"could not connect: {exc.__class__.__name__}") from exc
        except httpx.TransportError as exc:
            # Sent, perhaps received: only the provider knows whether it acted on it.
            raise OutcomeUnknown("NoAnswer", f"no answer: {exc.__class__.__name__}") from exc
        if response.is_success:
            try:
                return response.json()
            except ValueError:
                raise OutcomeUnknown("BadAnswer", "the answer was not JSON") from None
        try:
            body = schemas.ErrorBody.model_validate(response.json())
        except (ValueError, ValidationError):
            body = schemas.ErrorBody(code=response.status_code, reason="", message="")
        reason = body.reason or f"HTTP{response.status_code}"
        message = body.message or response.reason_phrase
        if response.status_code == 429 or response.status_code >= 500:
            raise Retryable(reason, message, response.status_code)
        raise Refused(reason, message, response.status_code)

    def create(self, endpoint: str, request: schemas.CreateRequest) -> schemas.CreateResponse:
        data = self._call("POST", CREATE_PATHS[endpoint], json=request.body())
        return schemas.CreateResponse.model_validate(data)

    def query(self, task_id: str) -> schemas.TaskResponse:
        data = self._call("GET", f"/ent/v2/tasks/{task_id}/creations")
        return schemas.TaskResponse.model_validate(data)

    def cancel(self, task_id: str) -> None:
        self._call("POST", f"/ent/v2/tasks/{task_id}/cancel", json={"id": task_id})

    def credits(self) -> schemas.CreditsResponse:
        return schemas.CreditsResponse.model_validate(self._call("GET", "/ent/v2/credits"))

    def list_tasks(
        self,
        *,
        since: datetime | None = None,
        page_size: int = 100,
        page_token: str = "",
        **filters,
    ) -> schemas.ListTasksResponse:
        params: dict = {"pager.pagesz": page_size, **filters}
        if since is not None:
            params["created_at.from"] = since.isoformat()
        if page_token:
            params["page_token"] = page_token
        return schemas.ListTasksResponse.model_validate(
            self._call("GET", "/ent/v2/tasks", params=params)
        )

    def iter_tasks(self, *, since: datetime | None = None) -> Iterator[schemas.ListedTask]:
        token = ""
        while True:
            page = self.list_tasks(since=since, page_token=token)
            yield from page.tasks
            token = page.next_page_token
            if not token or not page.tasks:
                return

    def find_by_payload(self, payload: str, since: datetime) -> schemas.ListedTask | None:
        """The task a create call with this payload made, if the provider has one."""
        for task in self.iter_tasks(since=since):
            if task.payload == payload:
                return task
        return None
