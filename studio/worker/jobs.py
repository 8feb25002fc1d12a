"""The worker's jobs (django-q2 entry points): submit a generation once, follow it, copy
its video, and the reconciler's sweep. The work itself lives beside: `submission`
(building and sending a request), `polling` and `reports` (asking about a task and
applying what the provider says) and `copying` (copying videos). Their task paths are
named in `queue`.

Every job claims its row with a conditional UPDATE first, so any number of workers on
any number of machines can run them: whoever loses a claim does nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from studio import staging
from studio.models import Generation, GenerationEvent, ResultStatus, State
from studio.vidu import registry
from studio.worker import copying, health, polling, submission
from studio.worker.queue import FETCH_RESULT, RESUME_SUBMIT, SUBMIT

log = logging.getLogger(__name__)


def submit(generation_id: str) -> str:
    """Claim a queued generation and send it to its provider, exactly once."""
    now = timezone.now()
    # The claim and its event commit together: the history never lacks the claim, and
    # SQLite's single writer is taken once, not twice.
    with transaction.atomic():
        claimed = Generation.objects.filter(pk=generation_id, state=State.QUEUED).update(
            state=State.SUBMITTING,
            claimed_at=now,
            updated_at=now,
            submit_attempts=F("submit_attempts") + 1,
        )
        if claimed:
            GenerationEvent.objects.create(
                generation_id=generation_id, state=State.SUBMITTING, source="submit", at=now
            )
    if not claimed:
        return "not claimed"
    generation = Generation.objects.get(pk=generation_id)
    try:
        return submission.send(generation, maybe_sent=False)
    except registry.NoKey as exc:
        return submission.without_key(generation, exc)


def resume_submit(generation_id: str, claimed_at: str) -> str:
    """Carry on a submission whose worker died, under the claim the reconciler took."""
    generation = Generation.objects.filter(pk=generation_id, state=State.SUBMITTING).first()
    if generation is None or generation.claimed_at.isoformat() != claimed_at:
        return "not mine"
    try:
        if generation.submit_attempts > submission.MAX_CLAIMS:
            submission.give_up(generation)
            return "gave up"
        return submission.resume(generation)
    except registry.NoKey as exc:
        return submission.without_key(generation, exc)


def fetch_result(generation_id: str) -> str:
    """Copy a finished generation's video and cover into our storage, and check them."""
    return copying.copy(generation_id)


def reconcile() -> dict:
    """Scheduled: recover dead claims, poll quiet tasks, resume lost result copies."""
    counts = {"recovered": 0, "requeued": 0, "polled": 0, "fetches": 0, "staged_removed": 0}
    now = timezone.now()
    # The queue runs: /healthz and `make run`'s watchdog read this (studio/worker/health.py).
    health.beat(health.RECONCILER)

    stale = now - timedelta(seconds=settings.STUDIO_CLAIM_TIMEOUT)
    for generation in Generation.objects.filter(state=State.SUBMITTING, claimed_at__lt=stale):
        # Re-claim: only one reconciler wins each stale claim. The submission goes on in
        # a job of its own, so a slow provider never holds up the polls below.
        won = Generation.objects.filter(
            pk=generation.pk, state=State.SUBMITTING, claimed_at=generation.claimed_at
        ).update(claimed_at=now, submit_attempts=F("submit_attempts") + 1)
        if won:
            gid = str(generation.pk)
            async_task(RESUME_SUBMIT, gid, now.isoformat(), task_name=f"resume {gid}")
            counts["recovered"] += 1

    # Submit jobs lost with a worker (a Redis broker has no acknowledgement): queue
    # them again. The claim in `submit` makes a second job for the same row harmless.
    for gid in Generation.objects.filter(state=State.QUEUED, updated_at__lt=stale).values_list(
        "pk", flat=True
    )[:200]:
        Generation.objects.filter(pk=gid, state=State.QUEUED).update(updated_at=now)
        async_task(SUBMIT, str(gid), task_name=f"submit {gid}")
        counts["requeued"] += 1

    counts["polled"] = polling.poll_due(now)

    # Copies that never started, or whose worker died part way.
    stuck = now - timedelta(seconds=settings.STUDIO_CLAIM_TIMEOUT)
    Generation.objects.filter(
        state=State.SUCCESS, result_status=ResultStatus.FETCHING, updated_at__lt=stuck
    ).update(result_status=ResultStatus.NONE, updated_at=now)
    for gid in Generation.objects.filter(
        state=State.SUCCESS,
        result_status=ResultStatus.NONE,
        updated_at__lt=now - timedelta(seconds=30),
    ).values_list("pk", flat=True)[:50]:
        async_task(FETCH_RESULT, str(gid), task_name=f"fetch {gid}")
        counts["fetches"] += 1

    # Images kept for forms nobody submitted, for every team (not only busy ones).
    counts["staged_removed"] = staging.sweep()

    # Copies that failed: try again now and then while Vidu still keeps the files.
    retry_before = now - timedelta(seconds=settings.STUDIO_RESULT_RETRY_SECONDS)
    for gid in Generation.objects.filter(
        state=State.SUCCESS,
        result_status=ResultStatus.UNAVAILABLE,
        updated_at__lt=retry_before,
        finished_at__gt=now - copying.RESULTS_KEPT_BY_PROVIDER,
    ).values_list("pk", flat=True)[:50]:
        if Generation.objects.filter(pk=gid, result_status=ResultStatus.UNAVAILABLE).update(
            result_status=ResultStatus.NONE, updated_at=now
        ):
            async_task(FETCH_RESULT, str(gid), task_name=f"fetch {gid}")
            counts["fetches"] += 1
    return counts
