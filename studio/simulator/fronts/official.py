"""The official Vidu API (ent/v2), as documented by platform.vidu.com and seed 004.

Routes: POST /ent/v2/img2video, POST /ent/v2/start-end2video,
GET /ent/v2/tasks/{id}/creations, POST /ent/v2/tasks/{id}/cancel, GET /ent/v2/tasks,
GET /ent/v2/credits. Auth: `Authorization: Token <key>`. Errors:
`{"code": <status>, "reason", "message", "metadata": {"trace_id"}}`. Signed callbacks.
"""

from __future__ import annotations

import json
import re
import uuid
from base64 import urlsafe_b64decode, urlsafe_b64encode
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, ValidationError

from studio import catalog

from .. import intake
from ..engine import CREATED, PROCESSING, QUEUEING, STATES, SUCCESS, Task, iso
from ..errors import ApiError, bad
from ..links import ResultLinks
from .base import Front, Reply, Request, check_callback_url

STARTING_CREDITS = 100_000
PAGE_SIZE_DEFAULT = 10
PAGE_SIZE_MAX = 100


class CreateBody(BaseModel):
    """The body of both create calls, field by field as the official docs list them."""

    model_config = ConfigDict(extra="forbid", strict=True)

    model: str
    images: list[str]
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


def parse_create(
    endpoint: str,
    raw: bytes,
    model: type[BaseModel] = CreateBody,
    offered: tuple[str, ...] | None = None,
):
    """The body, parsed with `model`; refused with the official API's reasons.

    `offered`: the models a gateway sells, when fewer than Vidu's (None: all of them).
    """
    try:
        body = model.model_validate(intake.parse_json_object(raw))
    except ValidationError as error:
        raise intake.refusal(error) from None
    name = body.model  # type: ignore[attr-defined]
    if offered is not None and name not in offered:
        raise bad(
            "ModelUnavailable",
            f"{name} is not offered for {endpoint} here; choose one of {', '.join(offered)}.",
            "model",
        )
    wanted = catalog.ENDPOINT_RULES[endpoint].images
    count = len(body.images)  # type: ignore[attr-defined]
    if count != wanted:
        noun = "image" if wanted == 1 else "images (start and end frame)"
        raise ApiError(
            400,
            "FieldItemCountOutOfRange",
            f"{endpoint} takes exactly {wanted} {noun}; the request has {count}.",
            field="images",
        )
    return body


def accept_create(endpoint: str, body: BaseModel, rules_of: str = "") -> intake.Accepted:
    """The per-model rules and the images of an official-shaped body."""
    params = body.model_dump(exclude_none=True)
    images = [(f"images[{i}]", text) for i, text in enumerate(params.pop("images"))]
    return intake.check(endpoint, params, images, rules_of=rules_of)


# bodies, shared with the fronts that answer in the official shapes


def error_body(error: ApiError) -> dict:
    return {
        "code": error.status,
        "reason": error.reason,
        "message": error.message,
        "metadata": {"trace_id": str(uuid.uuid4())},
    }


def create_body(task: Task) -> dict:
    return {
        "task_id": task.id,
        "state": task.state,
        "model": task.model,
        "prompt": task.prompt,
        "images": list(task.images),
        "duration": task.duration,
        "seed": task.seed,
        "resolution": task.resolution,
        "bgm": task.bgm,
        "audio": task.audio,
        "movement_amplitude": task.movement_amplitude,
        "payload": task.payload,
        "off_peak": task.off_peak,
        "credits": task.credits,
        "watermark": task.watermark,
        "created_at": iso(task.created_at),
    }


def creations(task: Task, links: ResultLinks, base: str) -> list[dict]:
    if task.state != SUCCESS:
        return []
    # The simulator draws no watermark, so the watermarked file has the same bytes.
    return [
        {
            "id": f"{task.id}01",
            "url": links.url(base, task.id, "video.mp4"),
            "cover_url": links.url(base, task.id, "cover.jpg"),
            "watermarked_url": links.url(base, task.id, "video-watermarked.mp4"),
        }
    ]


def query_body(task: Task, links: ResultLinks, base: str) -> dict:
    """GET /ent/v2/tasks/{id}/creations, and the body of every callback."""
    return {
        "id": task.id,
        "state": task.state,
        "err_code": task.err_code,
        "credits": task.credits,
        "payload": task.payload,
        "bgm": task.bgm,
        "off_peak": task.off_peak,
        "creations": creations(task, links, base),
    }


def listed_task(task: Task, links: ResultLinks, base: str) -> dict:
    return {
        "id": task.id,
        "state": task.state,
        "model": task.model,
        "payload": task.payload,
        "credits": task.credits,
        "created_at": iso(task.created_at),
        "err_code": task.err_code,
        "off_peak": task.off_peak,
        "creations": creations(task, links, base),
    }


class OfficialFront(Front):
    name = "official"
    sends_callbacks = True
    routes = (
        (re.compile(r"/ent/v2/img2video"), {"POST": "create_img2video"}),
        (re.compile(r"/ent/v2/start-end2video"), {"POST": "create_start_end2video"}),
        (re.compile(r"/ent/v2/tasks/(?P<task_id>[^/]+)/creations"), {"GET": "query"}),
        (re.compile(r"/ent/v2/tasks/(?P<task_id>[^/]+)/cancel"), {"POST": "cancel"}),
        (re.compile(r"/ent/v2/tasks"), {"GET": "list_tasks"}),
        (re.compile(r"/ent/v2/credits"), {"GET": "credits"}),
    )

    def authenticate(self, request: Request) -> None:
        self.require_scheme(request, "Token")

    def error_body(self, error: ApiError) -> dict:
        return error_body(error)

    def callback_body(self, task: Task) -> dict:
        return query_body(task, self.service.links, task.origin)

    def create_img2video(self, request: Request) -> Reply:
        return self.create(request, catalog.IMG2VIDEO)

    def create_start_end2video(self, request: Request) -> Reply:
        return self.create(request, catalog.START_END2VIDEO)

    def create(self, request: Request, endpoint: str) -> Reply:
        body = self.parse_body(endpoint, request.body)
        accepted = accept_create(endpoint, body, self.rules_of(body))
        callback_url = check_callback_url(body.callback_url)
        echo = self.echo(body, accepted)
        task = self.submit(request, accepted, callback_url=callback_url, echo=echo)
        return Reply(200, self.create_body(task))

    # what a reseller of this API may say differently of a create call

    def parse_body(self, endpoint: str, raw: bytes) -> BaseModel:
        return parse_create(endpoint, raw)

    def rules_of(self, body) -> str:
        """The model whose rules the body is checked by, when not its own ("": its own)."""
        return ""

    def echo(self, body, accepted: intake.Accepted) -> dict:
        """What the task keeps of the body for the create answer alone."""
        return {}

    def create_body(self, task: Task) -> dict:
        return create_body(task)

    def query(self, request: Request, task_id: str) -> Reply:
        task = self.find(task_id)
        return Reply(200, query_body(task, self.service.links, request.origin))

    def cancel(self, request: Request, task_id: str) -> Reply:
        data = intake.parse_json_object(request.body) if request.body.strip() else {}
        given = data.get("id")
        if given not in (None, "") and str(given) != task_id:
            raise bad("FieldInvalid", "The id in the body is not the task in the URL.", "id")
        task, why = self.service.board.cancel(task_id)
        if task is None:
            raise ApiError(404, "TaskNotFound", f"There is no task {task_id}.")
        if why:
            raise bad("OperationInProcess", why)
        return Reply(200, {})

    def list_tasks(self, request: Request) -> Reply:
        size_text = request.one("pager.pagesz", str(PAGE_SIZE_DEFAULT))
        page_text = request.one("pager.page", "0")
        try:
            page_size, page = int(size_text), int(page_text)
        except ValueError:
            raise bad("FieldInvalid", "pager.page and pager.pagesz must be numbers.") from None
        if not 1 <= page_size <= PAGE_SIZE_MAX:
            raise bad("PageSizeOutOfRange", f"pager.pagesz must be 1 to {PAGE_SIZE_MAX}.")
        if page < 0:
            raise bad("FieldInvalid", "pager.page starts at 0.")
        ids = set(request.many("task_ids"))
        states = set(request.many("states"))
        unknown = states - set(STATES)
        if unknown:
            raise bad("FieldInvalid", f"Unknown state {sorted(unknown)[0]!r}.")
        models = set(request.many("model_versions"))
        since = parse_time(request.one("created_at.from"), "created_at.from")
        until = parse_time(request.one("created_at.to"), "created_at.to")
        token = request.one("page_token")
        before = decode_token(token) if token else None

        matching = [
            task
            for task in self.service.board.tasks()  # newest first
            if (not ids or task.id in ids)
            and (not states or task.state in states)
            and (not models or task.model in models)
            and (since is None or task.created_at >= since)
            and (until is None or task.created_at <= until)
        ]
        if before is not None:
            matching = [task for task in matching if task.seq < before]
        else:
            matching = matching[page * page_size :]
        shown = matching[:page_size]
        more = len(matching) > page_size
        links = self.service.links
        return Reply(
            200,
            {
                "next_page_token": encode_token(shown[-1].seq) if more else "",
                "tasks": [listed_task(task, links, request.origin) for task in shown],
            },
        )

    def credits(self, request: Request) -> Reply:
        load = self.service.board.load()
        states = load["states"]
        return Reply(
            200,
            {
                "remains": [
                    {
                        "type": "test",
                        "credit_remain": max(0, STARTING_CREDITS - load["charged"]),
                        "concurrency_limit": self.service.config.concurrency,
                        "current_concurrency": states[PROCESSING],
                        "queue_count": states[CREATED] + states[QUEUEING],
                    }
                ],
                "packages": [],
            },
        )


def parse_time(text: str, name: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise bad("FieldInvalid", f"{name} is not an ISO 8601 time.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def encode_token(seq: int) -> str:
    return urlsafe_b64encode(json.dumps({"before": seq}).encode()).decode().rstrip("=")


def decode_token(token: str) -> int:
    try:
        data = json.loads(urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(data["before"])
    except (ValueError, KeyError, TypeError):
        raise bad("FieldInvalid", "page_token is not one this service gave.") from None
