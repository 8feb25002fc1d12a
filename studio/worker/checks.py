"""The worker's system checks: settings that would let it pay for a video twice."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

from studio.worker.submission import SEND_ATTEMPTS


@checks.register()
def claim_outlasts_an_attempt(app_configs, **kwargs) -> list:
    """A submit claim must outlast one attempt, or the reconciler could take over a
    claim whose request is still on its way to the provider, and send it again."""
    longest_wait = min(30.0, settings.STUDIO_BACKOFF_BASE * 2 ** (SEND_ATTEMPTS - 1))
    attempt = 2 * settings.VIDU_TIMEOUT + longest_wait + 10  # a lookup, a create, a pause
    if settings.STUDIO_CLAIM_TIMEOUT > attempt:
        return []
    return [
        checks.Warning(
            f"STUDIO_CLAIM_TIMEOUT ({settings.STUDIO_CLAIM_TIMEOUT} s) is not longer than one "
            f"submit attempt can take (about {attempt:.0f} s with VIDU_TIMEOUT="
            f"{settings.VIDU_TIMEOUT:g}).",
            hint="Raise STUDIO_CLAIM_TIMEOUT or lower VIDU_TIMEOUT.",
            id="studio.W001",
        )
    ]
