"""The seed a video was made with: read from each provider's answers, kept with the
generation, shown on its page, and offered again ("Reuse this seed")."""

from __future__ import annotations

import httpx
import pytest
from django.urls import reverse

from studio.models import Generation
from studio.simulator import Simulator
from studio.vidu import registry
from studio.vidu.base import TaskView
from studio.worker import jobs, reports
from tests.factories import make_generation

pytestmark = pytest.mark.usefixtures("media_root")

IMAGE = "data:image/png;base64,iVBORw0KGgo="


def dialect(name: str, *answers):
    queue = list(answers)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=queue.pop(0))

    cls = registry.dialect_class(name)
    return cls("https://gateway.test", "the-key", transport=httpx.MockTransport(answer))


def ask(name: str, *answers) -> TaskView:
    return dialect(name, *answers).create(
        submission_of(model="viduq2-turbo", duration=5, resolution="720p")
    )


def submission_of(**params):
    from studio.vidu.base import Submission

    return Submission("img2video", params.pop("model"), (IMAGE,), "a cat", params)


OFFICIAL_CREATED = {
    "task_id": "911045603801182208",
    "state": "created",
    "model": "viduq2-turbo",
    "duration": 5,
    "seed": 1733960,
    "resolution": "720p",
    "credits": 5,
    "created_at": "2026-01-20T04:01:53.504648743Z",
}


@pytest.mark.parametrize("name", ["official", "kkiai"])
def test_the_official_shape_reports_the_seed_it_drew_when_the_task_is_made(name):
    assert ask(name, OFFICIAL_CREATED).seed == 1733960


def test_a_seed_sent_as_a_string_is_read_and_a_bad_one_is_not_a_failure():
    assert ask("kkiai", {**OFFICIAL_CREATED, "seed": "12345"}).seed == 12345
    view = ask("official", {**OFFICIAL_CREATED, "seed": "none"})
    assert (view.task_id, view.seed) == ("911045603801182208", None)


def test_a_query_that_names_the_seed_is_read_and_one_that_does_not_is_none():
    query = {"id": "t1", "state": "success", "credits": 5, "creations": []}
    assert dialect("official", {**query, "seed": 99}).query("t1").seed == 99
    assert dialect("official", query).query("t1").seed is None


@pytest.mark.parametrize(
    "name, created",
    [
        ("octopusx", {"task_id": "o1", "status": "processing"}),
        ("umodelverse", {"output": {"task_id": "u1"}, "request_id": "r1"}),
        ("vtrix", {"id": "v1", "status": "pending"}),
    ],
)
def test_gateways_whose_documents_give_no_seed_report_none(name, created):
    assert ask(name, created).seed is None


def test_the_seed_kept_is_the_reported_one_else_the_one_asked_for(team, alice):
    drawn = make_generation(team, alice, params={"seed": 0})
    assert reports.seed_fields(drawn, TaskView("t", "created", seed=77)) == {"seed_used": 77}
    assert reports.seed_fields(drawn, TaskView("t", "created")) == {}
    asked = make_generation(team, alice, params={"seed": 5})
    assert reports.seed_fields(asked, TaskView("t", "created")) == {"seed_used": 5}
    assert reports.seed_fields(asked, TaskView("t", "created", seed=0)) == {"seed_used": 5}
    asked.seed_used = 5
    assert reports.seed_fields(asked, TaskView("t", "created", seed=6)) == {}


# A model each sells (KKIAI sells "viduq2" for image to video).
MODELS = {"official": "viduq2-turbo", "kkiai": "viduq2", "octopusx": "viduq2-turbo"}


@pytest.fixture(params=list(MODELS))
def gateway(settings, request):
    sim = Simulator(
        port=0,
        api_key="sim-key",
        seconds=0.05,
        fps=4,
        seed=3,
        timeout_hold=3,
        dialect=request.param,
    ).start()
    settings.VIDU_PROVIDER = request.param
    settings.VIDU_BASE_URL = sim.base_url
    settings.VIDU_API_KEY = "sim-key"
    settings.VIDU_TIMEOUT = 1
    settings.STUDIO_BACKOFF_BASE = 0.01
    settings.STUDIO_PUBLIC_URL = ""
    yield request.param, sim
    sim.stop()


def test_the_simulator_draws_a_seed_the_studio_keeps_and_shows(gateway, client, team, alice):
    provider, sim = gateway
    generation = make_generation(
        team, alice, provider=provider, model=MODELS[provider], params={"seed": 0}
    )
    assert jobs.submit(str(generation.pk)) == "submitted"
    generation.refresh_from_db()
    (task,) = [t for t in sim.tasks() if t["id"] == generation.provider_task_id]
    client.force_login(alice)
    html = client.get(reverse("generation", args=[generation.pk])).content.decode()
    label = generation.provider_label
    if provider == "octopusx":  # its answers carry no seed
        assert generation.seed_used is None
        assert f"random ({label} did not say which)" in html
        assert "Reuse this seed" not in html
        return
    assert generation.seed_used == task["seed"] > 0
    assert f"{task['seed']} (random, as drawn by {label})" in html
    reuse = f"?from={generation.pk}&amp;same_seed=1"
    assert reuse in html
    form = client.get(
        reverse("generate", args=["img2video"]) + f"?from={generation.pk}&same_seed=1"
    ).content.decode()
    assert f'value="{task["seed"]}"' in form


def test_a_seed_asked_for_is_kept_without_a_reuse_link(gateway, client, team, alice):
    provider, sim = gateway
    generation = make_generation(
        team, alice, provider=provider, model=MODELS[provider], params={"seed": 4321}
    )
    jobs.submit(str(generation.pk))
    generation.refresh_from_db()
    assert generation.seed_used == 4321
    client.force_login(alice)
    html = client.get(reverse("generation", args=[generation.pk])).content.decode()
    assert "Seed</dt><dd>4321" in html and "Reuse this seed" not in html


def test_generate_again_and_vary_the_seed_still_work(client, team, alice):
    generation = make_generation(team, alice, params={"seed": 0}, seed_used=888)
    client.force_login(alice)
    url = reverse("generate", args=["img2video"]) + f"?from={generation.pk}"
    again = client.get(url).content.decode()
    assert 'value="888"' not in again  # the same options: a random seed again
    varied = client.get(url + "&vary_seed=1").content.decode()
    assert "new seed" in varied and 'value="888"' not in varied
    assert Generation.objects.count() == 1
