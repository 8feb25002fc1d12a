"""What every front shares: the request it sees, the reply it gives, routing, the create
flow into the neutral board (with the submit faults), and task lookups.

A front is one provider's dialect: its routes, its auth check, its own request models
(written from that provider's docs, never borrowed from the studio's client), and its
response and error bodies, built from the engine's `Task`.
"""

from __future__ import annotations

import random
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from typing import ClassVar, Protocol

from studio import catalog

from ..config import Config
from ..engine import Board, Task
from ..errors import ApiError, NoAnswer
from ..faults import Faults
from ..intake import Accepted
from ..links import ResultLinks

Route = tuple[re.Pattern, dict[str, str]]  # path pattern -> {method: front method name}

_seeds = random.SystemRandom()


class Service(Protocol):
    """The parts of the simulator a front may use."""

    config: Config
    board: Board
    faults: Faults
    links: ResultLinks


@dataclass
class Request:
    method: str
    path: str  # without the query string or a trailing slash
    query: dict[str, list[str]]
    headers: Message  # what http.server parsed: case-insensitive .get
    body: bytes
    origin: str  # the base URL the client reached us on, for absolute result URLs

    def header(self, name: str) -> str:
        return (self.headers.get(name) or "").strip()

    def one(self, name: str, default: str = "") -> str:
        values = self.query.get(name)
        return values[-1].strip() if values else default

    def many(self, name: str) -> list[str]:
        """A filter given repeatedly, comma-separated, or both."""
        items = []
        for value in self.query.get(name, []) + self.query.get(f"{name}[]", []):
            items.extend(item.strip() for item in value.split(",") if item.strip())
        return items


@dataclass
class Reply:
    status: int
    body: object
    headers: dict = field(default_factory=dict)


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


class Front:
    name: ClassVar[str]
    routes: ClassVar[tuple[Route, ...]]
    # Does this dialect POST task updates to a create call's callback_url?
    sends_callbacks: ClassVar[bool] = False

    def __init__(self, service: Service):
        self.service = service

    # what each dialect says for itself

    def authenticate(self, request: Request) -> None:
        raise NotImplementedError

    def error_body(self, error: ApiError) -> dict:
        raise NotImplementedError

    def callback_body(self, task: Task) -> dict:
        """The body POSTed to the task's callback_url (fronts that send callbacks)."""
        raise NotImplementedError

    # shared

    def handle(self, request: Request) -> Reply:
        match, methods = self.route(request.path)
        action = methods.get(request.method)
        if action is None:
            allowed = ", ".join(methods)
            raise ApiError(
                405, "MethodNotAllowed", f"{request.path} takes {allowed}.", {"Allow": allowed}
            )
        return getattr(self, action)(request, **match.groupdict())

    def route(self, path: str) -> tuple[re.Match, dict[str, str]]:
        for pattern, methods in self.routes:
            match = pattern.fullmatch(path)
            if match:
                return match, methods
        raise ApiError(404, "NotFound", f"No route for {path}.")

    def error_reply(self, error: ApiError) -> Reply:
        return Reply(error.status, self.error_body(error), error.headers)

    def key_matches(self, given: str) -> bool:
        return secrets.compare_digest(given.encode(), self.service.config.api_key.encode())

    def require_scheme(self, request: Request, scheme: str) -> None:
        """Authorization: <scheme> <key>, and no other scheme."""
        given_scheme, _, key = request.header("Authorization").partition(" ")
        challenge = {"WWW-Authenticate": scheme}
        if given_scheme.lower() == scheme.lower() and key.strip():
            if self.key_matches(key.strip()):
                return
            raise ApiError(401, "Unauthorized", "The API key is not valid.", challenge)
        raise ApiError(
            401, "Unauthorized", f"Send the API key as Authorization: {scheme} <key>.", challenge
        )

    def submit(
        self,
        request: Request,
        accepted: Accepted,
        *,
        callback_url: str = "",
        echo: dict | None = None,
    ) -> Task:
        """Play the submit faults, then make the task; NoAnswer for submit_timeout."""
        faults = self.service.faults
        if faults.hit("submit_throttle"):
            raise ApiError(429, "QuotaExceeded", "Too many requests at once; try again later.")
        if faults.hit("submit_error"):
            raise ApiError(500, "InternalServiceFailure", "The service failed; try again.")
        params, endpoint = accepted.params, accepted.endpoint
        duration, resolution = params["duration"], params["resolution"]
        off_peak = bool(params.get("off_peak"))
        task = self.service.board.create(
            image_data=[picture.data for picture in accepted.pictures],
            endpoint=endpoint,
            model=params["model"],
            prompt=params.get("prompt", ""),
            images=[picture.placeholder for picture in accepted.pictures],
            duration=duration,
            seed=params.get("seed") or _seeds.randrange(1, 2**31),
            resolution=resolution,
            bgm=bool(params.get("bgm")),
            audio=bool(params.get("audio")),
            movement_amplitude=params.get("movement_amplitude")
            or accepted.movement_amplitude
            or "auto",
            payload=params.get("payload", ""),
            off_peak=off_peak,
            credits=catalog.estimate_credits(params),
            watermark=bool(params.get("watermark")),
            callback_url=callback_url,
            origin=request.origin,
            echo=dict(echo or {}),
        )
        if faults.hit("submit_timeout"):
            raise NoAnswer  # the task stands, and is charged
        return task

    def find(self, task_id: str) -> Task:
        """The task, after the query_error fault; 404 TaskNotFound when there is none."""
        if self.service.faults.hit("query_error"):
            raise ApiError(500, "InternalServiceFailure", "The service failed; try again.")
        task = self.service.board.get(task_id)
        if task is None:
            raise ApiError(404, "TaskNotFound", f"There is no task {task_id}.")
        return task

    def video_url(self, task: Task, base: str) -> str:
        return self.service.links.url(base, task.id, "video.mp4")


def check_callback_url(value: str | None, field_name: str = "callback_url") -> str:
    url = (value or "").strip()
    if url and not url.startswith(("http://", "https://")):
        raise ApiError(
            400, "FieldInvalid", f"{field_name} must be an http or https URL.", field=field_name
        )
    return url
