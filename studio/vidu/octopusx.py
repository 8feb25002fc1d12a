"""Octopusx (docs.octopusx.ai, seed 000): the official body under `/vidu/ent/v2/`, Bearer
auth, and a query of its own (`/vidu/ent/v2/task/{id}/creations`) that reports
`processing`, `completed` or `failed` with a `video_url`: no cover, no cost, no reason.
No callbacks, task list or cancel are documented."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError

from studio.vidu import schemas
from studio.vidu.base import (
    CANCELLED,
    CREATED,
    FAILED,
    PROCESSING,
    QUEUEING,
    SUCCESS,
    Dialect,
    OutcomeUnknown,
    Submission,
    TaskView,
    Video,
    read_error,
    unwrap,
    with_reason,
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


class Created(BaseModel):
    model_config = ConfigDict(extra="ignore")

    task_id: str
    status: str = "processing"


class Creation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    url: str = ""
    cover_url: str = ""


class Task(BaseModel):
    model_config = ConfigDict(extra="ignore")

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
            raise OutcomeUnknown(
                "BadAnswer",
                "the create answer had no task_id",
                plain="Octopusx sent an answer the studio could not read.",
            ) from None
        return TaskView(task_id=answer.task_id, state=CREATED)

    def query(self, task_id: str) -> TaskView:
        data = unwrap(self._call("GET", f"/vidu/ent/v2/task/{task_id}/creations"))
        task = Task.model_validate(data)
        status = (task.status or task.state).strip().lower()
        state = STATES.get(status)
        if state is None:
            raise OutcomeUnknown(
                "UnknownState",
                f"unknown task status {status!r}",
                plain="Octopusx reported a status the studio does not know.",
            )
        videos = []
        if task.video_url:
            videos.append(Video(task.video_url, id=f"{task_id}-0"))
        for index, creation in enumerate(task.creations):
            if creation.url and creation.url != task.video_url:
                videos.append(Video(creation.url, creation.cover_url, id=f"{task_id}-{index + 1}"))
        reason = message = ""
        if state in (FAILED, CANCELLED):
            code, said = read_error(data)
            reason = code or "Failed"
            message = with_reason("Octopusx reported that the task failed.", said, "Octopusx") + (
                "" if said else " It gave no reason."
            )
        return TaskView(
            task_id=task.id or task.task_id or task_id,
            state=state,
            videos=tuple(videos),
            reason=reason,
            message=message,
        )
