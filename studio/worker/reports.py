"""Applying what a provider reports about a task (a create's answer, a poll, a
callback) to its generation: the state, the cost and the seed it tells of."""

from __future__ import annotations

import logging

from django.utils import timezone

from studio import budgets
from studio.models import AT_PROVIDER, Generation, State
from studio.vidu import registry
from studio.vidu.base import CREDITS, USD, ProviderError, TaskView
from studio.worker.cadence import next_poll_at
from studio.worker.connections import dialect_for
from studio.worker.payloads import generation_id_from_payload
from studio.worker.queue import enqueue_fetch

log = logging.getLogger(__name__)

# A provider's cost beyond this is not believed (a misread field, a forged body): no
# single image-to-video task costs more than a few hundred credits or a few dollars.
MAX_CREDITS = 10_000
MAX_USD = 1_000


def cost_fields(view: TaskView) -> dict:
    """The generation fields for a provider's reported cost, when it is believable."""
    cost = view.cost
    if cost is None or cost.amount < 0:
        return {}
    if cost.unit == CREDITS and cost.amount <= MAX_CREDITS:
        return {"credits": int(cost.amount)}
    if cost.unit == USD and cost.amount <= MAX_USD:
        return {"cost_usd": cost.amount.quantize(type(cost.amount)("0.0001"))}
    log.warning("ignored an unbelievable cost %s %s", cost.amount, cost.unit)
    return {}


def seed_fields(generation: Generation, view: TaskView) -> dict:
    """The generation field for the seed the task was made with: the one the provider
    reports (it draws one when asked for none), else the one asked for; {} when neither
    is known or it is already stored."""
    if generation.seed_used is not None:
        return {}
    seed = view.seed if view.seed is not None and 0 < view.seed < 2**63 else None
    if seed is None:
        asked = generation.params.get("seed")
        seed = (
            asked if isinstance(asked, int) and not isinstance(asked, bool) and asked > 0 else None
        )
    return {} if seed is None else {"seed_used": seed}


def apply_view(generation: Generation, view: TaskView, source: str) -> bool:
    """Move a generation forward to what its provider reports; returns whether it moved."""
    if generation.error_reason == registry.NO_KEY:
        # Its connection has a key again: the page stops saying it is not followed.
        Generation.objects.filter(pk=generation.pk, error_reason=registry.NO_KEY).update(
            error_reason="", error_message=""
        )
    state = view.state
    fields: dict = {
        "next_poll_at": next_poll_at(generation),
        **cost_fields(view),
        **seed_fields(generation, view),
    }
    if not generation.provider_task_id:
        fields["provider_task_id"] = view.task_id
    if state == State.SUCCESS and view.videos and len(view.videos[0].url) <= 2000:
        fields["preview_url"] = view.videos[0].url  # shown while the copy is made
    if state in (State.FAILED, State.CANCELLED):
        fields["error_reason"] = (view.reason or "Failed")[:64]
        fields["error_message"] = (
            view.message or f"{generation.provider_label} reported that the task failed."
        )
    moved = generation.advance(state, source, view.reason, **fields)
    budgets.learn(generation, fields.get("credits"))
    if not moved:
        # Same or older news: only refresh when we next ask, and a later cost figure.
        Generation.objects.filter(pk=generation.pk, state__in=AT_PROVIDER).update(
            next_poll_at=fields["next_poll_at"]
        )
        costs = cost_fields(view)
        if costs and generation.state == state:
            Generation.objects.filter(pk=generation.pk, state=state).update(**costs)
        seed = seed_fields(generation, view)
        if seed:
            Generation.objects.filter(pk=generation.pk, seed_used__isnull=True).update(**seed)
    if moved and state == State.SUCCESS:
        enqueue_fetch(generation.pk)
    return moved


def confirm(generation: Generation, task_id: str, source: str = "callback") -> bool:
    """Act on news that a task changed (a callback) by asking the provider itself.

    A callback's signature covers its headers, not its body, so the body is never
    believed: the state and the cost applied are those the provider answers for the
    task. Where it cannot answer now, the task is asked about again soon; a task it does
    not know changes nothing here (a poll of a task we sent still decides that).
    """
    try:
        view = dialect_for(generation).query(task_id)
    except ProviderError as exc:
        log.info("callback for %s: could not re-read task %s: %s", generation.pk, task_id, exc)
        Generation.objects.filter(pk=generation.pk, state__in=AT_PROVIDER).update(
            next_poll_at=timezone.now()
        )
        return False
    if view.task_id and view.task_id != task_id:
        log.warning(
            "callback for %s: asked for task %s, told of %s", generation.pk, task_id, view.task_id
        )
        return False
    named = generation_id_from_payload(view.payload) if view.payload else None
    if named and named != str(generation.pk):
        log.warning("callback for %s: task %s belongs to %s", generation.pk, task_id, named)
        return False
    return apply_view(generation, view, source)
