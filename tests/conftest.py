"""Shared test setup: named people (Alice and her teammates, outsider Charlie), images,
and real processes (the simulator, a django-q2 worker) for the integration tests."""

from __future__ import annotations

import functools
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from PIL import Image

from studio.models import Membership, Team

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"
REQUIRE_SERVICES = os.environ.get("STUDIO_REQUIRE_SERVICES", "") in ("1", "true", "yes")


GENERATION_FORM = re.compile(r"^/generate/(img2video|start-end2video)/$")


class FormClient(Client):
    """The test client, sending the generation form as a page rendered by the studio does.

    Each render of the form carries a fresh one-time token; a POST that names none is
    given one, as a fresh render would. Tests of the token itself pass theirs.
    """

    def post(self, path, data=None, *args, **kwargs):
        if isinstance(data, dict) and "form_token" not in data and GENERATION_FORM.match(path):
            data = {**data, "form_token": fresh_form_token()}
        return super().post(path, data, *args, **kwargs)


def fresh_form_token() -> str:
    import secrets

    return secrets.token_urlsafe(24)


def pytest_collection_modifyitems(config, items):
    """The slowest tests first: run side by side (pytest-xdist), the others fill in
    around them instead of the run waiting on them at its end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def client():
    return FormClient()


@pytest.fixture
def decoded_pictures(monkeypatch):
    """Every picture Pillow decodes while the test runs, whole or drafted."""
    from PIL import ImageFile

    calls = []
    for owner in (Image.Image, ImageFile.ImageFile):
        original = owner.load

        def counting(self, *args, _original=original, **kwargs):
            if getattr(self, "im", None) is None or getattr(self, "tile", None):
                calls.append((self.format, self.size))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(owner, "load", counting)
    return calls


def require(reason: str) -> None:
    """Skip with `reason`, or fail where CI demands that nothing is skipped."""
    if REQUIRE_SERVICES:
        pytest.fail(f"STUDIO_REQUIRE_SERVICES is set, but: {reason}")
    pytest.skip(reason)


def png(width: int = 320, height: int = 180, color=(40, 120, 200), fmt: str = "PNG") -> bytes:
    image = Image.new("RGB", (width, height), color)
    # Some structure, so a camera move over it is visible.
    for x in range(0, width, max(1, width // 8)):
        for y in range(height):
            image.putpixel((x, y), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


@pytest.fixture
def team(db):
    return Team.objects.create(name="Alpha")


@functools.cache
def password_hash() -> str:
    """PASSWORD, hashed once per test process by the studio's own hasher: hashing it
    again for every person of every test would cost 0.4 s each."""
    from django.contrib.auth.hashers import make_password

    return make_password(PASSWORD)


def _person(django_user_model, username: str, team: Team, role: str):
    user = django_user_model.objects.create(username=username, password=password_hash())
    Membership.objects.create(user=user, team=team, role=role)
    return user


@pytest.fixture
def alice(django_user_model, team):
    return _person(django_user_model, "alice", team, Membership.OWNER)


@pytest.fixture
def bob(django_user_model, team):
    return _person(django_user_model, "bob", team, Membership.MEMBER)


@pytest.fixture
def vera(django_user_model, team):
    return _person(django_user_model, "vera", team, Membership.VIEWER)


@pytest.fixture
def charlie(django_user_model, db):
    return _person(django_user_model, "charlie", Team.objects.create(name="Other"), "owner")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    """A URL for the test database, for processes the tests start."""
    cfg = connection.settings_dict
    if cfg["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{cfg['NAME']}"
    user = cfg.get("USER") or ""
    password = f":{cfg['PASSWORD']}" if cfg.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = cfg.get("HOST") or "127.0.0.1"
    port = f":{cfg['PORT']}" if cfg.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{cfg['NAME']}"


def child_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDU_")}
    env.update({"DJANGO_SETTINGS_MODULE": "studio.settings", "PYTHONUNBUFFERED": "1"})
    env.update({k: str(v) for k, v in extra.items() if v is not None})
    return env


RUNNING: list[Process] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report carries the output of the processes it started."""
    report = yield
    if report.failed:
        for process in RUNNING:
            report.sections.append((f"{process.name} output", process.output()[-6000:]))
    if report.when == "teardown":
        RUNNING.clear()
    return report


class Process:
    """A child process whose output is kept for the test's failure report."""

    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path):
        RUNNING.append(self)
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115
        self.popen = subprocess.Popen(
            argv,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text() if self.log_path.exists() else ""

    def wait_for(self, pattern: str, timeout: float = 30) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.output())
            if match:
                return match
            if self.popen.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{self.name} never printed {pattern!r}:\n{self.output()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the process and everything it forked (a qcluster's workers too)."""
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                pass
        self.kill()  # whatever it left behind
        self.log.close()


@pytest.fixture
def start_simulator(tmp_path):
    """Start `manage.py vidu_simulator` on a free port; returns its base URL."""
    started: list[Process] = []

    def start(seconds: float = 0.3, faults: str = "", **env) -> str:
        port = free_port()
        process = Process(
            f"simulator-{len(started)}",
            [sys.executable, "manage.py", "vidu_simulator", "--port", str(port)],
            child_env(
                VIDU_SIM_SECONDS=seconds,
                VIDU_SIM_FPS=env.pop("fps", 12),
                VIDU_SIM_FAULTS=faults,
                VIDU_SIM_STORAGE=tmp_path / "sim",
                **env,
            ),
            tmp_path,
        )
        started.append(process)
        process.wait_for(r"listening on (http://\S+)")
        return f"http://127.0.0.1:{port}"

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def start_worker(tmp_path, settings):
    """Start `manage.py qcluster` on the test database, talking to `base_url`."""
    started: list[Process] = []

    def start(base_url: str, public_url: str | None = None, **env) -> Process:
        # The web side (this process, and its live server) and the worker share one
        # configuration, as in a deployment: the callbacks' key check depends on it.
        settings.VIDU_BASE_URL = base_url
        process = Process(
            f"worker-{len(started)}",
            [sys.executable, "manage.py", "qcluster"],
            child_env(
                DATABASE_URL=database_url(),
                VIDU_BASE_URL=base_url,
                STUDIO_PUBLIC_URL=public_url or "",
                MEDIA_ROOT=settings.MEDIA_ROOT,
                STUDIO_FETCH_PRIVATE_HOSTS=",".join(settings.STUDIO_FETCH_PRIVATE_HOSTS),
                REDIS_URL=settings.REDIS_URL or None,
                Q_CLUSTER_NAME=os.environ.get("Q_CLUSTER_NAME"),  # named as here, side by side too
                **env,
            ),
            tmp_path,
        )
        started.append(process)
        process.wait_for(r"running", timeout=60)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def host_of(url: str) -> str:
    return urlsplit(url).netloc


@pytest.fixture(scope="session")
def services_reachable():
    """PostgreSQL and Redis as this run is configured for them."""
    return {
        "postgres": settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        "redis": bool(settings.REDIS_URL),
    }


def drain_queue() -> list[str]:
    """Take every job off the django-q2 queue (ORM or Redis); return their functions."""
    from django_q.brokers import get_broker
    from django_q.signing import SignedPackage

    broker = get_broker()
    funcs = []
    while True:
        messages = broker.dequeue()
        if not messages:
            return funcs
        for ack_id, payload in messages:
            funcs.append(SignedPackage.loads(payload)["func"])
            broker.acknowledge(ack_id)


def run_queued_jobs() -> list:
    """Run, here and now, every job on the queue (what a worker would do next)."""
    from django.utils.module_loading import import_string
    from django_q.brokers import get_broker
    from django_q.signing import SignedPackage

    broker, results = get_broker(), []
    while messages := broker.dequeue():
        for ack_id, payload in messages:
            task = SignedPackage.loads(payload)
            broker.acknowledge(ack_id)
            results.append(import_string(task["func"])(*task["args"], **task["kwargs"]))
    return results


@pytest.fixture(autouse=True)
def fetch_from_loopback(settings):
    """The tests' simulators and servers listen on loopback, each at a port of its own:
    the worker may fetch results from any of them. Tests of what it refuses name fewer."""
    settings.STUDIO_FETCH_PRIVATE_HOSTS = ["127.0.0.1"]


@pytest.fixture(autouse=True)
def empty_redis_queue(settings):
    """Redis outlives a test's database: start every test with no jobs queued."""
    if settings.REDIS_URL:
        from django_q.brokers import get_broker

        get_broker().purge_queue()


# The browser fixtures, for every test module that asks for them.
from tests.browser import chromium, fresh, page, page_without_js  # noqa: E402, F401
