"""Every provider dialect end to end over real HTTP, without callbacks: the simulator
speaking that provider's API, the form, the worker, the polls, the copy with a cover.

The first test runs real processes (the simulator and a django-q2 worker); the others
run the simulator in this process, on loopback, to steer its faults.
"""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from studio.models import Generation
from studio.simulator import Simulator
from studio.worker import jobs, polling, submission
from tests.conftest import png, run_queued_jobs
from tests.test_integration import assert_video, wait_until_stored

# What each provider offers that renders quickly: (img2video, start-end) models and
# options. KKIAI needs a prompt; every form below has one.
CASES = {
    "official": (
        {"model": "viduq2-turbo", "duration": "1", "resolution": "540p"},
        {"model": "viduq2-turbo", "duration": "1", "resolution": "540p"},
    ),
    "octopusx": (
        {"model": "viduq2-turbo", "duration": "1", "resolution": "540p"},
        {"model": "viduq2-pro", "duration": "1", "resolution": "540p"},
    ),
    "umodelverse": (
        {"model": "viduq2-turbo", "duration": "2", "resolution": "540p"},
        {"model": "viduq2-pro", "duration": "1", "resolution": "540p"},
    ),
    "kkiai": (
        {"model": "viduq2", "duration": "1", "resolution": "540p"},
        {"model": "viduq3-turbo", "duration": "1", "resolution": "540p", "audio": "false"},
    ),
    "vtrix": (
        {"model": "viduq1", "duration": "5", "resolution": "1080p"},
        {"model": "viduq2-pro", "duration": "1", "resolution": "540p"},
    ),
}
GATEWAYS = ["octopusx", "umodelverse", "kkiai", "vtrix"]
HEIGHT = {"540p": 540, "1080p": 1080}


def post_image_to_video(client, options: dict):
    data = {
        "prompt": "the camera drifts over the bay",
        "images": SimpleUploadedFile("bay.png", png(640, 360), "image/png"),
        **options,
    }
    return client.post(reverse("generate", args=["img2video"]), data)


def post_start_end(client, options: dict):
    data = {
        "prompt": "from red to blue",
        "start_image": SimpleUploadedFile("a.png", png(480, 360, (250, 20, 20)), "image/png"),
        "end_image": SimpleUploadedFile("b.png", png(480, 360, (20, 20, 250)), "image/png"),
        **options,
    }
    return client.post(reverse("generate", args=["start-end2video"]), data)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("provider", GATEWAYS + ["official"])
def test_each_provider_takes_both_kinds_from_the_form_to_a_stored_video_without_callbacks(
    provider, live_server, start_simulator, start_worker, alice, client, media_root, settings
):
    simulator = start_simulator(seconds=0.2, VIDU_SIM_DIALECT=provider)
    start_worker(simulator, public_url=None, VIDU_PROVIDER=provider, STUDIO_POLL_SECONDS=0)
    settings.VIDU_PROVIDER = provider
    settings.VIDU_BASE_URL = simulator
    settings.STUDIO_POLL_SECONDS = 0
    settings.STUDIO_PUBLIC_URL = ""
    client.force_login(alice)
    img, start_end = CASES[provider]

    page = client.get(reverse("generate", args=["img2video"])).content.decode()
    label = Generation(provider=provider).provider_label
    assert f"Videos are made by <strong>{label}</strong>" in page
    assert post_image_to_video(client, img).status_code == 302
    first = Generation.objects.latest("created_at")
    assert post_start_end(client, start_end).status_code == 302
    second = Generation.objects.latest("created_at")

    for generation, options in ((first, img), (second, start_end)):
        generation = wait_until_stored(generation.pk, timeout=120, tick=jobs.reconcile)
        assert generation.state == "success", generation.error_message
        assert (generation.provider, generation.provider_base_url) == (provider, simulator)
        assert_video(generation, int(options["duration"]), HEIGHT[options["resolution"]])
        assert "callback" not in set(generation.events.values_list("source", flat=True))
        page = client.get(reverse("generation", args=[generation.pk])).content.decode()
        assert 'id="player"' in page
        if provider in ("official", "kkiai"):
            assert generation.credits is not None and generation.credits > 0
            assert "credit" in page
        elif provider == "vtrix":
            assert generation.cost_usd is not None and generation.cost_usd > 0
            assert f"US${generation.cost_usd.normalize()}" in page or "US$" in page
        else:
            assert generation.credits is None and generation.cost_usd is None
            assert f"not reported by {label}" in page


@pytest.fixture
def gateway(settings, request):
    """A simulator in this process speaking `request.param`'s dialect, and the studio
    pointed at it without a public URL."""
    provider = request.param
    sim = Simulator(
        port=0, api_key="sim-key", seconds=0.05, fps=4, seed=3, timeout_hold=3, dialect=provider
    ).start()
    settings.VIDU_PROVIDER = provider
    settings.VIDU_BASE_URL = sim.base_url
    settings.VIDU_API_KEY = "sim-key"
    settings.VIDU_TIMEOUT = 1
    settings.STUDIO_BACKOFF_BASE = 0.01
    settings.STUDIO_PUBLIC_URL = ""
    settings.STUDIO_POLL_SECONDS = 0
    yield provider, sim
    sim.stop()


def submit_form(client, alice, provider):
    client.force_login(alice)
    response = post_image_to_video(client, CASES[provider][0])
    assert response.status_code == 302, response.content.decode()[:2000]
    return Generation.objects.latest("created_at")


def follow(generation, seconds=30) -> Generation:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        generation.refresh_from_db()
        if generation.is_terminal:
            return generation
        if generation.provider_task_id:
            polling.poll(generation)
        time.sleep(0.05)
    raise AssertionError(f"still {generation.state}")


FAILURE_WORDS = {
    "octopusx": "Octopusx reported that the task failed. It gave no reason.",
    "umodelverse": "UModelverse reported that the task failed. UModelverse said:",
    "kkiai": "KKIAI refused to deliver the video under its content policy.",
    "vtrix": "Vtrix reported that the task failed. The generation failed.",
}


@pytest.mark.django_db
@pytest.mark.parametrize("gateway", GATEWAYS, indirect=True)
def test_a_gateways_failure_reaches_the_page_in_its_own_words(
    gateway, client, alice, media_root, django_capture_on_commit_callbacks
):
    provider, sim = gateway
    sim.faults.probabilities["task_failed"] = 1.0
    with django_capture_on_commit_callbacks(execute=True):
        generation = submit_form(client, alice, provider)
    assert jobs.submit(str(generation.pk)) == "submitted"
    generation = follow(generation)
    assert generation.state == "failed"
    page = client.get(reverse("generation", args=[generation.pk])).content.decode()
    label = generation.provider_label
    assert f"{label} could not make this video." in page
    assert FAILURE_WORDS[provider] in page
    assert FAILURE_WORDS[provider] in generation.error_message


@pytest.mark.django_db
@pytest.mark.parametrize("gateway", ["octopusx", "umodelverse", "kkiai", "vtrix"], indirect=True)
def test_a_lost_answer_stops_for_a_person_and_is_sent_again_only_when_asked(
    gateway, client, alice, media_root, django_capture_on_commit_callbacks
):
    provider, sim = gateway
    sim.faults.probabilities["submit_timeout"] = 1.0
    generation = submit_form(client, alice, provider)
    run_queued_jobs()  # the form's own submit job, if the broker kept it

    assert jobs.submit(str(generation.pk)) in ("unconfirmed", "not claimed")
    generation.refresh_from_db()
    assert generation.state == "unconfirmed"
    assert len(sim.tasks()) == 1  # the gateway made it once, and was not asked again
    # The reconciler does not send it again by itself either.
    jobs.reconcile()
    run_queued_jobs()
    assert len(sim.tasks()) == 1
    generation.refresh_from_db()
    assert generation.state == "unconfirmed" and not generation.in_flight

    page = client.get(reverse("generation", args=[generation.pk])).content.decode()
    label = generation.provider_label
    assert (
        f"{label} may have accepted this task; check its console before sending it again." in page
    )
    assert reverse("generation_send_again", args=[generation.pk]) in page

    sim.faults.probabilities["submit_timeout"] = 0.0
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("generation_send_again", args=[generation.pk]))
    assert response.status_code == 302
    run_queued_jobs()
    generation.refresh_from_db()
    assert generation.state not in ("unconfirmed", "failed"), generation.error_message
    assert generation.provider_task_id
    assert len(sim.tasks()) == 2  # the person chose to send it again
    sources = list(generation.events.values_list("state", "source"))
    assert ("unconfirmed", "submit") in sources and ("queued", "user") in sources


@pytest.mark.django_db
@pytest.mark.parametrize("gateway", ["umodelverse"], indirect=True)
def test_a_claim_that_died_before_sending_is_sent_without_asking_a_person(
    gateway, alice, team, media_root
):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import make_generation

    provider, sim = gateway
    generation = make_generation(team, alice, provider=provider)
    past = timezone.now() - timedelta(hours=1)
    Generation.objects.filter(pk=generation.pk).update(state="submitting", claimed_at=past)
    generation.refresh_from_db()
    assert submission.resume(generation) == "submitted"
    assert len(sim.tasks()) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("gateway", GATEWAYS, indirect=True)
def test_the_form_offers_only_what_the_provider_offers_and_says_why(gateway, client, alice):
    provider, _ = gateway
    client.force_login(alice)
    page = client.get(reverse("generate", args=["img2video"])).content.decode()
    assert 'id="missing-models"' in page
    assert "documents do not list it here" in page
    from studio import catalog

    offered = catalog.PROVIDERS[provider].offered("img2video")
    for name in catalog.MODELS["img2video"]:
        assert (f'<option value="{name}"' in page) == (name in offered), name
