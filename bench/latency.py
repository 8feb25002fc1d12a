"""Provider done -> video visible in the page, for every provider dialect, with and
without callbacks.

Runs the studio as `make run` does (gunicorn, the django-q2 worker, the follower) against
the simulator speaking each dialect, submits generations through the form over HTTP, and
watches each generation's page the way htmx does (the detail page, then its poller at
the interval the page gives). A video is visible when the page's answer carries the
<video> element. "Provider done" is the moment the simulator's task reached success.

Baseline, measured in the same run: the provider's own time from submit to done.
Goals: p95 <= 3 s without callbacks, <= 1.5 s with callbacks, over >= 20 generations.

    .venv/bin/python bench/latency.py [--count 20] [--only official,vtrix]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from html import unescape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="bench-latency-"))
for name in [k for k in os.environ if k.startswith(("VIDU_", "STUDIO_"))]:
    del os.environ[name]
os.environ.update(
    DJANGO_SETTINGS_MODULE="studio.settings",
    STUDIO_DATA_DIR=str(TMP),
    DATABASE_URL=f"sqlite:///{TMP}/studio.sqlite3",
    ALLOWED_HOSTS="127.0.0.1,localhost",
    LOG_LEVEL="WARNING",
)
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from django.core.management import call_command  # noqa: E402
from PIL import Image  # noqa: E402

from studio.management.commands.studio_run import web_command  # noqa: E402
from studio.models import Generation, Membership, Team  # noqa: E402
from studio.simulator import Simulator  # noqa: E402

PASSWORD = "bench password 1234"
STEP = 1.0  # seconds per simulated state
# A quick model each provider offers: (form fields).
FORM = {
    "official": {"model": "viduq2-turbo", "duration": "1", "resolution": "540p"},
    "octopusx": {"model": "viduq2-turbo", "duration": "1", "resolution": "540p"},
    "umodelverse": {"model": "viduq2-turbo", "duration": "1", "resolution": "540p"},
    "kkiai": {"model": "viduq2", "duration": "1", "resolution": "540p"},
    "vtrix": {"model": "viduq1", "duration": "5", "resolution": "1080p"},
}
CALLBACKS = ("official", "kkiai")  # the providers that send callbacks
RESULTS = ROOT / "bench" / "results"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def picture() -> bytes:
    image = Image.new("RGB", (640, 360), (40, 120, 200))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def setup_database() -> None:
    call_command("migrate", interactive=False, verbosity=0)
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("bench", password=PASSWORD)
    team = Team.objects.create(name="Bench")
    Membership.objects.create(user=user, team=team, role=Membership.OWNER)


class Studio:
    """gunicorn, the worker and the follower, as `make run` starts them."""

    def __init__(self, provider: str, simulator: str, callbacks: bool):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(
            os.environ,
            VIDU_PROVIDER=provider,
            VIDU_BASE_URL=simulator,
            STUDIO_PUBLIC_URL=self.url if callbacks else "",
            Q_CLUSTER_NAME=f"bench-{provider}-{self.port}",
        )
        python = sys.executable
        self.logs = TMP / f"{provider}-{self.port}.log"
        log = open(self.logs, "w")  # noqa: SIM115
        argv = {
            "web": web_command(python, "127.0.0.1", self.port),
            "worker": [python, "manage.py", "qcluster"],
            "follower": [python, "manage.py", "studio_follow"],
        }
        self.processes = [
            subprocess.Popen(a, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            for a in argv.values()
        ]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/accounts/login/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        time.sleep(2)  # the worker's cluster and the follower start beside it

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


def logged_in(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/",
        data={
            "username": "bench",
            "password": PASSWORD,
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
        },
    )
    assert response.status_code == 302, response.text[:500]
    return client


def submit(client: httpx.Client, fields: dict, image: bytes) -> str:
    form = client.get("/generate/img2video/").text
    response = client.post(
        "/generate/img2video/",
        data={
            **fields,
            # The render's one-time token, as the browser sends it back.
            "form_token": re.search(r'name="form_token" value="([^"]+)"', form)[1],
            "prompt": "the camera drifts over the bay",
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
        },
        files={"images": ("bay.png", image, "image/png")},
    )
    assert response.status_code == 302, response.text[:2000]
    return response.headers["location"].rstrip("/").rsplit("/", 1)[-1]


POLLER = re.compile(r'id="poller"[^>]*hx-get="([^"]+)"\s+hx-trigger="every (\d+)s"', re.S)


def watch(url: str, cookies, generation_id: str, seen: dict) -> None:
    """Follow one page as htmx would; record when the <video> arrives."""
    with httpx.Client(base_url=url, cookies=cookies, timeout=30) as client:
        html = client.get(f"/generations/{generation_id}/").text
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if "<video" in html:
                seen[generation_id] = time.time()
                return
            match = POLLER.search(html)
            if not match:
                return  # nothing in flight any more, and no video: it failed
            poll_url, every = unescape(match[1]), int(match[2])
            time.sleep(every)
            answer = client.get(poll_url)
            if answer.status_code == 204:
                continue
            # A changed answer: its fragments, and a fresh poller when still in flight.
            fresh = POLLER.search(answer.text)
            html = answer.text if fresh or "<video" in answer.text else ""
            if not fresh and "<video" not in answer.text:
                return


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run(provider: str, callbacks: bool, count: int, image: bytes) -> dict:
    sim = Simulator(
        port=0, api_key="sim-key", seconds=STEP, fps=8, dialect=provider, concurrency=count
    ).start()
    studio = Studio(provider, sim.base_url, callbacks)
    try:
        client = logged_in(studio.url)
        ids, seen, watchers = [], {}, []
        for _ in range(count):
            gid = submit(client, FORM[provider], image)
            ids.append(gid)
            thread = threading.Thread(target=watch, args=(studio.url, client.cookies, gid, seen))
            thread.start()
            watchers.append(thread)
            time.sleep(0.3)
        for thread in watchers:
            thread.join(200)
        tasks = {t["id"]: t for t in sim.tasks()}
        latencies, provider_times = [], []
        for generation in Generation.objects.filter(pk__in=ids):
            task = tasks.get(generation.provider_task_id)
            if not task or task["state"] != "success" or str(generation.pk) not in seen:
                continue
            done = datetime.fromisoformat(task["changed_at"].replace("Z", "+00:00")).timestamp()
            created = datetime.fromisoformat(task["created_at"].replace("Z", "+00:00")).timestamp()
            latencies.append(seen[str(generation.pk)] - done)
            provider_times.append(done - created)
    finally:
        studio.stop()
        sim.stop()
    if not latencies:
        return {"provider": provider, "callbacks": callbacks, "videos": 0, "log": str(studio.logs)}
    return {
        "provider": provider,
        "callbacks": callbacks,
        "videos": len(latencies),
        "submitted": count,
        "median_s": round(statistics.median(latencies), 2),
        "p95_s": round(percentile(latencies, 95), 2),
        "max_s": round(max(latencies), 2),
        "provider_median_s": round(statistics.median(provider_times), 2),
        "ratio_to_provider_time": round(
            statistics.median(latencies) / statistics.median(provider_times), 3
        ),
        "goal_p95_s": 1.5 if callbacks else 3.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    providers = [p for p in FORM if not args.only or p in args.only.split(",")]
    setup_database()
    image = picture()
    rows = []
    for provider in providers:
        for callbacks in (False, True) if provider in CALLBACKS else (False,):
            row = run(provider, callbacks, args.count, image)
            rows.append(row)
            met = row.get("p95_s", 99) <= row.get("goal_p95_s", 0)
            print(
                f"{provider:12} {'callbacks' if callbacks else 'polling  '} "
                f"videos {row['videos']:3}  done->visible median {row.get('median_s')} s, "
                f"p95 {row.get('p95_s')} s, max {row.get('max_s')} s  "
                f"(provider's own time {row.get('provider_median_s')} s; ratio "
                f"{row.get('ratio_to_provider_time')})  goal p95 <= {row.get('goal_p95_s')} s: "
                f"{'met' if met else 'NOT met'}",
                flush=True,
            )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latency.json").write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
