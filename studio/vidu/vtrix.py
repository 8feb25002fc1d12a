"""Vtrix (doc.vtrix.ai, seed 003): one `POST /model/v1/generation` for every model, named
with the endpoint (`viduq1_img2video`, `viduq2_pro_start_end2video`), official parameter
names, Bearer auth; `GET /model/v1/generation/task/{id}` (from its CLI, unverified)
reports pending, processing, completed or failed, the videos under `output[].content[]`
and the cost in US dollars (`usage.cost`). No cover, callbacks, task list or cancel."""

from __future__ import annotations

from pydantic import ValidationError

from studio.vidu.base import (
    CANCELLED,
    CREATED,
    FAILED,
    PROCESSING,
    QUEUEING,
    SUCCESS,
    USD,
    Cost,
    Dialect,
    Lenient,
    Submission,
    TaskView,
    Video,
    read_error,
    unwrap,
    with_reason,
)

# The one path for every model; the query path is taken from its CLI (unverified).
CREATE_PATH = "/model/v1/generation"
QUERY_PATH = "/model/v1/generation/task/{id}"
STATES = {
    "pending": QUEUEING,
    "queued": QUEUEING,
    "created": CREATED,
    "processing": PROCESSING,
    "running": PROCESSING,
    "completed": SUCCESS,
    "succeeded": SUCCESS,
    "success": SUCCESS,
    "failed": FAILED,
    "cancelled": CANCELLED,
    "canceled": CANCELLED,
}
# Its error codes (seed 003), in the user's words.
CODES = {
    "0": "",
    "8008003001": "The image was missing.",
    "8008003002": "A parameter had a value Vtrix does not accept.",
    "8008003003": "The style is not valid.",
    "8008003004": "Vtrix could not use the image.",
    "8008003098": "The generation failed.",
    "8008003099": "The video provider behind Vtrix is unavailable.",
}


def model_id(endpoint: str, model: str) -> str:
    """Vtrix's name for a model on an endpoint: viduq2-pro, start-end2video ->
    viduq2_pro_start_end2video."""
    return f"{model}_{endpoint}".replace("-", "_").replace(".", "_")


class Content(Lenient):
    type: str = ""
    url: str = ""


class Output(Lenient):
    content: list[Content] = []


class Usage(Lenient):
    cost: str | float | int | None = None


class Task(Lenient):
    id: str = ""
    status: str = ""
    output: list[Output] | None = None
    usage: Usage | None = None
    error: dict | None = None
    error_message: str | None = None


class Vtrix(Dialect):
    name = "vtrix"
    label = "Vtrix"
    default_base_url = "https://cloud.vtrix.ai"

    def plain(self, reason: str, message: str) -> str:
        known = CODES.get(str(reason))
        return with_reason(known or "Vtrix refused the request.", message, "Vtrix")

    def body(self, submission: Submission) -> dict:
        body = {
            "model": model_id(submission.endpoint, submission.model),
            "images": list(submission.images),
        }
        if submission.prompt:
            body["prompt"] = submission.prompt
        if submission.payload:
            body["payload"] = submission.payload
        body.update({k: v for k, v in submission.params.items() if v is not None})
        return body

    def create(self, submission: Submission) -> TaskView:
        data = unwrap(self._call("POST", CREATE_PATH, json=self.body(submission)))
        task_id = str(data.get("id") or data.get("task_id") or "")
        if not task_id:
            raise self.unreadable("the create answer had no id")
        return TaskView(task_id=task_id, state=CREATED)

    def query(self, task_id: str) -> TaskView:
        data = unwrap(self._call("GET", QUERY_PATH.format(id=task_id)))
        try:
            task = Task.model_validate(data)
        except ValidationError:
            raise self.unreadable("the task answer could not be read") from None
        state = STATES.get(task.status.strip().lower())
        if state is None:
            raise self.unknown_state(f"unknown task status {task.status!r}")
        urls = [
            content.url
            for output in task.output or []
            for content in output.content
            if content.url and content.type in ("video", "")
        ]
        reason = message = ""
        if state in (FAILED, CANCELLED):
            code, said = read_error({"error": task.error} if task.error else data)
            said = said or task.error_message or ""
            reason, message = self.failure(code, said, meaning=CODES.get(code, ""))
        return TaskView(
            task_id=task.id or task_id,
            state=state,
            videos=tuple(Video(url, id=f"{task_id}-{i}") for i, url in enumerate(urls)),
            cost=Cost.of(task.usage.cost, USD) if task.usage else None,
            reason=reason,
            message=message,
        )
