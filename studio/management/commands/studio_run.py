"""`make run`: the web server, the worker and the simulator in one foreground group.

Each process is supervised on its own (`studio.supervise`): one that exits is started
again while the others carry on, and the worker is restarted when the job queue stalls
(`studio.health`). Ctrl-C or SIGTERM stops them all, in order.
"""

import os
import secrets
import signal
import sys
import threading

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from studio import catalog, health
from studio.models import Membership, Team
from studio.supervise import GaveUp, Supervisor


class Command(BaseCommand):
    help = "Run the studio: web server, django-q2 worker and (without VIDU_API_KEY) the simulator."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))

    def handle(self, port, host, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.ensure_demo_user()
        env = os.environ.copy()
        if settings.VIDU_USING_SIMULATOR:
            # The local simulator can call us back here; the real Vidu cannot, so with a
            # real key STUDIO_PUBLIC_URL must be set to an address Vidu reaches (or left
            # unset, and the reconciler polls).
            env.setdefault("STUDIO_PUBLIC_URL", f"http://{host}:{port}")
        commands = self.commands(host, port)
        stopping = self.stop_on_signals()
        supervisor = Supervisor(
            commands,
            env=env,
            watchdog=health.QueueWatch(),
            say=lambda message: self.stderr.write(message),
        )
        gave_up = None
        try:
            supervisor.start()
            self.announce(host, port)
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

    def announce(self, host, port):
        """Say where videos are made and where the studio answers."""
        provider = catalog.provider(settings.VIDU_PROVIDER).label
        where = (
            f"the local simulator speaking {provider}'s API"
            if settings.VIDU_USING_SIMULATOR
            else f"{provider} at {settings.VIDU_BASE_URL}"
        )
        self.stdout.write(f"Videos are made by {where}.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Vidu Studio on http://{host}:{port}/  (Ctrl-C stops the web server, the "
                f"worker, the follower"
                f"{' and the simulator' if settings.VIDU_USING_SIMULATOR else ''})"
            )
        )

    def ensure_demo_user(self):
        User = get_user_model()
        if User.objects.exists():
            return
        password = secrets.token_urlsafe(12)
        user = User.objects.create_user("demo", password=password)
        team = Team.objects.create(name="Demo")
        Membership.objects.create(user=user, team=team, role=Membership.OWNER)
        self.stdout.write(
            self.style.WARNING(
                f"\nCreated team Demo with owner 'demo', password: {password}\n"
                "(shown once; change it with: python manage.py changepassword demo)\n"
            )
        )


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
    ]
