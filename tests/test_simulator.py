"""The local Vidu simulator, over real HTTP on loopback (no database needed)."""

from __future__ import annotations

import base64
import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from array import array
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import av
import httpx
import pytest
from PIL import Image

from studio import catalog
from studio.simulator import Config, FaultSpecError, Simulator, render
from studio.simulator import callbacks as callbacks_module
from studio.simulator.intake import REASONS
from studio.vidu import signatures

KEY = "test-sim-key"
AUTH = {"Authorization": f"Token {KEY}"}
ROOT = Path(__file__).resolve().parent.parent


# helpers


def image_bytes(width=64, height=48, color=(200, 40, 40), kind="PNG") -> bytes:
    image = Image.new("RGB", (width, height), color)
    for x in range(0, width, 8):  # some detail, so the camera move has something to move
        for y in range(height):
            image.putpixel((x, y), (255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, kind)
    return buffer.getvalue()


def data_uri(data: bytes, mime="image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def png_uri(width=64, height=48, color=(200, 40, 40)) -> str:
    return data_uri(image_bytes(width, height, color))


def img2video(**overrides) -> dict:
    body = {"model": "viduq2-turbo", "images": [png_uri()], "duration": 1, "resolution": "540p"}
    body.update(overrides)
    return body


def wait_for(client: httpx.Client, task_id: str, states=("success", "failed"), timeout=15.0):
    """Poll until the task is in one of `states`; returns (last body, states seen in order)."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/ent/v2/tasks/{task_id}/creations").json()
        if not seen or seen[-1] != body["state"]:
            seen.append(body["state"])
        if body["state"] in states:
            return body, seen
        time.sleep(0.01)
    raise AssertionError(f"task {task_id} stuck in {seen[-1] if seen else '?'}")


def wait_until(condition, timeout=10.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError("condition not met in time")


class Receiver:
    """A tiny HTTP server: records callbacks, serves an image, can refuse the first posts."""

    def __init__(self, refuse_first: int = 0):
        self.calls: list[dict] = []
        self.refuse_first = refuse_first
        self.image = image_bytes()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urlsplit(self.path)
                with lock:
                    receiver.calls.append(
                        {
                            "path": parts.path,
                            "query": parts.query,
                            "headers": self.headers,
                            "body": json.loads(body),
                            "at": time.monotonic(),
                        }
                    )
                    refuse = len(receiver.calls) <= receiver.refuse_first
                self.send_response(503 if refuse else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):
                if self.path == "/frame.png":
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    self.send_header("Content-Length", str(len(receiver.image)))
                    self.end_headers()
                    self.wfile.write(receiver.image)
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

        lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def states(self) -> list[str]:
        return [call["body"]["state"] for call in self.calls]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def sim():
    simulator = Simulator(port=0, api_key=KEY, seconds=0.1, fps=8, faults="").start()
    yield simulator
    simulator.stop()


@pytest.fixture
def client(sim):
    with httpx.Client(base_url=sim.base_url, headers=AUTH, timeout=10) as c:
        yield c


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def short_backoff(monkeypatch):
    monkeypatch.setattr(callbacks_module, "RETRY_BACKOFF", (0.05, 0.1, 0.2))


def faulty(faults, **kwargs) -> Simulator:
    kwargs.setdefault("seconds", 0.1)
    return Simulator(port=0, api_key=KEY, fps=8, faults=faults, **kwargs)


# authentication and routing


def test_it_refuses_requests_without_the_key(sim):
    answer = httpx.get(f"{sim.base_url}/ent/v2/credits")
    assert answer.status_code == 401
    assert answer.json()["reason"] == "Unauthorized"
    assert answer.json()["code"] == 401
    assert answer.json()["metadata"]["trace_id"]
    wrong = httpx.get(f"{sim.base_url}/ent/v2/credits", headers={"Authorization": "Token nope"})
    assert wrong.status_code == 401


def test_it_accepts_a_token_and_refuses_a_bearer_key(sim):
    answer = httpx.get(f"{sim.base_url}/ent/v2/credits", headers={"Authorization": f"Token {KEY}"})
    assert answer.status_code == 200
    remain = answer.json()["remains"][0]
    assert remain["type"] == "test"
    assert remain["concurrency_limit"] == 5
    assert answer.json()["packages"] == []
    # The official API documents only "Token"; a Bearer key is a gateway's form.
    bearer = httpx.get(f"{sim.base_url}/ent/v2/credits", headers={"Authorization": f"Bearer {KEY}"})
    assert (bearer.status_code, bearer.json()["reason"]) == (401, "Unauthorized")


def test_it_answers_unknown_paths_tasks_and_methods(client):
    assert client.get("/ent/v2/nothing").json()["reason"] == "NotFound"
    missing = client.get("/ent/v2/tasks/123456789012345678/creations")
    assert (missing.status_code, missing.json()["reason"]) == (404, "TaskNotFound")
    wrong_method = client.get("/ent/v2/img2video")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "POST"


# creating and rendering


def test_img2video_advances_to_success_and_serves_an_h264_mp4(client, tmp_path):
    created = client.post("/ent/v2/img2video", json=img2video(duration=2, payload="first"))
    assert created.status_code == 200, created.text
    body = created.json()
    assert re.fullmatch(r"\d{18}", body["task_id"])
    assert body["state"] == "created"
    assert body["model"] == "viduq2-turbo"
    assert (body["duration"], body["resolution"], body["payload"]) == (2, "540p", "first")
    assert body["credits"] == catalog.estimate_credits(
        {"model": "viduq2-turbo", "duration": 2, "resolution": "540p"}
    )
    assert body["seed"] > 0
    assert body["created_at"].endswith("Z")
    assert len(body["images"][0]) < 100  # a placeholder, not the base64

    done, seen = wait_for(client, body["task_id"])
    assert done["state"] == "success"
    assert seen[-2:] == ["processing", "success"] or seen == ["success"]
    assert [s for s in ("created", "queueing", "processing", "success") if s in seen] == seen
    assert done["err_code"] == ""
    assert done["credits"] == body["credits"]
    creation = done["creations"][0]
    assert creation["url"].startswith(client.base_url.scheme + "://")

    video = httpx.get(creation["url"])
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    assert int(video.headers["content-length"]) == len(video.content)
    assert video.content.find(b"moov") < video.content.find(b"mdat")  # faststart
    path = tmp_path / "video.mp4"
    path.write_bytes(video.content)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert stream.codec_context.height == 540
        assert stream.codec_context.width == 720  # 64:48 is 4:3
        assert abs(container.duration / 1_000_000 - 2) <= 0.1

    cover = httpx.get(creation["cover_url"])
    assert cover.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(cover.content)).size == (720, 540)
    assert httpx.get(creation["watermarked_url"]).status_code == 200

    part = httpx.get(creation["url"], headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(video.content)}"
    assert part.content == video.content[100:200]
    tail = httpx.get(creation["url"], headers={"Range": "bytes=-10"})
    assert tail.content == video.content[-10:]
    beyond = httpx.get(creation["url"], headers={"Range": f"bytes={len(video.content)}-"})
    assert beyond.status_code == 416


def test_start_end2video_renders_a_blend(client, tmp_path):
    start, end = png_uri(color=(255, 0, 0)), png_uri(color=(0, 0, 255))
    created = client.post(
        "/ent/v2/start-end2video",
        json={"model": "vidu2.0", "images": [start, end], "duration": 4, "resolution": "360p"},
    )
    assert created.status_code == 200, created.text
    done, _ = wait_for(client, created.json()["task_id"])
    assert done["state"] == "success"
    path = tmp_path / "blend.mp4"
    path.write_bytes(httpx.get(done["creations"][0]["url"]).content)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.height == 360
        assert abs(container.duration / 1_000_000 - 4) <= 0.1
        frames = [frame.to_image() for frame in container.decode(stream)]
    assert len(frames) == 4 * 8
    first, last = frames[0].getpixel((34, 30)), frames[-1].getpixel((34, 30))  # not a stripe
    assert first[0] > 200 and first[2] < 60  # red
    assert last[2] > 200 and last[0] < 60  # blue


def test_it_fetches_images_by_url(client, receiver):
    created = client.post("/ent/v2/img2video", json=img2video(images=[receiver.url + "/frame.png"]))
    assert created.status_code == 200, created.text
    assert created.json()["images"] == [receiver.url + "/frame.png"]
    failed = client.post("/ent/v2/img2video", json=img2video(images=[receiver.url + "/gone.png"]))
    assert (failed.status_code, failed.json()["reason"]) == (400, "ImageDownloadFailure")


def test_it_serves_many_requests_at_once(sim):
    def submit(number):
        with httpx.Client(base_url=sim.base_url, headers=AUTH, timeout=20) as c:
            return c.post("/ent/v2/img2video", json=img2video(payload=f"burst-{number}"))

    results: list = [None] * 20
    threads = [
        threading.Thread(target=lambda n=n: results.__setitem__(n, submit(n))) for n in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answer.status_code == 200 for answer in results)
    payloads = {task["payload"] for task in sim.tasks()}
    assert {f"burst-{n}" for n in range(20)} <= payloads
    assert len({answer.json()["task_id"] for answer in results}) == 20


def test_the_render_applies_exif_orientation(tmp_path):
    picture = Image.new("RGB", (80, 40), (0, 200, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned a quarter: 40 wide, 80 high
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", exif=exif)
    result = render.render(
        [buffer.getvalue()], duration=1, resolution="360p", fps=4, out_dir=tmp_path
    )
    # Upright it is portrait, 1:2: Vidu's nearest shape is 9:16, 360 pixels across.
    assert (result.width, result.height, result.frames) == (360, 640, 4)
    assert Image.open(result.cover).size == (360, 640)


@pytest.mark.parametrize(
    "source, resolution, frame",
    [
        ((720, 1280), "720p", (720, 1280)),  # portrait keeps its 720 across
        ((1280, 720), "720p", (1280, 720)),
        ((1024, 768), "720p", (960, 720)),  # 4:3
        ((768, 1024), "1080p", (1080, 1440)),  # 3:4
        ((800, 800), "540p", (540, 540)),
        ((1000, 800), "720p", (960, 720)),  # 5:4 is nearest 4:3
        ((2400, 1000), "1080p", (1920, 1080)),  # 12:5 is nearest 16:9
        ((300, 1200), "360p", (360, 640)),  # 1:4 is nearest 9:16
    ],
)
def test_the_frame_follows_vidus_sizes_for_the_resolution_and_shape(source, resolution, frame):
    assert render.output_size(source, resolution) == frame


def test_a_portrait_picture_makes_a_portrait_video_with_a_sound_track(tmp_path):
    picture = io.BytesIO()
    Image.new("RGB", (720, 1280), (30, 90, 160)).save(picture, "PNG")
    result = render.render(
        [picture.getvalue()], duration=1, resolution="720p", fps=4, out_dir=tmp_path, sound=True
    )
    with av.open(str(result.video)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert (video.codec_context.width, video.codec_context.height) == (720, 1280)
        assert audio.codec_context.name == "aac"
        heard = array("f")
        for frame in container.decode(audio):  # AAC decodes to planar floats
            heard.frombytes(bytes(frame.planes[0])[: frame.samples * 4])
    loudest = max(abs(sample) for sample in heard)
    assert 0.05 < loudest < 0.5  # a real tone, not silence and not clipping


def test_a_silent_video_has_no_sound_track(tmp_path):
    picture = io.BytesIO()
    Image.new("RGB", (640, 360)).save(picture, "PNG")
    result = render.render(
        [picture.getvalue()], duration=1, resolution="360p", fps=4, out_dir=tmp_path
    )
    with av.open(str(result.video)) as container:
        assert len(container.streams.audio) == 0


# validation


def test_bad_parameters_answer_with_the_catalogs_reason(client):
    body = img2video(model="viduq1", duration=8, resolution="1080p")
    expected = catalog.check_parameters("img2video", body).problems[0]
    answer = client.post("/ent/v2/img2video", json=body)
    assert answer.status_code == 400
    assert (answer.json()["reason"], answer.json()["message"]) == (
        REASONS[expected.kind],
        expected.message,
    )
    unknown_model = client.post("/ent/v2/img2video", json=img2video(model="vidu9"))
    assert unknown_model.json()["reason"] == "ModelUnavailable"


def test_it_refuses_malformed_bodies(client):
    def reason(path, body=None, content=None):
        answer = (
            client.post(path, json=body) if content is None else client.post(path, content=content)
        )
        assert answer.status_code == 400, answer.text
        return answer.json()["reason"]

    assert reason("/ent/v2/img2video", content=b"{not json") == "BadRequest"
    assert reason("/ent/v2/img2video", img2video(colour="red")) == "FieldUnwanted"
    assert reason("/ent/v2/img2video", {"images": [png_uri()]}) == "FieldLacking"
    two = img2video(images=[png_uri(), png_uri()])
    assert reason("/ent/v2/img2video", two) == "FieldItemCountOutOfRange"
    one = {"model": "viduq2-turbo", "images": [png_uri()]}
    assert reason("/ent/v2/start-end2video", one) == "FieldItemCountOutOfRange"
    gif = data_uri(image_bytes(kind="GIF"), "image/gif")
    assert reason("/ent/v2/img2video", img2video(images=[gif])) == "ImageFormatInvalid"
    assert reason("/ent/v2/img2video", img2video(images=["aGVsbG8="])) == "FieldInvalid"


def test_it_refuses_an_aspect_ratio_of_5_to_1(client):
    answer = client.post("/ent/v2/img2video", json=img2video(images=[png_uri(250, 50)]))
    assert answer.status_code == 400
    assert answer.json()["reason"] == "FieldInvalid"
    assert answer.json()["message"] == catalog.image_ratio_problem(250, 50)


def test_it_refuses_start_and_end_frames_of_different_shapes(client):
    body = {"model": "viduq2-turbo", "images": [png_uri(64, 48), png_uri(48, 64)]}
    answer = client.post("/ent/v2/start-end2video", json=body)
    assert answer.json()["reason"] == "FieldInvalid"
    assert answer.json()["message"] == catalog.start_end_ratio_problem((64, 48), (48, 64))


def test_it_refuses_a_body_over_20_mb(client):
    answer = client.post("/ent/v2/img2video", content=b" " * (catalog.REQUEST_BODY_MAX_BYTES + 1))
    assert (answer.status_code, answer.json()["reason"]) == (400, "BadRequest")


# listing, cancelling, concurrency


def test_list_tasks_pages_through_every_task(sim, client):
    for number in range(5):
        assert client.post("/ent/v2/img2video", json=img2video(payload=f"list-{number}")).is_success
    expected = [task["id"] for task in sim.tasks()]  # newest first
    collected, token, pages = [], "", 0
    while True:
        params = {"pager.pagesz": 2} | ({"page_token": token} if token else {})
        page = client.get("/ent/v2/tasks", params=params).json()
        assert len(page["tasks"]) <= 2
        collected += [task["id"] for task in page["tasks"]]
        pages += 1
        token = page["next_page_token"]
        if not token:
            break
    assert collected == expected
    assert pages == (len(expected) + 1) // 2
    listed = client.get("/ent/v2/tasks", params={"pager.pagesz": 100}).json()["tasks"][0]
    assert {
        "id",
        "state",
        "model",
        "payload",
        "credits",
        "created_at",
        "err_code",
        "creations",
    } <= set(listed)

    chosen = expected[:2]
    by_id = client.get("/ent/v2/tasks", params={"task_ids": ",".join(chosen)}).json()
    assert sorted(task["id"] for task in by_id["tasks"]) == sorted(chosen)
    both = [("task_ids", chosen[0]), ("task_ids", chosen[1])]
    repeated = client.get("/ent/v2/tasks", params=both)
    assert len(repeated.json()["tasks"]) == 2
    future = client.get("/ent/v2/tasks", params={"created_at.from": "2999-01-01T00:00:00Z"})
    assert future.json()["tasks"] == []


def test_page_size_101_is_refused(client):
    answer = client.get("/ent/v2/tasks", params={"pager.pagesz": 101})
    assert (answer.status_code, answer.json()["reason"]) == (400, "PageSizeOutOfRange")


def test_an_off_peak_task_can_be_cancelled_while_queued(client):
    created = client.post("/ent/v2/img2video", json=img2video(off_peak=True)).json()
    assert created["off_peak"] is True
    task_id = created["task_id"]
    answer = client.post(f"/ent/v2/tasks/{task_id}/cancel", json={"id": task_id})
    assert (answer.status_code, answer.json()) == (200, {})
    done = client.get(f"/ent/v2/tasks/{task_id}/creations").json()
    assert (done["state"], done["err_code"], done["credits"]) == ("failed", "UserCancelled", 0)


def test_a_processing_task_cannot_be_cancelled(client):
    task_id = client.post("/ent/v2/img2video", json=img2video(off_peak=True)).json()["task_id"]
    wait_for(client, task_id, states=("processing", "success"))
    answer = client.post(f"/ent/v2/tasks/{task_id}/cancel", json={"id": task_id})
    assert (answer.status_code, answer.json()["reason"]) == (400, "OperationInProcess")
    assert wait_for(client, task_id)[0]["state"] == "success"


def test_a_task_that_is_not_off_peak_cannot_be_cancelled(client):
    task_id = client.post("/ent/v2/img2video", json=img2video()).json()["task_id"]
    answer = client.post(f"/ent/v2/tasks/{task_id}/cancel", json={"id": task_id})
    assert answer.json()["reason"] == "OperationInProcess"
    assert "off-peak" in answer.json()["message"]
    missing = client.post("/ent/v2/tasks/1/cancel", json={"id": "1"})
    assert missing.json()["reason"] == "TaskNotFound"


def test_at_most_concurrency_tasks_process_at_once():
    with Simulator(port=0, api_key=KEY, seconds=0.05, fps=8, concurrency=1) as simulator:
        with httpx.Client(base_url=simulator.base_url, headers=AUTH) as c:
            ids = [c.post("/ent/v2/img2video", json=img2video()).json()["task_id"] for _ in "abc"]
            most = 0
            while not all(task["state"] == "success" for task in simulator.tasks()):
                most = max(most, sum(t["state"] == "processing" for t in simulator.tasks()))
                time.sleep(0.005)
            assert most == 1
            assert len(ids) == 3


# callbacks


def test_callbacks_are_signed_and_follow_the_states(client, receiver):
    url = receiver.url + "/vidu/callback?team=7"
    task_id = client.post("/ent/v2/img2video", json=img2video(callback_url=url)).json()["task_id"]
    wait_for(client, task_id)
    wait_until(lambda: len(receiver.calls) >= 2)
    assert receiver.states() == ["processing", "success"]
    nonces = set()
    for call in receiver.calls:
        assert call["path"] == "/vidu/callback" and call["query"] == "team=7"
        assert call["headers"]["Content-Type"] == "application/json"
        nonces.add(signatures.verify(KEY, "POST", call["path"], call["query"], call["headers"]))
        assert call["body"]["id"] == task_id
    assert len(nonces) == 2
    assert receiver.calls[-1]["body"]["creations"][0]["url"]
    with pytest.raises(signatures.BadSignature):
        call = receiver.calls[0]
        signatures.verify("other-key", "POST", call["path"], call["query"], call["headers"])


def test_a_refused_success_callback_is_retried(client, short_backoff):
    refusing = Receiver(refuse_first=2)  # the processing callback and the first success
    try:
        body = img2video(callback_url=refusing.url + "/cb")
        task_id = client.post("/ent/v2/img2video", json=body).json()["task_id"]
        wait_for(client, task_id)
        wait_until(lambda: len(refusing.calls) >= 3)
        time.sleep(0.3)
        assert refusing.states() == ["processing", "success", "success"]
    finally:
        refusing.close()


# faults


def test_unknown_faults_are_refused():
    with pytest.raises(FaultSpecError):
        Simulator(port=0, faults="submit_eror=0.5")
    with pytest.raises(FaultSpecError):
        Simulator(port=0, faults="submit_error=2")


def test_config_comes_from_the_environment():
    config = Config.from_env(
        {"VIDU_SIM_SECONDS": "0.5", "VIDU_SIM_FAULTS": "query_error=0.25", "VIDU_SIM_FPS": "12"},
        fps=30,
    )
    assert (config.seconds, config.fps, config.faults) == (0.5, 30, {"query_error": 0.25})
    assert (config.api_key, config.concurrency, config.url_ttl) == ("sim-key", 5, 86400)


@pytest.mark.parametrize(
    ("fault", "status", "reason"),
    [("submit_error", 500, "InternalServiceFailure"), ("submit_throttle", 429, "QuotaExceeded")],
)
def test_submit_faults_answer_an_error_and_make_no_task(fault, status, reason):
    with faulty(f"{fault}=1") as simulator:
        answer = httpx.post(
            f"{simulator.base_url}/ent/v2/img2video", json=img2video(), headers=AUTH
        )
        assert (answer.status_code, answer.json()["reason"]) == (status, reason)
        assert simulator.tasks() == []
        assert simulator.stats()["faults"][fault] == 1


def test_submit_timeout_makes_and_charges_the_task_but_never_answers():
    with faulty("submit_timeout=1", timeout_hold=1) as simulator:
        started = time.monotonic()
        with pytest.raises(httpx.TransportError):
            httpx.post(
                f"{simulator.base_url}/ent/v2/img2video",
                json=img2video(payload="lost-answer"),
                headers=AUTH,
                timeout=5,
            )
        assert 0.9 <= time.monotonic() - started < 5
        listed = httpx.get(f"{simulator.base_url}/ent/v2/tasks", headers=AUTH).json()["tasks"]
        assert [task["payload"] for task in listed] == ["lost-answer"]
        assert listed[0]["credits"] == catalog.estimate_credits(
            {"model": "viduq2-turbo", "duration": 1, "resolution": "540p"}
        )
        stats = httpx.get(f"{simulator.base_url}/_sim/stats").json()
        assert stats["faults"]["submit_timeout"] == 1 and stats["tasks"] == 1


def test_query_error_answers_500():
    with (
        faulty("query_error=1") as simulator,
        httpx.Client(base_url=simulator.base_url, headers=AUTH) as c,
    ):
        task_id = c.post("/ent/v2/img2video", json=img2video()).json()["task_id"]
        answer = c.get(f"/ent/v2/tasks/{task_id}/creations")
        assert (answer.status_code, answer.json()["reason"]) == (500, "InternalServiceFailure")


def test_task_failed_ends_failed_with_credits_refunded():
    with (
        faulty("task_failed=1") as simulator,
        httpx.Client(base_url=simulator.base_url, headers=AUTH) as c,
    ):
        task_id = c.post("/ent/v2/img2video", json=img2video()).json()["task_id"]
        done, _ = wait_for(c, task_id)
        assert (done["state"], done["err_code"], done["credits"]) == (
            "failed",
            "CreationPolicyViolation",
            0,
        )
        assert done["creations"] == []


def test_result_expired_refuses_a_url_fetched_before_and_a_fresh_query_works():
    with (
        faulty("result_expired=1") as simulator,
        httpx.Client(base_url=simulator.base_url, headers=AUTH) as c,
    ):
        task_id = c.post("/ent/v2/img2video", json=img2video()).json()["task_id"]
        done, _ = wait_for(c, task_id)
        url = done["creations"][0]["url"]
        assert httpx.get(url).status_code == 200
        assert httpx.get(url).status_code == 403
        fresh = c.get(f"/ent/v2/tasks/{task_id}/creations").json()["creations"][0]["url"]
        assert fresh != url
        assert httpx.get(fresh).status_code == 200


def test_result_urls_expire_and_check_their_signature():
    with (
        faulty("", url_ttl=1) as simulator,
        httpx.Client(base_url=simulator.base_url, headers=AUTH) as c,
    ):
        task_id = c.post("/ent/v2/img2video", json=img2video()).json()["task_id"]
        url = wait_for(c, task_id)[0]["creations"][0]["url"]
        parts = urlsplit(url)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        forged = urlunsplit(parts._replace(query=urlencode(query | {"sig": "0" * 32})))
        assert httpx.get(forged).status_code == 403
        assert httpx.get(url).status_code == 200
        time.sleep(max(0.0, int(query["expires"]) - time.time()) + 0.05)
        expired = httpx.get(url)
        assert (expired.status_code, expired.json()["reason"]) == (403, "Forbidden")


def test_callback_drop_loses_every_attempt(receiver, short_backoff):
    with (
        faulty("callback_drop=1") as simulator,
        httpx.Client(base_url=simulator.base_url, headers=AUTH) as c,
    ):
        body = img2video(callback_url=receiver.url + "/cb")
        wait_for(c, c.post("/ent/v2/img2video", json=body).json()["task_id"])
        # processing: one attempt; success: one attempt and three retries
        wait_until(lambda: simulator.stats()["callbacks"]["gave_up"] == 2)
        assert simulator.stats()["faults"]["callback_drop"] == 5
        assert receiver.calls == []


def test_callback_duplicate_sends_each_callback_twice(receiver):
    with (
        faulty("callback_duplicate=1") as simulator,
        httpx.Client(base_url=simulator.base_url, headers=AUTH) as c,
    ):
        body = img2video(callback_url=receiver.url + "/cb")
        wait_for(c, c.post("/ent/v2/img2video", json=body).json()["task_id"])
        wait_until(lambda: len(receiver.calls) >= 4)
        assert sorted(receiver.states()) == ["processing", "processing", "success", "success"]
        for call in receiver.calls:
            signatures.verify(KEY, "POST", call["path"], call["query"], call["headers"])


def reordering_seed() -> int:
    """A seed whose first hold-back is much longer than the second, so callbacks swap.

    With only callback_reorder set, the fault generator draws, per callback: the decision,
    then the delay (uniform 1-2 s).
    """
    for seed in range(1000):
        rng = random.Random(seed)
        rng.random()
        first = rng.uniform(1, 2)
        rng.random()
        if first - rng.uniform(1, 2) > 0.7:
            return seed
    raise AssertionError("no seed found")


def test_callback_reorder_lets_a_later_state_arrive_first(receiver):
    with (
        faulty("callback_reorder=1", seed=reordering_seed()) as simulator,
        httpx.Client(base_url=simulator.base_url, headers=AUTH) as c,
    ):
        body = img2video(callback_url=receiver.url + "/cb")
        started = time.monotonic()
        wait_for(c, c.post("/ent/v2/img2video", json=body).json()["task_id"])
        wait_until(lambda: len(receiver.calls) >= 2)
        assert receiver.states() == ["success", "processing"]
        assert all(call["at"] - started >= 1 for call in receiver.calls)
        assert simulator.stats()["faults"]["callback_reorder"] == 2


# the management command


def test_the_management_command_serves_until_sigterm():
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "studio.settings", "VIDU_SIM_SECONDS": "0.1"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "vidu_simulator", "--port", "0", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        match = re.fullmatch(
            r"Vidu simulator listening on (http://127\.0\.0\.1:\d+) \(official dialect\)\n", line
        )
        assert match, (line, process.stderr.read() if process.poll() is not None else "")
        assert httpx.get(match[1] + "/_sim/stats").json()["tasks"] == 0
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
