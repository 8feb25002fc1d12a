"""Nothing lost, nothing paid twice: many generations through a real worker against the
simulator with every fault switched on, and the worker killed while it works.

`STUDIO_FAULT_GENERATIONS` sets how many (200 by default). Each run prints a summary
of the faults injected and the outcomes (docs/faults.md reports one)."""

from __future__ import annotations

import collections
import json
import os
import time
import uuid

import httpx
import pytest

from studio.models import Generation
from studio.worker import jobs, payloads, queue
from tests.conftest import require
from tests.factories import make_generation

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

COUNT = int(os.environ.get("STUDIO_FAULT_GENERATIONS", "200"))
FAULTS = ",".join(
    f"{name}=0.3"
    for name in (
        "submit_error",
        "submit_throttle",
        "submit_timeout",
        "query_error",
        "callback_drop",
        "callback_duplicate",
        "callback_reorder",
        "result_expired",
        "task_failed",
    )
)
# Short clocks, so a run takes a minute or two rather than hours.
WORKER_ENV = {
    "VIDU_TIMEOUT": "1",
    "STUDIO_BACKOFF_BASE": "0.05",
    "STUDIO_POLL_SECONDS": "3",
    "STUDIO_CLAIM_TIMEOUT": "15",  # above one attempt (studio.W001)
    "Q_WORKERS": "3",
}


def terminal(generation: Generation) -> bool:
    if generation.state == "success":
        return generation.result_status in ("stored", "unavailable")
    return generation.state in ("failed", "cancelled")


def all_tasks(base_url: str) -> list[dict]:
    tasks, token = [], ""
    with httpx.Client(base_url=base_url, headers={"Authorization": "Token sim-key"}) as http:
        while True:
            params = {"pager.pagesz": 100, **({"page_token": token} if token else {})}
            page = http.get("/ent/v2/tasks", params=params).json()
            tasks += page["tasks"]
            token = page.get("next_page_token", "")
            if not token:
                return tasks


def run_under_faults(
    live_server,
    start_simulator,
    start_worker,
    settings,
    team,
    author,
    *,
    clusters: int = 1,
    kills: int = 0,
    deadline: float = 420,
) -> dict:
    simulator = start_simulator(
        seconds=0.2, faults=FAULTS, fps=4, VIDU_SIM_SEED=20261121, VIDU_SIM_TIMEOUT_HOLD=2
    )
    settings.VIDU_BASE_URL = simulator
    settings.VIDU_TIMEOUT = 1
    settings.STUDIO_BACKOFF_BASE = 0.05
    settings.STUDIO_POLL_SECONDS = 3
    settings.STUDIO_CLAIM_TIMEOUT = 15

    def worker():
        return start_worker(simulator, public_url=live_server.url, **WORKER_ENV)

    workers = [worker() for _ in range(clusters)]
    ids = []
    for _ in range(COUNT):
        generation = make_generation(team, author, params={"duration": 1, "resolution": "540p"})
        queue.enqueue_submit(generation)  # autocommit: queued at once
        ids.append(generation.pk)

    started = time.monotonic()
    kill_at = [started + 6 + 8 * i for i in range(kills)]
    killed = 0
    while time.monotonic() - started < deadline:
        if kill_at and time.monotonic() >= kill_at[0]:
            kill_at.pop(0)
            workers[0].kill()  # SIGKILL, mid-whatever it was doing
            killed += 1
            workers[0] = worker()
        # The schedule runs the reconciler once a minute; here it runs every second,
        # alongside the one the worker's scheduler starts.
        jobs.reconcile()
        generations = list(Generation.objects.filter(pk__in=ids))
        if all(terminal(g) for g in generations):
            break
        time.sleep(1)
    elapsed = time.monotonic() - started

    generations = {g.pk: g for g in Generation.objects.filter(pk__in=ids)}
    stuck = [f"{g.pk} {g.state}/{g.result_status}" for g in generations.values() if not terminal(g)]
    assert not stuck, f"{len(stuck)} not finished after {deadline} s: {stuck[:10]}"

    tasks = all_tasks(simulator)
    per_payload = collections.Counter(t["payload"] for t in tasks)
    twice = {p: n for p, n in per_payload.items() if n > 1}
    assert not twice, f"sent to Vidu more than once: {twice}"
    charged = collections.Counter(t["payload"] for t in tasks if t["credits"])
    assert all(n == 1 for n in charged.values())
    for task in tasks:
        generation = generations[uuid.UUID(payloads.generation_id_from_payload(task["payload"]))]
        assert generation.provider_task_id == task["id"]
        if task["state"] == "success":
            assert generation.state == "success"
            assert generation.credits == task["credits"]
        if task["state"] == "failed":
            assert generation.state in ("failed", "cancelled")
            assert generation.error_reason and generation.error_message
    for generation in generations.values():
        if generation.state == "failed":
            assert generation.error_message, generation.pk
        if generation.result_status == "unavailable":
            assert "could not be copied" in generation.error_message

    outcomes = collections.Counter(
        f"{g.state}/{g.result_status}" if g.state == "success" else g.state
        for g in generations.values()
    )
    stats = httpx.get(f"{simulator}/_sim/stats").json()
    summary = {
        "generations": COUNT,
        "clusters": clusters,
        "workers_killed": killed,
        "seconds": round(elapsed, 1),
        "faults_injected": stats["faults"],
        "outcomes": dict(outcomes),
        "tasks_at_vidu": len(tasks),
        "tasks_charged": sum(1 for t in tasks if t["credits"]),
        "broker": "redis" if settings.REDIS_URL else "orm",
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
    }
    print("\nFAULT RUN " + json.dumps(summary, sort_keys=True))
    return summary


@pytest.mark.slow
def test_every_generation_ends_and_none_is_paid_twice(
    live_server, start_simulator, start_worker, settings, team, alice, media_root
):
    summary = run_under_faults(live_server, start_simulator, start_worker, settings, team, alice)
    assert sum(summary["faults_injected"].values()) > COUNT  # the faults really happened


@pytest.mark.slow
def test_the_same_with_the_worker_killed_twice(
    live_server, start_simulator, start_worker, settings, team, alice, media_root
):
    summary = run_under_faults(
        live_server, start_simulator, start_worker, settings, team, alice, kills=2
    )
    assert summary["workers_killed"] == 2


@pytest.mark.services
def test_the_same_on_postgresql_and_redis_with_two_clusters(
    live_server, start_simulator, start_worker, settings, team, alice, media_root
):
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        require("this test runs in the PostgreSQL and Redis pass of `make test`")
    if not settings.REDIS_URL:
        require("this test runs in the PostgreSQL and Redis pass of `make test`")
    summary = run_under_faults(
        live_server, start_simulator, start_worker, settings, team, alice, clusters=2, kills=1
    )
    assert summary["broker"] == "redis" and summary["database"] == "postgresql"
