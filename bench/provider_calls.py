"""Provider calls per minute with 1, 20 and 200 tasks in flight.

Runs the follower in this process against the simulator (tasks that stay in flight),
counts the API calls the simulator receives in a window, and compares them with the
baseline measured in the same run: the calls a poller that asks about each task alone,
on the same cadence, would have made (one per task answered). The official API's task
list answers for up to 100 tasks in one call; a gateway without one is asked task by task
at no more than STUDIO_PROVIDER_CALLS_PER_SECOND.

Also shows how the cadence backs off: 200 tasks ten minutes old are asked about far
less often than new ones.

    .venv/bin/python bench/provider_calls.py [--window 30]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="bench-calls-"))
for name in [k for k in os.environ if k.startswith(("VIDU_", "STUDIO_"))]:
    del os.environ[name]
os.environ.update(
    DJANGO_SETTINGS_MODULE="studio.settings",
    STUDIO_DATA_DIR=str(TMP),
    DATABASE_URL=f"sqlite:///{TMP}/studio.sqlite3",
    LOG_LEVEL="WARNING",
)
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from studio.models import Generation, Membership, Team  # noqa: E402
from studio.simulator import Simulator  # noqa: E402
from studio.vidu import registry  # noqa: E402
from studio.worker import cadence, follower  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def data_uri() -> str:
    import base64
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 36), (40, 120, 200)).save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def in_flight(team, user, sim, provider: str, count: int, age: timedelta) -> None:
    """`count` generations whose tasks the simulator holds in flight."""
    Generation.objects.all().delete()
    dialect = registry.connect()
    from studio.vidu.base import Submission

    image = data_uri()
    now = timezone.now()
    # Steady state: each task next due somewhere within its own interval.
    probe = Generation(created_at=now - age)
    interval = cadence.poll_interval(probe).total_seconds()
    rows = []
    for _ in range(count):
        model = "viduq1" if provider == "vtrix" else "viduq2-turbo"
        params = (
            {"duration": 5, "resolution": "1080p"}
            if provider == "vtrix"
            else {"duration": 1, "resolution": "540p"}
        )
        view = dialect.create(
            Submission("img2video", model, (image,), "bench", params, payload="bench")
        )
        rows.append(
            Generation(
                team=team,
                author=user,
                endpoint="img2video",
                model=model,
                params=params,
                state="processing",
                provider=provider,
                provider_base_url=sim.base_url,
                provider_task_id=view.task_id,
                created_at=now - age,
                next_poll_at=cadence._on_grid(
                    now + timedelta(seconds=random.uniform(0, interval)),
                    cadence.grid_for(timedelta(seconds=interval)),
                ),
            )
        )
    Generation.objects.bulk_create(rows)


def measure(sim, window: float) -> tuple[float, int]:
    """(calls a minute, tasks answered) while the follower runs for `window` seconds."""
    stop = threading.Event()
    answered = [0]
    pace = follower.Pace(settings.STUDIO_PROVIDER_CALLS_PER_SECOND)

    def loop():
        while not stop.is_set():
            counts = follower.tick(pace, stop)
            answered[0] += counts["answered"]
            if not counts["tasks"]:
                stop.wait(follower.TICK)

    before = sim.stats()["api_calls"]["total"]
    thread = threading.Thread(target=loop)
    thread.start()
    time.sleep(window)
    stop.set()
    thread.join()
    calls = sim.stats()["api_calls"]["total"] - before
    return calls * 60 / window, answered[0]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--window", type=float, default=20)
    args = parser.parse_args()
    call_command("migrate", interactive=False, verbosity=0)
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("bench")
    team = Team.objects.create(name="Bench")
    Membership.objects.create(user=user, team=team, role=Membership.OWNER)

    rows = []
    for provider in ("official", "umodelverse"):
        sim = Simulator(port=0, api_key="sim-key", seconds=3600, fps=1, dialect=provider).start()
        settings.VIDU_PROVIDER, settings.VIDU_BASE_URL = provider, sim.base_url
        try:
            for age_label, age, counts in (
                ("new", timedelta(0), (1, 20, 200)),
                ("10 min old", timedelta(minutes=10), (200,)),
            ):
                for count in counts:
                    in_flight(team, user, sim, provider, count, age)
                    per_minute, answered = measure(sim, args.window)
                    baseline = answered * 60 / args.window
                    row = {
                        "provider": provider,
                        "tasks": count,
                        "age": age_label,
                        "calls_per_minute": round(per_minute, 1),
                        "per_task_baseline_per_minute": round(baseline, 1),
                        "ratio": round(per_minute / baseline, 3) if baseline else None,
                    }
                    rows.append(row)
                    print(
                        f"{provider:12} {count:4} tasks in flight ({age_label:10}): "
                        f"{row['calls_per_minute']:7} calls/min; asking each alone on the "
                        f"same cadence: {row['per_task_baseline_per_minute']:7}/min "
                        f"(ratio {row['ratio']})",
                        flush=True,
                    )
        finally:
            sim.stop()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "provider_calls.json").write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
