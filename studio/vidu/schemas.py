"""Pydantic models of the official Vidu API's requests and responses (ent/v2)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from studio.vidu.base import Lenient


class CreateRequest(BaseModel):
    """Body of POST /ent/v2/img2video and /ent/v2/start-end2video."""

    model_config = ConfigDict(extra="forbid")

    model: str
    images: list[str] = Field(min_length=1, max_length=2)
    prompt: str | None = None
    duration: int | None = None
    seed: int | None = None
    resolution: str | None = None
    movement_amplitude: str | None = None
    bgm: bool | None = None
    audio: bool | None = None
    voice_id: str | None = None
    is_rec: bool | None = None
    off_peak: bool | None = None
    watermark: bool | None = None
    wm_position: int | None = None
    wm_url: str | None = None
    meta_data: str | None = None
    payload: str | None = None
    callback_url: str | None = None

    def body(self) -> dict:
        return self.model_dump(exclude_none=True)


class CreateResponse(Lenient):
    task_id: str
    state: str = "created"
    model: str | None = None
    prompt: str | None = None
    duration: int | None = None
    seed: Any = None  # an int, a string at some gateways; read by base.as_int
    resolution: str | None = None
    payload: str | None = None
    off_peak: bool | None = None
    credits: int | None = None
    created_at: str | None = None


class CreationOut(Lenient):
    id: str = ""
    url: str = ""
    cover_url: str = ""
    watermarked_url: str = ""


class TaskResponse(Lenient):
    """GET /ent/v2/tasks/{id}/creations, and the body of every callback."""

    id: str
    state: str
    err_code: str = ""
    credits: int | None = None
    payload: str = ""
    seed: Any = None  # not in the documented answer; read where a provider adds it
    bgm: bool | None = None
    off_peak: bool | None = None
    creations: list[CreationOut] = Field(default_factory=list)


class ListedTask(Lenient):
    id: str
    state: str
    err_code: str = ""
    model: str | None = None
    payload: str = ""
    credits: int | None = None
    seed: Any = None
    created_at: str | None = None
    creations: list[CreationOut] = Field(default_factory=list)


class ListTasksResponse(Lenient):
    tasks: list[ListedTask] = Field(default_factory=list)
    next_page_token: str = ""


class CreditBalance(Lenient):
    type: str
    credit_remain: int = 0
    concurrency_limit: int = 0
    current_concurrency: int = 0
    queue_count: int = 0


class CreditsResponse(Lenient):
    remains: list[CreditBalance] = Field(default_factory=list)
    packages: list[dict] = Field(default_factory=list)


class ErrorBody(Lenient):
    """{"code": 400, "reason": "FieldInvalid", "message": "...", "metadata": {...}}"""

    code: int = 0
    reason: str = ""
    message: str = ""
    metadata: dict = Field(default_factory=dict)
