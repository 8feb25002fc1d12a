"""The simulator's gateway dialects (seeds 000 to 003), over real HTTP with plain httpx.

Each simulator speaks one dialect; these tests hold each front to its provider's documented
routes, auth, bodies and answers (../shared/VIDU-API.md, section 3, and the seeds).
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from PIL import Image

from studio import catalog
from studio.simulator import Config, Simulator
from studio.vidu import signatures

KEY = "fronts-key"
ROOT = Path(__file__).resolve().parent.parent


def png_uri(width=64, height=48, color=(200, 40, 40)) -> str:
    image = Image.new("RGB", (width, height), color)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def start(dialect: str, faults: str = "", **kwargs) -> Simulator:
    kwargs.setdefault("seconds", 0.05)
    return Simulator(dialect=dialect, api_key=KEY, fps=8, faults=faults, **kwargs)


def poll(client: httpx.Client, path: str, finished, timeout: float = 15.0, **params) -> dict:
    """GET `path` until `finished(body)`; returns that body."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = client.get(path, params=params or None)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        if finished(body):
            return body
        time.sleep(0.01)
    raise AssertionError(f"{path} never finished; last answer {body}")


def assert_mp4(url: str) -> None:
    video = httpx.get(url)
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp"


@pytest.fixture(scope="module")
def octopusx():
    with start("octopusx") as simulator, http(simulator, f"Bearer {KEY}") as client:
        yield client


@pytest.fixture(scope="module")
def umodelverse():
    with start("umodelverse") as simulator, http(simulator, KEY) as client:
        yield client


@pytest.fixture(scope="module")
def kkiai():
    with start("kkiai") as simulator, http(simulator, f"Bearer {KEY}") as client:
        yield client


@pytest.fixture(scope="module")
def vtrix():
    with start("vtrix") as simulator, http(simulator, f"Bearer {KEY}") as client:
        yield client


def http(simulator: Simulator, authorization: str) -> httpx.Client:
    return httpx.Client(
        base_url=simulator.base_url, headers={"Authorization": authorization}, timeout=10
    )


# choosing a dialect


def test_the_dialect_comes_from_the_argument_then_the_environment():
    assert Config.from_env({}).dialect == "official"
    assert Config.from_env({"VIDU_SIM_DIALECT": "Vtrix"}).dialect == "vtrix"
    assert Config.from_env({"VIDU_SIM_DIALECT": "vtrix"}, dialect="kkiai").dialect == "kkiai"
    with pytest.raises(ValueError, match="Unknown dialect"):
        Simulator(dialect="vidu-classic")


def test_a_gateway_simulator_does_not_answer_the_official_routes():
    with start("octopusx") as simulator:
        answer = httpx.post(
            f"{simulator.base_url}/ent/v2/img2video",
            json={"model": "viduq1", "images": [png_uri()]},
            headers={"Authorization": f"Bearer {KEY}"},
        )
        assert answer.status_code == 404
        assert answer.json()["error"]["type"] == "not_found_error"
        assert httpx.get(f"{simulator.base_url}/_sim/stats").json()["config"]["dialect"] == (
            "octopusx"
        )


def test_the_management_command_speaks_the_dialect_it_is_given():
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "VIDU_SIM_SECONDS": "0.1",
        "VIDU_SIM_API_KEY": KEY,
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "vidu_simulator", "--port", "0", "--dialect", "vtrix"]
        + ["--verbosity", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        match = re.fullmatch(r"Vidu simulator listening on (http://\S+) \(vtrix dialect\)\n", line)
        assert match, (line, process.stderr.read() if process.poll() is not None else "")
        answer = httpx.get(
            match[1] + "/model/v1/generation/task/1", headers={"Authorization": f"Bearer {KEY}"}
        )
        assert answer.status_code == 404  # past Vtrix's auth check: no such task
        assert answer.json()["error"]["code"] == 404
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# Octopusx (seed 000)


def octopusx_body(**overrides) -> dict:
    body = {
        "model": "viduq2-turbo",
        "images": [png_uri()],
        "prompt": "The camera slowly pushes in.",
        "duration": 1,
        "resolution": "540p",
        "payload": "octo-1",
    }
    body.update(overrides)
    return body


def test_octopusx_takes_a_bearer_key_and_refuses_a_token_key(octopusx):
    path = "/vidu/ent/v2/task/123/creations"
    assert octopusx.get(path).status_code == 404  # past the auth check: no such task
    token = octopusx.get(path, headers={"Authorization": f"Token {KEY}"})
    assert token.status_code == 401
    assert token.json()["error"]["type"] == "authentication_error"
    wrong = octopusx.get(path, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_octopusx_creates_a_task_and_answers_task_id_status_and_a_unix_time(octopusx):
    before = int(time.time())
    answer = octopusx.post("/vidu/ent/v2/img2video", json=octopusx_body())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"task_id", "status", "created_at"}
    assert body["status"] == "processing"
    assert isinstance(body["created_at"], int) and before <= body["created_at"] <= time.time()


def test_octopusx_ends_completed_with_a_video_url_and_nothing_else(octopusx):
    created = octopusx.post("/vidu/ent/v2/img2video", json=octopusx_body()).json()
    path = f"/vidu/ent/v2/task/{created['task_id']}/creations"
    first = octopusx.get(path).json()
    assert first["status"] == "processing" and "video_url" not in first
    done = poll(octopusx, path, lambda body: body["status"] != "processing")
    assert set(done) == {"id", "status", "video_url", "status_update_time"}
    assert (done["id"], done["status"]) == (created["task_id"], "completed")
    assert isinstance(done["status_update_time"], int)
    assert done["status_update_time"] >= created["created_at"]
    assert_mp4(done["video_url"])


def test_octopusx_start_end_frames_render_too(octopusx):
    body = octopusx_body(
        images=[png_uri(), png_uri(color=(0, 0, 255))], model="viduq2-pro-fast", resolution="720p"
    )
    created = octopusx.post("/vidu/ent/v2/start-end2video", json=body)
    assert created.status_code == 200, created.text
    path = f"/vidu/ent/v2/task/{created.json()['task_id']}/creations"
    done = poll(octopusx, path, lambda body: body["status"] != "processing")
    assert done["status"] == "completed"


def test_octopusx_task_failed_is_just_failed():
    with start("octopusx", "task_failed=1") as simulator, http(simulator, f"Bearer {KEY}") as c:
        task_id = c.post("/vidu/ent/v2/img2video", json=octopusx_body()).json()["task_id"]
        path = f"/vidu/ent/v2/task/{task_id}/creations"
        done = poll(c, path, lambda body: body["status"] != "processing")
        assert set(done) == {"id", "status", "status_update_time"}
        assert done["status"] == "failed"


def test_octopusx_refuses_a_model_it_does_not_sell_and_bad_values(octopusx):
    turbo = octopusx.post("/vidu/ent/v2/img2video", json=octopusx_body(model="viduq3-turbo"))
    assert turbo.status_code == 400
    assert turbo.json()["error"] == {
        "code": "model_unavailable",
        "message": turbo.json()["error"]["message"],
        "type": "invalid_request_error",
    }
    assert "viduq3-turbo" in turbo.json()["error"]["message"]
    long = octopusx.post("/vidu/ent/v2/img2video", json=octopusx_body(duration=11))
    assert (long.status_code, long.json()["error"]["code"]) == (400, "field_invalid")


def test_octopusx_refuses_callback_url_and_other_unknown_fields(octopusx):
    for extra in ({"callback_url": "https://example.com/cb"}, {"colour": "red"}):
        answer = octopusx.post("/vidu/ent/v2/img2video", json=octopusx_body(**extra))
        assert answer.status_code == 400
        assert answer.json()["error"]["code"] == "field_unwanted"
        assert next(iter(extra)) in answer.json()["error"]["message"]


def test_octopusx_has_no_official_query_list_or_credits(octopusx):
    for path in ("/vidu/ent/v2/tasks/1/creations", "/vidu/ent/v2/tasks", "/vidu/ent/v2/credits"):
        assert octopusx.get(path).status_code == 404


# UModelverse (seed 001)


def umodelverse_body(**parameters) -> dict:
    return {
        "model": "viduq2-pro",
        "input": {"first_frame_url": png_uri(), "prompt": "make it dance."},
        "parameters": {
            "vidu_type": "img2video",
            "duration": 1,
            "resolution": "540p",
            "movement_amplitude": "auto",
            "bgm": True,
        }
        | parameters,
    }


def test_umodelverse_takes_the_bare_key(umodelverse):
    answer = umodelverse.get("/v1/tasks/status", params={"task_id": "123"})
    assert answer.status_code == 404  # past the auth check: no such task
    assert answer.json()["code"] == "TaskNotFound"


def test_umodelverse_refuses_a_bearer_key(umodelverse):
    answer = umodelverse.get(
        "/v1/tasks/status", params={"task_id": "123"}, headers={"Authorization": f"Bearer {KEY}"}
    )
    assert answer.status_code == 401
    body = answer.json()
    assert set(body) == {"code", "message", "request_id"}
    assert "no scheme" in body["message"]
    wrong = umodelverse.get("/v1/tasks/status", headers={"Authorization": "nope"})
    assert wrong.status_code == 401


def test_umodelverse_submit_answers_output_task_id_and_request_id(umodelverse):
    answer = umodelverse.post("/v1/tasks/submit", json=umodelverse_body())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"output", "request_id"}
    assert set(body["output"]) == {"task_id"} and body["output"]["task_id"]
    assert body["request_id"]


def test_umodelverse_goes_pending_then_success_with_urls_times_and_usage(umodelverse):
    before = int(time.time())
    task_id = umodelverse.post("/v1/tasks/submit", json=umodelverse_body(duration=2)).json()[
        "output"
    ]["task_id"]
    seen = []

    def finished(body):
        status = body["output"]["task_status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        return status in ("Success", "Failure")

    done = poll(umodelverse, "/v1/tasks/status", finished, task_id=task_id)
    assert seen[-1] == "Success"
    assert [s for s in ("Pending", "Running", "Success") if s in seen] == seen
    assert set(done) == {"output", "usage", "request_id"}
    output = done["output"]
    assert set(output) == {"task_id", "task_status", "urls", "submit_time", "finish_time"}
    assert output["task_id"] == task_id
    assert before <= output["submit_time"] <= output["finish_time"] <= time.time()
    assert done["usage"] == {"duration": 2}
    assert_mp4(output["urls"][0])


def test_umodelverse_start_end_needs_the_last_frame(umodelverse):
    body = umodelverse_body(vidu_type="start-end2video")
    lacking = umodelverse.post("/v1/tasks/submit", json=body)
    assert lacking.status_code == 400
    assert "last_frame_url" in lacking.json()["message"]
    body["input"]["last_frame_url"] = png_uri(color=(0, 0, 255))
    created = umodelverse.post("/v1/tasks/submit", json=body)
    assert created.status_code == 200, created.text
    task_id = created.json()["output"]["task_id"]
    done = poll(
        umodelverse,
        "/v1/tasks/status",
        lambda b: b["output"]["task_status"] in ("Success", "Failure"),
        task_id=task_id,
    )
    assert done["output"]["task_status"] == "Success"


def test_umodelverse_task_failed_answers_failure_with_an_error_message():
    with start("umodelverse", "task_failed=1") as simulator, http(simulator, KEY) as c:
        task_id = c.post("/v1/tasks/submit", json=umodelverse_body()).json()["output"]["task_id"]
        done = poll(
            c,
            "/v1/tasks/status",
            lambda b: b["output"]["task_status"] in ("Success", "Failure"),
            task_id=task_id,
        )
        output = done["output"]
        assert output["task_status"] == "Failure"
        assert output["error_message"] == "The content policy refused this video."
        assert "urls" not in output and "usage" not in done
        assert output["finish_time"] >= output["submit_time"]


def test_umodelverse_sells_only_q2_pro_and_turbo_within_their_durations(umodelverse):
    q1 = umodelverse.post("/v1/tasks/submit", json=umodelverse_body() | {"model": "viduq1"})
    assert q1.status_code == 400
    assert q1.json()["code"] == "InvalidParameter"
    assert "viduq1" in q1.json()["message"]
    eleven = umodelverse.post("/v1/tasks/submit", json=umodelverse_body(duration=11))
    assert eleven.status_code == 400
    body = umodelverse_body(vidu_type="start-end2video", duration=9)
    body["input"]["last_frame_url"] = png_uri()
    nine = umodelverse.post("/v1/tasks/submit", json=body)
    assert nine.status_code == 400
    assert "9" in nine.json()["message"]


@pytest.mark.parametrize(
    ("where", "extra"),
    [
        ("body", {"images": ["x"]}),
        ("input", {"last_frame": "x"}),
        ("parameters", {"off_peak": False}),
    ],
)
def test_umodelverse_refuses_fields_its_docs_do_not_list(umodelverse, where, extra):
    body = umodelverse_body()
    if where == "body":
        body |= extra
    else:
        body[where] |= extra
    answer = umodelverse.post("/v1/tasks/submit", json=body)
    assert answer.status_code == 400
    assert next(iter(extra)) in answer.json()["message"]


def test_umodelverse_status_needs_a_task_id(umodelverse):
    answer = umodelverse.get("/v1/tasks/status")
    assert answer.status_code == 400
    assert "task_id" in answer.json()["message"]


# KKIAI (seed 002)


def kkiai_body(**overrides) -> dict:
    body = {
        "model": "viduq2",
        "images": [png_uri()],
        "prompt": "The camera slowly pushes in.",
        "duration": 1,
        "resolution": "540p",
        "seed": 12345,
        "movement_amplitude": "auto",
        "bgm": False,
        "audio": False,
        "off_peak": False,
        "watermark": False,
        "payload": "custom-tracking-id-123",
    }
    body.update(overrides)
    return body


def test_kkiai_takes_a_bearer_key_and_refuses_a_token_key(kkiai):
    path = "/ent/v2/tasks/123/creations"
    assert kkiai.get(path).json()["reason"] == "TaskNotFound"
    token = kkiai.get(path, headers={"Authorization": f"Token {KEY}"})
    assert (token.status_code, token.json()["reason"]) == (401, "Unauthorized")


def test_kkiai_answers_the_official_create_body_with_its_own_additions(kkiai):
    body = kkiai_body(model="viduq1", duration=5)
    del body["resolution"]  # viduq1 makes 1080p only, its default
    answer = kkiai.post("/ent/v2/img2video", json=body)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["state"] == "created"
    assert re.fullmatch(r"\d{18}", body["task_id"])
    assert (body["type"], body["model"], body["style"]) == ("img2video", "viduq1", "general")
    assert (body["duration"], body["resolution"], body["seed"]) == (5, "1080p", 12345)
    assert (body["audio"], body["bgm"], body["watermark"]) == (False, False, False)
    assert body["credits"] == catalog.estimate_credits(
        {"model": "viduq1", "duration": 5, "resolution": "1080p"}
    )
    assert body["payload"] == "custom-tracking-id-123"
    assert body["created_at"].endswith("Z")
    assert body["wm_position"] == "unspecified"
    for name in ("aspect_ratio", "cus_priority", "is_rec", "wm_url", "meta_data", "off_peak"):
        assert name in body
    assert body["client_request_id"] == ""


def test_kkiai_takes_flags_and_numbers_as_strings_or_json(kkiai):
    body = kkiai_body(
        seed="77",
        duration="1",
        audio="false",
        is_rec="true",
        watermark="true",
        wm_position="2",
        off_peak="false",
        aspect_ratio="16:9",
        client_request_id="req-9",
    )
    answer = kkiai.post("/ent/v2/img2video", json=body)
    assert answer.status_code == 200, answer.text
    task = answer.json()
    assert (task["seed"], task["duration"], task["is_rec"], task["watermark"]) == (
        77,
        1,
        True,
        True,
    )
    assert (task["wm_position"], task["aspect_ratio"], task["client_request_id"]) == (
        "2",
        "16:9",
        "req-9",
    )
    assert task["credits"] == catalog.estimate_credits(
        {"model": "viduq2", "duration": 1, "resolution": "540p", "is_rec": True}
    )
    wrong = kkiai.post("/ent/v2/img2video", json=kkiai_body(watermark="yes"))
    assert (wrong.status_code, wrong.json()["reason"]) == (400, "FieldInvalid")


def test_kkiai_ends_in_the_official_success_body_with_an_mp4(kkiai):
    task_id = kkiai.post("/ent/v2/img2video", json=kkiai_body()).json()["task_id"]
    path = f"/ent/v2/tasks/{task_id}/creations"
    done = poll(kkiai, path, lambda body: body["state"] in ("success", "failed"))
    assert done["state"] == "success"
    assert {"id", "state", "err_code", "credits", "payload", "creations"} <= set(done)
    assert done["err_code"] == ""
    creation = done["creations"][0]
    assert set(creation) == {"id", "url", "cover_url", "watermarked_url"}
    assert_mp4(creation["url"])


def test_kkiai_task_failed_gives_the_official_err_code():
    with start("kkiai", "task_failed=1") as simulator, http(simulator, f"Bearer {KEY}") as c:
        task_id = c.post("/ent/v2/img2video", json=kkiai_body()).json()["task_id"]
        path = f"/ent/v2/tasks/{task_id}/creations"
        done = poll(c, path, lambda body: body["state"] in ("success", "failed"))
        assert (done["state"], done["err_code"], done["credits"]) == (
            "failed",
            "CreationPolicyViolation",
            0,
        )
        assert done["creations"] == []


def test_kkiai_requires_a_prompt(kkiai):
    missing = kkiai_body()
    del missing["prompt"]
    for body in (missing, kkiai_body(prompt="  ")):
        answer = kkiai.post("/ent/v2/img2video", json=body)
        assert (answer.status_code, answer.json()["reason"]) == (400, "FieldLacking")
    long = kkiai.post("/ent/v2/img2video", json=kkiai_body(prompt="x" * 2001))
    assert (long.status_code, long.json()["reason"]) == (400, "FieldInvalid")


def test_kkiai_sells_its_own_models_per_endpoint(kkiai):
    # its own request example sends viduq2-pro, which its model list does not offer
    pro = kkiai.post("/ent/v2/img2video", json=kkiai_body(model="viduq2-pro"))
    assert (pro.status_code, pro.json()["reason"]) == (400, "ModelUnavailable")
    q2_start_end = kkiai.post(
        "/ent/v2/start-end2video",
        json=kkiai_body(model="viduq2", images=[png_uri(), png_uri()]),
    )
    assert (q2_start_end.status_code, q2_start_end.json()["reason"]) == (400, "ModelUnavailable")
    q1_start_end = kkiai.post(
        "/ent/v2/start-end2video",
        json={"model": "viduq1", "images": [png_uri(), png_uri()], "prompt": "a blend"},
    )
    assert q1_start_end.status_code == 200, q1_start_end.text


def test_kkiai_checks_its_viduq2_by_the_q2_rules_under_its_own_name(kkiai):
    eleven = kkiai.post("/ent/v2/img2video", json=kkiai_body(duration=11))
    assert (eleven.status_code, eleven.json()["reason"]) == (400, "FieldInvalid")
    assert eleven.json()["message"].startswith("viduq2 ")
    ten = kkiai.post("/ent/v2/img2video", json=kkiai_body(duration=10))
    assert ten.status_code == 200, ten.text
    assert ten.json()["model"] == "viduq2"


def test_kkiai_refuses_unknown_fields(kkiai):
    answer = kkiai.post("/ent/v2/img2video", json=kkiai_body(colour="red"))
    assert (answer.status_code, answer.json()["reason"]) == (400, "FieldUnwanted")


def test_kkiai_has_no_list_cancel_or_credits(kkiai):
    assert kkiai.get("/ent/v2/tasks").status_code == 404
    assert kkiai.get("/ent/v2/credits").status_code == 404
    assert kkiai.post("/ent/v2/tasks/1/cancel", json={"id": "1"}).status_code == 404


class Receiver:
    """Records the callbacks POSTed to it."""

    def __init__(self):
        self.calls: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.calls.append({"headers": self.headers, "body": json.loads(body)})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_kkiai_sends_signed_callbacks_like_the_official_api(kkiai):
    receiver = Receiver()
    try:
        body = kkiai_body(callback_url=receiver.url + "/cb?team=3")
        task_id = kkiai.post("/ent/v2/img2video", json=body).json()["task_id"]
        deadline = time.monotonic() + 15
        while len(receiver.calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [call["body"]["state"] for call in receiver.calls] == ["processing", "success"]
        for call in receiver.calls:
            assert call["body"]["id"] == task_id
            signatures.verify(KEY, "POST", "/cb", "team=3", call["headers"])
    finally:
        receiver.close()


# Vtrix (seed 003)


def vtrix_body(**overrides) -> dict:
    body = {
        "model": "viduq1_img2video",
        "images": [png_uri()],
        "prompt": "The camera slowly pushes in.",
        "duration": 5,
        "resolution": "1080p",
        "movement_amplitude": "auto",
        "payload": "vtrix-1",
    }
    body.update(overrides)
    return body


def test_vtrix_takes_a_bearer_key_and_refuses_a_bare_key(vtrix):
    path = "/model/v1/generation/task/123"
    assert vtrix.get(path).status_code == 404  # past the auth check: no such task
    bare = vtrix.get(path, headers={"Authorization": KEY})
    assert bare.status_code == 401
    assert set(bare.json()) == {"error"} and bare.json()["error"]["message"]


def test_vtrix_creates_a_task_and_answers_id_and_pending(vtrix):
    answer = vtrix.post("/model/v1/generation", json=vtrix_body())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"id", "status"}
    assert body["status"] == "pending"


def test_vtrix_ends_completed_with_output_progress_and_a_usd_cost(vtrix):
    task_id = vtrix.post("/model/v1/generation", json=vtrix_body()).json()["id"]
    path = f"/model/v1/generation/task/{task_id}"
    progress = []

    def finished(body):
        progress.append(body["progress"])
        return body["status"] in ("completed", "failed")

    done = poll(vtrix, path, finished, timeout=30)
    assert done["status"] == "completed"
    assert progress == sorted(progress) and progress[-1] == 1
    assert all(0 <= value <= 1 for value in progress)
    assert set(done) == {"id", "model", "status", "progress", "output", "usage", "metadata"}
    assert (done["id"], done["model"], done["metadata"]) == (task_id, "viduq1_img2video", {})
    (content,) = done["output"][0]["content"]
    assert content["type"] == "video"
    assert_mp4(content["url"])
    credits = catalog.estimate_credits({"model": "viduq1", "duration": 5, "resolution": "1080p"})
    assert done["usage"] == {"cost": f"{credits * 0.05:.4f}", "discount": 0}


def test_vtrix_start_end_is_viduq2_pro(vtrix):
    body = vtrix_body(
        model="viduq2_pro_start_end2video",
        images=[png_uri(), png_uri(color=(0, 0, 255))],
        duration=1,
        resolution="540p",
    )
    created = vtrix.post("/model/v1/generation", json=body)
    assert created.status_code == 200, created.text
    path = f"/model/v1/generation/task/{created.json()['id']}"
    done = poll(vtrix, path, lambda b: b["status"] in ("completed", "failed"))
    assert (done["status"], done["model"]) == ("completed", "viduq2_pro_start_end2video")
    nine = vtrix.post("/model/v1/generation", json=body | {"duration": 9})
    assert (nine.status_code, nine.json()["error"]["code"]) == (400, 8008003002)


def test_vtrix_task_failed_answers_error_8008003098_with_a_message():
    with start("vtrix", "task_failed=1") as simulator, http(simulator, f"Bearer {KEY}") as c:
        task_id = c.post("/model/v1/generation", json=vtrix_body()).json()["id"]
        path = f"/model/v1/generation/task/{task_id}"
        done = poll(c, path, lambda b: b["status"] in ("completed", "failed"))
        assert done["status"] == "failed"
        assert done["error"]["code"] == 8008003098
        assert "content policy" in done["error"]["error_message"]
        assert "output" not in done and "usage" not in done


def test_vtrix_answers_its_error_codes(vtrix):
    def code(body):
        answer = vtrix.post("/model/v1/generation", json=body)
        assert 400 <= answer.status_code < 500, answer.text
        assert set(answer.json()) == {"error"} and answer.json()["error"]["message"]
        return answer.json()["error"]["code"]

    no_images = vtrix_body()
    del no_images["images"]
    assert code(no_images) == 8008003001
    assert code(vtrix_body(images=[])) == 8008003001
    assert code(vtrix_body(model="viduq1")) == 8008003002
    assert code(vtrix_body(duration=8)) == 8008003002
    assert code(vtrix_body(resolution="720p")) == 8008003002
    assert code(vtrix_body(images=["aGVsbG8="])) == 8008003004
    assert code(vtrix_body(images=[png_uri(250, 50)])) == 8008003004
    assert code(vtrix_body(style="anime")) == 8008003003


def test_vtrix_refuses_off_peak_as_temporarily_unavailable(vtrix):
    answer = vtrix.post("/model/v1/generation", json=vtrix_body(off_peak=True))
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == 8008003002
    assert "temporarily unavailable" in answer.json()["error"]["message"]
    assert vtrix.post("/model/v1/generation", json=vtrix_body(off_peak=False)).is_success


def test_vtrix_refuses_unknown_fields(vtrix):
    answer = vtrix.post("/model/v1/generation", json=vtrix_body(meta_data="{}"))
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == 8008003002
    assert "meta_data" in answer.json()["error"]["message"]


# faults on every front


GATEWAY_CREATES = {
    "octopusx": ("/vidu/ent/v2/img2video", octopusx_body, f"Bearer {KEY}"),
    "umodelverse": ("/v1/tasks/submit", umodelverse_body, KEY),
    "kkiai": ("/ent/v2/img2video", kkiai_body, f"Bearer {KEY}"),
    "vtrix": ("/model/v1/generation", vtrix_body, f"Bearer {KEY}"),
}


@pytest.mark.parametrize("dialect", GATEWAY_CREATES)
def test_submit_faults_answer_an_error_in_each_dialect(dialect):
    path, body, authorization = GATEWAY_CREATES[dialect]
    for fault, status in (("submit_throttle", 429), ("submit_error", 500)):
        with start(dialect, f"{fault}=1") as simulator, http(simulator, authorization) as c:
            answer = c.post(path, json=body())
            assert answer.status_code == status
            assert answer.json()
            assert simulator.tasks() == []


@pytest.mark.parametrize("dialect", GATEWAY_CREATES)
def test_submit_timeout_makes_the_task_and_never_answers_in_each_dialect(dialect):
    path, body, authorization = GATEWAY_CREATES[dialect]
    with start(dialect, "submit_timeout=1", timeout_hold=0.5) as simulator:
        with pytest.raises(httpx.TransportError):
            httpx.post(
                simulator.base_url + path,
                json=body(),
                headers={"Authorization": authorization},
                timeout=5,
            )
        assert len(simulator.tasks()) == 1


GATEWAY_QUERIES = {
    "octopusx": lambda created: (f"/vidu/ent/v2/task/{created['task_id']}/creations", {}),
    "umodelverse": lambda created: ("/v1/tasks/status", {"task_id": created["output"]["task_id"]}),
    "kkiai": lambda created: (f"/ent/v2/tasks/{created['task_id']}/creations", {}),
    "vtrix": lambda created: (f"/model/v1/generation/task/{created['id']}", {}),
}


@pytest.mark.parametrize("dialect", GATEWAY_CREATES)
def test_query_error_answers_500_in_each_dialect(dialect):
    path, body, authorization = GATEWAY_CREATES[dialect]
    with start(dialect, "query_error=1") as simulator, http(simulator, authorization) as c:
        created = c.post(path, json=body())
        assert created.status_code == 200, created.text
        query_path, params = GATEWAY_QUERIES[dialect](created.json())
        answer = c.get(query_path, params=params)
        assert answer.status_code == 500
        assert answer.json()
