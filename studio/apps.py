import os

from django.apps import AppConfig
from django.conf import settings
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate

from studio import local_files


def ensure_schedules(sender, **kwargs) -> None:
    """The reconciler runs every minute on whichever worker's scheduler fires first."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name="reconcile",
        defaults={
            "func": "studio.worker.jobs.reconcile",
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


class StudioConfig(AppConfig):
    name = "studio"
    verbose_name = "Vidu Studio"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # First: the database and anything signed need them.
        local_files.make_local_files(settings)
        post_migrate.connect(ensure_schedules, sender=self)
        connection_created.connect(keep_sqlite_private)
        # The worker's own checks and job heartbeats: imported once the models are ready.
        from studio.worker import checks, health  # noqa: F401 (registers its checks)

        health.connect_job_beats()
