"""The links in a provider's answer (video, cover, watermarked copy) over real HTTP on
loopback: a gateway in front of the simulator rewrites them to point at servers started
here, one of which stands for an address inside the studio's network (the cloud's
metadata service). The worker fetches only public addresses and the ones configured,
follows redirects a few at a time and checks each, reads no more than a file can weigh,
keeps only a cover that is a picture, and keeps a good video whatever befalls its cover
or watermarked copy, leaving no file behind for an attempt that failed."""

from __future__ import annotations

import io
import ipaddress
import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.db import OperationalError
from PIL import Image

from studio.models import Creation, Generation
from studio.simulator import Simulator
from studio.worker import copying, fetching, jobs
from tests.factories import make_generation

pytestmark = pytest.mark.usefixtures("media_root")

SECRET = b"AKIA-THE-CLOUDS-OWN-CREDENTIALS"
CHUNK = b"\0" * (256 * 1024)


class Server(ThreadingHTTPServer):
    """A small HTTP server on loopback that records what it was asked and counts what it
    sent. Paths it has a route for are answered by the route; with `upstream`, the rest
    is passed on there (a gateway), the task's links rewritten by `rewrite`."""

    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0, upstream: str = ""):
        super().__init__((host, port), Handler)
        self.upstream = upstream
        self.routes: dict[str, object] = {}
        self.rewrite: dict[str, str] = {}
        self.seen: list[str] = []
        self.sent = 0
        self.stream_limit = 0
        threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def netloc(self) -> str:
        return urlsplit(self.url).netloc

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.answer()

    def do_POST(self):
        self.answer()

    def answer(self):
        self.server.seen.append(self.path)
        route = self.server.routes.get(urlsplit(self.path).path)
        if route is not None:
            route(self)
        elif self.server.upstream:
            self.forward()
        else:
            self.reply(200, SECRET, "text/plain")

    def reply(self, status: int, body: bytes = b"", kind: str = "text/plain", **headers):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        answer = httpx.request(
            self.command,
            self.server.upstream + self.path,
            headers={k: v for k, v in self.headers.items() if k.lower() in ("authorization",)}
            | {"Content-Type": self.headers.get("Content-Type", "application/json")},
            content=self.rfile.read(length) if length else None,
        )
        body = answer.content
        if self.command == "GET" and self.path.endswith("/creations") and answer.is_success:
            data = answer.json()
            for creation in data.get("creations") or []:
                creation.update(self.server.rewrite)
            body = json.dumps(data).encode()
        self.reply(answer.status_code, body, answer.headers.get("content-type", "text/plain"))

    # Routes a hostile gateway or its CDN may answer with.

    def redirect(self):
        target = parse_qs(urlsplit(self.path).query)["to"][0]
        self.reply(302, b"", Location=target)

    def endless(self):
        """A body that never ends (up to `stream_limit`, so a test cannot hang)."""
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            while self.server.sent < self.server.stream_limit:
                self.wfile.write(CHUNK)
                self.server.sent += len(CHUNK)
        except OSError:
            pass  # the client stopped reading

    def page(self):
        self.reply(200, b"<html><script>alert(document.cookie)</script></html>", "image/jpeg")

    def broken(self):
        self.reply(500, b"Internal Server Error")


@pytest.fixture
def sim(settings):
    simulator = Simulator(port=0, api_key="sim-key", seconds=0.05, fps=4, seed=7).start()
    settings.VIDU_API_KEY = "sim-key"
    settings.VIDU_TIMEOUT = 5
    settings.STUDIO_BACKOFF_BASE = 0.01
    settings.STUDIO_PUBLIC_URL = ""
    settings.STUDIO_POLL_SECONDS = 0
    yield simulator
    simulator.stop()


@pytest.fixture
def internal():
    """An address inside the studio's network: it answers anything with a secret."""
    server = Server()
    yield server
    server.stop()


@pytest.fixture
def gateway(sim, settings, internal):
    """The provider as the studio reaches it: a gateway in front of the simulator. The
    worker may fetch from the simulator and the gateway; the internal server is as
    private as the metadata service, and is not listed."""
    server = Server(upstream=sim.base_url)
    server.routes.update(
        {
            "/redirect": Handler.redirect,
            "/endless": Handler.endless,
            "/page.html": Handler.page,
            "/broken": Handler.broken,
        }
    )
    settings.VIDU_BASE_URL = server.url
    settings.STUDIO_FETCH_PRIVATE_HOSTS = [urlsplit(sim.base_url).netloc, server.netloc]
    yield server
    server.stop()


def finished(team, alice, **params) -> Generation:
    generation = make_generation(
        team, alice, params={"duration": 2, "resolution": "540p", **params}
    )
    jobs.submit(str(generation.pk))
    for _ in range(200):
        jobs.reconcile()
        generation.refresh_from_db()
        if generation.state == "success":
            return generation
        time.sleep(0.05)
    raise AssertionError(f"{generation.state}, not success")


def media_files(media_root) -> set[str]:
    """Every file of a copied video in the media directory."""
    root = Path(media_root)
    return {str(p.relative_to(root)) for p in (root / "creations").rglob("*") if p.is_file()}


def stored_files(generation) -> set[str]:
    names = set()
    for creation in Creation.objects.filter(generation=generation):
        names |= {f.name for f in (creation.video, creation.cover, creation.watermarked) if f}
    return names


def assert_a_cover_of_the_studios_own(creation) -> None:
    data = Path(creation.cover.path).read_bytes()
    assert SECRET not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert image.width <= copying.COVER_WIDTH
        image.load()


# Where the links lead.


def test_a_cover_redirected_to_an_internal_address_is_never_fetched(
    gateway, internal, team, alice, media_root
):
    generation = finished(team, alice)
    metadata = f"{internal.url}/latest/meta-data/iam/security-credentials/studio"
    gateway.rewrite = {"cover_url": f"{gateway.url}/redirect?to={metadata}"}
    assert jobs.fetch_result(str(generation.pk)) == "stored"
    assert internal.seen == []
    # The video is kept, with a cover made from its first frame.
    assert_a_cover_of_the_studios_own(generation.creations.get())
    assert media_files(media_root) == stored_files(generation)


def test_a_video_at_an_internal_address_is_refused_and_nothing_is_kept(
    gateway, internal, team, alice, media_root
):
    generation = finished(team, alice)
    gateway.rewrite = {"url": f"{internal.url}/latest/meta-data/video.mp4"}
    assert jobs.fetch_result(str(generation.pk)) == "unavailable"
    generation.refresh_from_db()
    assert "an address the studio does not fetch from" in generation.error_message
    assert internal.seen == []
    assert media_files(media_root) == set()


def test_an_endless_cover_is_cut_off_and_the_video_kept(gateway, team, alice, media_root):
    generation = finished(team, alice)
    gateway.stream_limit = 64_000_000
    gateway.rewrite = {"cover_url": f"{gateway.url}/endless"}
    assert jobs.fetch_result(str(generation.pk)) == "stored"
    # A cover is a few MB at most; what the socket buffers held beyond it is slack.
    assert gateway.sent < 5_000_000 + 16_000_000
    assert_a_cover_of_the_studios_own(generation.creations.get())


def test_an_endless_video_is_cut_off_past_what_its_length_can_weigh(
    gateway, team, alice, media_root, monkeypatch
):
    generation = finished(team, alice)  # 2 seconds long
    monkeypatch.setattr(copying, "FETCH_ATTEMPTS", 1)
    gateway.stream_limit = 250_000_000
    gateway.rewrite = {"url": f"{gateway.url}/endless"}
    assert jobs.fetch_result(str(generation.pk)) == "unavailable"
    generation.refresh_from_db()
    assert "larger than a video of that length can be" in generation.error_message
    # 50 MB and 5 MB a second for 2 s; the slack is what the socket buffers held.
    assert gateway.sent < 60_000_000 + 16_000_000
    assert media_files(media_root) == set()


def test_a_cover_that_is_not_a_picture_is_replaced_by_the_first_frame(
    gateway, team, alice, media_root
):
    generation = finished(team, alice)
    gateway.rewrite = {"cover_url": f"{gateway.url}/page.html"}
    assert jobs.fetch_result(str(generation.pk)) == "stored"
    creation = generation.creations.get()
    assert b"<script>" not in Path(creation.cover.path).read_bytes()
    assert_a_cover_of_the_studios_own(creation)


def test_a_failed_download_logs_the_host_and_path_but_not_the_signed_query(
    gateway, team, alice, caplog, monkeypatch
):
    generation = finished(team, alice)
    monkeypatch.setattr(copying, "FETCH_ATTEMPTS", 1)
    gateway.rewrite = {"url": f"{gateway.url}/broken?e=1767225600&h=5f2b9c0dsignedbytheprovider"}
    with caplog.at_level(logging.INFO, logger="studio.worker.copying"):
        assert jobs.fetch_result(str(generation.pk)) == "unavailable"
    logged = caplog.text
    assert f"{gateway.netloc}/broken" in logged
    assert "5f2b9c0dsignedbytheprovider" not in logged and "e=1767225600" not in logged


# A cover or watermarked copy that cannot be had.


def test_a_cover_that_cannot_be_fetched_keeps_the_video_with_a_cover_of_its_own(
    gateway, team, alice, media_root
):
    generation = finished(team, alice)
    gateway.rewrite = {"cover_url": f"{gateway.url}/broken"}
    assert jobs.fetch_result(str(generation.pk)) == "stored"
    creation = generation.creations.get()
    assert creation.video_size > 0 and creation.duration > 0
    assert_a_cover_of_the_studios_own(creation)
    # Nothing but the stored video and its cover: no file from an attempt given up.
    assert media_files(media_root) == stored_files(generation)


def test_a_watermarked_copy_that_cannot_be_fetched_keeps_the_video_and_says_so(
    gateway, team, alice, media_root
):
    generation = finished(team, alice, watermark=True)
    gateway.rewrite = {"watermarked_url": f"{gateway.url}/broken"}
    assert jobs.fetch_result(str(generation.pk)) == "stored"
    generation.refresh_from_db()
    creation = generation.creations.get()
    assert creation.video and not creation.watermarked
    assert "watermarked copy could not be copied" in generation.error_message
    assert "the video is stored without the watermark" in generation.error_message
    assert "http" not in generation.error_message
    assert media_files(media_root) == stored_files(generation)


def test_a_failed_attempt_leaves_no_file_in_the_media_directory(
    gateway, team, alice, media_root, monkeypatch
):
    generation = finished(team, alice, watermark=True)

    # The database failing as the record is saved, after every file was written: no
    # real failure can be had at that point, so the save is made to fail.
    def locked(self, *args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(Creation, "save", locked)
    with pytest.raises(OperationalError):
        jobs.fetch_result(str(generation.pk))
    assert media_files(media_root) == set()


# The fetcher on its own.


@pytest.fixture
def server():
    started = Server()
    started.routes.update({"/redirect": Handler.redirect, "/broken": Handler.broken})
    yield started
    started.stop()


def fetch(url: str, allowed: list[str], timeout: float = 5) -> httpx.Response:
    with fetching.client(timeout=timeout, allowed=allowed) as http:
        with fetching.get(http, url) as response:
            response.read()
            return response


def test_only_http_and_https_links_are_followed(server):
    for url in ("file:///etc/passwd", "ftp://example.com/video.mp4", "gopher://127.0.0.1/"):
        with pytest.raises(fetching.NotAllowed):
            fetch(url, allowed=[server.netloc])
    with pytest.raises(fetching.NotAllowed):
        fetch(f"{server.url}/redirect?to=file:///etc/passwd", allowed=[server.netloc])


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/video.mp4",
        "http://192.168.1.1/",
        "http://100.64.0.1/",
        "http://0.0.0.0:9/",
        "http://[::1]:9/",
        "http://[::ffff:127.0.0.1]:9/",
        "http://[64:ff9b::a9fe:a9fe]/",  # 169.254.169.254 through NAT64
        "http://[fd00::1]/",
        "http://localhost:9/",
    ],
)
def test_private_addresses_are_refused_before_any_connection(url):
    started = time.monotonic()
    with pytest.raises(fetching.NotAllowed):
        fetch(url, allowed=[], timeout=30)
    assert time.monotonic() - started < 5  # refused, not tried and timed out


def test_a_redirect_to_an_address_not_listed_is_refused(server, internal):
    assert fetch(f"{server.url}/redirect?to=/plain", allowed=[server.netloc]).status_code == 200
    with pytest.raises(fetching.NotAllowed) as refused:
        fetch(f"{server.url}/redirect?to={internal.url}/latest/", allowed=[server.netloc])
    assert internal.seen == []
    assert refused.value.url.startswith(internal.url)
    # Listed by address with its port: only that port.
    other_port = f"127.0.0.1:{server.server_address[1]}"
    with pytest.raises(fetching.NotAllowed):
        fetch(f"{internal.url}/", allowed=[other_port])
    assert fetch(f"{internal.url}/", allowed=["127.0.0.0/8"]).content == SECRET


def test_redirects_are_followed_a_bounded_number_of_times(server):
    server.routes["/loop"] = lambda handler: handler.reply(302, Location="/loop")
    with pytest.raises(fetching.TooManyRedirects):
        fetch(f"{server.url}/loop", allowed=[server.netloc])
    assert server.seen == ["/loop"] * (fetching.MAX_REDIRECTS + 1)


def bound_pair() -> tuple[Server, Server]:
    """Two servers on one port: 127.0.0.2 (listed) and 127.0.0.1 (not)."""
    for _ in range(20):
        listed = Server(host="127.0.0.2")
        try:
            return listed, Server(host="127.0.0.1", port=listed.server_address[1])
        except OSError:
            listed.stop()
    raise AssertionError("no port free on both loopback addresses")


def test_the_address_checked_is_the_address_connected_to(monkeypatch):
    """DNS rebinding: a name answers a listed address first and an internal one after.
    The connection goes to the address that was checked; nothing resolves it again. No
    resolver of our own can be had on loopback, so the name's answers are made here."""
    listed, hidden = bound_pair()
    real = socket.getaddrinfo
    answers = iter(["127.0.0.2"])

    def rebinding(host, port, *args, **kwargs):
        if host == "rebind.test":
            host = next(answers, "127.0.0.1")
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    try:
        port = listed.server_address[1]
        assert fetch(f"http://rebind.test:{port}/cover.jpg", allowed=["127.0.0.2"]).content
        assert listed.seen == ["/cover.jpg"] and hidden.seen == []
        # The next connection is checked again, and refused.
        with pytest.raises(fetching.NotAllowed):
            fetch(f"http://rebind.test:{port}/cover.jpg", allowed=["127.0.0.2"])
        assert hidden.seen == []
    finally:
        listed.stop()
        hidden.stop()


def test_listed_entries_name_hosts_addresses_networks_and_ports():
    entries = fetching.parse_allowed(
        ["127.0.0.1:8765", "[::1]:8765", "::1", "10.0.0.0/8", "minio", "Storage.Local:9000", ""]
    )
    loop4, loop6, ten = map(ipaddress.ip_address, ("127.0.0.1", "::1", "10.9.8.7"))
    metadata, public = map(ipaddress.ip_address, ("169.254.169.254", "93.184.216.34"))
    backend = fetching.CheckedBackend(entries)
    assert backend.permits("127.0.0.1", loop4, 8765)
    assert not backend.permits("127.0.0.1", loop4, 8766)
    assert backend.permits("::1", loop6, 1234)
    assert backend.permits("anything", ten, 80)
    assert backend.permits("minio", ten, 9000) and backend.permits("minio", loop4, 80)
    assert backend.permits("storage.local.", loop4, 9000)
    assert not backend.permits("storage.local", loop4, 80)
    assert not backend.permits("169.254.169.254", metadata, 80)
    assert backend.permits("example.com", public, 443)


def test_a_log_shows_a_link_without_its_query():
    assert (
        fetching.shown("https://cdn.example.com/v/1/video.mp4?Signature=abc&Expires=1#t")
        == "https://cdn.example.com/v/1/video.mp4"
    )
    assert fetching.shown("http://user:pw@[::1]:8080/a?b") == "http://[::1]:8080/a"
