"""``manage.py worker``: the production worker, in the foreground. It runs the database task
queue's worker and the platform's recurring jobs (``pagtracker.schedule``); run as many as
needed. SIGTERM or SIGINT stops it gracefully: no new work is taken and the work in hand
finishes (``--grace`` seconds at most); a second signal stops it at once."""

import logging
import signal
import sys
import threading
from typing import Any

from django.core.management.base import BaseCommand

from pagtracker.worker import POLL_INTERVAL_SECONDS, WorkerThreads

logger = logging.getLogger("pagtracker.worker")


class Command(BaseCommand):
    help = "Run the task worker and the recurring jobs until SIGTERM or SIGINT."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--grace",
            type=float,
            default=30.0,
            help="Seconds the work in hand gets to finish on shutdown (default 30).",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=POLL_INTERVAL_SECONDS,
            help="Seconds between looks at an empty task queue (default %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        done = threading.Event()
        received: list[int] = []

        def on_signal(signum: int, frame: Any) -> None:
            received.append(signum)
            # A second signal falls to the default handler and ends the process at once.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            done.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        threads = WorkerThreads(on_death=done.set, interval=options["interval"])
        threads.start()
        self.stdout.write("Worker running (tasks and recurring jobs); SIGTERM or Ctrl-C stops.")
        self.stdout.flush()
        while not done.wait(0.5):
            pass
        if received:
            logger.info("%s: stopping the worker", signal.strsignal(received[0]))
        threads.stop(timeout=options["grace"])
        if threads.died.is_set() and not received:
            logger.error("a worker thread stopped by itself; exiting")
            sys.exit(1)
