"""Following a task at its provider: applying what it reports (a callback or a poll),
deciding when to ask again, and cancelling where the provider allows it."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from studio.models import AT_PROVIDER, Generation, State
from studio.submission import cost_fields, dialect_for, seed_fields
from studio.vidu import registry
from studio.vidu.base import ProviderError, TaskView

log = logging.getLogger(__name__)

POLLS_PER_RUN = 200


def apply_view(generation: Generation, view: TaskView, source: str) -> bool:
    """Move a generation forward to what its provider reports; returns whether it moved."""
    from studio.jobs import enqueue_fetch

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


def first_poll_at(generation: Generation):
    return _after(timedelta(seconds=settings.STUDIO_POLL_SECONDS))


def next_poll_at(generation: Generation):
    """When to ask next: on a grid as coarse as the interval, so tasks on the same
    cadence fall due together and one batched call answers for all of them."""
    return _after(poll_interval(generation))


def _after(interval: timedelta):
    now = timezone.now()
    seconds = interval.total_seconds()
    if seconds < 1:
        return now + interval
    if seconds <= 5:
        # The nearest whole second: tasks still fall due together, without a second more.
        moment = now + interval
        return moment + timedelta(seconds=round(moment.timestamp()) - moment.timestamp())
    return _on_grid(now + interval, grid_for(interval))


def grid_for(interval: timedelta) -> int:
    """Whole seconds at first (a finished video shows soon), coarser for older tasks."""
    seconds = interval.total_seconds()
    return 1 if seconds <= 5 else max(1, int(seconds // 3))


def _on_grid(moment, seconds: int):
    """`moment` rounded up to a whole multiple of `seconds` since the epoch."""
    stamp = moment.timestamp()
    rounded = -(-stamp // seconds) * seconds
    return moment + timedelta(seconds=rounded - stamp)


# (age of the task in seconds, seconds between asks from then on): most videos take
# under a minute; off-peak ones may take 48 hours.
CADENCE = ((0, None), (60, 5), (600, 15), (3600, 60), (6 * 3600, 300))
# A task being made, younger than this, is asked about every NEAR_DONE_SECONDS.
NEAR_DONE_FOR = 600
NEAR_DONE_SECONDS = 1.0


def poll_interval(generation: Generation) -> timedelta:
    """How long to wait before asking again; longer as a task ages, never forever."""
    age = (timezone.now() - generation.created_at).total_seconds()
    first = settings.STUDIO_POLL_SECONDS
    seconds = first
    for since, every in CADENCE:
        if age >= since:
            seconds = first if every is None else max(first, every)
    if generation.state == State.PROCESSING and age < NEAR_DONE_FOR:
        seconds = min(seconds, NEAR_DONE_SECONDS)  # the video is about to be ready
    return timedelta(seconds=seconds)


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
    return apply_view(generation, view, source)


class CannotCancel(Exception):
    """The message says why, in the user's words."""


def cancel_refusal(generation: Generation) -> str:
    """Why a press of "cancel" could not work now, in the user's words; "" when it could:
    before the provider has the task, or an off-peak task at a provider that cancels,
    not yet started."""
    label = generation.provider_label
    if generation.state in (State.QUEUED, State.UNCONFIRMED):
        return ""
    if generation.state == State.SUBMITTING:
        return f"It is being sent to {label} right now; try again in a moment."
    if generation.is_terminal:
        return f"It has already ended ({generation.get_state_display().lower()})."
    if not registry.dialect_class(generation.provider).cancels:
        return f"{label} offers no way to cancel a task once it is sent."
    if generation.state == State.PROCESSING:
        return (
            f"{label} is already making this video, and a running task cannot be cancelled: "
            "only off-peak tasks still waiting for their slot can be."
        )
    if not generation.params.get("off_peak"):
        return (
            f"{label} cannot cancel a task once it has been sent: only off-peak tasks "
            "waiting for their slot can be cancelled, and this one was sent to be made at once."
        )
    return ""


def cancel(generation: Generation) -> str:
    """Cancel a generation if it can still be cancelled; return what happened."""
    label = generation.provider_label
    if generation.state == State.QUEUED:
        if generation.advance(
            State.CANCELLED, "user", "cancelled before sending", error_reason="UserCancelled"
        ):
            return f"Cancelled before it was sent to {label}; nothing was charged."
        generation.refresh_from_db()  # the worker claimed it meanwhile
    if generation.state == State.UNCONFIRMED:
        if generation.advance(
            State.CANCELLED, "user", "not sent again", error_reason="UserCancelled"
        ):
            return f"Stopped here. If {label} did make the task, the studio does not follow it."
        generation.refresh_from_db()
    refusal = cancel_refusal(generation)
    if refusal:
        raise CannotCancel(refusal)
    try:
        dialect_for(generation).cancel(generation.provider_task_id)
    except ProviderError as exc:
        raise CannotCancel(f"{label} did not cancel it: {exc.plain}") from None
    generation.advance(
        State.CANCELLED, "user", f"cancelled at {label}", credits=0, error_reason="UserCancelled"
    )
    return f"{label} cancelled the off-peak task; its credits are refunded."
