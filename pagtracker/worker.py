"""The background worker: the database task queue's worker and the platform's scheduler
(``pagtracker.schedule``), run as threads of the server (embedded default) or in their own
process (``manage.py worker``, production). Any number of worker processes may run: tasks are
claimed one worker each, and every period of a recurring job runs once."""

import threading
from collections.abc import Callable

from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from pagtracker.schedule import schedule_jobs
from pagtracker.scheduling.services import Scheduler

POLL_INTERVAL_SECONDS = 0.2


def worker_build(*, interval: float = POLL_INTERVAL_SECONDS) -> Worker:
    return Worker(
        queue_names=["default"],
        interval=interval,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=get_random_string(32),
        excluded_queue_names=[],
    )


class WorkerThreads:
    """The task worker's thread and the scheduler's threads. ``on_death`` is called (once) if
    any of them stops by itself. ``interval``: how often an idle task worker polls the queue."""

    def __init__(
        self, *, on_death: Callable[[], None], interval: float = POLL_INTERVAL_SECONDS
    ) -> None:
        self.worker = worker_build(interval=interval)
        self.died = threading.Event()
        self.on_death = on_death
        self.scheduler = Scheduler(schedule_jobs(), on_death=self.death)
        self.thread = threading.Thread(target=self.run_tasks, name="pagtracker-worker", daemon=True)

    def death(self) -> None:
        if not self.died.is_set():
            self.died.set()
            self.on_death()

    def run_tasks(self) -> None:
        try:
            self.worker.run()
        finally:
            if self.worker.running:  # it died on its own
                self.death()

    def start(self) -> None:
        self.thread.start()
        self.scheduler.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking work; the task and jobs running now finish first (``timeout`` at
        most each)."""
        self.worker.running = False
        self.scheduler.stopping.set()
        self.thread.join(timeout=timeout)
        self.scheduler.stop(timeout=timeout)


def worker_start_thread(*, on_death: Callable[[], None]) -> Callable[[], None]:
    """Run the worker and the scheduler in daemon threads of this process; ``on_death`` is
    called if one stops by itself. Returns the function that stops them (and waits for them,
    10 s at most)."""
    threads = WorkerThreads(on_death=on_death)
    threads.start()
    return threads.stop
