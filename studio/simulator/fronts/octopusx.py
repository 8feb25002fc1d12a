"""Octopusx (seed 000; docs.octopusx.ai/en/videos/vidu/img2video, /query, /start-end2video).

Routes: POST /vidu/ent/v2/img2video, POST /vidu/ent/v2/start-end2video,
GET /vidu/ent/v2/task/{task_id}/creations ("task", singular). Auth:
`Authorization: Bearer <key>`. The create body is the official one without callback_url
(not documented here, so refused like any unknown field). Answers:
create `{"task_id", "status": "processing", "created_at": <unix>}`; query
`{"id", "status", "video_url" (when completed), "status_update_time": <unix>}`, status
processing, completed or failed: no cover, no credits, no failure reason. No list, cancel,
credits or callbacks.

Errors are not documented; this front answers `{"error": {"code", "message", "type"}}`,
the shape such gateways commonly use (unverified: change `error_body` when known).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from studio import catalog

from ..engine import FAILED, SUCCESS, Task
from ..errors import ApiError
from .base import Front, Reply, Request, unix
from .official import accept_create, parse_create

# The models its docs list, for both endpoints.
MODELS = (
    "viduq3-pro",
    "viduq2-pro",
    "viduq2-turbo",
    "viduq2-pro-fast",
    "viduq1",
    "viduq1-classic",
    "vidu2.0",
)
STATUS = {SUCCESS: "completed", FAILED: "failed"}  # every other engine state: processing
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    416: "invalid_request_error",
    429: "rate_limit_error",
}


class CreateBody(BaseModel):
    """The body its img2video and start-end2video pages list (no callback_url)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    model: str
    images: list[str]
    prompt: str | None = None
    audio: bool | None = None
    voice_id: str | None = None
    is_rec: bool | None = None
    bgm: bool | None = None
    duration: int | None = None
    seed: int | None = None
    resolution: str | None = None
    movement_amplitude: str | None = None
    off_peak: bool | None = None
    watermark: bool | None = None
    wm_position: int | None = None
    wm_url: str | None = None
    payload: str | None = None
    meta_data: str | None = None


def snake(reason: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", reason).lower()


class OctopusxFront(Front):
    name = "octopusx"
    routes = (
        (re.compile(r"/vidu/ent/v2/img2video"), {"POST": "create_img2video"}),
        (re.compile(r"/vidu/ent/v2/start-end2video"), {"POST": "create_start_end2video"}),
        (re.compile(r"/vidu/ent/v2/task/(?P<task_id>[^/]+)/creations"), {"GET": "query"}),
    )

    def authenticate(self, request: Request) -> None:
        self.require_scheme(request, "Bearer")

    def error_body(self, error: ApiError) -> dict:
        kind = ERROR_TYPES.get(error.status, "api_error" if error.status >= 500 else "error")
        return {"error": {"code": snake(error.reason), "message": error.message, "type": kind}}

    def create_img2video(self, request: Request) -> Reply:
        return self.create(request, catalog.IMG2VIDEO)

    def create_start_end2video(self, request: Request) -> Reply:
        return self.create(request, catalog.START_END2VIDEO)

    def create(self, request: Request, endpoint: str) -> Reply:
        body = parse_create(endpoint, request.body, CreateBody, MODELS)
        accepted = accept_create(endpoint, body)
        task = self.submit(request, accepted)
        return Reply(
            200, {"task_id": task.id, "status": "processing", "created_at": unix(task.created_at)}
        )

    def query(self, request: Request, task_id: str) -> Reply:
        task = self.find(task_id)
        return Reply(200, self.task_body(task, request.origin))

    def task_body(self, task: Task, base: str) -> dict:
        body: dict = {"id": task.id, "status": STATUS.get(task.state, "processing")}
        if task.state == SUCCESS:
            body["video_url"] = self.video_url(task, base)
        body["status_update_time"] = unix(task.changed_at)
        return body
