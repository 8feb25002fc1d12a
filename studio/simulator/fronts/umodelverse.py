"""UModelverse, UCloud's gateway (seed 001; ucloud-global.com .../video_api/Vidu-Img2Video,
Vidu-StartEnd2Video).

Routes: POST /v1/tasks/submit, GET /v1/tasks/status?task_id=<id>. Auth:
`Authorization: <key>`, the bare key with no scheme. The body nests Vidu's parameters:
`{"model", "input": {"first_frame_url", "prompt", "last_frame_url"}, "parameters":
{"vidu_type", "duration", "seed", "resolution", "movement_amplitude", "bgm"}}`, nothing
else. Answers: submit `{"output": {"task_id"}, "request_id"}`; status `{"output":
{"task_id", "task_status", "urls", "submit_time", "finish_time", "error_message"},
"usage": {"duration"}, "request_id"}` with task_status Pending, Running, Success or
Failure. No cover, no cost, no list, cancel, credits or callbacks.

Errors are not documented; this front answers `{"code", "message", "request_id"}` with
the HTTP status (unverified: the codes are in `CODES`).
"""

from __future__ import annotations

import re
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from studio import catalog

from .. import intake
from ..engine import CREATED, FAILED, PROCESSING, QUEUEING, SUCCESS, Task
from ..errors import ApiError, bad
from .base import Front, Reply, Request, unix

MODELS = ("viduq2-pro", "viduq2-turbo")
TASK_STATUS = {
    CREATED: "Pending",
    QUEUEING: "Pending",
    PROCESSING: "Running",
    SUCCESS: "Success",
    FAILED: "Failure",
}
FAILURE_MESSAGES = {  # engine err_code -> output.error_message
    "CreationPolicyViolation": "The content policy refused this video.",
    "InternalServiceFailure": "The video could not be generated; try again.",
    "UserCancelled": "The task was cancelled.",
}
CODES = {  # HTTP status -> error code
    400: "InvalidParameter",
    401: "InvalidApiKey",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    416: "InvalidRange",
    429: "Throttling",
    500: "InternalError",
}


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    first_frame_url: str
    prompt: str | None = None
    last_frame_url: str | None = None  # start-end2video only


class Parameters(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    vidu_type: Literal["img2video", "start-end2video"]
    duration: int | None = None
    seed: int | None = None
    resolution: str | None = None
    movement_amplitude: str | None = None
    bgm: bool | None = None


class SubmitBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    model: str
    input: Input
    parameters: Parameters


def request_id() -> str:
    return uuid.uuid4().hex


class UModelverseFront(Front):
    name = "umodelverse"
    routes = (
        (re.compile(r"/v1/tasks/submit"), {"POST": "submit_task"}),
        (re.compile(r"/v1/tasks/status"), {"GET": "status"}),
    )

    def authenticate(self, request: Request) -> None:
        given = request.header("Authorization")
        if not given or " " in given:
            raise ApiError(
                401, "Unauthorized", "Send the API key as Authorization: <key>, with no scheme."
            )
        if not self.key_matches(given):
            raise ApiError(401, "Unauthorized", "The API key is not valid.")

    def error_body(self, error: ApiError) -> dict:
        code = "TaskNotFound" if error.reason == "TaskNotFound" else CODES.get(error.status)
        return {"code": code or error.status, "message": error.message, "request_id": request_id()}

    def submit_task(self, request: Request) -> Reply:
        try:
            body = SubmitBody.model_validate(intake.parse_json_object(request.body))
        except ValidationError as error:
            raise intake.refusal(error) from None
        if body.model not in MODELS:
            raise bad(
                "ModelUnavailable",
                f"{body.model} is not offered; choose one of {', '.join(MODELS)}.",
                "model",
            )
        endpoint = body.parameters.vidu_type
        frames = [("input.first_frame_url", body.input.first_frame_url)]
        last = body.input.last_frame_url
        if endpoint == catalog.START_END2VIDEO:
            if last is None:
                message = "start-end2video needs input.last_frame_url, the end frame."
                raise bad("FieldLacking", message, "input.last_frame_url")
            frames.append(("input.last_frame_url", last))
        elif last is not None:
            message = "input.last_frame_url is for start-end2video; img2video takes one frame."
            raise bad("FieldUnwanted", message, "input.last_frame_url")
        params = body.parameters.model_dump(exclude_none=True, exclude={"vidu_type"})
        params["model"] = body.model
        if body.input.prompt is not None:
            params["prompt"] = body.input.prompt
        accepted = intake.check(endpoint, params, frames, image_field="input")
        task = self.submit(request, accepted)
        return Reply(200, {"output": {"task_id": task.id}, "request_id": request_id()})

    def status(self, request: Request) -> Reply:
        task_id = request.one("task_id")
        if not task_id:
            raise bad("FieldLacking", "Give the task_id in the query string.", "task_id")
        task = self.find(task_id)
        return Reply(200, self.task_body(task, request.origin))

    def task_body(self, task: Task, base: str) -> dict:
        output: dict = {
            "task_id": task.id,
            "task_status": TASK_STATUS[task.state],
            "submit_time": unix(task.created_at),
        }
        body: dict = {"output": output}
        if task.state == SUCCESS:
            output["urls"] = [self.video_url(task, base)]
            body["usage"] = {"duration": task.duration}
        if task.state in (SUCCESS, FAILED):
            output["finish_time"] = unix(task.changed_at)
        if task.state == FAILED:
            output["error_message"] = FAILURE_MESSAGES.get(
                task.err_code, "The video could not be generated."
            )
        body["request_id"] = request_id()
        return body
