"""KKIAI (seed 002; docs.kkiai.com .../create-image-to-video-task,
/create-start-end-frame-video-task): the official API resold under a Bearer key.

It is the official front with what seed 002 says differently:

- auth is `Authorization: Bearer <key>`;
- only the create calls and the official query GET /ent/v2/tasks/{id}/creations (its
  docs show no query page: unverified); no list, cancel or credits route;
- it sells its own models per endpoint, among them "viduq2", checked by the Q2 rules;
- the prompt is required (at most 2000 characters for img2video);
- audio, is_rec, off_peak, watermark, seed and wm_position are typed as strings although
  its example sends JSON booleans and numbers, so both `true`/"true" and 5/"5" are taken;
- its request example also sends `aspect_ratio`, `bgm` and `client_request_id`, so those
  are taken too (and echoed); any other field is refused;
- the create answer adds type, style, aspect_ratio, cus_priority, is_rec, wm_position,
  wm_url, meta_data and client_request_id.

Errors, query bodies and signed callbacks are the official ones.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator

from studio import catalog

from .. import intake
from ..engine import Task
from ..errors import bad
from . import official
from .base import Request

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
# The official routes its docs show.
ROUTED = {"create_img2video", "create_start_end2video", "query"}


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


class CreateBody(official.CreateBody):
    """The official body, with the fields seed 002 types or requires differently."""

    prompt: str
    audio: Flag | None = None
    is_rec: Flag | None = None
    bgm: Flag | None = None
    duration: Whole | None = None
    seed: Whole | None = None
    off_peak: Flag | None = None
    watermark: Flag | None = None
    wm_position: Whole | None = None
    aspect_ratio: str | None = None
    client_request_id: str | None = None


class KkiaiFront(official.OfficialFront):
    name = "kkiai"
    routes = tuple(
        (pattern, methods)
        for pattern, methods in official.OfficialFront.routes
        if set(methods.values()) <= ROUTED
    )

    def authenticate(self, request: Request) -> None:
        self.require_scheme(request, "Bearer")

    def parse_body(self, endpoint: str, raw: bytes) -> CreateBody:
        body = official.parse_create(endpoint, raw, CreateBody, MODELS[endpoint])
        if PROMPT_REQUIRED[endpoint] and not body.prompt.strip():
            raise bad("FieldLacking", "Write a prompt: it is required here.", "prompt")
        return body

    def rules_of(self, body: CreateBody) -> str:
        return RULES_OF.get(body.model, "")

    def echo(self, body: CreateBody, accepted: intake.Accepted) -> dict:
        return {
            "is_rec": bool(body.is_rec),
            "wm_position": str(accepted.params.get("wm_position", "unspecified")),
            "wm_url": accepted.params.get("wm_url", ""),
            "meta_data": body.meta_data or "",
            "aspect_ratio": body.aspect_ratio or "",
            "client_request_id": body.client_request_id or "",
        }

    def create_body(self, task: Task) -> dict:
        answer = super().create_body(task)
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
