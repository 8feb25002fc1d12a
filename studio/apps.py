from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.db.models.signals import post_migrate


def ensure_schedules(sender, **kwargs) -> None:
    """The reconciler runs every minute on whichever worker's scheduler fires first."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name="reconcile",
        defaults={
            "func": "studio.jobs.reconcile",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )


@checks.register()
def claim_outlasts_an_attempt(app_configs, **kwargs) -> list:
    """A submit claim must outlast one attempt, or the reconciler could take over a
    claim whose request is still on its way to the provider, and send it again."""
    from studio.submission import SEND_ATTEMPTS

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


class StudioConfig(AppConfig):
    name = "studio"
    verbose_name = "Vidu Studio"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(ensure_schedules, sender=self)
