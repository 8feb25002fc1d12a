"""The HTTP side: routes of the official API (ent/v2), result files and the stats page.

One `ApiHandler` per connection (the server runs each in its own daemon thread). It only
translates between HTTP and the simulator's parts: `intake` checks create requests, the
board holds the tasks, `links` signs result URLs, `responses` shapes the bodies.
"""

from __future__ import annotations

import json
import logging
import random
import re
import secrets
from base64 import urlsafe_b64decode, urlsafe_b64encode
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from studio import catalog

from . import intake, responses
from .engine import CREATED, PROCESSING, QUEUEING, STATES
from .errors import ApiError, error_body
from .links import FILES

if TYPE_CHECKING:
    from .server import Simulator

log = logging.getLogger("studio.simulator.http")

STARTING_CREDITS = 100_000
PAGE_SIZE_DEFAULT = 10
PAGE_SIZE_MAX = 100
DRAIN_LIMIT = 4 * catalog.REQUEST_BODY_MAX_BYTES  # beyond this, close instead of reading
CHUNK = 64 * 1024
SAFE_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")

ROUTES = [
    (re.compile(r"/ent/v2/img2video"), {"POST": "create_img2video"}),
    (re.compile(r"/ent/v2/start-end2video"), {"POST": "create_start_end2video"}),
    (re.compile(r"/ent/v2/tasks/(?P<task_id>[^/]+)/creations"), {"GET": "query"}),
    (re.compile(r"/ent/v2/tasks/(?P<task_id>[^/]+)/cancel"), {"POST": "cancel"}),
    (re.compile(r"/ent/v2/tasks"), {"GET": "list_tasks"}),
    (re.compile(r"/ent/v2/credits"), {"GET": "credits"}),
    (re.compile(r"/files/(?P<task_id>[^/]+)/(?P<name>[^/]+)"), {"GET": "file", "HEAD": "file"}),
    (re.compile(r"/_sim/stats"), {"GET": "stats"}),
]
PUBLIC_PREFIXES = ("/files/", "/_sim/")  # everything else under /ent/ needs the key

_seeds = random.SystemRandom()


class ApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so clients can reuse connections
    server_version = "ViduSimulator/1.0"
    timeout = 120  # idle keep-alive connections close after this

    @property
    def sim(self) -> Simulator:
        return self.server.simulator  # type: ignore[attr-defined]

    def log_message(self, format, *args):
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self):
        self.dispatch("GET")

    def do_HEAD(self):
        self.dispatch("HEAD")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_OPTIONS(self):
        self.dispatch("OPTIONS")

    # plumbing

    def dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        self.query_params = parse_qs(parts.query, keep_blank_values=False)
        try:
            self.body = self.read_body()
            if not path.startswith(PUBLIC_PREFIXES):
                self.authenticate()
            match, methods = route(path)
            action = methods.get(method)
            if action is None:
                allowed = ", ".join(methods)
                raise ApiError(
                    405, "MethodNotAllowed", f"{path} takes {allowed}.", {"Allow": allowed}
                )
            getattr(self, action)(**match.groupdict())
        except ApiError as error:
            self.send_json(error.status, error.body(), error.headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:
            log.exception("simulator failed on %s %s", method, path)
            self.send_json(500, error_body(500, "InternalServiceFailure", "Simulator error."))

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            raise ApiError(400, "BadRequest", "Send the body with a Content-Length.")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            raise ApiError(400, "BadRequest", "Content-Length is not a number.") from None
        if length > catalog.REQUEST_BODY_MAX_BYTES:
            if length <= DRAIN_LIMIT:
                self.drain(length)
            else:
                self.close_connection = True
            limit = catalog.REQUEST_BODY_MAX_BYTES // (1024 * 1024)
            raise ApiError(400, "BadRequest", f"The request body is larger than {limit} MB.")
        return self.rfile.read(length) if length > 0 else b""

    def drain(self, length: int) -> None:
        while length > 0:
            chunk = self.rfile.read(min(CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)

    def authenticate(self) -> None:
        scheme, _, key = self.headers.get("Authorization", "").strip().partition(" ")
        if scheme.lower() in ("token", "bearer") and key.strip():
            if secrets.compare_digest(key.strip().encode(), self.sim.config.api_key.encode()):
                return
            raise ApiError(401, "Unauthorized", "The API key is not valid.")
        raise ApiError(
            401,
            "Unauthorized",
            "Send the API key as Authorization: Token <key>.",
            {"WWW-Authenticate": "Token"},
        )

    @property
    def origin(self) -> str:
        """The base URL the client reached us on, for absolute result URLs."""
        host = self.headers.get("Host", "")
        if host and SAFE_HOST.match(host):
            return f"http://{host}"
        return self.sim.base_url

    def send_json(self, status: int, body, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def one(self, name: str, default: str = "") -> str:
        values = self.query_params.get(name)
        return values[-1].strip() if values else default

    def many(self, name: str) -> list[str]:
        """A filter given repeatedly, comma-separated, or both."""
        items = []
        for value in self.query_params.get(name, []) + self.query_params.get(f"{name}[]", []):
            items.extend(item.strip() for item in value.split(",") if item.strip())
        return items

    # the official API

    def create_img2video(self) -> None:
        self.create(catalog.IMG2VIDEO)

    def create_start_end2video(self) -> None:
        self.create(catalog.START_END2VIDEO)

    def create(self, endpoint: str) -> None:
        sim = self.sim
        accepted = intake.check_request(endpoint, intake.parse_body(self.body))
        callback_url = (accepted.request.callback_url or "").strip()
        if callback_url and not callback_url.startswith(("http://", "https://")):
            raise ApiError(400, "FieldInvalid", "callback_url must be an http or https URL.")
        if sim.faults.hit("submit_throttle"):
            raise ApiError(429, "QuotaExceeded", "Too many requests at once; try again later.")
        if sim.faults.hit("submit_error"):
            raise ApiError(500, "InternalServiceFailure", "The service failed; try again.")
        params = accepted.params
        duration, resolution = params["duration"], params["resolution"]
        off_peak = bool(params.get("off_peak"))
        task = sim.board.create(
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
            or accepted.request.movement_amplitude
            or "auto",
            payload=params.get("payload", ""),
            off_peak=off_peak,
            credits=catalog.estimate_credits(
                endpoint,
                params["model"],
                duration,
                resolution,
                off_peak=off_peak,
                is_rec=bool(params.get("is_rec")),
            ),
            watermark=bool(params.get("watermark")),
            callback_url=callback_url,
            origin=self.origin,
        )
        if sim.faults.hit("submit_timeout"):
            # The task stands (and is charged); the answer never arrives.
            sim.stopping.wait(sim.config.timeout_hold)
            self.close_connection = True
            return
        self.send_json(200, responses.create_body(task))

    def query(self, task_id: str) -> None:
        if self.sim.faults.hit("query_error"):
            raise ApiError(500, "InternalServiceFailure", "The service failed; try again.")
        task = self.sim.board.get(task_id)
        if task is None:
            raise ApiError(404, "TaskNotFound", f"There is no task {task_id}.")
        self.send_json(200, responses.query_body(task, self.sim.links, self.origin))

    def cancel(self, task_id: str) -> None:
        data = intake.parse_body(self.body) if self.body.strip() else {}
        given = data.get("id")
        if given not in (None, "") and str(given) != task_id:
            raise ApiError(400, "FieldInvalid", "The id in the body is not the task in the URL.")
        task, why = self.sim.board.cancel(task_id)
        if task is None:
            raise ApiError(404, "TaskNotFound", f"There is no task {task_id}.")
        if why:
            raise ApiError(400, "OperationInProcess", why)
        self.send_json(200, {})

    def list_tasks(self) -> None:
        size_text = self.one("pager.pagesz", str(PAGE_SIZE_DEFAULT))
        page_text = self.one("pager.page", "0")
        try:
            page_size, page = int(size_text), int(page_text)
        except ValueError:
            message = "pager.page and pager.pagesz must be numbers."
            raise ApiError(400, "FieldInvalid", message) from None
        if not 1 <= page_size <= PAGE_SIZE_MAX:
            raise ApiError(400, "PageSizeOutOfRange", f"pager.pagesz must be 1 to {PAGE_SIZE_MAX}.")
        if page < 0:
            raise ApiError(400, "FieldInvalid", "pager.page starts at 0.")
        ids = set(self.many("task_ids"))
        states = set(self.many("states"))
        unknown = states - set(STATES)
        if unknown:
            raise ApiError(400, "FieldInvalid", f"Unknown state {sorted(unknown)[0]!r}.")
        models = set(self.many("model_versions"))
        since = parse_time(self.one("created_at.from"), "created_at.from")
        until = parse_time(self.one("created_at.to"), "created_at.to")
        token = self.one("page_token")
        before = decode_token(token) if token else None

        matching = [
            task
            for task in self.sim.board.tasks()  # newest first
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
        self.send_json(
            200,
            {
                "next_page_token": encode_token(shown[-1].seq) if more else "",
                "tasks": [
                    responses.listed_task(task, self.sim.links, self.origin) for task in shown
                ],
            },
        )

    def credits(self) -> None:
        load = self.sim.board.load()
        states = load["states"]
        self.send_json(
            200,
            {
                "remains": [
                    {
                        "type": "test",
                        "credit_remain": max(0, STARTING_CREDITS - load["charged"]),
                        "concurrency_limit": self.sim.config.concurrency,
                        "current_concurrency": states[PROCESSING],
                        "queue_count": states[CREATED] + states[QUEUEING],
                    }
                ],
                "packages": [],
            },
        )

    # the simulator's own

    def stats(self) -> None:
        self.send_json(200, self.sim.stats())

    def file(self, task_id: str, name: str) -> None:
        if name not in FILES:
            raise ApiError(404, "NotFound", f"There is no file {name}.")
        query = {key: values[-1] for key, values in self.query_params.items()}
        refusal = self.sim.links.refusal(task_id, name, query)
        if refusal:
            raise ApiError(403, "Forbidden", refusal)
        task = self.sim.board.get(task_id)
        if task is None or task.rendered is None:
            raise ApiError(404, "CreationNotFound", f"Task {task_id} has no creation.")
        path = task.rendered.cover if name == "cover.jpg" else task.rendered.video
        try:
            handle = open(path, "rb")
        except OSError:
            raise ApiError(404, "CreationNotFound", f"Task {task_id} has no creation.") from None
        with handle:
            size = path.stat().st_size
            span = parse_range(self.headers.get("Range", ""), size)
            if span is False:
                raise ApiError(
                    416,
                    "RangeNotSatisfiable",
                    "The range is outside the file.",
                    {"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"},
                )
            start, end = span or (0, size - 1)
            length = max(0, end - start + 1)
            self.send_response(206 if span else 200)
            self.send_header("Content-Type", FILES[name])
            self.send_header("Content-Length", str(length))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Cache-Control", "private, max-age=3600")
            if span:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            if self.command == "HEAD":
                return
            handle.seek(start)
            remaining = length
            while remaining > 0:
                chunk = handle.read(min(CHUNK, remaining))
                if not chunk:
                    break
                self.wfile.write(chunk)
                remaining -= len(chunk)


def route(path: str) -> tuple[re.Match, dict[str, str]]:
    for pattern, methods in ROUTES:
        match = pattern.fullmatch(path)
        if match:
            return match, methods
    raise ApiError(404, "NotFound", f"No route for {path}.")


def parse_range(header: str, size: int):
    """(start, end) for one satisfiable byte range, None to send it all, False for 416."""
    match = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header or "")
    if not match or not (match[1] or match[2]):
        return None  # absent, or several ranges: answer with the whole file
    if not match[1]:
        suffix = int(match[2])
        if suffix == 0 or size == 0:
            return False
        return max(0, size - suffix), size - 1
    start = int(match[1])
    end = min(int(match[2]), size - 1) if match[2] else size - 1
    if start >= size or start > end:
        return False
    return start, end


def parse_time(text: str, name: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "FieldInvalid", f"{name} is not an ISO 8601 time.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def encode_token(seq: int) -> str:
    return urlsafe_b64encode(json.dumps({"before": seq}).encode()).decode().rstrip("=")


def decode_token(token: str) -> int:
    try:
        data = json.loads(urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(data["before"])
    except (ValueError, KeyError, TypeError):
        raise ApiError(400, "FieldInvalid", "page_token is not one this service gave.") from None
