"""How fast the worker sends queued generations to a provider that answers at once.

    .venv/bin/python bench/submit_rate.py [--count 200] [--only sqlite|postgresql]
                                          [--workers N]

For each profile (a SQLite file + django-q2's ORM broker; PostgreSQL + the Redis
broker), in a child process of its own (Django is set up once per process):

1. starts the simulator in that process (official dialect) with tasks that stay
   `created` for an hour, so nothing renders and no callback fires;
2. migrates a throwaway database, stores `--count` queued generations with a small
   input image (as tests/factories.py does) and queues a submit job for each;
3. times the provider alone: as many create calls, one after another, from that process
   through the dialect and kept HTTP client the worker uses (`registry.connect()`);
4. starts `manage.py qcluster` with the settings' defaults (Q_WORKERS unset, unless
   `--workers`) and polls the database until every generation has left
   `queued`/`submitting`. The rate counts from the first to the last to leave, so the
   cluster's start-up is not in it; the CPU the cluster's processes used meanwhile is
   reported per submission too, as the machine's other load does not change it;
5. checks that the simulator holds exactly one task per generation: nothing sent twice.

The goal is 40 submissions a second on both profiles. PostgreSQL (BENCH_PG_URL; a
database of its own, created and dropped) and Redis (BENCH_REDIS_URL, db 12, a queue
name of its own) are skipped, saying why, when unreachable. The figures also go to
bench/results/submit_rate.json. BENCH_PY_SPY=DIR samples the cluster with py-spy
(`.venv/bin/pip install py-spy`) into DIR/<profile>.txt while it works.
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from common import PG_SERVER, postgres

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "submit_rate.json"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
GOAL = 40.0  # submissions a second
PROFILES = ("sqlite", "postgresql")
POLL = 0.01  # seconds between looks at the database while the worker runs
RUN_LIMIT = 120.0  # seconds the worker gets for the whole queue


# --- In the child: one profile ------------------------------------------------------


def png(width: int = 320, height: int = 180) -> bytes:
    """The picture the tests use (tests/conftest.py), without importing pytest."""
    from PIL import Image

    image = Image.new("RGB", (width, height), (40, 120, 200))
    for x in range(0, width, max(1, width // 8)):
        for y in range(height):
            image.putpixel((x, y), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def store_generations(count: int) -> list:
    """`count` queued generations of one team, each with its input image (as
    tests/factories.py `make_generation` stores them)."""
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile

    from studio.models import Generation, InputImage, Membership, Team

    team = Team.objects.create(name="Bench team")
    author = get_user_model().objects.create(username="bench")
    Membership.objects.create(user=author, team=team, role=Membership.OWNER)
    picture = png()
    generations = []
    for _ in range(count):
        generation = Generation.objects.create(
            team=team,
            author=author,
            endpoint="img2video",
            model="viduq2-turbo",
            prompt="a slow pan over the bay",
            params={"duration": 2, "resolution": "540p"},
            estimated_credits=2,
            state="queued",
        )
        image = InputImage(
            generation=generation,
            position=0,
            format="png",
            width=320,
            height=180,
            size=len(picture),
        )
        image.file.save("0.png", ContentFile(picture), save=False)
        image.save()
        generations.append(generation)
    return generations


def provider_rate(generation, count: int) -> dict:
    """`count` create calls in a row from here, as the worker makes them: the provider's
    own pace, the ceiling for anything that sends one generation per call."""
    from dataclasses import replace

    from studio.vidu import registry
    from studio.worker import submission

    dialect = registry.connect()
    request = submission.build(generation, dialect)
    dialect.create(replace(request, payload="bench-warm-up"))  # connection, imports
    began = time.perf_counter()
    for i in range(count):
        dialect.create(replace(request, payload=f"bench-baseline-{i}"))
    seconds = time.perf_counter() - began
    return {"calls": count, "seconds": round(seconds, 3), "per_second": round(count / seconds, 1)}


def start_worker(log_path: Path, workers: int | None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "Q_WORKERS"}
    if workers:
        env["Q_WORKERS"] = str(workers)
    with open(log_path, "w") as log:
        return subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,  # its own group: stopped with everything it forked
        )


def py_spy(pid: int, profile: str, workdir: Path) -> subprocess.Popen | None:
    """With BENCH_PY_SPY=DIR, sample the qcluster's processes on CPU (BENCH_PY_SPY_IDLE=1:
    waiting too) into DIR, as collapsed stacks (a line a stack: flame graphs, grep)."""
    out = os.environ.get("BENCH_PY_SPY")
    if not out:
        return None
    Path(out).mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).with_name("py-spy")
    argv = [str(spy), "record", "--subprocesses", "--format", "raw", "--rate", "250"]
    if os.environ.get("BENCH_PY_SPY_IDLE"):
        argv.append("--idle")  # waits too (on the database, the provider, the queue)
    argv += ["-o", str(Path(out) / f"{profile}.txt"), "--pid", str(pid)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=open(workdir / "spy.log", "w"))


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # whatever it left behind
    except ProcessLookupError:
        pass
    process.wait(10)


def group_cpu(pgid: int) -> float:
    """CPU seconds used so far by the live processes of one process group (the qcluster:
    its sentinel, pusher, monitor, scheduler and workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[2]) == pgid:  # fields[0] is the state; pgrp is the third
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def watch(ids: list, process: subprocess.Popen, log_path: Path) -> dict:
    """Poll until every generation has left queued/submitting; when the first and the
    last did, and the CPU the worker and this process (the simulator) used between."""
    from studio.models import Generation

    pending = Generation.objects.filter(pk__in=ids, state__in=["queued", "submitting"])
    total = len(ids)
    started = time.perf_counter()
    first = last = None
    left = total
    while time.perf_counter() - started < RUN_LIMIT:
        left = pending.count()
        now = time.perf_counter()
        if left < total and first is None:
            first = now
            cpu_first, here_first = group_cpu(process.pid), time.process_time()
        if left == 0:
            last = now
            cpu = group_cpu(process.pid) - cpu_first
            here = time.process_time() - here_first
            break
        if process.poll() is not None:
            raise SystemExit(f"qcluster exited ({process.returncode}):\n{log_path.read_text()}")
        time.sleep(POLL)
    if last is None:
        raise SystemExit(f"{left} of {total} still queued after {RUN_LIMIT:.0f} s")
    return {
        "first_after": first - started,
        "last_after": last - started,
        "worker_cpu": cpu,
        "simulator_cpu": here,
    }


def event_span(ids: list) -> float:
    """The worker's own clock: the first to the last `created` event it recorded."""
    from django.db.models import Max, Min

    from studio.models import GenerationEvent

    span = GenerationEvent.objects.filter(
        generation_id__in=ids, state="created", source="submit"
    ).aggregate(first=Min("at"), last=Max("at"))
    return (span["last"] - span["first"]).total_seconds()


def sent_once(sim, ids: list) -> dict:
    """Every generation's payload at the provider exactly once, and nothing else."""
    per_payload = collections.Counter(task["payload"] for task in sim.tasks())
    wanted = {str(pk) for pk in ids}
    twice = {p: n for p, n in per_payload.items() if p in wanted and n > 1}
    missing = sorted(wanted - set(per_payload))
    strays = [p for p in per_payload if p not in wanted and not p.startswith("bench-")]
    return {
        "ok": not twice and not missing and not strays,
        "twice": twice,
        "missing": missing[:5],
        "strays": strays[:5],
    }


def child(profile: str, count: int, out: Path, workers: int | None) -> None:
    """Runs with DATABASE_URL (and REDIS_URL) chosen by the parent."""
    sys.path.insert(0, str(ROOT))
    from studio.simulator import Simulator

    # Tasks stay `created` for an hour: no render, no callback, no state change.
    sim = Simulator(port=0, dialect="official", seconds=3600, fps=1).start()
    os.environ["VIDU_BASE_URL"] = sim.base_url
    os.environ["STUDIO_PUBLIC_URL"] = ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import django

    django.setup()
    import logging

    logging.getLogger("django-q").setLevel(logging.WARNING)  # a line a job queued
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django_q.brokers import get_broker

    from studio.models import Generation, State
    from studio.worker import queue

    assert not settings.DEBUG, "DEBUG keeps every query in memory: unset it"
    workdir = Path(settings.DATA_DIR)
    try:
        call_command("migrate", verbosity=0)
        get_broker().purge_queue()
        generations = store_generations(count)
        ids = [g.pk for g in generations]
        provider = provider_rate(generations[0], count)
        calls_before = sim.stats()["api_calls"]["total"]
        for generation in generations:
            queue.enqueue_submit(generation)  # autocommit: queued at once
        log_path = workdir / "qcluster.log"
        process = start_worker(log_path, workers)
        spy = py_spy(process.pid, profile, workdir)
        try:
            seen = watch(ids, process, log_path)
        finally:
            stop_worker(process)
            if spy is not None:
                spy.wait(30)
        span = seen["last_after"] - seen["first_after"]
        worker_rate = (count - 1) / span if span > 0 else float("inf")
        events = event_span(ids)
        states = collections.Counter(
            Generation.objects.filter(pk__in=ids).values_list("state", flat=True)
        )
        once = sent_once(sim, ids)
        result = {
            "profile": profile,
            "database": connection.vendor,
            "broker": "redis" if settings.REDIS_URL else "orm",
            "workers": workers or settings.Q_CLUSTER["workers"],
            "generations": count,
            "provider": provider,
            "worker": {
                "seconds_first_to_last": round(span, 3),
                "per_second": round(worker_rate, 1),
                "per_second_by_events": round((count - 1) / events, 1) if events else None,
                "first_after_start": round(seen["first_after"], 2),
                "all_after_start": round(seen["last_after"], 2),
                # CPU per submission across the cluster's processes: what bounds the
                # rate on a machine of few cores, whatever else is running on it.
                "cpu_ms_per_submit": round(1000 * seen["worker_cpu"] / (count - 1), 1),
                "simulator_cpu_ms_per_submit": round(1000 * seen["simulator_cpu"] / (count - 1), 1),
            },
            "ratio_worker_to_provider": round(worker_rate / provider["per_second"], 3),
            "states": dict(states),
            "worker_api_calls": sim.stats()["api_calls"]["total"] - calls_before,
            "sent_once": once,
            "goal_per_second": GOAL,
            "met": worker_rate >= GOAL and once["ok"] and states == {State.CREATED: count},
        }
        out.write_text(json.dumps(result))
    finally:
        sim.stop()
        if settings.REDIS_URL:
            broker = get_broker()
            broker.delete_queue()
            for key in broker.connection.keys(f"django_q:{settings.Q_CLUSTER['name']}:*"):
                broker.connection.delete(key)


# --- In the parent ------------------------------------------------------------------


def redis_problem() -> str | None:
    try:
        import redis

        redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def run_profile(profile: str, count: int, workers: int | None) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-submit-") as tmp:
        out = Path(tmp) / "out.json"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("VIDU_", "REDIS_", "DATABASE_", "Q_", "STUDIO_", "MEDIA_"))
        }
        env.pop("DEBUG", None)
        env |= {
            "DJANGO_SETTINGS_MODULE": "studio.settings",
            "STUDIO_DATA_DIR": tmp,
            "MEDIA_ROOT": str(Path(tmp) / "media"),
            "SECRET_KEY": "bench-only-" + uuid.uuid4().hex,
            "Q_CLUSTER_NAME": f"bench-submit-{uuid.uuid4().hex[:8]}",
            "PYTHONUNBUFFERED": "1",
        }
        database = ""
        if profile == "sqlite":
            env["DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        else:
            problem = redis_problem()
            if problem:
                return {"profile": profile, "skipped": f"Redis at {REDIS_URL}: {problem}"}
            database = f"bench_submit_rate_{uuid.uuid4().hex[:8]}"
            problem = postgres(f'CREATE DATABASE "{database}"')
            if problem:
                return {"profile": profile, "skipped": f"PostgreSQL at {PG_SERVER}: {problem}"}
            env["DATABASE_URL"] = PG_SERVER.rstrip("/") + "/" + database
            env["REDIS_URL"] = REDIS_URL
        try:
            argv = [sys.executable, __file__, "--child", profile, "--out", str(out)]
            argv += ["--count", str(count)] + (["--workers", str(workers)] if workers else [])
            done = subprocess.run(argv, env=env, cwd=ROOT)
            if done.returncode != 0 or not out.exists():
                return {"profile": profile, "failed": f"the run failed (exit {done.returncode})"}
            return json.loads(out.read_text())
        finally:
            if database:
                postgres(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def report(result: dict) -> None:
    name = result["profile"]
    if "skipped" in result or "failed" in result:
        print(f"\n{name}: skipped, {result.get('skipped') or result.get('failed')}")
        return
    w, p, once = result["worker"], result["provider"], result["sent_once"]
    print(
        f"\n{name} ({result['database']} + {result['broker']} broker, "
        f"{result['workers']} workers, {result['generations']} generations)"
    )
    print(
        f"  provider alone:  {p['per_second']:7.1f} creates/s  ({p['calls']} in {p['seconds']} s)"
    )
    print(
        f"  worker:          {w['per_second']:7.1f} submits/s  (first to last in "
        f"{w['seconds_first_to_last']} s; {w['per_second_by_events']}/s by the worker's "
        f"own event times; all done {w['all_after_start']} s after qcluster started)"
    )
    print(
        f"  worker CPU:      {w['cpu_ms_per_submit']:7.1f} ms a submit, all qcluster "
        f"processes (simulator and polling here: {w['simulator_cpu_ms_per_submit']} ms)"
    )
    print(f"  worker/provider: {result['ratio_worker_to_provider']:7.3f}")
    print(
        f"  sent once:       {'yes' if once['ok'] else 'NO ' + json.dumps(once)}  "
        f"(states {result['states']}, {result['worker_api_calls']} API calls by the worker)"
    )
    print(f"  goal {result['goal_per_second']:.0f}/s: {'met' if result['met'] else 'missed'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="queued generations")
    parser.add_argument("--only", choices=PROFILES)
    parser.add_argument("--workers", type=int, help="Q_WORKERS (default: the settings' default)")
    parser.add_argument("--child", choices=PROFILES, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.count, args.out, args.workers)
        return

    began = time.perf_counter()
    results = {}
    for profile in [args.only] if args.only else PROFILES:
        results[profile] = run_profile(profile, args.count, args.workers)
        report(results[profile])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                f"Python {platform.python_version()}",
                "seconds": round(time.perf_counter() - began, 1),
                "profiles": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwritten to {RESULTS.relative_to(ROOT)} in {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
