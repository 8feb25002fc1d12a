"""How the history and team pages hold up as a team's history grows.

    .venv/bin/python bench/history.py [--requests 20] [--only sqlite|postgresql] [--quick]

Builds a team with several members and a realistic history (states, models, kinds,
prompts of varied words, months of dates, credits, stored videos) on a throwaway SQLite
file (up to 10,000 generations) and on a PostgreSQL database it creates and drops itself
(up to 100,000; skipped, saying why, when PostgreSQL is unreachable). At each size it
asks every history page (first, older, search, each filter) and the team page ~20 times
through Django's test client, logged in, and prints the median and p95 server time, the
SQL queries a page makes, and the time against a bare logged-in view measured in the
same run. The figures go to bench/results/history.json as well.

Each database runs in a child process of its own, since Django is set up once per
process with one DATABASES setting.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import PG_SERVER, bare_view_urlconf, postgres

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "history.json"
PG_DATABASE = "bench_history"
SIZES = {"sqlite": [100, 1_000, 10_000], "postgresql": [100, 1_000, 10_000, 100_000]}
QUICK_SIZES = {"sqlite": [100, 1_000], "postgresql": [100, 1_000]}
GOAL_QUERIES, GOAL_MS = 8, 60.0

# --- The history a team makes -------------------------------------------------------

# Login as "ana", an owner who made an eighth of the team's videos ("Only mine").
MEMBERS = [("ana", "owner", 12), ("ben", "member", 30), ("cleo", "member", 24)]
MEMBERS += [("dev", "member", 18), ("eli", "member", 10), ("fay", "viewer", 0)]
FORMER = ("gus", 5)  # left the team; their videos stay in its history
MODELS = {
    "viduq3-turbo": 30,
    "viduq2-turbo": 24,
    "viduq3-pro": 15,
    "viduq2-pro": 10,
    "viduq1": 8,
    "viduq2-pro-fast": 6,
    "viduq2": 4,
    "viduq1-classic": 2,
    "vidu2.0": 1,
}
PROVIDERS = {"official": 85, "kkiai": 5, "vtrix": 5, "octopusx": 5}
SUBJECTS = (
    "a red fox|an old fisherman|two dancers|a paper boat|a city tram|a golden retriever|"
    "a sailing ship|a child with a kite|a small robot|a hot air balloon|a sleeping cat|"
    "a street musician|a vintage car|a flock of birds|a chef|an astronaut|a ballerina|"
    "a steam train|a koi fish|a cyclist"
).split("|")
ACTIONS = (
    "walks slowly through|drifts across|spins above|runs along|floats over|dances in|"
    "turns to look at|rides through|circles around|waits quietly in|glides past|climbs"
).split("|")
PLACES = (
    "the harbour at dawn|a misty pine forest|a neon street at night|the desert dunes|"
    "a snowy mountain pass|a crowded market|the rooftops of an old town|a quiet library|"
    "a field of sunflowers|an underwater reef|a rainy train station|a candle-lit hall"
).split("|")
STYLES = (
    "cinematic lighting|slow pan|35mm film grain|drone shot|handheld camera|soft focus|"
    "golden hour|time-lapse|shallow depth of field|wide angle|pastel colours|"
    "high contrast|watercolour style|anime style|dolly zoom|gentle camera push-in"
).split("|")
RARE = "with a lighthouse beam sweeping the fog"  # one prompt in five hundred
FAILURES = [
    ("TaskPromptPolicyViolation", "Vidu refused the prompt under its content policy."),
    ("ImageDownloadFailure", "Vidu could not download the input image."),
    ("InternalServiceFailure", "Vidu failed to make the video; no credits were charged."),
]


def pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), list(weights.values()))[0]


def prompt(rng: random.Random) -> str:
    if rng.random() < 0.04:
        return ""
    words = f"{rng.choice(SUBJECTS)} {rng.choice(ACTIONS)} {rng.choice(PLACES)}"
    styles = rng.sample(STYLES, rng.randint(0, 5))
    if styles:
        words += ", " + ", ".join(styles)
    if rng.random() < 0.002:
        words += ", " + RARE
    if rng.random() < 0.1:  # some people write paragraphs
        words += ". " + " ".join(rng.choice(STYLES) for _ in range(rng.randint(10, 40)))
    return words


def created_at(rng: random.Random, now: datetime, month: datetime) -> datetime:
    """A fifth of the history this calendar month, the rest over the eleven before."""
    if rng.random() < 0.2:
        span = (now - month).total_seconds()
        return now - timedelta(seconds=rng.random() * span)
    return month - timedelta(seconds=rng.random() * 335 * 86400)


def seed(team, authors: list, count: int, rng: random.Random, now: datetime) -> None:
    """Add `count` generations to `team`, and the videos of the finished ones."""
    from studio.budgets import month_start
    from studio.models import Creation, Generation, ResultStatus, State

    month = month_start(now)
    in_flight = [State.QUEUED, State.SUBMITTING, State.CREATED, State.QUEUEING]
    in_flight.append(State.PROCESSING)
    people = {a: w for a, w in authors}
    # Inserted oldest first, as a studio stores them: the table's order follows time.
    times = sorted(created_at(rng, now, month) for _ in range(count))
    for start in range(0, count, 5_000):
        generations, creations = [], []
        for at in times[start : start + 5_000]:
            endpoint = "start-end2video" if rng.random() < 0.15 else "img2video"
            model = pick(rng, MODELS)
            if endpoint == "start-end2video" and model == "viduq2":
                model = "viduq2-turbo"
            provider = pick(rng, PROVIDERS)
            duration = rng.choice([4, 5, 8])
            resolution = rng.choice(["540p", "720p", "1080p"])
            estimate = duration * {"540p": 1, "720p": 2, "1080p": 4}[resolution]
            if now - at < timedelta(minutes=30):
                state = rng.choice(in_flight)  # the last half hour is still being made
            elif rng.random() < 0.0005:
                state = State.UNCONFIRMED  # stuck, waiting for someone to decide
            else:
                state = pick(rng, {State.SUCCESS: 85, State.FAILED: 11, State.CANCELLED: 4})
            g = Generation(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                team=team,
                author=pick(rng, people),
                endpoint=endpoint,
                model=model,
                prompt=prompt(rng),
                params={
                    "duration": duration,
                    "resolution": resolution,
                    "seed": rng.choice([0, 0, rng.randint(1, 2**31)]),
                    "movement_amplitude": rng.choice(["auto", "small", "large"]),
                    "off_peak": rng.random() < 0.2,
                },
                state=state,
                provider=provider,
                provider_task_id=str(rng.getrandbits(60)) if state != State.QUEUED else "",
                estimated_credits=estimate if provider in ("official", "kkiai") else None,
                created_at=at,
                updated_at=at + timedelta(minutes=2),
            )
            if state == State.SUCCESS:
                g.finished_at = at + timedelta(minutes=rng.randint(1, 6))
                stored = rng.random() < 0.97
                g.result_status = ResultStatus.STORED if stored else ResultStatus.UNAVAILABLE
                if provider in ("official", "kkiai"):
                    g.credits = estimate
                elif provider == "vtrix":
                    g.cost_usd = round(0.05 * duration, 4)
                if stored:
                    creations.append(
                        Creation(
                            generation=g,
                            provider_creation_id="c1",
                            video=f"creations/{g.id}/video.mp4",
                            cover=f"creations/{g.id}/cover.jpg",
                            video_size=rng.randint(500_000, 9_000_000),
                            cover_size=40_000,
                            duration=float(duration),
                            width=1280,
                            height=720,
                            codec="h264",
                            created_at=g.finished_at,
                        )
                    )
            elif state in (State.FAILED, State.CANCELLED):
                g.finished_at = at + timedelta(minutes=1)
                g.credits = 0 if rng.random() < 0.5 else None
                g.error_reason, g.error_message = rng.choice(FAILURES)
            generations.append(g)
        Generation.objects.bulk_create(generations, batch_size=1_000)
        Creation.objects.bulk_create(creations, batch_size=1_000)


# --- Measuring ----------------------------------------------------------------------


def pages(cursor: str) -> list[tuple[str, str, dict]]:
    history, team_page = "/generations/", "/team/"
    return [
        ("bare view (baseline)", "/bench/bare/", {}),
        ("first page", history, {}),
        ("older page (before)", history, {"before": cursor}),
        ("search, common word", history, {"q": "harbour"}),
        ("search, rare word", history, {"q": "lighthouse"}),
        ("search, no match", history, {"q": "zeppelin"}),
        ("search, older page", history, {"q": "harbour", "before": cursor}),
        ("only mine", history, {"mine": "1"}),
        ("in progress", history, {"state": "active"}),
        ("state done", history, {"state": "success"}),
        ("state failed", history, {"state": "failed"}),
        ("state cancelled", history, {"state": "cancelled"}),
        ("model (8%)", history, {"model": "viduq1"}),
        ("model (1%)", history, {"model": "vidu2.0"}),
        ("kind start-end", history, {"kind": "start-end2video"}),
        ("mine + model + older", history, {"mine": "1", "model": "viduq3-turbo", "before": cursor}),
        ("team page", team_page, {}),
    ]


def measure(client, pages: list[tuple[str, str, dict]], requests: int, explain: bool) -> dict:
    """Every page `requests` times, in rounds (one request a page each), so a burst of
    load elsewhere on the machine falls on all pages alike; then once more to count
    the queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times: dict[str, list[float]] = {name: [] for name, _, _ in pages}
    for round_ in range(requests + 2):  # the first two warm caches and the connection
        for name, url, query in pages:
            start = time.perf_counter()
            response = client.get(url, query)
            took = (time.perf_counter() - start) * 1000
            assert response.status_code == 200, (url, query, response.status_code)
            if round_ >= 2:
                times[name].append(took)
    rows = {}
    for name, url, query in pages:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, query)
        ordered = sorted(times[name])
        rows[name] = {
            "median_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)], 2),
            "min_ms": round(ordered[0], 2),
            "queries": len(queries),
            "cards": len(re.findall(rb'data-generation-id="', response.content)),
        }
        if explain:
            print_plan(name, queries.captured_queries)
    return rows


def print_plan(page: str, captured: list[dict]) -> None:
    """The plan of the page's slowest query (--explain)."""
    from django.db import connection

    # SQLite's timings are in whole milliseconds: on a tie, the generations' query.
    slowest = max(
        (q for q in captured if q["sql"].startswith("SELECT")),
        key=lambda q: (float(q["time"]), '"studio_generation"' in q["sql"]),
        default=None,
    )
    if slowest is None:
        return
    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ANALYZE "
    with connection.cursor() as cursor:
        cursor.execute(explain + slowest["sql"])
        plan = [" ".join(str(c) for c in row) for row in cursor.fetchall()]
    print(f"\n  {page}: {float(slowest['time']) * 1000:.1f} ms\n    {slowest['sql'][:600]}")
    print("\n".join("      " + line for line in plan))


def child(backend: str, out: Path, requests: int, sizes: list[int], explain: bool) -> None:
    """Runs in a process of its own, with DATABASE_URL already chosen."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import override_settings
    from django.utils import timezone

    from studio.models import Generation, Membership, Team
    from studio.web.views.generations import cursor as cursor_of

    override_settings(ROOT_URLCONF=bare_view_urlconf(), ALLOWED_HOSTS=["testserver"]).enable()
    assert not settings.DEBUG, "DEBUG keeps every query in memory: unset it"
    began = time.perf_counter()
    call_command("migrate", verbosity=0)
    User = get_user_model()
    # With a budget, as a team watching its spending has: the team page then also says
    # how far the month can still go over (studio.budgets.exposure).
    team = Team.objects.create(name="Bench team", monthly_budget=1_000_000)
    other = Team.objects.create(name="Other team")
    authors = []
    for name, role, weight in MEMBERS:
        user = User.objects.create(username=name)
        Membership.objects.create(user=user, team=team, role=role)
        authors.append((user, weight))
    authors.append((User.objects.create(username=FORMER[0]), FORMER[1]))
    outsider = User.objects.create(username="olga")
    Membership.objects.create(user=outsider, team=other, role="owner")
    client = Client()
    client.force_login(User.objects.get(username="ana"))
    rng, now = random.Random(20261121), timezone.now()

    results, have = {}, 0
    for size in sizes:
        t0 = time.perf_counter()
        with transaction.atomic():
            seed(team, authors, size - have, rng, now)
            seed(other, [(outsider, 1)], (size - have) // 10, rng, now)  # another team's
        have = size
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:  # what autovacuum does after a bulk load
                cur.execute("VACUUM ANALYZE")
        loaded = time.perf_counter() - t0
        mid = Generation.objects.filter(team=team).order_by("-created_at", "-pk")[size // 2]
        t0 = time.perf_counter()
        rows = measure(client, pages(cursor_of(mid)), requests, explain and size == sizes[-1])
        results[size] = rows
        print_table(backend, size, rows, loaded, time.perf_counter() - t0)
    out.write_text(
        json.dumps(
            {
                "vendor": connection.vendor,
                "server_version": server_version(connection),
                "seconds": round(time.perf_counter() - began, 1),
                "sizes": results,
            }
        )
    )


def server_version(connection) -> str:
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


# --- Reporting ----------------------------------------------------------------------


def print_table(backend: str, size: int, rows: dict, loaded: float, took: float) -> None:
    base = rows["bare view (baseline)"]["median_ms"]
    print(f"\n{backend}, {size:,} generations (loaded in {loaded:.1f} s, measured in {took:.1f} s)")
    print(f"  {'page':<24}{'cards':>6}{'queries':>8}{'median':>10}{'p95':>10}{'× bare':>8}")
    for name, r in rows.items():
        flag = ""
        if name != "bare view (baseline)":
            ok = r["queries"] <= GOAL_QUERIES and r["median_ms"] <= GOAL_MS
            flag = "" if ok else "  over the goal"
        print(
            f"  {name:<24}{r['cards']:>6}{r['queries']:>8}{r['median_ms']:>8.1f}ms"
            f"{r['p95_ms']:>8.1f}ms{r['median_ms'] / base:>7.1f}x{flag}"
        )
    sys.stdout.flush()


def print_growth(backend: str, sizes: dict) -> None:
    counts = sorted(sizes, key=int)
    heads = "".join(f"{int(s):>10,}" for s in counts)
    print(f"\n{backend}: median ms as the history grows (generations in the team)")
    print(f"  {'page':<24}{heads}{'growth':>9}")
    for name in sizes[counts[0]]:
        line = [sizes[s][name]["median_ms"] for s in counts]
        cells = "".join(f"{v:>8.1f}ms" for v in line)
        print(f"  {name:<24}{cells}{line[-1] / line[0]:>8.1f}x")


def summary(backend: str, sizes: dict) -> dict:
    largest = max(sizes, key=int)
    rows = {k: v for k, v in sizes[largest].items() if k != "bare view (baseline)"}
    over = [k for k, r in rows.items() if r["queries"] > GOAL_QUERIES or r["median_ms"] > GOAL_MS]
    worst = max(rows, key=lambda k: rows[k]["median_ms"])
    print(
        f"\n{backend} at {int(largest):,}: most queries {max(r['queries'] for r in rows.values())}"
        f", slowest {worst} {rows[worst]['median_ms']:.1f} ms median"
        f" ({rows[worst]['p95_ms']:.1f} ms p95); goal ≤ {GOAL_QUERIES} queries and"
        f" ≤ {GOAL_MS:.0f} ms: {'met' if not over else 'missed by ' + ', '.join(over)}"
    )
    return {"size": int(largest), "met": not over, "over": over}


def run_child(backend: str, args, sizes: list[int]) -> dict | None:
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        out = Path(tmp) / "out.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIDU_", "REDIS_"))}
        env.pop("DEBUG", None)
        env |= {
            "DJANGO_SETTINGS_MODULE": "studio.settings",
            "STUDIO_DATA_DIR": tmp,
            "MEDIA_ROOT": str(Path(tmp) / "media"),
            "SECRET_KEY": "bench-only-" + uuid.uuid4().hex,
            "PYTHONUNBUFFERED": "1",
        }
        env |= child_env(backend, tmp)
        (Path(tmp) / "staticfiles").mkdir()  # where whitenoise looks, so it does not warn
        argv = [sys.executable, __file__, "--child", backend, "--out", str(out)]
        argv += ["--requests", str(args.requests), "--sizes", ",".join(map(str, sizes))]
        argv += ["--explain"] if args.explain else []
        done = subprocess.run(argv, env=env, cwd=ROOT)
        if done.returncode != 0:
            print(f"\n{backend}: the run failed (exit {done.returncode})")
            return None
        return json.loads(out.read_text())


def child_env(backend: str, tmp: str) -> dict:
    if backend == "sqlite":
        return {"DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"}
    return {"DATABASE_URL": PG_SERVER.rstrip("/") + "/" + PG_DATABASE}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20, help="timed requests a page")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument(
        "--explain", action="store_true", help="print each page's slowest query plan"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sizes = [int(s) for s in args.sizes.split(",")]
        return child(args.child, Path(args.out), args.requests, sizes, args.explain)

    began = time.perf_counter()
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "goal": {"queries": GOAL_QUERIES, "median_ms": GOAL_MS},
        "requests_per_page": args.requests,
        "backends": {},
        "skipped": {},
    }
    for backend in ("sqlite", "postgresql"):
        if args.only and args.only != backend:
            continue
        sizes = (QUICK_SIZES if args.quick else SIZES)[backend]
        if backend == "postgresql":
            problem = postgres(f"DROP DATABASE IF EXISTS {PG_DATABASE}") or postgres(
                f"CREATE DATABASE {PG_DATABASE}"
            )
            if problem:
                reason = f"PostgreSQL at {PG_SERVER} is not reachable ({problem})"
                print(f"\nSkipping PostgreSQL: {reason}")
                report["skipped"][backend] = reason
                continue
        try:
            result = run_child(backend, args, sizes)
        finally:
            if backend == "postgresql":
                postgres(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        if result is None:
            report["skipped"][backend] = "the run failed"
            continue
        print_growth(backend, result["sizes"])
        result["goal"] = summary(backend, result["sizes"])
        report["backends"][backend] = result
    report["seconds"] = round(time.perf_counter() - began, 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nWrote {RESULTS.relative_to(ROOT)} in {report['seconds']} s in all.")


if __name__ == "__main__":
    main()
