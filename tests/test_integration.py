"""One generation end to end over real HTTP: the form, a real django-q2 worker process,
the simulator process, its signed callbacks (or the reconciler's polls), the copy of the
video into our storage, and the video itself probed with PyAV."""

import time

import av
import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from studio.models import Generation
from studio.worker import jobs
from tests.conftest import png

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_until_stored(generation_id, timeout=90, tick=None) -> Generation:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if tick:
            tick()
        generation = Generation.objects.get(pk=generation_id)
        if generation.state == "failed" or generation.result_status in ("stored", "unavailable"):
            return generation
        time.sleep(0.25)
    raise AssertionError(f"still {generation.state}/{generation.result_status} after {timeout} s")


def submit(client, user, **fields) -> Generation:
    client.force_login(user)
    data = {
        "model": "viduq2-turbo",
        "prompt": "the camera drifts over the bay",
        "duration": "3",
        "resolution": "540p",
        "images": SimpleUploadedFile("bay.png", png(640, 360), "image/png"),
    }
    data.update(fields)
    response = client.post(reverse("generate", args=["img2video"]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Generation.objects.latest("created_at")


def assert_video(generation: Generation, duration: float, height: int) -> None:
    creation = generation.creations.get()
    assert (creation.codec, creation.height) == ("h264", height)
    assert creation.duration == pytest.approx(duration, abs=0.1)
    with av.open(creation.video.path) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert float(stream.duration * stream.time_base) == pytest.approx(duration, abs=0.1)
        assert stream.codec_context.height == height
    assert creation.cover.size > 0


def test_a_generation_ends_with_a_stored_video_through_callbacks(
    live_server, start_simulator, start_worker, alice, client, media_root
):
    simulator = start_simulator(seconds=0.3)
    start_worker(simulator, public_url=live_server.url)
    generation = wait_until_stored(submit(client, alice).pk)

    assert generation.state == "success", generation.error_message
    assert generation.result_status == "stored"
    assert generation.credits == 3 and generation.provider_task_id
    assert_video(generation, duration=3, height=540)
    states = list(generation.events.values_list("state", "source"))
    assert states[:3] == [("queued", "form"), ("submitting", "submit"), ("created", "submit")]
    assert ("success", "callback") in states
    # The simulator charged this generation's payload exactly once.
    tasks = httpx.get(
        f"{simulator}/ent/v2/tasks",
        params={"pager.pagesz": 100},
        headers={"Authorization": "Token sim-key"},
    ).json()["tasks"]
    assert [t["payload"] for t in tasks] == [str(generation.pk)]


def test_without_callbacks_the_reconciler_polls_until_done(
    live_server, start_simulator, start_worker, alice, client, media_root, settings
):
    simulator = start_simulator(seconds=0.2)
    start_worker(simulator, public_url=None, STUDIO_POLL_SECONDS=0)  # no callbacks
    settings.VIDU_BASE_URL = simulator
    settings.STUDIO_POLL_SECONDS = 0
    generation = submit(client, alice, model="viduq1", duration="5", resolution="1080p")
    generation = wait_until_stored(generation.pk, tick=jobs.reconcile)

    assert generation.state == "success", generation.error_message
    assert_video(generation, duration=5, height=1080)
    sources = set(generation.events.values_list("source", flat=True))
    assert "poll" in sources and "callback" not in sources


def test_start_and_end_frames_make_a_blend(
    live_server, start_simulator, start_worker, alice, client, media_root
):
    simulator = start_simulator(seconds=0.2)
    start_worker(simulator, public_url=live_server.url)
    client.force_login(alice)
    response = client.post(
        reverse("generate", args=["start-end2video"]),
        {
            "model": "vidu2.0",
            "duration": "4",
            "start_image": SimpleUploadedFile("a.png", png(480, 360, (250, 20, 20)), "image/png"),
            "end_image": SimpleUploadedFile("b.png", png(480, 360, (20, 20, 250)), "image/png"),
        },
    )
    assert response.status_code == 302
    generation = wait_until_stored(Generation.objects.get().pk)
    assert generation.state == "success", generation.error_message
    assert_video(generation, duration=4, height=360)


def test_a_refusal_reaches_the_user_in_plain_words(
    live_server, start_simulator, start_worker, alice, client, media_root
):
    simulator = start_simulator(seconds=0.2, faults="task_failed=1")
    start_worker(simulator, public_url=live_server.url)
    generation = wait_until_stored(submit(client, alice).pk)
    assert generation.state == "failed"
    assert generation.error_reason
    page = client.get(reverse("generation", args=[generation.pk])).content.decode()
    assert "Vidu could not make this video." in page
    assert generation.error_message in page
