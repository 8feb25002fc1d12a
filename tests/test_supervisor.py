"""`make run`'s supervisor: a process that dies is started again alone, one that keeps
dying stops everything, and a stalled job queue restarts the worker (and only it).

The last test runs the real thing: the simulator, a django-q2 cluster under the
supervisor with the studio's queue watchdog, and its workers SIGKILLed again and again
while generations are under way; every generation still ends with its video stored."""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from django_q.tasks import async_task

from studio.management.supervise import GaveUp, Supervisor
from studio.models import Generation
from studio.worker import health, queue
from tests.conftest import child_env, database_url, free_port, png
from tests.factories import make_generation

pytestmark = pytest.mark.skipif(not Path("/proc").exists(), reason="reads processes from /proc")

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def forking_sleeper(pid_file: Path) -> list[str]:
    """A program that starts a child which ignores SIGTERM (as a worker stuck on a lock
    may seem to), writes the child's pid to `pid_file`, and sleeps."""
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import signal, time; "
        "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(600)\n"
    )
    return [sys.executable, "-c", code]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_for(predicate, timeout: float, what: str, tick=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if tick:
            tick()
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def pid_in(path: Path) -> int:
    wait_for(lambda: path.exists() and path.read_text(), 10, f"{path.name}")
    return int(path.read_text())


@pytest.fixture
def supervisors():
    made: list[Supervisor] = []

    def make(programs, **options) -> Supervisor:
        options.setdefault("say", messages.append)
        supervisor = Supervisor(programs, **options)
        made.append(supervisor)
        return supervisor.start()

    messages: list[str] = []
    make.messages = messages
    yield make
    for supervisor in made:
        supervisor.stop()


def test_a_program_that_dies_is_started_again_and_the_others_go_on(supervisors, tmp_path):
    supervisor = supervisors(
        [("simulator", SLEEPER), ("worker", forking_sleeper(tmp_path / "a")), ("web", SLEEPER)],
        first_pause=0.1,
    )
    pids = {p.name: p.pid for p in supervisor.programs}
    orphan = pid_in(tmp_path / "a")

    os.kill(pids["worker"], signal.SIGKILL)
    wait_for(
        lambda: supervisor["worker"].pid not in (None, pids["worker"]),
        10,
        "the worker to start again",
        tick=supervisor.poll,
    )
    assert alive(supervisor["worker"].pid)
    assert supervisor["simulator"].pid == pids["simulator"] and alive(pids["simulator"])
    assert supervisor["web"].pid == pids["web"] and alive(pids["web"])
    # What the dead one had started went with it.
    wait_for(lambda: not alive(orphan), 5, "the dead worker's child to end")
    assert supervisor.restarts == [("worker", "exited with -9")]
    assert "worker exited with -9; starting it again in 0.1 s." in supervisors.messages


def test_each_exit_within_a_minute_doubles_the_pause(supervisors):
    supervisor = supervisors([("web", SLEEPER)], first_pause=0.2)
    for _ in range(3):
        pid = supervisor["web"].pid
        os.kill(pid, signal.SIGKILL)
        wait_for(
            lambda pid=pid: supervisor["web"].pid not in (None, pid),
            10,
            "web to start again",
            tick=supervisor.poll,
        )
    pauses = [re.search(r"again in (\S+) s", m)[1] for m in supervisors.messages]
    assert pauses == ["0.2", "0.4", "0.8"]


def test_a_program_that_keeps_dying_stops_everything(supervisors):
    failing = [sys.executable, "-c", "raise SystemExit(3)"]
    supervisor = supervisors(
        [("simulator", failing), ("web", SLEEPER)], first_pause=0.01, give_up_after=5
    )
    web = supervisor["web"].pid
    stopping = threading.Event()
    with pytest.raises(GaveUp, match=r"simulator exited 5 times within 60 s \(last with 3\)"):
        supervisor.run(stopping, tick=0.02)
    assert alive(web)  # run() leaves the stopping to its caller, as make run does next
    supervisor.stop()
    assert not alive(web)
    assert len(supervisor.restarts) == 4


class StalledOnce:
    """A watchdog that finds the queue stalled once, and counts the worker's starts."""

    program = "worker"
    every = 0.1

    def __init__(self):
        self.starts = 0
        self.checks = 0

    def started(self):
        self.starts += 1

    def check(self):
        self.checks += 1
        return "jobs are waiting and none has run for 31 s" if self.checks == 1 else None


def test_a_stalled_queue_restarts_only_the_worker(supervisors, tmp_path):
    watchdog = StalledOnce()
    supervisor = supervisors(
        [
            ("simulator", SLEEPER),
            ("worker", forking_sleeper(tmp_path / "stuck")),
            ("follower", SLEEPER),
            ("web", SLEEPER),
        ],
        watchdog=watchdog,
    )
    pids = {p.name: p.pid for p in supervisor.programs}
    stuck = pid_in(tmp_path / "stuck")  # ignores SIGTERM

    wait_for(lambda: watchdog.checks >= 1, 5, "the watchdog to check", tick=supervisor.poll)
    assert supervisor["worker"].pid != pids["worker"] and alive(supervisor["worker"].pid)
    wait_for(lambda: not alive(pids["worker"]) and not alive(stuck), 5, "the old worker's end")
    for name in ("simulator", "follower", "web"):
        assert supervisor[name].pid == pids[name] and alive(pids[name])
    assert watchdog.starts == 2  # at the start, and after the restart
    assert supervisor.restarts == [("worker", "jobs are waiting and none has run for 31 s")]
    assert "Restarting the worker: jobs are waiting and none has run for 31 s." in (
        supervisors.messages
    )
    # A healthy queue afterwards: nothing more is restarted.
    wait_for(lambda: watchdog.checks >= 4, 5, "more checks", tick=supervisor.poll)
    assert len(supervisor.restarts) == 1


def test_stop_ends_every_group_even_what_ignores_sigterm(supervisors, tmp_path):
    supervisor = supervisors(
        [("worker", forking_sleeper(tmp_path / "w")), ("web", SLEEPER)], stop_timeout=1
    )
    pids = [p.pid for p in supervisor.programs] + [pid_in(tmp_path / "w")]
    supervisor.stop()
    wait_for(lambda: not any(alive(pid) for pid in pids), 5, "every process to end")


# The real thing


def members(field: int, value: int) -> list[int]:
    """Live processes whose /proc stat field (2: process group, 3: session) is `value`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[field]) == value and fields[0] not in ("Z", "X"):
            found.append(int(stat.parent.name))
    return found


def group_members(pgid: int) -> list[int]:
    return members(2, pgid)


def session_members(sid: int) -> list[int]:
    return members(3, sid)


def terminal(generation: Generation) -> bool:
    if generation.state == "success":
        return generation.result_status == "stored"
    return generation.state in ("failed", "cancelled")


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_workers_killed_again_and_again_every_generation_still_ends(
    live_server, start_simulator, settings, team, alice, media_root, tmp_path
):
    """SIGKILL every django-q2 worker of the cluster (not the cluster itself) several
    times: first while it idles, which freezes django-q2 for good (the reader lock of its
    task queue dies with the worker that held it), then while generations are under way.
    The watchdog notices that jobs wait and none runs, and restarts the cluster."""
    simulator = start_simulator(seconds=0.3, fps=4)
    clocks = {
        "VIDU_TIMEOUT": "1",
        "STUDIO_BACKOFF_BASE": "0.05",
        "STUDIO_POLL_SECONDS": "1",
        "STUDIO_CLAIM_TIMEOUT": "15",  # above one submit attempt (studio.W001)
        "STUDIO_STALL_SECONDS": "3",
        "Q_WORKERS": "2",
    }
    settings.VIDU_BASE_URL = simulator
    settings.STUDIO_STALL_SECONDS = 3
    settings.STUDIO_CLAIM_TIMEOUT = 15
    log_path = tmp_path / "cluster.log"
    log = open(log_path, "w")  # noqa: SIM115
    env = child_env(
        DATABASE_URL=database_url(),
        VIDU_BASE_URL=simulator,
        STUDIO_PUBLIC_URL=live_server.url,
        MEDIA_ROOT=settings.MEDIA_ROOT,
        REDIS_URL=settings.REDIS_URL or None,
        Q_CLUSTER_NAME=os.environ.get("Q_CLUSTER_NAME"),  # named as here, side by side too
        **clocks,
    )
    supervisor = Supervisor(
        [("worker", [sys.executable, "manage.py", "qcluster"])],
        env=env,
        popen_options={"stdout": log, "stderr": log, "cwd": Path(__file__).parent.parent},
        watchdog=health.QueueWatch(every=0.5),
        say=lambda message: log.write(f"SUPERVISOR {message}\n"),
    )

    def cluster_log() -> str:
        log.flush()
        return log_path.read_text()

    def workers() -> list[int]:
        """The cluster's live django-q2 workers (not its master, sentinel, pusher...)."""
        listed = {int(pid) for pid in re.findall(r"ready for work at (\d+)", cluster_log())}
        return sorted(listed & set(group_members(supervisor["worker"].pid)))

    def kill_workers() -> int:
        targets = workers()
        for pid in targets:
            os.kill(pid, signal.SIGKILL)
        return len(targets)

    last_reconcile = 0.0

    def tick():
        nonlocal last_reconcile
        supervisor.poll()
        # The reconciler runs through the queue, as its schedule makes it (every 2 s
        # here instead of every minute): while the queue is frozen, it does not run.
        if time.monotonic() - last_reconcile > 2:
            last_reconcile = time.monotonic()
            async_task("studio.worker.jobs.reconcile", task_name="reconcile")

    try:
        supervisor.start()
        wait_for(lambda: len(workers()) == 2, 60, "the cluster's two workers", tick=tick)
        time.sleep(1)  # both idle, one of them waiting on the task queue's reader lock

        killed = [kill_workers()]  # idle: django-q2 freezes until the cluster restarts
        wait_for(
            lambda: supervisor.restarts, 30, "the watchdog to restart the stalled cluster", tick
        )
        assert "Restarting the worker: jobs are waiting and none has run for" in cluster_log()

        ids = []
        for _ in range(6):
            generation = make_generation(team, alice, params={"duration": 1, "resolution": "540p"})
            queue.enqueue_submit(generation)
            ids.append(generation.pk)

        def under_way(not_after: float) -> bool:
            return (
                Generation.objects.filter(pk__in=ids, state="submitting").exists()
                or Generation.objects.filter(pk__in=ids, result_status="fetching").exists()
                or time.monotonic() > not_after
            )

        started = time.monotonic()
        for round_ in range(3):  # while generations are submitted, made and copied
            wait_for(lambda: len(workers()) == 2, 30, "the cluster's workers", tick=tick)
            not_after = started + 4 * (round_ + 1)
            wait_for(lambda: under_way(not_after), 30, "a job under way", tick=tick)  # noqa: B023
            killed.append(kill_workers())

        def all_ended():
            return all(terminal(g) for g in Generation.objects.filter(pk__in=ids))

        wait_for(all_ended, 75, "every generation to end", tick=tick)
    finally:
        supervisor.stop()
        log.close()

    generations = list(Generation.objects.filter(pk__in=ids))
    assert all(g.state == "success" and g.result_status == "stored" for g in generations), [
        (g.state, g.result_status, g.error_message) for g in generations
    ]
    for generation in generations:
        creation = generation.creations.get()
        assert creation.video.size > 0 and creation.codec == "h264"
    assert sum(killed) >= 6, killed  # two workers each time, four times
    stalls = [why for name, why in supervisor.restarts if "none has run" in why]
    print(f"\nworkers killed {killed}; restarts for a stalled queue: {len(stalls)}")
    assert stalls, "the watchdog restarted the frozen cluster"


def png_uri() -> str:
    return "data:image/png;base64," + base64.b64encode(png(96, 64)).decode()


def children_of(pid: int) -> dict[str, int]:
    """The live children of `pid`, by the command each runs."""
    names = {
        "vidu_simulator": "simulator",
        "qcluster": "worker",
        "studio_follow": "follower",
        "gunicorn": "web",
    }
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            argv = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(fields[1]) != pid or fields[0] in ("Z", "X"):
            continue
        for word, name in names.items():
            if any(part.decode(errors="replace").endswith(word) for part in argv):
                found[name] = int(stat.parent.name)
    return found


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.embedded
def test_make_run_starts_a_dead_simulator_again_and_stops_at_once(tmp_path):
    port, sim_port = free_port(), free_port()
    env = child_env(
        STUDIO_DATA_DIR=tmp_path,
        PORT=port,
        VIDU_SIM_PORT=sim_port,
        VIDU_SIM_SECONDS=0.2,
        VIDU_SIM_FPS=4,
    )
    env.pop("DATABASE_URL", None)  # the embedded default, in its own data directory
    env.pop("REDIS_URL", None)
    log = open(tmp_path / "run.log", "w")  # noqa: SIM115
    run = subprocess.Popen(
        [sys.executable, "manage.py", "studio_run"],
        cwd=Path(__file__).parent.parent,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    web, simulator = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sim_port}"
    auth = {"Authorization": "Token sim-key"}

    def get(url, **kwargs):
        try:
            return httpx.get(url, timeout=5, **kwargs)
        except httpx.HTTPError:
            return None

    try:
        health = wait_for(lambda: get(f"{web}/healthz"), 60, "the web server")
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        wait_for(lambda: get(f"{simulator}/_sim/stats"), 30, "the simulator")
        body = {"model": "viduq2-turbo", "images": [png_uri()], "duration": 1}
        made = httpx.post(f"{simulator}/ent/v2/img2video", json=body, headers=auth, timeout=10)
        task_id = made.json()["task_id"]
        query = f"{simulator}/ent/v2/tasks/{task_id}/creations"
        wait_for(lambda: get(query, headers=auth).json()["state"] == "success", 30, "the task")
        before = wait_for(
            lambda: len(children_of(run.pid)) == 4 and children_of(run.pid), 30, "4 processes"
        )

        os.kill(before["simulator"], signal.SIGKILL)

        def restarted():
            now = children_of(run.pid)
            return now.get("simulator") not in (None, before["simulator"]) and now

        after = wait_for(restarted, 30, "the simulator to start again")
        answer = wait_for(lambda: get(query, headers=auth), 30, "the new simulator")
        assert answer.json()["state"] == "success"  # the task outlived its simulator
        video = httpx.get(answer.json()["creations"][0]["url"], timeout=10)
        assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
        for name in ("worker", "follower", "web"):
            assert after[name] == before[name], name
        assert (
            "simulator exited with -9; starting it again in 1 s."
            in (tmp_path / "run.log").read_text()
        )
        assert get(f"{web}/healthz").status_code == 200

        # Ctrl-C: every program stops in its own orderly way, the worker's cluster too
        # (SIGTERM to its whole group used to hang it until the SIGKILL 20 s later).
        os.killpg(run.pid, signal.SIGINT)
        assert run.wait(timeout=12) == 0
    finally:
        # Whatever is left of the session, children included, when the test failed.
        for pid in session_members(run.pid):
            os.kill(pid, signal.SIGKILL)
        run.wait()
        log.close()
