"""The background worker: the database task queue's worker, run in a thread of the server
(embedded default) or as its own process (``manage.py worker``)."""

import threading
from collections.abc import Callable

from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

POLL_INTERVAL_SECONDS = 0.2


def worker_build() -> Worker:
    return Worker(
        queue_names=["default"],
        interval=POLL_INTERVAL_SECONDS,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=get_random_string(32),
        excluded_queue_names=[],
    )


def worker_start_thread(*, on_death: Callable[[], None]) -> Callable[[], None]:
    """Run the worker in a daemon thread of this process; ``on_death`` is called if it stops
    by itself. Returns the function that stops it (and waits for it, 10 s at most)."""
    worker = worker_build()

    def run() -> None:
        try:
            worker.run()
        finally:
            if worker.running:  # it died on its own
                on_death()

    thread = threading.Thread(target=run, name="pagtracker-worker", daemon=True)
    thread.start()

    def stop() -> None:
        worker.running = False
        thread.join(timeout=10)

    return stop
