"""The HTTP side: one `ApiHandler` per connection, in front of one dialect's front.

The handler only speaks HTTP: it reads the body, serves the routes every dialect shares
(the result files under /files/ and the stats page), checks the key and hands everything
else to the front, which answers a `Reply` or raises `ApiError` (rendered in its dialect).
It sees the simulator through `Backend`, a small interface, not the whole `Simulator`.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

from studio import catalog

from .engine import Task
from .errors import ApiError, NoAnswer
from .fronts import Front, Reply, Request
from .links import FILES, ResultLinks

log = logging.getLogger("studio.simulator.http")

DRAIN_LIMIT = 4 * catalog.REQUEST_BODY_MAX_BYTES  # beyond this, close instead of reading
CHUNK = 64 * 1024
SAFE_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
FILE_ROUTE = re.compile(r"/files/(?P<task_id>[^/]+)/(?P<name>[^/]+)")
STATS_ROUTE = "/_sim/stats"
PUBLIC_PREFIXES = ("/files/", "/_sim/")  # everything else needs the key


class Backend(Protocol):
    """What the handler needs from the simulator."""

    front: Front
    links: ResultLinks

    @property
    def base_url(self) -> str: ...

    def task(self, task_id: str) -> Task | None: ...

    def stats(self) -> dict: ...

    def count_call(self, method: str) -> None:
        """Count one call to the provider API (for the polling benchmarks)."""

    def hold(self) -> None:
        """Wait as a lost answer would (submit_timeout), or until the simulator stops."""


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # many clients at once

    def __init__(self, address, backend: Backend):
        self.backend = backend
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, ApiHandler)

    def process_request(self, request, client_address):
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Hang up on every open connection (idle keep-alives, held submit timeouts)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class ApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so clients can reuse connections
    # An answer goes out as two writes (headers, then body): with Nagle's algorithm the
    # body waits for the client to acknowledge the headers, which it delays by 40 ms.
    disable_nagle_algorithm = True
    server_version = "ViduSimulator/1.0"
    timeout = 120  # idle keep-alive connections close after this
    server: SimulatorHTTPServer

    @property
    def backend(self) -> Backend:
        return self.server.backend

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

    def dispatch(self, method: str) -> None:
        front = self.backend.front
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = parse_qs(parts.query, keep_blank_values=False)
        try:
            request = Request(method, path, query, self.headers, self.read_body(), self.origin)
            if path.startswith(PUBLIC_PREFIXES):
                self.public(request)
                return
            self.backend.count_call(method)
            front.authenticate(request)
            self.send_reply(front.handle(request))
        except ApiError as error:
            self.send_reply(front.error_reply(error))
        except NoAnswer:
            self.backend.hold()
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:
            log.exception("simulator failed on %s %s", method, path)
            failure = ApiError(500, "InternalServiceFailure", "Simulator error.")
            self.send_reply(front.error_reply(failure))

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
            limit = catalog.REQUEST_BODY_MAX_BYTES // (1000 * 1000)
            raise ApiError(400, "BadRequest", f"The request body is larger than {limit} MB.")
        return self.rfile.read(length) if length > 0 else b""

    def drain(self, length: int) -> None:
        while length > 0:
            chunk = self.rfile.read(min(CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)

    @property
    def origin(self) -> str:
        """The base URL the client reached us on, for absolute result URLs."""
        host = self.headers.get("Host", "")
        if host and SAFE_HOST.match(host):
            return f"http://{host}"
        return self.backend.base_url

    def send_reply(self, reply: Reply) -> None:
        data = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    # the routes every dialect shares: the simulator's storage and its own page

    def public(self, request: Request) -> None:
        match = FILE_ROUTE.fullmatch(request.path)
        if match and request.method in ("GET", "HEAD"):
            self.file(request, **match.groupdict())
        elif request.path == STATS_ROUTE and request.method == "GET":
            self.send_reply(Reply(200, self.backend.stats()))
        elif match or request.path == STATS_ROUTE:
            allowed = "GET, HEAD" if match else "GET"
            raise ApiError(
                405, "MethodNotAllowed", f"{request.path} takes {allowed}.", {"Allow": allowed}
            )
        else:
            raise ApiError(404, "NotFound", f"No route for {request.path}.")

    def file(self, request: Request, task_id: str, name: str) -> None:
        if name not in FILES:
            raise ApiError(404, "NotFound", f"There is no file {name}.")
        query = {key: values[-1] for key, values in request.query.items()}
        refusal = self.backend.links.refusal(task_id, name, query)
        if refusal:
            raise ApiError(403, "Forbidden", refusal)
        task = self.backend.task(task_id)
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
