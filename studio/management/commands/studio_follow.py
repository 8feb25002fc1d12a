"""`manage.py studio_follow`: ask providers about tasks in flight until interrupted."""

from __future__ import annotations

import logging
import signal
import threading

from django.core.management.base import BaseCommand

from studio.worker import follower


class Command(BaseCommand):
    help = "Follow tasks at the provider on their own cadence (run one or more per studio)."

    def handle(self, *args, **options):
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO)
        stop = threading.Event()

        def request_stop(signum, frame):
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, request_stop)
        self.stdout.write("Following tasks at the provider.")
        self.stdout.flush()
        follower.run(stop)
        self.stdout.write("Follower stopped.")
