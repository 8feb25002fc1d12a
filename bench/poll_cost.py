"""What the page's poll costs when nothing changed, and how many open pages a box serves.

    .venv/bin/python bench/poll_cost.py [--only sqlite|postgresql] [--seconds 20] [--quick]

For SQLite (the embedded default `make run` uses: a file in STUDIO_DATA_DIR, here a
temporary directory) and for PostgreSQL (a database it creates and drops itself; skipped,
saying why, when the server is unreachable) it builds a team with ~400 generations in
flight and a few thousand finished ones, then:

1. CPU per request in-process: Django's test client, logged in, asks a real poller URL
   (taken from a detail page) that finds nothing changed, and a bare logged-in view
   defined only in this run; process CPU time per request for each, and the ratio
   (goal: a poll costs at most 1.5x the bare view).
2. Load: gunicorn started as `make run` starts it, and 400 open pages polling from this
   process, open loop: each page sends its poll on schedule whether or not the previous
   one was answered, and latency counts from the scheduled send time, so a server that
   falls behind shows. At the page's usual cadence (every 2 s; goal p95 <= 100 ms) and at
   its fast one (every 1 s, while a video is about to appear).

The figures go to bench/results/poll_cost.json. With BENCH_PROFILE=FILE set, a cProfile
of the in-process polls (CPU time) is written to FILE too, for `python -m pstats FILE`.
Each database runs in a child process of its own, since Django is set up once per process
with one DATABASES setting.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import PG_SERVER, bare_view_urlconf, postgres

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "poll_cost.json"
PG_DATABASE = "bench_poll"
IN_FLIGHT, FINISHED, OTHER_TEAM = 400, 3_000, 500
GOAL_RATIO, GOAL_P95_MS = 1.5, 100.0
PAGE_SECONDS, FAST_SECONDS = 2.0, 1.0
WARMUP_SECONDS = 3.0
REQUEST_TIMEOUT = 10.0  # an answer later than this counts as an error
IDLE_REUSE_SECONDS = 8.0  # under gunicorn's keep-alive of 10 s, so it never closes under us


# --- The team and its generations ---------------------------------------------------


def seed() -> tuple:
    """A team whose owner has IN_FLIGHT generations being made and FINISHED done ones,
    and another team with rows of its own, so the tables are not trivially small."""
    from django.contrib.auth import get_user_model

    from studio.models import Creation, Generation, Membership, ResultStatus, State, Team

    rng = random.Random(20261121)
    User = get_user_model()
    team = Team.objects.create(name="Bench team")
    user = User.objects.create_user("ana", password=uuid.uuid4().hex)
    Membership.objects.create(user=user, team=team, role=Membership.OWNER)
    other = Team.objects.create(name="Other team")
    outsider = User.objects.create_user("olga", password=uuid.uuid4().hex)
    Membership.objects.create(user=outsider, team=other, role=Membership.OWNER)

    now = datetime.now(UTC)
    generations, creations = [], []

    def generation(team, author, state, at) -> object:
        g = Generation(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            team=team,
            author=author,
            endpoint="img2video",
            model=rng.choice(["viduq2-turbo", "viduq3-turbo", "viduq1"]),
            prompt="a slow pan over the bay",
            params={"duration": rng.choice([4, 5, 8]), "resolution": "720p"},
            estimated_credits=8,
            state=state,
            provider_task_id=str(rng.getrandbits(60)),
            created_at=at,
            updated_at=at,
        )
        generations.append(g)
        return g

    for i in range(IN_FLIGHT):
        generation(team, user, State.PROCESSING, now - timedelta(seconds=i))
    for i in range(FINISHED + OTHER_TEAM):
        at = now - timedelta(minutes=30 + i * 7)
        mine = i < FINISHED
        state = rng.choices([State.SUCCESS, State.FAILED, State.CANCELLED], [85, 11, 4])[0]
        g = generation(team if mine else other, user if mine else outsider, state, at)
        g.finished_at = at + timedelta(minutes=3)
        if state == State.SUCCESS:
            g.result_status = ResultStatus.STORED
            g.credits = 8
            creations.append(
                Creation(
                    generation=g,
                    provider_creation_id="c1",
                    video=f"creations/{g.id}/video.mp4",
                    cover=f"creations/{g.id}/cover.jpg",
                    video_size=3_000_000,
                    cover_size=40_000,
                    duration=5.0,
                    width=1280,
                    height=720,
                    codec="h264",
                    created_at=g.finished_at,
                )
            )
        else:
            g.error_reason, g.error_message = "InternalServiceFailure", "It broke."
    Generation.objects.bulk_create(generations, batch_size=1_000)
    Creation.objects.bulk_create(creations, batch_size=1_000)
    in_flight = list(
        Generation.objects.filter(team=team, state=State.PROCESSING).values_list("pk", flat=True)
    )
    return user, in_flight


def poller_url(client, generation_id) -> str:
    """The URL a generation's detail page gives its poller, as the browser asks it."""
    response = client.get(f"/generations/{generation_id}/")
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    found = re.search(r'id="poller".*?hx-get="([^"]+)"', html, re.S)
    assert found, "the detail page has no poller"
    return found[1].replace("&amp;", "&")


# --- CPU per request, in-process ----------------------------------------------------


def cpu_per_request(client, urls: dict[str, str], requests: int) -> dict:
    """Process CPU ms per request for each URL, interleaved in rounds so that drift (a
    cache warming, another process) falls on both alike."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    expected = {"poll": 204, "bare": 200}
    for name, url in urls.items():
        for _ in range(50):  # warm the connection, caches and lazy imports
            response = client.get(url)
        assert response.status_code == expected[name], (name, response.status_code)
    spent = dict.fromkeys(urls, 0.0)
    rounds = 4
    for _ in range(rounds):
        for name, url in urls.items():
            start = time.process_time()
            for _ in range(requests // rounds):
                client.get(url)
            spent[name] += time.process_time() - start
    result = {}
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        result[name] = {
            "cpu_ms": round(spent[name] * 1000 / (requests // rounds * rounds), 3),
            "queries": len(queries),
        }
    return result


def profile_poll(client, url: str, requests: int, out: Path) -> None:
    """cProfile over unchanged polls, written for `python -m pstats` or snakeviz."""
    import cProfile

    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(requests):
        client.get(url)
    profiler.disable()
    profiler.dump_stats(out)


# --- The server, as `make run` starts it --------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int) -> subprocess.Popen:
    # The web command of studio/management/commands/studio_run.py, on another port.
    argv = [sys.executable, "-m", "gunicorn", "studio.wsgi:application"]
    argv += ["--bind", f"127.0.0.1:{port}", "--worker-class", "gthread", "--threads", "8"]
    argv += ["--workers", "2", "--timeout", "120", "--keep-alive", "10"]
    argv += ["--access-logfile", "-"]
    env = os.environ | {"ALLOWED_HOSTS": "127.0.0.1"}
    server = subprocess.Popen(
        argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {server.stderr.read().decode()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                if s.recv(20).startswith(b"HTTP/1.1 200"):
                    break
        except OSError:
            pass
        time.sleep(0.2)
    else:
        raise RuntimeError("gunicorn did not answer within 30 s")
    # Its log is read and dropped from here on, so a full pipe never blocks it.
    threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
    return server


def stop_gunicorn(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds of these processes so far (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def server_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [master, *(int(p) for p in children.read_text().split())]


def box_busy() -> tuple[float, float]:
    """(busy, total) jiffies of every CPU on the box, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    total = sum(values[:8])
    return total - idle, total


# --- Open-loop load -----------------------------------------------------------------


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """(status, whether the connection stays open), the body read and dropped."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length, keep, chunked = 0, True, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value == b"close":
            keep = False
        elif name == b"transfer-encoding" and b"chunked" in value:
            chunked = True
    if status in (204, 304):
        return status, keep
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                return status, keep
    if length:
        await reader.readexactly(length)
    return status, keep


async def open_loop(
    port: int, paths: list[str], cookie: str, interval: float, seconds: float
) -> dict:
    """Each path is a page polling every `interval` s at a phase of its own, for a warm-up
    and then `seconds` measured, over keep-alive connections (one per page, and another
    whenever the page's earlier poll is still unanswered when the next is due)."""
    loop = asyncio.get_running_loop()
    requests = [
        f"GET {p} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n\r\n".encode()
        for p in paths
    ]
    idle: list[list] = [[] for _ in paths]  # per page: (reader, writer, last used)
    rng = random.Random(7)
    phases = [rng.random() * interval for _ in paths]  # pages opened at random moments
    begin = loop.time() + 0.2
    measured_from = begin + WARMUP_SECONDS
    measured_to = measured_from + seconds
    latencies: list[float] = []
    counts = {"sent": 0, "answered": 0, "errors": 0, "connections": 0, "late_sends": 0}
    statuses: dict[int, int] = {}
    tasks: set[asyncio.Task] = set()

    async def connection(page: int):
        now = loop.time()
        while idle[page]:
            reader, writer, used = idle[page].pop()
            if now - used < IDLE_REUSE_SECONDS and not reader.at_eof():
                return reader, writer
            writer.close()
        counts["connections"] += 1
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return reader, writer

    async def poll(page: int, scheduled: float) -> None:
        measured = measured_from <= scheduled < measured_to
        if measured:
            counts["sent"] += 1
        writer = None
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                reader, writer = await connection(page)
                writer.write(requests[page])
                status, keep = await read_response(reader)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            if writer is not None:
                writer.close()
            if measured:
                counts["errors"] += 1
            return
        done = loop.time()
        if keep:
            idle[page].append((reader, writer, done))
        else:
            writer.close()
        if measured:
            counts["answered"] += 1
            statuses[status] = statuses.get(status, 0) + 1
            if status != 204:
                counts["errors"] += 1
            latencies.append(done - scheduled)

    async def page(index: int) -> None:
        at = begin + phases[index]
        while at < measured_to:
            delay = at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.01 and at >= measured_from:
                counts["late_sends"] += 1  # the generator itself fell behind
            task = asyncio.create_task(poll(index, at))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            at += interval

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(page(i) for i in range(len(paths))))
    if tasks:  # the last polls sent: answered, or timed out as errors
        await asyncio.wait(set(tasks), timeout=REQUEST_TIMEOUT + 1)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    for conns in idle:
        for _, writer, _ in conns:
            writer.close()
    latencies.sort()

    def pct(p: float) -> float | None:
        if not latencies:
            return None
        return round(latencies[max(0, math.ceil(p * len(latencies)) - 1)] * 1000, 1)

    return counts | {
        "pages": len(paths),
        "interval_s": interval,
        "measured_s": seconds,
        "offered_per_s": round(len(paths) / interval, 1),
        "achieved_per_s": round(counts["answered"] / seconds, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": pct(1.0),
        "generator_cpu_s": round(cpu, 2),
        "generator_cpu_pct_of_core": round(100 * cpu / wall, 1),
    }


def database_backends() -> dict[int, float]:
    """{pid: CPU seconds} of the PostgreSQL backends serving the bench database."""
    if not os.environ.get("DATABASE_URL"):
        return {}
    import psycopg

    with psycopg.connect(PG_SERVER.rstrip("/") + "/postgres", autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", [PG_DATABASE]
        ).fetchall()
    return {pid: cpu_seconds([pid]) for (pid,) in rows}


def run_load(server, port, paths, cookie, interval, seconds) -> dict:
    pids = server_pids(server.pid)
    before = box_busy()
    time.sleep(1.0)  # how busy the box is without this load: other work shares it
    after = box_busy()
    idle_busy = (after[0] - before[0]) / max(after[1] - before[1], 1)
    backends0 = database_backends()
    server0, box0, wall0 = cpu_seconds(pids), box_busy(), time.perf_counter()
    result = asyncio.run(open_loop(port, paths, cookie, interval, seconds))
    server1, box1, wall = cpu_seconds(pids), box_busy(), time.perf_counter() - wall0
    backends = database_backends()
    database = sum(cpu - backends0.get(pid, 0.0) for pid, cpu in backends.items())
    # Over the whole run, warm-up included: the counts are scaled to match.
    polls = result["answered"] * (WARMUP_SECONDS + seconds) / seconds
    cores = os.cpu_count() or 1
    busy = (box1[0] - box0[0]) / max(box1[1] - box0[1], 1) * wall * cores  # CPU seconds
    others = busy - (server1 - server0) - result["generator_cpu_s"] - database
    result["server_cpu_ms_per_poll"] = round((server1 - server0) * 1000 / max(polls, 1), 2)
    result["database_cpu_ms_per_poll"] = round(database * 1000 / max(polls, 1), 2)
    result["box_busy_pct"] = round(100 * busy / (wall * cores), 1)
    # What serving the polls took (gunicorn and PostgreSQL), whatever else ran.
    result["polls_pct_of_box"] = round(100 * (server1 - server0 + database) / (wall * cores), 1)
    result["box_busy_before_pct"] = round(100 * idle_busy, 1)
    # Whatever else ran on the box meanwhile (other work, not this benchmark).
    result["others_pct_of_box"] = round(100 * max(others, 0.0) / (wall * cores), 1)
    return result


# --- One database, in a process of its own ------------------------------------------


def child(backend: str, out: Path, args) -> None:
    requests, seconds, fast_seconds = args.requests, args.seconds, args.fast_seconds
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    assert not settings.DEBUG, "DEBUG keeps every query in memory: unset it"
    began = time.perf_counter()
    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    user, in_flight = seed()
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:  # what autovacuum does after a bulk load
            cur.execute("VACUUM ANALYZE")
    seeded = time.perf_counter() - t0
    report = {
        "vendor": connection.vendor,
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE", 0),
        "generations": {"in_flight": len(in_flight), "finished": FINISHED, "other": OTHER_TEAM},
    }

    client = Client()
    client.force_login(user)
    testing = override_settings(
        ROOT_URLCONF=bare_view_urlconf(), ALLOWED_HOSTS=["testserver", "127.0.0.1"]
    )
    with testing:
        t0 = time.perf_counter()
        urls = {"poll": poller_url(client, in_flight[0]), "bare": "/bench/bare/"}
        cpu = cpu_per_request(client, urls, requests)
        cpu["ratio"] = round(cpu["poll"]["cpu_ms"] / cpu["bare"]["cpu_ms"], 2)
        cpu["requests_each"] = requests
        cpu["seconds"] = round(time.perf_counter() - t0, 1)
        if os.environ.get("BENCH_PROFILE"):
            profile_poll(client, urls["poll"], requests, Path(os.environ["BENCH_PROFILE"]))
        paths = [poller_url(client, pk) for pk in in_flight]
    report["cpu"] = cpu
    print_cpu(backend, cpu, seeded)

    if args.cpu_only:
        report["seconds"] = round(time.perf_counter() - began, 1)
        out.write_text(json.dumps(report))
        return
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    connection.close()  # the server's threads are the only ones asking from here on
    port = free_port()
    server = start_gunicorn(port)
    try:
        report["load"] = {}
        for label, interval, span in (
            ("page", PAGE_SECONDS, seconds),
            ("fast", FAST_SECONDS, fast_seconds),
        ):
            result = run_load(server, port, paths, cookie, interval, span)
            report["load"][label] = result
            print_load(label, result)
    finally:
        stop_gunicorn(server)
    report["seconds"] = round(time.perf_counter() - began, 1)
    out.write_text(json.dumps(report))


# --- Reporting ----------------------------------------------------------------------


def print_cpu(backend: str, cpu: dict, seeded: float) -> None:
    poll, bare = cpu["poll"], cpu["bare"]
    verdict = "met" if cpu["ratio"] <= GOAL_RATIO else "missed"
    print(f"\n{backend} (seeded in {seeded:.1f} s; {cpu['requests_each']:,} requests each)")
    print(f"  CPU per unchanged poll   {poll['cpu_ms']:6.2f} ms  ({poll['queries']} queries)")
    print(f"  CPU per bare logged-in   {bare['cpu_ms']:6.2f} ms  ({bare['queries']} queries)")
    print(f"  poll / bare              {cpu['ratio']:6.2f}x    goal ≤ {GOAL_RATIO}x: {verdict}")
    sys.stdout.flush()


def print_load(label: str, r: dict) -> None:
    head = f"every {r['interval_s']:g} s" + (" (page)" if label == "page" else " (fast)")
    goal = ""
    if label == "page":
        ok = r["p95_ms"] is not None and r["p95_ms"] <= GOAL_P95_MS and not r["errors"]
        goal = f"  goal p95 ≤ {GOAL_P95_MS:.0f} ms: {'met' if ok else 'missed'}"
    print(
        f"  {r['pages']} pages {head:<18} sent {r['sent']:>5}  answered {r['answered']:>5}"
        f"  errors {r['errors']}  {r['achieved_per_s']:>6.1f}/s of {r['offered_per_s']:g}/s"
        f"  p50 {r['p50_ms']} ms  p95 {r['p95_ms']} ms  p99 {r['p99_ms']} ms"
        f"  max {r['max_ms']} ms{goal}"
    )
    database = r["database_cpu_ms_per_poll"]
    print(
        f"    CPU: gunicorn {r['server_cpu_ms_per_poll']} ms a poll"
        + (f", PostgreSQL {database} ms a poll" if database else "")
        + f"; load generator {r['generator_cpu_pct_of_core']}% of a core"
        f" ({r['generator_cpu_s']} s); box {r['box_busy_pct']}% busy: polls"
        f" {r['polls_pct_of_box']}%,"
        f" {r['others_pct_of_box']}% other work ({r['box_busy_before_pct']}% busy just"
        f" before); {r['connections']} connections"
        + (f"; {r['late_sends']} sends late" if r["late_sends"] else "")
    )
    sys.stdout.flush()


def run_child(backend: str, args) -> dict | None:
    with tempfile.TemporaryDirectory(prefix="bench-poll-") as tmp:
        out = Path(tmp) / "out.json"
        (Path(tmp) / "staticfiles").mkdir()  # whitenoise warns about a missing STATIC_ROOT
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIDU_", "REDIS_"))}
        for name in ("DEBUG", "AWS_STORAGE_BUCKET_NAME", "MEDIA_ROOT", "STUDIO_PUBLIC_URL"):
            env.pop(name, None)
        env |= {
            "DJANGO_SETTINGS_MODULE": "studio.settings",
            "STUDIO_DATA_DIR": tmp,
            "SECRET_KEY": "bench-only-" + uuid.uuid4().hex,
            "ALLOWED_HOSTS": "127.0.0.1",
            "PYTHONUNBUFFERED": "1",
            # This checkout's code, whichever checkout the venv was installed from.
            "PYTHONPATH": str(ROOT),
            # SQLite as `make run` has it (the settings' own file in STUDIO_DATA_DIR, WAL,
            # no persistent connections); PostgreSQL through DATABASE_URL.
            "DATABASE_URL": ""
            if backend == "sqlite"
            else PG_SERVER.rstrip("/") + "/" + PG_DATABASE,
        }
        argv = [sys.executable, __file__, "--child", backend, "--out", str(out)]
        argv += ["--requests", str(args.requests), "--seconds", str(args.seconds)]
        argv += ["--fast-seconds", str(args.fast_seconds)]
        argv += ["--cpu-only"] if args.cpu_only else []
        done = subprocess.run(argv, env=env, cwd=ROOT)
        if done.returncode != 0:
            print(f"\n{backend}: the run failed (exit {done.returncode})")
            return None
        return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--requests", type=int, default=2_000, help="in-process, each")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured load, page")
    parser.add_argument("--fast-seconds", type=float, default=10.0, help="measured, fast")
    parser.add_argument("--quick", action="store_true", help="fewer requests, shorter load")
    parser.add_argument("--cpu-only", action="store_true", help="no load, CPU figures only")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, Path(args.out), args)
    if args.quick:
        args.requests, args.seconds, args.fast_seconds = 400, 6.0, 4.0

    began = time.perf_counter()
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "goal": {"poll_over_bare_cpu": GOAL_RATIO, "p95_ms": GOAL_P95_MS, "pages": IN_FLIGHT},
        "backends": {},
        "skipped": {},
    }
    for backend in ("sqlite", "postgresql"):
        if args.only and args.only != backend:
            continue
        if backend == "postgresql":
            problem = postgres(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)") or (
                postgres(f"CREATE DATABASE {PG_DATABASE}")
            )
            if problem:
                reason = f"PostgreSQL at {PG_SERVER} is not reachable ({problem})"
                print(f"\nSkipping PostgreSQL: {reason}")
                report["skipped"][backend] = reason
                continue
        try:
            result = run_child(backend, args)
        finally:
            if backend == "postgresql":
                postgres(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        if result is None:
            report["skipped"][backend] = "the run failed"
            continue
        result["met"] = {"cpu_ratio": result["cpu"]["ratio"] <= GOAL_RATIO}
        if "load" in result:
            page = result["load"]["page"]
            p95 = page["p95_ms"]
            result["met"]["p95"] = p95 is not None and p95 <= GOAL_P95_MS and not page["errors"]
        report["backends"][backend] = result
    report["seconds"] = round(time.perf_counter() - began, 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nWrote {RESULTS.relative_to(ROOT)} in {report['seconds']} s in all.")


if __name__ == "__main__":
    main()
