"""Vtrix (seed 003; doc.vtrix.ai/docs/api/vidu/viduq1-img2video).

Routes: POST /model/v1/generation, GET /model/v1/generation/task/{id} (the query path comes
from its CLI, not a docs page: unverified). Auth: `Authorization: Bearer <key>`. The body
is Vidu's parameters under their official names, with Vtrix's own model ids:
`viduq1_img2video` (Vidu's img2video with viduq1: 5 s, 1080p) and
`viduq2_pro_start_end2video` (start-end2video with viduq2-pro). off_peak is "temporarily
unavailable", so off_peak=true is refused.

Answers: create `{"id", "status": "pending"}`; query `{"id", "model", "status", "progress",
"output": [{"content": [{"type": "video", "url"}]}] (completed), "usage": {"cost",
"discount"} (completed), "error": {"code", "error_message"} (failed), "metadata": {}}`.
Request errors: an HTTP 4xx with `{"error": {"code": 8008003002, "message"}}`.

It lists callback_url without saying what it sends, so the field is taken and no callback
is sent: a client must poll.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, ValidationError

from studio import catalog

from .. import intake
from ..engine import CREATED, FAILED, PROCESSING, QUEUEING, SUCCESS, Task
from ..errors import ApiError, bad
from .base import Front, Reply, Request, check_callback_url

MODELS = {  # Vtrix model id -> (Vidu endpoint, Vidu model)
    "viduq1_img2video": (catalog.IMG2VIDEO, "viduq1"),
    "viduq2_pro_start_end2video": (catalog.START_END2VIDEO, "viduq2-pro"),
}
STATUS = {
    CREATED: "pending",
    QUEUEING: "pending",
    PROCESSING: "processing",
    SUCCESS: "completed",
    FAILED: "failed",
}
# SIMULATED PRICE: Vtrix bills in USD and publishes no rate here; the simulator charges
# this much per credit of the catalog's estimate.
SIMULATED_USD_PER_CREDIT = Decimal("0.05")

MISSING_IMAGE = 8008003001
INVALID_PARAMETER = 8008003002
INVALID_STYLE = 8008003003
INVALID_IMAGE = 8008003004
GENERATION_FAILED = 8008003098
PROVIDER_UNAVAILABLE = 8008003099
FAILURE_MESSAGES = {  # engine err_code -> error.error_message
    "CreationPolicyViolation": "Generation failed: the content policy refused this video.",
    "InternalServiceFailure": "Generation failed: the provider could not render the video.",
    "UserCancelled": "Generation failed: the task was cancelled.",
}
IMAGE_REASONS = ("ImageDownloadFailure", "ImageFormatInvalid")


class CreateBody(BaseModel):
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
    payload: str | None = None
    off_peak: bool | None = None
    watermark: bool | None = None
    wm_position: int | None = None
    wm_url: str | None = None
    callback_url: str | None = None


def cost(credits: int) -> str:
    return f"{SIMULATED_USD_PER_CREDIT * credits:.4f}"


class VtrixFront(Front):
    name = "vtrix"
    routes = (
        (re.compile(r"/model/v1/generation"), {"POST": "create"}),
        (re.compile(r"/model/v1/generation/task/(?P<task_id>[^/]+)"), {"GET": "query"}),
    )

    def authenticate(self, request: Request) -> None:
        self.require_scheme(request, "Bearer")

    def error_body(self, error: ApiError) -> dict:
        return {"error": {"code": self.error_code(error), "message": error.message}}

    def error_code(self, error: ApiError) -> int:
        if error.status >= 500:
            return PROVIDER_UNAVAILABLE
        if error.status != 400:
            return error.status  # auth, unknown task, throttling: no Vtrix code documented
        on_images = error.field.split(".")[0] == "images"
        if error.field == "style":
            return INVALID_STYLE
        if on_images and error.reason == "FieldLacking":
            return MISSING_IMAGE
        if error.reason == "FieldItemCountOutOfRange":
            return INVALID_PARAMETER
        if on_images or error.reason in IMAGE_REASONS:
            return INVALID_IMAGE
        return INVALID_PARAMETER

    def create(self, request: Request) -> Reply:
        data = intake.parse_json_object(request.body)
        if "style" in data:
            raise bad("FieldUnwanted", "Invalid style: Vidu's models here take no style.", "style")
        if not data.get("images"):
            raise bad("FieldLacking", "Missing image: give images.", "images")
        try:
            body = CreateBody.model_validate(data)
        except ValidationError as error:
            raise intake.refusal(error) from None
        if body.model not in MODELS:
            raise bad(
                "ModelUnavailable",
                f"Invalid parameter value: model {body.model!r}; choose one of "
                f"{', '.join(MODELS)}.",
                "model",
            )
        endpoint, vidu_model = MODELS[body.model]
        wanted = catalog.ENDPOINT_RULES[endpoint].images
        if len(body.images) != wanted:
            raise bad(
                "FieldItemCountOutOfRange",
                f"Invalid parameter value: {body.model} takes exactly {wanted} image"
                f"{'s' if wanted > 1 else ''}; the request has {len(body.images)}.",
                "images",
            )
        if body.off_peak:
            raise bad("FieldInvalid", "off_peak is temporarily unavailable.", "off_peak")
        check_callback_url(body.callback_url)  # taken and checked, never called back
        params = body.model_dump(exclude_none=True, exclude={"images", "callback_url"})
        params["model"] = vidu_model
        frames = [(f"images[{i}]", text) for i, text in enumerate(body.images)]
        accepted = intake.check(endpoint, params, frames)
        task = self.submit(request, accepted, echo={"model": body.model})
        return Reply(200, {"id": task.id, "status": STATUS[task.state]})

    def query(self, request: Request, task_id: str) -> Reply:
        task = self.find(task_id)
        return Reply(200, self.task_body(task, request.origin))

    def progress(self, task: Task) -> float:
        if task.state == SUCCESS:
            return 1.0
        if task.state != PROCESSING:
            return 0.0
        step = self.service.config.seconds or 1.0
        elapsed = time.time() - task.changed_at.timestamp()
        return round(min(0.99, max(0.01, elapsed / step)), 2)

    def task_body(self, task: Task, base: str) -> dict:
        body: dict = {
            "id": task.id,
            "model": task.echo.get("model", ""),
            "status": STATUS[task.state],
            "progress": self.progress(task),
        }
        if task.state == SUCCESS:
            body["output"] = [{"content": [{"type": "video", "url": self.video_url(task, base)}]}]
            body["usage"] = {"cost": cost(task.credits), "discount": 0}
        if task.state == FAILED:
            body["error"] = {
                "code": GENERATION_FAILED,
                "error_message": FAILURE_MESSAGES.get(task.err_code, "Generation failed."),
            }
        body["metadata"] = {}
        return body
