"""How much memory a 45 MB image upload costs the web process, and what the worker reads.

Run from the repository: `.venv/bin/python bench/upload_memory.py`. It

1. makes a ~45 MB noisy PNG (within Vidu's limits: under 50 MB, 16:15);
2. starts the studio's web server as `make run` does (gunicorn, gthread), one worker,
   on a temporary SQLite database and data directory; logs in with httpx; posts the
   image to /generate/img2video/ and follows the worker's resident memory meanwhile;
3. builds the provider request for that generation in this process, with and without
   STUDIO_PUBLIC_URL, counting the bytes read while building and the body's size.

4. on a server set up as `make run` sets up each web process (gthread, 8 threads), sends
   an 8944 × 8944 PNG of a quarter of a megabyte (80 megapixels of one colour: a small
   file that claims a huge canvas) with a form the studio refuses, so the image is kept,
   and asks for its thumbnail as the page does: once, then eight at once; then a form
   with a 100 MB prompt.

Prints the figures and writes them to bench/results/upload_memory.json. The goals: the
worker grows by at most 1.5x the file, a link is sent without reading the image, the
request body stays within 20,000,000 bytes, the big canvas costs the web process at most
BIG_CANVAS_GOAL_BYTES however many arrive at once, and the huge prompt is refused before
it is read.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "upload_memory.json"
TARGET_BYTES = 45_000_000
WIDTH = 4000  # 4000 × 3750: 16:15, about 45 MB of incompressible RGB
GOAL_RATIO = 1.5
BODY_LIMIT = 20_000_000
BIG_CANVAS_SIDE = 8944  # 79,995,136 pixels: just under the studio's 80 megapixels
BIG_CANVAS_GOAL_BYTES = 64_000_000
HUGE_PROMPT_BYTES = 100_000_000


def make_png(path: Path) -> int:
    """Random pixels, stored nearly as they are: the worst case for every encoder."""
    from PIL import Image

    height = TARGET_BYTES // (WIDTH * 3)
    picture = Image.frombytes("RGB", (WIDTH, height), os.urandom(WIDTH * height * 3))
    picture.save(path, "PNG", compress_level=1)
    return path.stat().st_size


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(c) for c in text)
    return found


def status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of `pid`, in bytes."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024
    return values


def cpu_seconds(pid: int) -> float:
    """User and system CPU time `pid` has used (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_peak(pid: int) -> bool:
    """Start VmHWM afresh from the current RSS (Linux: clear_refs 5)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class Sampler(threading.Thread):
    """Polls a process's resident memory until stopped; keeps the highest seen."""

    def __init__(self, pid: int, every: float = 0.002):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.peak = 0
        self.samples = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            try:
                self.peak = max(self.peak, status(self.pid)["VmRSS"])
                self.samples += 1
            except (OSError, KeyError):
                return
            time.sleep(self.every)

    def stop(self) -> None:
        self._done.set()
        self.join()


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match[1]


def manage(env: dict, *args: str, stdin: str | None = None) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        input=stdin,
        text=True,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the web server exited with {process.returncode}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("the web server did not start")


def post_image(client: httpx.Client, base: str, name: str, fh, fields: dict) -> httpx.Response:
    return client.post(
        f"{base}/generate/img2video/",
        data={
            "model": "viduq2-turbo",
            "shown_model": "viduq2-turbo",
            "duration": "1",
            "resolution": "540p",
            "prompt": "a slow pan across the noise",
            **fields,
        },
        files={"images": (name, fh, "image/png")},
        headers={"Referer": f"{base}/generate/img2video/"},
        timeout=300,
    )


class Studio:
    """The studio's web server, started as `make run` starts it, with one worker
    process (its memory is what is measured), and a logged-in client."""

    def __init__(self, env: dict, threads: int):
        self.env, self.threads = env, threads
        self.base = f"http://127.0.0.1:{free_port()}"

    def __enter__(self) -> Studio:
        env = self.env
        password = secrets.token_urlsafe(16)
        manage(env, "migrate", "--verbosity", "0")
        manage(
            env,
            "studio_user",
            "bench",
            "--team",
            "Bench",
            "--role",
            "owner",
            "--password-stdin",
            stdin=password + "\n",
        )
        self.server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "studio.wsgi:application",
                "--bind",
                self.base.removeprefix("http://"),
                "--worker-class",
                "gthread",
                "--threads",
                str(self.threads),
                "--workers",
                "1",
                "--timeout",
                "300",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            process_group=0,
        )
        try:
            wait_for(f"{self.base}/accounts/login/", self.server)
            [self.worker] = children(self.server.pid)
            self.client = httpx.Client(follow_redirects=False)
            login = self.client.get(f"{self.base}/accounts/login/")
            answer = self.client.post(
                f"{self.base}/accounts/login/",
                data={
                    "username": "bench",
                    "password": password,
                    "csrfmiddlewaretoken": csrf_token(login.text),
                },
                headers={"Referer": f"{self.base}/accounts/login/"},
            )
            if answer.status_code != 302:
                raise RuntimeError(f"login answered {answer.status_code}")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
        os.killpg(self.server.pid, 15)
        try:
            self.server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.server.pid, 9)
            self.server.wait()

    def form_token(self) -> dict:
        """The hidden fields of a fresh render of the form."""
        html = self.client.get(f"{self.base}/generate/img2video/").text
        fields = {"csrfmiddlewaretoken": csrf_token(html)}
        token = re.search(r'name="form_token" value="([^"]+)"', html)
        if token:
            fields["form_token"] = token[1]
        return fields

    def warm_up(self) -> None:
        """A small upload first, so every module the view needs is imported and the
        worker's memory settles before the measured one."""
        from PIL import Image

        small = io.BytesIO()
        Image.new("RGB", (320, 180), (40, 120, 200)).save(small, "PNG")
        small.seek(0)
        warm = post_image(self.client, self.base, "small.png", small, self.form_token())
        if warm.status_code != 302:
            raise RuntimeError(f"the warm-up upload answered {warm.status_code}")
        time.sleep(0.5)


class Growth:
    """The worker's resident memory while the block runs: before, peak and after."""

    def __init__(self, pid: int):
        self.pid = pid

    def __enter__(self) -> Growth:
        self.before = status(self.pid)["VmRSS"]
        self.peak_reset = reset_peak(self.pid)
        self.sampler = Sampler(self.pid)
        self.sampler.start()
        self.cpu_before = cpu_seconds(self.pid)
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.started
        self.cpu = cpu_seconds(self.pid) - self.cpu_before
        time.sleep(0.05)
        self.sampler.stop()
        after = status(self.pid)
        self.after = after["VmRSS"]
        self.peak = max(self.sampler.peak, after["VmHWM"] if self.peak_reset else 0)
        self.growth = self.peak - self.before

    def figures(self) -> dict:
        return {
            "worker_rss_before": self.before,
            "worker_rss_peak": self.peak,
            "worker_rss_after": self.after,
            "growth_bytes": self.growth,
            "kept_after_bytes": self.after - self.before,
            "wall_seconds": round(self.wall, 3),
            "worker_cpu_seconds": round(self.cpu, 3),
        }


def measure_upload(env: dict, image: Path, size: int) -> dict:
    with Studio(env, threads=2) as studio:
        studio.warm_up()
        fields = studio.form_token()
        with Growth(studio.worker) as growth, image.open("rb") as fh:
            answer = post_image(studio.client, studio.base, "noise.png", fh, fields)
        if answer.status_code != 302:
            raise RuntimeError(f"the upload answered {answer.status_code}: {answer.text[:300]}")
    return {
        "file_bytes": size,
        "worker_rss_before": growth.before,
        "worker_rss_peak": growth.peak,
        "worker_rss_after": growth.after,
        "growth_bytes": growth.growth,
        "growth_ratio": round(growth.growth / size, 3),
        "goal_ratio": GOAL_RATIO,
        "upload_wall_seconds": round(growth.wall, 3),
        # The wall time follows the machine's load; the worker's CPU time less so.
        "upload_worker_cpu_seconds": round(growth.cpu, 3),
        "load_average": os.getloadavg()[0],
        "rss_samples": growth.sampler.samples,
        "peak_from_vmhwm": growth.peak_reset,
        "generation": answer.headers["Location"].rstrip("/").rsplit("/", 1)[-1],
    }


def big_canvas_png(side: int) -> bytes:
    """A valid PNG of a black square `side` pixels wide: every row there, compressed to
    almost nothing."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    packer = zlib.compressobj(9)
    row = b"\0" * (1 + side * 3)
    pixels = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def refused_with_thumbnail(studio: Studio, data: bytes) -> int:
    """Send the image with a form the studio refuses (a duration the model lacks), so it
    is kept, then fetch its thumbnail as the page does. The thumbnail's size in bytes."""
    answer = studio.client.post(
        f"{studio.base}/generate/img2video/",
        data={
            "model": "viduq2-turbo",
            "shown_model": "viduq2-turbo",
            "duration": "99",
            "resolution": "540p",
            "prompt": "a slow pan across the dark",
            **studio.form_token(),
        },
        files={"images": ("big.png", data, "image/png")},
        headers={"Referer": f"{studio.base}/generate/img2video/"},
        timeout=300,
    )
    if answer.status_code != 422:
        raise RuntimeError(f"the refused form answered {answer.status_code}: {answer.text[:300]}")
    [src] = re.findall(r'<img src="(/generate/staged/[^"]+)"', answer.text)
    thumb = studio.client.get(f"{studio.base}{src}", timeout=300)
    if thumb.status_code != 200:
        raise RuntimeError(f"the thumbnail answered {thumb.status_code}")
    return len(thumb.content)


def measure_big_canvas(env: dict) -> dict:
    data = big_canvas_png(BIG_CANVAS_SIDE)
    results: dict = {
        "file_bytes": len(data),
        "pixels": BIG_CANVAS_SIDE**2,
        "goal_bytes": BIG_CANVAS_GOAL_BYTES,
    }
    with Studio(env, threads=8) as studio:
        studio.warm_up()
        with Growth(studio.worker) as one:
            refused_with_thumbnail(studio, data)
        results["one"] = one.figures()
        with Growth(studio.worker) as eight, ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: refused_with_thumbnail(studio, data), range(8)))
        results["eight_at_once"] = eight.figures()
        with Growth(studio.worker) as prompt:
            answer = studio.client.post(
                f"{studio.base}/generate/img2video/",
                data={
                    "model": "viduq2-turbo",
                    "shown_model": "viduq2-turbo",
                    "duration": "1",
                    "resolution": "540p",
                    "prompt": "x" * HUGE_PROMPT_BYTES,
                    **studio.form_token(),
                },
                files={"images": ("small.png", b"not read", "image/png")},
                headers={"Referer": f"{studio.base}/generate/img2video/"},
                timeout=300,
            )
        results["huge_prompt"] = {
            **prompt.figures(),
            "prompt_bytes": HUGE_PROMPT_BYTES,
            "status": answer.status_code,
            "answer_bytes": len(answer.content),
        }
    return results


def read_bytes() -> int:
    """Bytes this process has read through read() calls so far (page cache included)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise RuntimeError("no rchar in /proc/self/io")


def measure_build(generation_id: str) -> dict:
    """In this process: what submission.build() reads, and the body it makes."""
    import django

    django.setup()
    from django.conf import settings

    from studio.models import Generation
    from studio.worker import connections, submission

    generation = Generation.objects.get(pk=generation_id)
    stored = generation.images.get()
    results = {"stored_image_bytes": stored.size}
    # Once unmeasured, so that imports and first queries are not counted as reads.
    settings.STUDIO_PUBLIC_URL = "https://studio.example"
    submission.build(generation)
    for name, public_url in (("link", "https://studio.example"), ("reencoded", "")):
        settings.STUDIO_PUBLIC_URL = public_url
        dialect = connections.dialect_for(generation)
        generation = Generation.objects.get(pk=generation_id)
        rss_before = status(os.getpid())["VmRSS"]
        peak_reset = reset_peak(os.getpid())
        read_before = read_bytes()
        started = time.perf_counter()
        request = submission.build(generation, dialect)
        wall = time.perf_counter() - started
        read = read_bytes() - read_before
        peak = status(os.getpid())["VmHWM"] if peak_reset else None
        body = json.dumps(dialect.body(request), ensure_ascii=False, separators=(",", ":"))
        [sent] = request.images
        results[name] = {
            "public_url": public_url or None,
            "bytes_read": read,
            "body_bytes": len(body.encode()),
            "body_limit": BODY_LIMIT,
            "image_sent_as": "link" if sent.startswith("http") else sent.split(",")[0],
            "seconds": round(wall, 2),
            "peak_rss_growth_bytes": None if peak is None else peak - rss_before,
        }
    return results


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="upload-bench-"))
    try:
        image = work / "noise.png"
        size = make_png(image)
        data_dir = work / "data"
        (data_dir / "staticfiles").mkdir(parents=True)
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{work / 'studio.sqlite3'}",
            "STUDIO_DATA_DIR": str(data_dir),
            "DJANGO_SETTINGS_MODULE": "studio.settings",
            "STUDIO_PUBLIC_URL": "",
        }
        env.pop("MEDIA_ROOT", None)
        env.pop("AWS_STORAGE_BUCKET_NAME", None)
        upload = measure_upload(env, image, size)
        big_canvas = measure_big_canvas(
            {**env, "DATABASE_URL": f"sqlite:///{work / 'big-canvas.sqlite3'}"}
        )
        os.environ.update({k: env[k] for k in ("DATABASE_URL", "STUDIO_DATA_DIR")})
        os.environ.update(DJANGO_SETTINGS_MODULE="studio.settings", STUDIO_PUBLIC_URL="")
        os.environ.pop("MEDIA_ROOT", None)
        os.environ.pop("AWS_STORAGE_BUCKET_NAME", None)
        sys.path.insert(0, str(ROOT))
        build = measure_build(upload["generation"])
    finally:
        shutil.rmtree(work, ignore_errors=True)

    results = {"upload": upload, "build": build, "big_canvas": big_canvas}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")

    mb = 1_000_000
    print(f"image file:                {size / mb:.1f} MB")
    print(
        f"web worker growth:         {upload['growth_bytes'] / mb:.1f} MB "
        f"(RSS {upload['worker_rss_before'] / mb:.0f} -> peak "
        f"{upload['worker_rss_peak'] / mb:.0f} MB)"
    )
    ok = "ok" if upload["growth_ratio"] <= GOAL_RATIO else "OVER"
    print(f"growth / file:             {upload['growth_ratio']:.2f} (goal <= {GOAL_RATIO}: {ok})")
    print(
        f"upload view wall time:     {upload['upload_wall_seconds']:.2f} s "
        f"(web worker CPU {upload['upload_worker_cpu_seconds']:.2f} s; "
        f"load average {upload['load_average']:.1f})"
    )
    for name in ("link", "reencoded"):
        part = build[name]
        ok = "ok" if part["body_bytes"] <= BODY_LIMIT else "OVER"
        growth = part["peak_rss_growth_bytes"]
        print(
            f"build() {name:<10}         read {part['bytes_read'] / mb:.2f} MB, "
            f"body {part['body_bytes']:,} bytes ({ok}), sent as {part['image_sent_as']}, "
            f"{part['seconds']:.2f} s"
            + ("" if growth is None else f", peak RSS +{growth / mb:.0f} MB")
        )
    for name in ("one", "eight_at_once"):
        part = big_canvas[name]
        ok = "ok" if part["growth_bytes"] <= BIG_CANVAS_GOAL_BYTES else "OVER"
        print(
            f"80 MP PNG of {big_canvas['file_bytes'] / 1000:.0f} kB, {name.replace('_', ' ')}: "
            f"web worker +{part['growth_bytes'] / mb:.0f} MB at peak ({ok}), "
            f"+{part['kept_after_bytes'] / mb:.0f} MB after, {part['wall_seconds']:.2f} s"
        )
    part = big_canvas["huge_prompt"]
    print(
        f"100 MB prompt:             answered {part['status']} ({part['answer_bytes']:,} bytes), "
        f"web worker +{part['growth_bytes'] / mb:.0f} MB at peak, {part['wall_seconds']:.2f} s"
    )
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
