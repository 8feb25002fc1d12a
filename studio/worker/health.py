"""Is the job queue running? Heartbeats that jobs write, and the rule that reads them.

A django-q2 cluster can freeze with its processes alive: a worker killed while it held a
lock of the queue between the cluster's processes (the task queue's reader lock, which
an idle worker holds while it waits for work) leaves every other worker, and each one the
cluster starts in its place, waiting for that lock forever (docs/faults.md). Nothing
fails and nothing is logged; jobs just wait. So the studio watches for the one symptom:

    the queue is stalled when a job has waited more than STUDIO_STALL_SECONDS
    and no job has run in that time.

What ran, and when, is kept in `Heartbeat` rows, the same on every broker (the ORM
broker of the embedded default, or Redis) and for any number of clusters:

- `probe`: the probe job (`beat`), which `make run`'s supervisor (`QueueWatch`) sends
  through the queue every STUDIO_PROBE_SECONDS, one at a time; `probe sent` is when the
  one in the queue was sent. A probe still waiting is a job waiting.
- `reconciler`: the scheduled reconciler, which runs every minute. When it has not run
  for well over a minute, its next run is a job waiting.
- `jobs`: any job, while it runs (a worker beats every few seconds during a job, so a
  backlog of long jobs is not mistaken for a stall).

`/healthz` answers 503 with `stalled()`'s reason; `make run` restarts the worker.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from django_q.signals import post_execute_in_worker, pre_execute
from django_q.tasks import async_task

from studio.models import Heartbeat

log = logging.getLogger(__name__)

PROBE = "probe"
PROBE_SENT = "probe sent"
RECONCILER = "reconciler"
JOBS = "jobs"
RAN = (PROBE, RECONCILER, JOBS)  # beats that say a job ran

# The reconciler is scheduled every minute, and django-q2's scheduler looks at its
# schedules every 30 s or so: a reconciler that has not run for longer than this is late.
RECONCILER_DUE_SECONDS = 90


def beat(name: str = PROBE) -> None:
    """Write that `name` ran now. The probe job, and the reconciler's heartbeat."""
    _write(name, timezone.now())


def _write(name: str, at: datetime) -> None:
    Heartbeat.objects.bulk_create(
        [Heartbeat(name=name, beat_at=at)],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["beat_at"],
    )


def _beats() -> dict[str, datetime]:
    return dict(Heartbeat.objects.values_list("name", "beat_at"))


def _last_run(beats: dict[str, datetime]) -> datetime | None:
    return max((beats[name] for name in RAN if name in beats), default=None)


def send_probe(*, fresh: bool = False) -> bool:
    """Send a probe through the queue, unless the last one has not run yet.

    `fresh`: send one whatever happened to the last (the worker has just started, and a
    probe sent to a cluster that was stopped may never run). True when one was sent.
    """
    beats = _beats()
    sent, answered = beats.get(PROBE_SENT), beats.get(PROBE)
    if not fresh and sent is not None and (answered is None or answered < sent):
        return False  # one is waiting: it is what tells a stall
    _write(PROBE_SENT, timezone.now())
    async_task("studio.worker.health.beat", PROBE, task_name="queue probe")
    return True


def stalled(now: datetime | None = None, *, watched_since: datetime | None = None) -> str | None:
    """Why the queue is stalled (jobs wait and none has run for too long), or None.

    `watched_since`: when the worker being judged started; a job that was waiting
    before (the reconciler overdue while the studio was off) counts from then.
    """
    now = now or timezone.now()
    limit = timedelta(seconds=settings.STUDIO_STALL_SECONDS)
    beats = _beats()
    ran = _last_run(beats)
    waiting = []
    sent, answered = beats.get(PROBE_SENT), beats.get(PROBE)
    if sent is not None and (answered is None or answered < sent):
        waiting.append(sent)  # the probe in the queue
    reconciled = beats.get(RECONCILER)
    if reconciled is not None:
        due = reconciled + timedelta(seconds=RECONCILER_DUE_SECONDS)
        if due < now:
            waiting.append(due)  # the next scheduled reconcile
    if not waiting:
        return None
    since = min(waiting)
    if watched_since is not None:
        since = max(since, watched_since)
    if now - since <= limit or (ran is not None and now - ran <= limit):
        return None
    quiet = now - (ran if ran is not None else since)
    return f"jobs are waiting and none has run for {int(quiet.total_seconds())} s"


class QueueWatch:
    """`make run`'s watchdog over the job queue, for `studio.management.supervise.Supervisor`.

    Every `every` seconds it sends a probe (when the last has run) and asks `stalled()`;
    a reason means the worker must be restarted.
    """

    program = "worker"

    def __init__(self, every: float | None = None):
        self.every = float(every if every is not None else settings.STUDIO_PROBE_SECONDS)
        self.since: datetime | None = None

    def started(self) -> None:
        """The worker (re)started: a new probe, so the round starts afresh."""
        self.since = timezone.now()
        _fresh_connection()
        send_probe(fresh=True)

    def check(self) -> str | None:
        _fresh_connection()
        reason = stalled(watched_since=self.since)
        if reason is None:
            send_probe()
        return reason


def _fresh_connection() -> None:
    """A long-lived process (the supervisor) drops a connection that broke or aged, as a
    request would; not inside a transaction (a test's), which that would end."""
    if connection.get_autocommit():
        close_old_connections()


class _JobBeats:
    """In a worker process: beat `jobs` every few seconds while a job runs.

    A frozen worker runs nothing, so it never beats; a busy one beats even when its job
    takes minutes (a provider that does not answer), which keeps a long backlog from
    looking like a stall. Started by the first job a worker process runs.
    """

    def __init__(self):
        self.running = False
        self.ran = False  # a job started since the last beat
        self._pid = None
        self._lock = threading.Lock()

    @property
    def every(self) -> float:
        return max(0.5, settings.STUDIO_STALL_SECONDS / 6)

    def job_started(self, **kwargs) -> None:
        self.running = self.ran = True
        with self._lock:
            if self._pid != os.getpid():  # none yet in this process (threads do not fork)
                self._pid = os.getpid()
                threading.Thread(target=self._loop, name="studio-job-beats", daemon=True).start()

    def job_ended(self, **kwargs) -> None:
        self.running = False

    def _loop(self) -> None:
        while True:
            if self.running or self.ran:
                self.ran = False
                try:
                    beat(JOBS)
                except Exception:  # a busy or absent database: the next beat will do
                    log.warning("could not write the job heartbeat", exc_info=True)
                finally:
                    connection.close()  # this thread's: none held open between beats
            time.sleep(self.every)


job_beats = _JobBeats()


def connect_job_beats() -> None:
    """Called by the app's ready(): every worker process beats while it runs jobs."""
    pre_execute.connect(job_beats.job_started, dispatch_uid="studio.worker.health.job_started")
    post_execute_in_worker.connect(
        job_beats.job_ended, dispatch_uid="studio.worker.health.job_ended"
    )
