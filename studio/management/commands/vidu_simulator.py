"""`manage.py vidu_simulator`: run the local Vidu-compatible API in the foreground."""

from __future__ import annotations

import logging
import os
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from studio.simulator import DIALECTS, FaultSpecError, Simulator


class Command(BaseCommand):
    help = "Run the local Vidu API simulator until interrupted (SIGINT or SIGTERM)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--port",
            type=int,
            default=int(os.environ.get("VIDU_SIM_PORT") or 8765),
            help="Port to listen on (default: VIDU_SIM_PORT, else 8765).",
        )
        parser.add_argument("--host", default="127.0.0.1", help="Address to bind.")
        parser.add_argument(
            "--dialect",
            choices=DIALECTS,
            default=None,
            help="The API to speak: the official one or a gateway's "
            "(default: VIDU_SIM_DIALECT, else official).",
        )
        parser.add_argument(
            "--faults",
            default=None,
            help="Faults to inject, e.g. submit_error=0.1 (default: VIDU_SIM_FAULTS).",
        )
        parser.add_argument(
            "--seconds",
            type=float,
            default=None,
            help="Seconds per state step (default: VIDU_SIM_SECONDS, else 2).",
        )
        parser.add_argument(
            "--storage-dir",
            default=None,
            help="Keep tasks and videos here, across restarts (default: "
            "VIDU_SIM_STORAGE_DIR, else a temporary directory removed at exit).",
        )

    def handle(self, *args, **options):
        self.configure_logging(options["verbosity"])
        try:
            simulator = Simulator(
                host=options["host"],
                port=options["port"],
                dialect=options["dialect"],
                faults=options["faults"],
                seconds=options["seconds"],
                storage_dir=options["storage_dir"],
            )
            simulator.start()
        except (FaultSpecError, ValueError, OSError) as error:
            raise CommandError(f"The simulator cannot start: {error}") from error

        stop = threading.Event()

        def request_stop(signum, frame):
            stop.set()

        previous = {
            sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        host, port = simulator.address
        self.stdout.write(
            f"Vidu simulator listening on http://{host}:{port} ({simulator.dialect} dialect)"
        )
        self.stdout.flush()
        try:
            while not stop.wait(0.5):
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            simulator.stop()
        self.stdout.write("Vidu simulator stopped.")
        self.stdout.flush()

    def configure_logging(self, verbosity: int) -> None:
        logger = logging.getLogger("studio.simulator")
        if verbosity >= 1 and not logger.handlers:
            handler = logging.StreamHandler(self.stderr._out)
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            logger.addHandler(handler)
            logger.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO)
            logger.propagate = False
