"""When to ask a provider about a task next: soon at first, less often as it ages, on a
grid so that tasks on the same cadence fall due together."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from studio.models import Generation, State


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
