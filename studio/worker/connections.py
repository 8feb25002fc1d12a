"""Which provider connection a generation talks to, and how long to wait between tries.

A generation is followed at the connection it was sent to (provider and base URL), even
after the deployment's default has changed."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from studio.models import AT_PROVIDER, Generation
from studio.vidu import registry
from studio.vidu.base import Dialect


def backoff(attempt: int, cap: float = 30.0) -> float:
    """Exponential backoff with full jitter: attempt 1 waits up to the base delay."""
    base = settings.STUDIO_BACKOFF_BASE
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))


def connection_of(generation: Generation) -> registry.Connection:
    base_url = generation.provider_base_url
    if not base_url:
        current = registry.current()
        base_url = current.base_url if current.provider == generation.provider else ""
        base_url = base_url or registry.default_base_url(generation.provider)
    return registry.Connection(generation.provider, base_url)


def dialect_for(generation: Generation) -> Dialect:
    """The dialect that speaks to the provider this generation was sent to; raises
    registry.NoKey when the studio has no key for that connection any more."""
    return registry.connect(connection_of(generation))


# A task whose connection has no key is looked at again this often, without a call: a
# key set meanwhile (and the processes restarted) picks it up.
WITHOUT_KEY_RECHECK = timedelta(hours=1)

log = logging.getLogger(__name__)


def without_key(generation: Generation, exc: registry.NoKey) -> None:
    """Stop asking about a task whose connection has no key, and tell the team why."""
    log.warning("generation %s: %s", generation.pk, exc.message)
    Generation.objects.filter(pk=generation.pk, state__in=AT_PROVIDER).update(
        error_reason=registry.NO_KEY,
        error_message=exc.plain,
        next_poll_at=timezone.now() + WITHOUT_KEY_RECHECK,
    )
