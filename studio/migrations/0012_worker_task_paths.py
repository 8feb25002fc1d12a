"""The worker's jobs moved into the worker package: rename the task paths that the
reconciler's schedule and jobs already waiting in the database broker name.

Jobs waiting in a Redis broker are not rewritten: a job whose path no longer imports
fails at once, and the reconciler queues its work again from the generation's state
(a submit after STUDIO_CLAIM_TIMEOUT, a copy after 30 s)."""

from django.core import signing
from django.db import migrations

MOVED = {
    "studio.jobs.submit": "studio.worker.jobs.submit",
    "studio.jobs.resume_submit": "studio.worker.jobs.resume_submit",
    "studio.jobs.fetch_result": "studio.worker.jobs.fetch_result",
    "studio.jobs.reconcile": "studio.worker.jobs.reconcile",
    "studio.health.beat": "studio.worker.health.beat",
}


def rename(apps, schema_editor, moved=MOVED):
    from django_q.signing import SignedPackage

    for old, new in moved.items():
        apps.get_model("django_q", "Schedule").objects.filter(func=old).update(func=new)
    OrmQ = apps.get_model("django_q", "OrmQ")
    for queued in OrmQ.objects.all():
        try:
            task = SignedPackage.loads(queued.payload)
        except (signing.BadSignature, ValueError):
            continue  # not ours to read (another secret key); left as it is
        if isinstance(task, dict) and task.get("func") in moved:
            task["func"] = moved[task["func"]]
            OrmQ.objects.filter(pk=queued.pk).update(payload=SignedPackage.dumps(task))


def rename_back(apps, schema_editor):
    rename(apps, schema_editor, {new: old for old, new in MOVED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("studio", "0011_batches_stars_hiding_quotas"),
        ("django_q", "0014_schedule_cluster"),
    ]

    operations = [migrations.RunPython(rename, rename_back)]
