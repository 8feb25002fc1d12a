"""Octopusx (docs.octopusx.ai, seed 000): the official body under `/vidu/ent/v2/`, Bearer
auth, and a query of its own (`/vidu/ent/v2/task/{id}/creations`) that reports
`processing`, `completed` or `failed` with a `video_url`: no cover, no cost, no reason.
No callbacks, task list or cancel are documented."""

from __future__ import annotations

from pydantic import ValidationError

from studio.vidu import schemas
from studio.vidu.base import (
    CANCELLED,
    CREATED,
    FAILED,
    PROCESSING,
    QUEUEING,
    SUCCESS,
    Dialect,
    Lenient,
    Submission,
    TaskView,
    Video,
    read_error,
    unwrap,
)

CREATE_PATHS = {
    "img2video": "/vidu/ent/v2/img2video",
    "start-end2video": "/vidu/ent/v2/start-end2video",
}
# Its docs name processing, completed and failed; the others are the official names,
# read too in case the gateway passes Vidu's own through.
STATES = {
    "pending": QUEUEING,
    "created": CREATED,
    "queueing": QUEUEING,
    "processing": PROCESSING,
    "completed": SUCCESS,
    "success": SUCCESS,
    "failed": FAILED,
    "cancelled": CANCELLED,
}


class Created(Lenient):
    task_id: str
    status: str = "processing"


class Creation(Lenient):
    url: str = ""
    cover_url: str = ""


class Task(Lenient):
    id: str = ""
    task_id: str = ""
    status: str = ""
    state: str = ""
    video_url: str | None = None
    creations: list[Creation] = []


class Octopusx(Dialect):
    name = "octopusx"
    label = "Octopusx"
    default_base_url = "https://octopusx.ai"

    def body(self, submission: Submission) -> dict:
        request = schemas.CreateRequest(
            model=submission.model,
            images=list(submission.images),
            prompt=submission.prompt or None,
            payload=submission.payload or None,
            **submission.params,
        )
        return request.body()

    def create(self, submission: Submission) -> TaskView:
        data = unwrap(
            self._call("POST", CREATE_PATHS[submission.endpoint], json=self.body(submission))
        )
        try:
            answer = Created.model_validate(data)
        except ValidationError:
            raise self.unreadable("the create answer had no task_id") from None
        return TaskView(task_id=answer.task_id, state=CREATED)

    def query(self, task_id: str) -> TaskView:
        data = unwrap(self._call("GET", f"/vidu/ent/v2/task/{task_id}/creations"))
        task = Task.model_validate(data)
        status = (task.status or task.state).strip().lower()
        state = STATES.get(status)
        if state is None:
            raise self.unknown_state(f"unknown task status {status!r}")
        videos = []
        if task.video_url:
            videos.append(Video(task.video_url, id=f"{task_id}-0"))
        for index, creation in enumerate(task.creations):
            if creation.url and creation.url != task.video_url:
                videos.append(Video(creation.url, creation.cover_url, id=f"{task_id}-{index + 1}"))
        reason = message = ""
        if state in (FAILED, CANCELLED):
            reason, message = self.failure(*read_error(data))
        return TaskView(
            task_id=task.id or task.task_id or task_id,
            state=state,
            videos=tuple(videos),
            reason=reason,
            message=message,
        )
