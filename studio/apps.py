from django.apps import AppConfig
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


class StudioConfig(AppConfig):
    name = "studio"
    verbose_name = "Vidu Studio"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(ensure_schedules, sender=self)
