"""KKIAI (seed 002; docs.kkiai.com .../create-image-to-video-task,
/create-start-end-frame-video-task): the official API resold under a Bearer key.

Routes: POST /ent/v2/img2video, POST /ent/v2/start-end2video, and the official query
GET /ent/v2/tasks/{id}/creations (its docs show no query page: unverified). No list, cancel
or credits route. Auth: `Authorization: Bearer <key>`. Bodies, answers and errors are the
official ones, with what seed 002 adds:

- the prompt is required (at most 2000 characters for img2video);
- audio, is_rec, off_peak, watermark, seed and wm_position are typed as strings although
  its example sends JSON booleans and numbers, so both `true`/"true" and 5/"5" are taken;
- its request example also sends `aspect_ratio`, `bgm` and `client_request_id`, so those
  are taken too (and echoed); any other field is refused;
- the create answer adds type, style, aspect_ratio, cus_priority, is_rec, wm_position,
  wm_url, meta_data and client_request_id.

It copies the official callback_url, so it sends signed callbacks like the official API.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict

from studio import catalog

from ..engine import Task
from ..errors import ApiError, bad
from .base import Front, Reply, Request, check_callback_url
from .official import accept_create, create_body, error_body, parse_create, query_body

MODELS = {
    catalog.IMG2VIDEO: ("viduq3-pro", "viduq3-turbo", "viduq2", "viduq1"),
    catalog.START_END2VIDEO: ("viduq3-pro", "viduq3-turbo", "viduq1"),
}
# Seed 002 marks the prompt required for img2video; its start-end page is not in the
# seeds, and the studio assumes the same there.
PROMPT_REQUIRED = {catalog.IMG2VIDEO: True, catalog.START_END2VIDEO: True}
# Vidu's own API does not know the name "viduq2"; seed 002 gives it the Q2 rules (1-10 s,
# 540p/720p/1080p, 5 s and 720p by default), which are viduq2-turbo's.
RULES_OF = {"viduq2": "viduq2-turbo"}
STYLE = "general"  # its answer carries a style; Vidu's img2video has only this one now


def _flag(value):
    """A JSON boolean, or the strings "true" and "false"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError("must be true or false")


def _whole(value):
    """A JSON whole number (5 or 5.0), or one written as a string ("5")."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise ValueError("must be a whole number")


Flag = Annotated[bool, BeforeValidator(_flag)]
Whole = Annotated[int, BeforeValidator(_whole)]


class CreateBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    model: str
    images: list[str]
    prompt: str
    audio: Flag | None = None
    voice_id: str | None = None
    is_rec: Flag | None = None
    bgm: Flag | None = None
    duration: Whole | None = None
    seed: Whole | None = None
    resolution: str | None = None
    movement_amplitude: str | None = None
    payload: str | None = None
    off_peak: Flag | None = None
    watermark: Flag | None = None
    wm_position: Whole | None = None
    wm_url: str | None = None
    meta_data: str | None = None
    callback_url: str | None = None
    aspect_ratio: str | None = None
    client_request_id: str | None = None


class KkiaiFront(Front):
    name = "kkiai"
    sends_callbacks = True
    routes = (
        (re.compile(r"/ent/v2/img2video"), {"POST": "create_img2video"}),
        (re.compile(r"/ent/v2/start-end2video"), {"POST": "create_start_end2video"}),
        (re.compile(r"/ent/v2/tasks/(?P<task_id>[^/]+)/creations"), {"GET": "query"}),
    )

    def authenticate(self, request: Request) -> None:
        self.require_scheme(request, "Bearer")

    def error_body(self, error: ApiError) -> dict:
        return error_body(error)

    def callback_body(self, task: Task) -> dict:
        return query_body(task, self.service.links, task.origin)

    def create_img2video(self, request: Request) -> Reply:
        return self.create(request, catalog.IMG2VIDEO)

    def create_start_end2video(self, request: Request) -> Reply:
        return self.create(request, catalog.START_END2VIDEO)

    def create(self, request: Request, endpoint: str) -> Reply:
        body = parse_create(endpoint, request.body, CreateBody, MODELS[endpoint])
        if PROMPT_REQUIRED[endpoint] and not body.prompt.strip():
            raise bad("FieldLacking", "Write a prompt: it is required here.", "prompt")
        callback_url = check_callback_url(body.callback_url)
        accepted = accept_create(endpoint, body, RULES_OF.get(body.model, ""))
        echo = {
            "is_rec": bool(body.is_rec),
            "wm_position": str(accepted.params.get("wm_position", "unspecified")),
            "wm_url": accepted.params.get("wm_url", ""),
            "meta_data": body.meta_data or "",
            "aspect_ratio": body.aspect_ratio or "",
            "client_request_id": body.client_request_id or "",
        }
        task = self.submit(request, accepted, callback_url=callback_url, echo=echo)
        return Reply(200, self.create_body(task))

    def create_body(self, task: Task) -> dict:
        answer = create_body(task)
        answer.update(
            {
                "type": task.endpoint,
                "style": STYLE,
                "aspect_ratio": task.echo.get("aspect_ratio", ""),
                "cus_priority": 0,
                "is_rec": task.echo.get("is_rec", False),
                "wm_position": task.echo.get("wm_position", "unspecified"),
                "wm_url": task.echo.get("wm_url", ""),
                "meta_data": task.echo.get("meta_data", ""),
                "client_request_id": task.echo.get("client_request_id", ""),
            }
        )
        return answer

    def query(self, request: Request, task_id: str) -> Reply:
        task = self.find(task_id)
        return Reply(200, query_body(task, self.service.links, request.origin))
