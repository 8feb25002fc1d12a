"""The simulator started again on the same storage directory goes on where it stopped: its
tasks are there, those in flight finish, and the video links it gave out still work."""

from __future__ import annotations

import base64
import io
import signal
import sys
import time

import av
import httpx
import pytest
from PIL import Image

from studio.simulator import Simulator
from tests.conftest import Process, child_env, free_port

KEY = "persist-key"
AUTH = {"Authorization": f"Token {KEY}"}


def png_uri(width=96, height=64) -> str:
    image = Image.new("RGB", (width, height), (30, 90, 160))
    for x in range(0, width, 8):
        for y in range(height):
            image.putpixel((x, y), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def create(base: str, payload: str) -> str:
    body = {
        "model": "viduq2-turbo",
        "images": [png_uri()],
        "duration": 1,
        "resolution": "540p",
        "payload": payload,
    }
    answer = httpx.post(f"{base}/ent/v2/img2video", json=body, headers=AUTH, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["task_id"]


def query(base: str, task_id: str) -> httpx.Response:
    return httpx.get(f"{base}/ent/v2/tasks/{task_id}/creations", headers=AUTH, timeout=10)


def wait_for_state(base: str, task_id: str, *states: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = query(base, task_id).json()
        if body.get("state") in states:
            return body
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} never reached {states}: {body}")


def assert_playable(data: bytes) -> None:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.height == 540
        assert sum(1 for _ in container.decode(stream)) > 0


def start_process(port: int, storage, tmp_path, name: str, seconds: float) -> Process:
    process = Process(
        name,
        [sys.executable, "manage.py", "vidu_simulator", "--port", str(port)]
        + ["--storage-dir", str(storage)],
        child_env(VIDU_SIM_SECONDS=seconds, VIDU_SIM_FPS=4, VIDU_SIM_API_KEY=KEY),
        tmp_path,
    )
    process.wait_for(r"listening on http://")
    return process


@pytest.mark.integration
@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_a_restarted_simulator_keeps_its_tasks_and_videos(tmp_path, how):
    port, storage = free_port(), tmp_path / "simulator"
    base = f"http://127.0.0.1:{port}"
    first = start_process(port, storage, tmp_path, "simulator-before", seconds=0.6)
    done = create(base, "finished before the restart")
    finished = wait_for_state(base, done, "success")
    old_link = finished["creations"][0]["url"]
    old_cover = finished["creations"][0]["cover_url"]
    video_before = httpx.get(old_link, timeout=10).content
    in_flight = create(base, "in flight at the restart")
    assert query(base, in_flight).json()["state"] in ("created", "queueing")

    if how == "SIGTERM":
        first.popen.send_signal(signal.SIGTERM)
        assert first.popen.wait(15) == 0
    else:
        first.kill()
    first.stop()
    with pytest.raises(httpx.ConnectError):
        query(base, done)

    second = start_process(port, storage, tmp_path, "simulator-after", seconds=0.6)
    try:
        # The finished task is there, charged as before, and the link it gave still works.
        again = query(base, done)
        assert again.status_code == 200, again.text
        assert again.json()["state"] == "success" and again.json()["credits"] == finished["credits"]
        assert httpx.get(old_link, timeout=10).content == video_before
        assert httpx.get(old_cover, timeout=10).headers["content-type"] == "image/jpeg"
        assert_playable(video_before)

        # The one in flight carries on from where it was and ends with its video.
        ended = wait_for_state(base, in_flight, "success", "failed")
        assert ended["state"] == "success", ended
        assert_playable(httpx.get(ended["creations"][0]["url"], timeout=10).content)

        # Both are in the task list, each once, with its payload: nothing made twice.
        listed = httpx.get(
            f"{base}/ent/v2/tasks", params={"pager.pagesz": 100}, headers=AUTH, timeout=10
        ).json()["tasks"]
        assert sorted(t["payload"] for t in listed) == [
            "finished before the restart",
            "in flight at the restart",
        ]
        # A new task gets a place after the old ones.
        newest = create(base, "after the restart")
        listed = httpx.get(
            f"{base}/ent/v2/tasks", params={"pager.pagesz": 1}, headers=AUTH, timeout=10
        ).json()["tasks"]
        assert [t["id"] for t in listed] == [newest]
    finally:
        second.stop()


def test_a_task_processing_at_the_stop_is_rendered_again(tmp_path):
    storage = tmp_path / "simulator"
    sim = Simulator(port=0, api_key=KEY, seconds=0.3, fps=4, storage_dir=storage).start()
    try:
        task_id = create(sim.base_url, "cut short")
        wait_for_state(sim.base_url, task_id, "processing")
    finally:
        sim.stop()  # before its render can have been taken as done
    assert sim.task(task_id).state == "processing"

    with Simulator(port=0, api_key=KEY, seconds=0.3, fps=4, storage_dir=storage) as again:
        body = wait_for_state(again.base_url, task_id, "success", "failed")
        assert body["state"] == "success", body
        assert_playable(httpx.get(body["creations"][0]["url"], timeout=10).content)
        # Its images are kept only while it needs them.
        assert not (storage / task_id / "inputs").exists()


def test_without_a_storage_directory_it_forgets_everything(tmp_path):
    sim = Simulator(port=0, api_key=KEY, seconds=0.05, fps=4).start()
    try:
        task_id = create(sim.base_url, "forgotten")
        wait_for_state(sim.base_url, task_id, "success")
        storage = sim.storage
    finally:
        sim.stop()
    assert not storage.exists()
    with Simulator(port=0, api_key=KEY, seconds=0.05, fps=4) as fresh:
        assert query(fresh.base_url, task_id).status_code == 404
