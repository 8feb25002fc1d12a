"""UModelverse (UCloud, seed 001): `POST /v1/tasks/submit` with the images under `input`
and the options under `parameters`, the bare key as `Authorization`, and
`GET /v1/tasks/status?task_id=` reporting Pending, Running, Success or Failure with
`output.urls`. No cover, no cost, no callbacks, task list or cancel."""

from __future__ import annotations

from pydantic import Field, ValidationError

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
)

STATES = {
    "pending": QUEUEING,
    "running": PROCESSING,
    "success": SUCCESS,
    "succeeded": SUCCESS,
    "failure": FAILED,
    "failed": FAILED,
    "cancelled": CANCELLED,
    "canceled": CANCELLED,
}
# The options its request takes, all under `parameters` (seed 001).
PARAMETERS = ("duration", "seed", "resolution", "movement_amplitude", "bgm")


class Output(Lenient):
    task_id: str = ""
    task_status: str = ""
    urls: list[str] | None = None
    error_message: str | None = None
    error_code: str | int | None = None


class Answer(Lenient):
    output: Output = Field(default_factory=Output)
    request_id: str | None = None


class Umodelverse(Dialect):
    name = "umodelverse"
    label = "UModelverse"
    default_base_url = "https://api.umodelverse.ai"

    def auth_headers(self, api_key: str) -> dict[str, str]:
        return {"Authorization": api_key}  # the key alone, no scheme (seed 001)

    def body(self, submission: Submission) -> dict:
        given = {k: v for k, v in submission.params.items() if k in PARAMETERS}
        inputs = {"first_frame_url": submission.images[0]}
        if submission.prompt:
            inputs["prompt"] = submission.prompt
        if submission.endpoint == "start-end2video":
            inputs["last_frame_url"] = submission.images[1]
        return {
            "model": submission.model,
            "input": inputs,
            "parameters": {"vidu_type": submission.endpoint, **given},
        }

    def create(self, submission: Submission) -> TaskView:
        data = self._call("POST", "/v1/tasks/submit", json=self.body(submission))
        try:
            answer = Answer.model_validate(data)
        except ValidationError:
            answer = Answer()
        if not answer.output.task_id:
            raise self.unreadable("the submit answer had no output.task_id")
        return TaskView(task_id=answer.output.task_id, state=CREATED)

    def query(self, task_id: str) -> TaskView:
        data = self._call("GET", "/v1/tasks/status", params={"task_id": task_id})
        answer = Answer.model_validate(data)
        status = answer.output.task_status.strip().lower()
        state = STATES.get(status)
        if state is None:
            raise self.unknown_state(f"unknown task_status {answer.output.task_status!r}")
        reason = message = ""
        if state in (FAILED, CANCELLED):
            said = answer.output.error_message or read_error(data)[1]
            code = str(answer.output.error_code or "")
            reason, message = self.failure(code, said, fallback="Failure")
        urls = answer.output.urls or []
        return TaskView(
            task_id=answer.output.task_id or task_id,
            state=state,
            videos=tuple(Video(url, id=f"{task_id}-{i}") for i, url in enumerate(urls) if url),
            reason=reason,
            message=message,
        )
