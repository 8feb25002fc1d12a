"""Queuing the worker's jobs by their task paths. Every other module of the studio queues
work through these, so the paths stored in the broker are named in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django_q.tasks import async_task

if TYPE_CHECKING:
    from studio.models import Generation

SUBMIT = "studio.worker.jobs.submit"
RESUME_SUBMIT = "studio.worker.jobs.resume_submit"
FETCH_RESULT = "studio.worker.jobs.fetch_result"
RECONCILE = "studio.worker.jobs.reconcile"


def enqueue_submit(generation: Generation) -> None:
    """Submit after the transaction that stored the generation commits."""
    gid = str(generation.pk)
    # robust: the generation is stored either way; if the broker is down, the reconciler
    # queues it again, and the user must not see an error for a video that is on its way.
    transaction.on_commit(lambda: async_task(SUBMIT, gid, task_name=f"submit {gid}"), robust=True)


def enqueue_fetch(generation_id) -> None:
    gid = str(generation_id)
    transaction.on_commit(
        lambda: async_task(FETCH_RESULT, gid, task_name=f"fetch {gid}"),
        robust=True,
    )
