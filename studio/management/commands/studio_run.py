"""`make run`: the web server, the worker and the simulator in one foreground group.

Each process is supervised on its own (`studio.management.supervise`): one that exits is started
again while the others carry on, and the worker is restarted when the job queue stalls
(`studio.worker.health`). Ctrl-C or SIGTERM stops them all, in order.
"""

import logging
import os
import secrets
import shutil
import signal
import socket
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from studio import catalog
from studio.management.supervise import GaveUp, Supervisor
from studio.models import Membership, Team
from studio.worker import health

# Ctrl-C gives each process this long to stop in order before what is left is killed: the
# studio is built to lose nothing when its worker dies mid-job.
STOP_GRACE_SECONDS = 1.5
READY_WAIT_SECONDS = 60


class Command(BaseCommand):
    help = "Run the studio: web server, django-q2 worker and (without VIDU_API_KEY) the simulator."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))

    def handle(self, port, host, **options):
        # First of all: a Ctrl-C while the database is migrated still stops the studio.
        stopping = self.stop_on_signals()
        call_command("migrate", interactive=False, verbosity=0)
        password = self.ensure_demo_user()
        if stopping.is_set():
            return
        env = os.environ.copy()
        # The queue's own line for every job (the watchdog's probe among them, every few
        # seconds) would bury the login; set Q_LOG_LEVEL=INFO to see them.
        if "Q_LOG_LEVEL" not in env:
            env["Q_LOG_LEVEL"] = "WARNING"
            logging.getLogger("django-q").setLevel(logging.WARNING)  # the probes sent here
        if settings.VIDU_USING_SIMULATOR:
            # The local simulator can call us back here; the real Vidu cannot, so with a
            # real key STUDIO_PUBLIC_URL must be set to an address Vidu reaches (or left
            # unset, and the reconciler polls).
            env.setdefault("STUDIO_PUBLIC_URL", f"http://{host}:{port}")
        supervisor = Supervisor(
            self.commands(host, port),
            env=env,
            watchdog=health.QueueWatch(),
            say=lambda message: self.stderr.write(message),
            stop_timeout=STOP_GRACE_SECONDS,
        )
        gave_up = None
        try:
            supervisor.start()
            announcer = threading.Thread(
                target=self.announce_when_ready,
                args=(host, port, password, stopping),
                daemon=True,
            )
            announcer.start()
            supervisor.run(stopping)
        except GaveUp as error:
            gave_up = error
        finally:
            self.stdout.write("Stopping the studio...")
            supervisor.stop()
        if gave_up is not None:
            raise CommandError(str(gave_up))

    def commands(self, host, port):
        """The supervised processes, by name, in the order they start."""
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        commands = []
        if settings.VIDU_USING_SIMULATOR:
            commands.append(("simulator", self.simulator_command(python, manage)))
        commands.append(("worker", [python, manage, "qcluster"]))
        commands.append(("follower", [python, manage, "studio_follow"]))
        commands.append(("web", web_command(python, host, port)))
        return commands

    def simulator_command(self, python, manage):
        return [
            python,
            manage,
            "vidu_simulator",
            "--port",
            str(settings.VIDU_SIM_PORT),
            # The simulator speaks the dialect of the provider the studio is
            # set up for, so the gateway's paths and shapes are exercised.
            "--dialect",
            settings.VIDU_PROVIDER,
            # Its tasks and videos outlive a restart of the simulator.
            "--storage-dir",
            str(settings.DATA_DIR / "simulator"),
        ]

    def stop_on_signals(self):
        """An event set by Ctrl-C, SIGTERM or SIGHUP."""
        stopping = threading.Event()

        def stop(signum, frame):
            stopping.set()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGHUP, stop)
        return stopping

    def announce_when_ready(self, host, port, password, stopping):
        """Once the web server (and the simulator) answer, say where to go and how to log
        in: the last thing printed at start, so it is not lost among the start-up lines."""
        addresses = [(host, port)]
        if settings.VIDU_USING_SIMULATOR:
            addresses.append(("127.0.0.1", settings.VIDU_SIM_PORT))
        deadline = time.monotonic() + READY_WAIT_SECONDS
        while not all(_answers(*address) for address in addresses):
            if stopping.wait(0.2) or time.monotonic() > deadline:
                if not stopping.is_set():
                    self.stderr.write(
                        f"The studio did not answer on http://{host}:{port}/ within "
                        f"{READY_WAIT_SECONDS} s; the lines above say why."
                    )
                return
        self.stdout.write(self.welcome(host, port, password))
        self.stdout.flush()

    def welcome(self, host, port, password):
        provider = catalog.provider(settings.VIDU_PROVIDER).label
        where = (
            f"the local simulator speaking {provider}'s API (no credits are spent)"
            if settings.VIDU_USING_SIMULATOR
            else f"{provider} at {settings.VIDU_BASE_URL}"
        )
        change = f"{manage_py()} changepassword demo"
        if password:
            login = (
                f"Log in as  demo  with the password  {password}\n"
                f"  (shown this once; to change it: {change})"
            )
        elif get_user_model().objects.filter(username="demo").exists():
            login = f"Log in as demo with the password shown at the first start (or: {change})"
        else:
            login = "Log in with your account."
        rule = "-" * 72
        lines = [
            rule,
            self.style.SUCCESS(f"  Vidu Studio is ready: http://{host}:{port}/"),
            f"  Videos are made by {where}.",
            "  " + self.style.WARNING(login),
            "  Ctrl-C stops the web server, the worker, the follower"
            + (" and the simulator." if settings.VIDU_USING_SIMULATOR else "."),
            rule,
        ]
        return "\n".join(lines)

    def ensure_demo_user(self) -> str | None:
        """On the first start, team Demo and its owner `demo`; returns the new password."""
        User = get_user_model()
        if User.objects.exists():
            return None
        password = secrets.token_urlsafe(12)
        user = User.objects.create_user("demo", password=password)
        team = Team.objects.create(name="Demo")
        Membership.objects.create(user=user, team=team, role=Membership.OWNER)
        return password


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def manage_py() -> str:
    """How to run manage.py from the current directory with the studio's own Python
    (`.venv/bin/python manage.py` under `make run`), so a printed hint works as typed."""
    python = Path(sys.executable)
    on_path = shutil.which("python")
    if on_path and Path(on_path).absolute() == python.absolute():
        python = Path("python")
    return f"{_from_here(python)} {_from_here(settings.BASE_DIR / 'manage.py')}"


def _from_here(path: Path) -> Path:
    here = Path.cwd()
    return path.relative_to(here) if path.is_absolute() and path.is_relative_to(here) else path


def web_command(python: str, host: str, port: int) -> list[str]:
    """The web server as `make run` runs it (the latency benchmark runs the same)."""
    return [
        python,
        "-m",
        "gunicorn",
        "studio.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--worker-class",
        "gthread",
        "--threads",
        "8",
        "--workers",
        "2",
        "--timeout",
        "120",
        # Longer than the page's poll interval, so a poll reuses its connection.
        "--keep-alive",
        "10",
        "--access-logfile",
        "-",
        # Share, invite and input links' tokens are written as "…" (studio/logs.py).
        "--logger-class",
        "studio.logs.AccessLog",
    ]
