"""Vidu's official API (ent/v2): `Authorization: Token <key>`, the task list that finds a
lost create by its payload, cancel for off-peak tasks, and signed callbacks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

from pydantic import ValidationError

from studio.vidu import schemas
from studio.vidu.base import (
    CANCELLED,
    CREATED,
    CREDITS,
    FAILED,
    PROCESSING,
    QUEUEING,
    SUCCESS,
    Cost,
    Dialect,
    Submission,
    TaskView,
    Video,
    as_int,
    with_reason,
)

CREATE_PATHS = {"img2video": "/ent/v2/img2video", "start-end2video": "/ent/v2/start-end2video"}

# The task states the API documents ("scheduled" appears in an older text).
STATES = {
    "created": CREATED,
    "scheduled": QUEUEING,
    "queueing": QUEUEING,
    "processing": PROCESSING,
    "success": SUCCESS,
    "failed": FAILED,
}
CANCELLED_CODE = "UserCancelled"  # cancelled through the API, or off-peak time ran out

# What each error reason means, in the words we show a user ("{p}" is the provider).
PLAIN_REASONS = {
    "BadRequest": "{p} could not read the request.",
    "FieldLacking": "A required field was missing.",
    "FieldUnwanted": "A field was sent that this model does not take.",
    "FieldInvalid": "A field had a value {p} does not accept.",
    "FieldItemCountOutOfRange": "The number of images was not what this kind of video needs.",
    "ImageDownloadFailure": "{p} could not download the image.",
    "ImageFormatInvalid": "{p} could not read the image format.",
    "ImageCheckBodyJointsFailed": "{p} could not find a clear body pose in the image.",
    "ImageCheckFaceFailed": "{p} could not find a clear face in the image.",
    "ImageObjectsUndetected": "{p} could not find any subject in the image.",
    "TaskPromptPolicyViolation": "{p} refused the prompt under its content policy.",
    "CreationPolicyViolation": "{p} refused to deliver the video under its content policy.",
    "AuditSubmitIllegal": "{p}'s content review refused this request.",
    "CreditInsufficient": "The {p} account has run out of credits.",
    "ModelUnavailable": "This model is not available right now.",
    "UserCancelled": "The task was cancelled.",
    "OperationInProcess": "{p} is still working on this task.",
    "Unauthorized": "{p} refused the studio's API key.",
    "Forbidden": "The {p} account may not do this.",
    "TaskNotFound": "{p} does not know this task.",
    "QuotaExceeded": "The {p} account is at its limit of tasks at once.",
    "TooManyRequests": "{p} asked us to slow down.",
    "SystemThrottling": "{p} is busy.",
    "InternalServiceFailure": "{p} had an internal failure.",
}


class Official(Dialect):
    name = "official"
    label = "Vidu"
    default_base_url = "https://api.vidu.com"
    finds_lost_tasks = True
    cancels = True
    takes_callbacks = True

    def auth_headers(self, api_key: str) -> dict[str, str]:
        return {"Authorization": f"Token {api_key}"}

    def plain(self, reason: str, message: str) -> str:
        known = PLAIN_REASONS.get(reason)
        text = known.format(p=self.label) if known else f"{self.label} refused the request."
        return with_reason(text, message, self.label)

    def error_from(self, status: int, data) -> tuple[str, str]:
        try:
            body = schemas.ErrorBody.model_validate(data)
        except ValidationError:
            return super().error_from(status, data)
        return body.reason, body.message

    def body(self, submission: Submission) -> dict:
        request = schemas.CreateRequest(
            model=submission.model,
            images=list(submission.images),
            prompt=submission.prompt or None,
            payload=submission.payload or None,
            callback_url=submission.callback_url if self.takes_callbacks else None,
            **submission.params,
        )
        return request.body()

    def create(self, submission: Submission) -> TaskView:
        data = self._call("POST", CREATE_PATHS[submission.endpoint], json=self.body(submission))
        try:
            answer = schemas.CreateResponse.model_validate(data)
        except ValidationError:
            raise self.unreadable("the create answer had no task id") from None
        return TaskView(
            task_id=answer.task_id,
            state=STATES.get(answer.state, CREATED),
            cost=Cost.of(answer.credits, CREDITS),
            payload=answer.payload or "",
            seed=as_int(answer.seed),
        )

    def query(self, task_id: str) -> TaskView:
        data = self._call("GET", f"/ent/v2/tasks/{task_id}/creations")
        return self.view(schemas.TaskResponse.model_validate(data))

    def read_callback(self, body: bytes) -> TaskView:
        return self.view(schemas.TaskResponse.model_validate(json.loads(body)))

    def view(self, task: schemas.TaskResponse | schemas.ListedTask) -> TaskView:
        state = STATES.get(task.state)
        if state is None:
            raise self.unknown_state(f"unknown task state {task.state!r}", "state")
        reason = message = ""
        if state == FAILED:
            if task.err_code == CANCELLED_CODE:
                state = CANCELLED
            code = task.err_code
            reason, message = self.failure(code, plain=self.plain(code, "") if code else "")
        return TaskView(
            task_id=task.id,
            state=state,
            videos=tuple(
                Video(c.url, c.cover_url, c.watermarked_url, c.id) for c in task.creations if c.url
            ),
            cost=Cost.of(task.credits, CREDITS),
            reason=reason,
            message=message,
            payload=task.payload,
            seed=as_int(task.seed),
        )

    def cancel(self, task_id: str) -> None:
        self._call("POST", f"/ent/v2/tasks/{task_id}/cancel", json={"id": task_id})

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

    batch_size = 100  # the task list's largest page, filtered by task_ids

    def query_many(self, task_ids: list[str], since: datetime | None = None) -> dict:
        page = self.list_tasks(since=since, page_size=self.batch_size, task_ids=list(task_ids))
        wanted = set(task_ids)
        return {task.id: self.view(task) for task in page.tasks if task.id in wanted}

    def find_by_payload(self, payload: str, since: datetime) -> TaskView | None:
        for task in self.iter_tasks(since=since):
            if task.payload == payload:
                return self.view(task)
        return None


class Kkiai(Official):
    """KKIAI resells the official API on its own host with Bearer auth. Its docs show the
    create calls and callbacks, but no task list (so a lost create cannot be found), no
    cancel and no query page: the query path is the official one (unverified)."""

    name = "kkiai"
    label = "KKIAI"
    default_base_url = "https://www.kkiai.com"
    finds_lost_tasks = False
    cancels = False
    takes_callbacks = True

    def auth_headers(self, api_key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_key}"}

    batch_size = 1  # no task list

    def cancel(self, task_id: str) -> None:
        Dialect.cancel(self, task_id)

    def query_many(self, task_ids: list[str], since: datetime | None = None) -> dict:
        return Dialect.query_many(self, task_ids, since)

    def find_by_payload(self, payload: str, since: datetime) -> TaskView | None:
        return Dialect.find_by_payload(self, payload, since)
