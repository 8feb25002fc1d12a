"""The follower: a loop beside the django-q2 workers that asks providers about tasks in
flight, on each task's own cadence (every couple of seconds at first, backing off with
age), so a finished video shows within seconds even where no callback can reach us.

Any number of followers on any number of machines may run: each tick claims the due
tasks with a conditional UPDATE that moves their `next_poll_at` to a lease time only it
knows, then reads back exactly the rows it won. A follower that dies leaves its lease
to expire; the tasks are asked about again after it.

Where a provider answers for many tasks in one call (the official task list filtered by
`task_ids`), one call covers up to a page of tasks; elsewhere calls to one provider are
spaced to at most STUDIO_PROVIDER_CALLS_PER_SECOND from each follower.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from studio.models import AT_PROVIDER, Generation
from studio.vidu import registry
from studio.vidu.base import NotSupported, ProviderError
from studio.worker.connections import connection_of, without_key
from studio.worker.polling import poll
from studio.worker.reports import apply_view

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=20)  # a claimed task is asked about again after this, at worst
TICK = 0.25  # seconds between looks for due tasks
CLAIM_LIMIT = 500  # tasks one tick takes at most


class Pace:
    """Spaces calls to each provider connection: at most `rate` a second."""

    def __init__(self, rate: float):
        self.gap = 1.0 / rate if rate > 0 else 0.0
        self.next_at: dict = defaultdict(float)

    def wait(self, key, stop: threading.Event | None = None) -> None:
        now = time.monotonic()
        at = max(now, self.next_at[key])
        self.next_at[key] = at + self.gap
        if at > now:
            if stop is not None:
                stop.wait(at - now)
            else:
                time.sleep(at - now)


def claim_due(now=None, limit: int = CLAIM_LIMIT) -> list[Generation]:
    """The due tasks this follower won, their leases taken."""
    now = now or timezone.now()
    ids = list(
        Generation.objects.filter(state__in=AT_PROVIDER, next_poll_at__lte=now)
        .exclude(provider_task_id="")
        .order_by("next_poll_at")
        .values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return []
    # A lease time unique to this claim: the rows that carry it are the ones we won.
    mark = now + LEASE + timedelta(microseconds=random.randrange(1, 1_000_000))
    Generation.objects.filter(pk__in=ids, state__in=AT_PROVIDER, next_poll_at__lte=now).update(
        next_poll_at=mark
    )
    return list(Generation.objects.filter(pk__in=ids, next_poll_at=mark))


def tick(pace: Pace, stop: threading.Event | None = None) -> dict:
    """Ask about every due task once; returns counts of calls and answers."""
    counts = {"tasks": 0, "calls": 0, "answered": 0, "errors": 0}
    claimed = claim_due()
    counts["tasks"] = len(claimed)
    by_connection: dict = defaultdict(list)
    for generation in claimed:
        by_connection[connection_of(generation)].append(generation)
    for connection, generations in by_connection.items():
        try:
            dialect = registry.connect(connection)
        except registry.NoKey as exc:
            for generation in generations:
                without_key(generation, exc)
            continue
        if dialect.batch_size > 1:
            _ask_in_batches(dialect, connection, generations, pace, stop, counts)
        else:
            for generation in generations:
                if stop is not None and stop.is_set():
                    return counts
                pace.wait(connection, stop)
                counts["calls"] += 1
                _ask_one(generation, counts)
    return counts


def _ask_in_batches(dialect, connection, generations, pace, stop, counts) -> None:
    size = dialect.batch_size
    for start in range(0, len(generations), size):
        batch = generations[start : start + size]
        since = min(g.created_at for g in batch) - timedelta(days=1)
        pace.wait(connection, stop)
        counts["calls"] += 1
        try:
            views = dialect.query_many([g.provider_task_id for g in batch], since=since)
        except (ProviderError, NotSupported) as exc:
            log.info("batch query at %s failed: %s", dialect.label, exc)
            counts["errors"] += 1
            continue  # each lease runs out and the tasks are asked about again
        for generation in batch:
            view = views.get(generation.provider_task_id)
            if view is None:
                # Not in the list (older than its window, or gone): ask about it alone.
                pace.wait(connection, stop)
                counts["calls"] += 1
                _ask_one(generation, counts)
            else:
                apply_view(generation, view, "poll")
                counts["answered"] += 1


def _ask_one(generation: Generation, counts: dict) -> None:
    if poll(generation):
        counts["answered"] += 1
    else:
        counts["errors"] += 1


def run(stop: threading.Event) -> None:
    """Follow tasks until `stop` is set."""
    pace = Pace(settings.STUDIO_PROVIDER_CALLS_PER_SECOND)
    while not stop.is_set():
        try:
            counts = tick(pace, stop)
        except Exception:  # a broken tick must not end the loop; the next one retries
            log.exception("follower tick failed")
            counts = {"tasks": 0}
        finally:
            close_old_connections()
        if not counts["tasks"]:
            stop.wait(TICK)
