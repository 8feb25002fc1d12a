"""The follower against the simulator over real HTTP (in-process, on loopback): it asks
about due tasks on their cadence, covers many official tasks with one call, spaces calls
to providers that answer one task at a time, and two followers never ask twice."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from studio.models import Generation
from studio.simulator import Simulator
from studio.worker import cadence, follower, jobs
from tests.factories import make_generation

pytestmark = pytest.mark.usefixtures("media_root")


def simulator_for(settings, dialect="official", seconds=0.05):
    sim = Simulator(port=0, api_key="sim-key", seconds=seconds, fps=4, dialect=dialect).start()
    settings.VIDU_PROVIDER = dialect
    settings.VIDU_BASE_URL = sim.base_url
    settings.VIDU_API_KEY = "sim-key"
    settings.VIDU_TIMEOUT = 2
    settings.STUDIO_PUBLIC_URL = ""
    settings.STUDIO_POLL_SECONDS = 0
    return sim


def submitted(team, alice, count, provider="official"):
    generations = []
    for _ in range(count):
        g = make_generation(team, alice, provider=provider)
        assert jobs.submit(str(g.pk)) == "submitted"
        generations.append(g)
    return generations


def calls(sim) -> int:
    return sim.stats()["api_calls"]["total"]


@pytest.mark.django_db
def test_it_follows_tasks_to_the_end_without_callbacks(settings, team, alice):
    sim = simulator_for(settings)
    try:
        generations = submitted(team, alice, 3)
        pace = follower.Pace(100)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            follower.tick(pace)
            states = set(Generation.objects.values_list("state", flat=True))
            if states == {"success"}:
                break
            time.sleep(0.05)
        for g in generations:
            g.refresh_from_db()
            assert g.state == "success" and g.preview_url.startswith(sim.base_url)
            assert g.events.filter(source="poll", state="success").exists()
    finally:
        sim.stop()


@pytest.mark.django_db
def test_one_call_covers_many_official_tasks(settings, team, alice):
    sim = simulator_for(settings, seconds=30)  # they stay in flight
    try:
        submitted(team, alice, 20)
        before = calls(sim)
        counts = follower.tick(follower.Pace(100))
        assert counts["tasks"] == 20 and counts["answered"] == 20
        assert calls(sim) - before == 1
    finally:
        sim.stop()


@pytest.mark.django_db
def test_a_gateway_is_asked_task_by_task_at_a_bounded_pace(settings, team, alice):
    sim = simulator_for(settings, dialect="umodelverse", seconds=30)
    try:
        submitted(team, alice, 6, provider="umodelverse")
        before = calls(sim)
        started = time.monotonic()
        counts = follower.tick(follower.Pace(10))  # at most 10 calls a second
        elapsed = time.monotonic() - started
        assert counts["answered"] == 6 and calls(sim) - before == 6
        assert elapsed >= 0.5  # six calls, a tenth of a second apart
    finally:
        sim.stop()


@pytest.mark.django_db
def test_a_task_is_not_asked_about_again_before_it_is_due(settings, team, alice):
    sim = simulator_for(settings, seconds=30)
    try:
        settings.STUDIO_POLL_SECONDS = 2
        submitted(team, alice, 2)
        Generation.objects.update(next_poll_at=timezone.now())
        assert follower.tick(follower.Pace(100))["tasks"] == 2
        assert follower.tick(follower.Pace(100))["tasks"] == 0  # next ask in 2 s
        g = Generation.objects.first()
        assert g.next_poll_at > timezone.now() + timedelta(seconds=1)
    finally:
        sim.stop()


@pytest.mark.django_db(transaction=True)
def test_two_followers_never_claim_the_same_task(settings, team, alice):
    generations = [
        make_generation(team, alice, state="processing", task_id=f"t{i}") for i in range(60)
    ]
    Generation.objects.update(next_poll_at=timezone.now() - timedelta(seconds=1))
    won: list[list] = [[], []]
    barrier = threading.Barrier(2)

    def claim(slot):
        barrier.wait()
        won[slot] = [g.pk for g in follower.claim_due()]

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not set(won[0]) & set(won[1])
    assert len(won[0]) + len(won[1]) == len(generations)


def test_the_cadence_starts_at_a_couple_of_seconds_and_backs_off(settings):
    settings.STUDIO_POLL_SECONDS = 2
    g = Generation(created_at=timezone.now())
    assert cadence.poll_interval(g) == timedelta(seconds=2)
    g.created_at = timezone.now() - timedelta(minutes=5)
    assert cadence.poll_interval(g) == timedelta(seconds=5)
    g.created_at = timezone.now() - timedelta(hours=40)
    assert cadence.poll_interval(g) == timedelta(minutes=5)
