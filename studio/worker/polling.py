"""Asking providers about the tasks that are due (the reconciler's sweep, one task a
call), and applying the answer."""

from __future__ import annotations

import logging

from django.db.models import Q
from django.utils import timezone

from studio.models import AT_PROVIDER, Generation, State
from studio.vidu import registry
from studio.vidu.base import ProviderError
from studio.worker.cadence import next_poll_at
from studio.worker.connections import dialect_for, without_key
from studio.worker.reports import apply_view

log = logging.getLogger(__name__)

POLLS_PER_RUN = 200


def poll_due(now=None) -> int:
    """Ask each provider about the tasks that are due; returns how many answered."""
    now = now or timezone.now()
    due = Generation.objects.filter(state__in=AT_PROVIDER).filter(
        Q(next_poll_at__lte=now) | Q(next_poll_at__isnull=True)
    )
    polled = 0
    for generation in due[:POLLS_PER_RUN]:
        # Claim this poll so two reconcilers do not both ask.
        won = Generation.objects.filter(
            pk=generation.pk, next_poll_at=generation.next_poll_at
        ).update(next_poll_at=next_poll_at(generation))
        if not won or not generation.provider_task_id:
            continue
        if poll(generation):
            polled += 1
    return polled


def poll(generation: Generation) -> bool:
    """Ask the provider about one task and apply the answer; False when it did not say."""
    try:
        view = dialect_for(generation).query(generation.provider_task_id)
    except registry.NoKey as exc:
        without_key(generation, exc)
        return False
    except ProviderError as exc:
        if exc.permanent and exc.status == 404:
            generation.advance(
                State.FAILED,
                "poll",
                exc.reason,
                error_reason=exc.reason[:64],
                error_message=exc.plain,
            )
        else:
            log.info("poll %s: %s", generation.pk, exc)
        return False
    apply_view(generation, view, "poll")
    return True
