import os

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate

from studio import local_files


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


def keep_sqlite_private(sender, connection, **kwargs) -> None:
    """An SQLite database (password hashes, sessions) is readable by its owner only.

    Checked each time a connection opens, so a file made by this connection, or left
    readable by an older version, is closed at once; SQLite gives its -wal and -shm
    files the database's own mode when it makes them.
    """
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict["NAME"] or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    for path in (name, f"{name}-wal", f"{name}-shm"):
        try:
            if os.stat(path).st_mode & 0o077:
                os.chmod(path, 0o600)
        except OSError:  # not there (yet), or not ours to change
            pass


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
        # First: the database and anything signed need them.
        local_files.make_local_files(settings)
        post_migrate.connect(ensure_schedules, sender=self)
        connection_created.connect(keep_sqlite_private)
        from studio import health

        health.connect_job_beats()
