"""How the pages say lengths of time and moments: "9 s", "1 min 40 s", "just now"."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone

register = template.Library()


def _seconds(value) -> float | None:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@register.filter
def span(value) -> str:
    """A length of time (seconds or a timedelta) in words a person reads at a glance:
    seconds under a minute, minutes and seconds under an hour, then hours and minutes,
    then days and hours."""
    seconds = _seconds(value)
    if seconds is None:
        return ""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


@register.filter
def span_between(start: datetime | None, end: datetime | None) -> str:
    """How long from `start` to `end`, as `span` says it."""
    if start is None or end is None:
        return ""
    return span(end - start)


@register.filter
def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """How long ago `moment` was: "just now" under a minute, then as `span` says it."""
    if moment is None:
        return ""
    elapsed = (now or timezone.now()) - moment
    if elapsed < timedelta(minutes=1):
        return "just now"
    return f"{span(elapsed.total_seconds() // 60 * 60)} ago"


@register.filter
def seconds_since(moment: datetime | None) -> float | None:
    """Seconds from `moment` until now; the start of a clock that ticks in the page."""
    if moment is None:
        return None
    return max(0.0, (timezone.now() - moment).total_seconds())
