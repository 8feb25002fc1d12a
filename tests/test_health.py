"""The job queue's health: heartbeats, the stall rule, the probe, and `/healthz`."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.urls import reverse
from django.utils import timezone
from django_q.signals import post_execute_in_worker, pre_execute

from studio.models import Heartbeat
from studio.worker import health, jobs
from tests.conftest import drain_queue

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture(autouse=True)
def stall_after_30_seconds(settings):
    settings.STUDIO_STALL_SECONDS = 30


def beats(**ago):
    """Heartbeats written `seconds` before NOW, by name (probe_sent: 'probe sent')."""
    for name, seconds in ago.items():
        Heartbeat.objects.create(
            name=name.replace("_", " "), beat_at=NOW - timedelta(seconds=seconds)
        )


def test_a_quiet_queue_with_nothing_waiting_is_healthy():
    assert health.stalled(NOW) is None
    beats(probe_sent=300, probe=299, jobs=299)  # the last probe ran long ago
    assert health.stalled(NOW) is None


def test_a_probe_that_waits_while_nothing_runs_is_a_stall():
    beats(probe_sent=41, probe=60, jobs=45)
    assert health.stalled(NOW) == "jobs are waiting and none has run for 45 s"


def test_a_probe_that_never_ran_on_a_queue_that_never_ran_is_a_stall():
    beats(probe_sent=31)
    assert health.stalled(NOW) == "jobs are waiting and none has run for 31 s"


def test_a_probe_waiting_less_than_the_limit_is_not_yet_a_stall():
    beats(probe_sent=29, probe=100, jobs=100)
    assert health.stalled(NOW) is None


def test_a_probe_waiting_behind_long_jobs_is_not_a_stall():
    # Workers busy with jobs beat while they run: the queue moves, only slowly.
    beats(probe_sent=300, probe=400, jobs=5)
    assert health.stalled(NOW) is None


def test_a_reconciler_long_overdue_is_a_stall_without_any_probe():
    beats(reconciler=200)
    assert health.stalled(NOW) == "jobs are waiting and none has run for 200 s"
    Heartbeat.objects.filter(name="reconciler").update(beat_at=NOW - timedelta(seconds=100))
    assert health.stalled(NOW) is None  # due 10 s ago: not yet waiting for 30 s


def test_a_worker_just_started_is_judged_from_its_start():
    # The studio was off for a day: the reconciler is overdue, but the worker that has
    # just started has not yet had STUDIO_STALL_SECONDS to run anything.
    beats(reconciler=86400, probe_sent=5, probe=86400)
    started = NOW - timedelta(seconds=5)
    assert health.stalled(NOW, watched_since=started) is None
    later = NOW + timedelta(seconds=30)
    assert health.stalled(later, watched_since=started) == (
        "jobs are waiting and none has run for 86430 s"
    )


def test_the_reconciler_writes_its_heartbeat():
    before = timezone.now()
    jobs.reconcile()
    assert Heartbeat.objects.get(name="reconciler").beat_at >= before


def test_a_probe_is_sent_once_until_it_has_run():
    drain_queue()
    assert health.send_probe() is True
    assert health.send_probe() is False  # the first is still waiting
    assert drain_queue() == ["studio.worker.health.beat"]
    health.beat()  # what the probe job does, on a worker
    assert (
        Heartbeat.objects.get(name="probe").beat_at
        >= Heartbeat.objects.get(name="probe sent").beat_at
    )
    assert health.send_probe() is True
    assert health.send_probe(fresh=True) is True  # a worker just started: a new round
    assert drain_queue() == ["studio.worker.health.beat", "studio.worker.health.beat"]


def test_the_watch_sends_probes_and_reports_a_stall(settings):
    drain_queue()
    watch = health.QueueWatch(every=1)
    watch.started()
    assert drain_queue() == ["studio.worker.health.beat"]
    assert watch.check() is None  # waiting, but not for long
    assert drain_queue() == []  # and no second probe behind the first
    # 31 s on, and the probe still waits.
    watch.since -= timedelta(seconds=31)
    Heartbeat.objects.filter(name="probe sent").update(
        beat_at=timezone.now() - timedelta(seconds=31)
    )
    assert watch.check() == "jobs are waiting and none has run for 31 s"


@pytest.mark.django_db(transaction=True)
def test_a_worker_beats_while_a_job_runs(settings):
    settings.STUDIO_STALL_SECONDS = 3  # a beat every half second
    pre_execute.send(sender="django_q", func=time.sleep, task={"name": "a job"})
    try:
        deadline = time.monotonic() + 5
        beats_seen = set()
        while time.monotonic() < deadline and len(beats_seen) < 3:
            beat = Heartbeat.objects.filter(name="jobs").first()
            if beat:
                beats_seen.add(beat.beat_at)
            time.sleep(0.1)
        assert len(beats_seen) >= 3, "a running job keeps beating"
    finally:
        post_execute_in_worker.send(sender="django_q", func=time.sleep, task={})
    time.sleep(1)  # the beat already under way, if any
    last = Heartbeat.objects.get(name="jobs").beat_at
    time.sleep(1.2)
    assert Heartbeat.objects.get(name="jobs").beat_at == last, "an idle worker is quiet"


def test_healthz_answers_ok_without_a_login(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_says_why_when_the_queue_is_stalled(client):
    Heartbeat.objects.create(name="probe sent", beat_at=timezone.now() - timedelta(seconds=95))
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "reason": "jobs are waiting and none has run for 95 s",
    }


def test_healthz_says_so_when_the_database_does_not_answer(client, monkeypatch):
    def refuse(now=None):
        raise DatabaseError("connection refused to db.internal:5432 as studio")

    monkeypatch.setattr(health, "stalled", refuse)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    # The reason in plain words; nothing of the error (hosts, users) is shown.
    assert response.json() == {"status": "unavailable", "reason": "the database does not answer"}


def test_healthz_takes_only_get(client):
    assert client.post(reverse("healthz")).status_code == 405
    assert client.get(reverse("healthz")).status_code == 200
