"""Running recurring jobs once per period across every worker process.

A job's period is claimed in the database: one conditional UPDATE moves the job's
``next_run_at`` a period ahead, only if it is due, and the worker whose UPDATE changed the row
runs the job. So however many workers loop, a period runs once. A run that outlasts its period
may overlap the next period's run in another worker: jobs are sweeps, idempotent and safe to
run concurrently. A job that fails is logged and recorded on its row; the others go on, and it
runs again next period.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import close_old_connections, connection
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import ScheduledJob

logger = logging.getLogger("pagtracker.scheduling")

# After an error outside the job (the database unreachable), a loop retries this often at most.
ERROR_BACKOFF_SECONDS = 5.0


@dataclass(frozen=True)
class Job:
    """``call``, the dotted path of a function called with no arguments, runs every ``every``
    seconds."""

    name: str
    every: float
    call: str


def schedule_install(jobs: list[Job], *, now: datetime | None = None) -> None:
    """Create the rows of new jobs, due now. A job whose next run was set more than a period
    after its last (its period was shortened) is due now too. That test compares the row
    with itself, never with this process's clock, so a worker starting while another claims
    a period cannot undo the claim."""
    now = now or timezone.now()
    ScheduledJob.objects.bulk_create(
        [ScheduledJob(name=job.name, next_run_at=now) for job in jobs], ignore_conflicts=True
    )
    for job in jobs:
        ScheduledJob.objects.filter(
            name=job.name, next_run_at__gt=F("last_run_at") + timedelta(seconds=job.every)
        ).update(next_run_at=now)


def schedule_job_claim(job: Job, *, now: datetime | None = None) -> bool:
    """Claim the job's current period if it is due; True for exactly one caller per period."""
    now = now or timezone.now()
    return bool(
        ScheduledJob.objects.filter(name=job.name, next_run_at__lte=now).update(
            next_run_at=now + timedelta(seconds=job.every), last_run_at=now
        )
    )


def schedule_job_run(job: Job) -> tuple[bool, Any]:
    """Call the job; returns (succeeded, its result or the exception). Never raises: a failure
    is logged and recorded on the job's row."""
    try:
        return True, import_string(job.call)()
    except Exception as error:
        logger.exception("scheduled job %s failed", job.name)
        try:
            ScheduledJob.objects.filter(name=job.name).update(
                last_failed_at=timezone.now(), last_error=f"{type(error).__name__}: {error}"[:2000]
            )
        except Exception:
            logger.exception("could not record the failure of scheduled job %s", job.name)
        return False, error


def schedule_run_due(jobs: list[Job], *, now: datetime | None = None) -> dict[str, Any]:
    """One pass: run every due job whose period this caller claims. Returns each run job's
    result (or exception) by name."""
    results: dict[str, Any] = {}
    for job in jobs:
        if schedule_job_claim(job, now=now):
            results[job.name] = schedule_job_run(job)[1]
    return results


def schedule_next_run(job: Job) -> datetime | None:
    return ScheduledJob.objects.filter(name=job.name).values_list("next_run_at", flat=True).first()


class Scheduler:
    """One thread per job, each claiming and running its job's periods until ``stop``; a slow
    job never delays another. ``on_death`` is called if a thread ends by itself."""

    def __init__(self, jobs: list[Job], *, on_death: Callable[[], None] | None = None) -> None:
        self.jobs = list(jobs)
        self.on_death = on_death
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for job in self.jobs:
            thread = threading.Thread(
                target=self.loop, args=(job,), name=f"schedule-{job.name}", daemon=True
            )
            self.threads.append(thread)
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop looping; a job running now finishes first (waits ``timeout`` at most)."""
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=timeout)

    def loop(self, job: Job) -> None:
        try:
            installed = False
            while not self.stopping.is_set():
                close_old_connections()
                try:
                    if not installed:
                        schedule_install([job])
                        installed = True
                    wait = self.tick(job)
                except Exception:
                    logger.exception("scheduler loop of %s: database error", job.name)
                    wait = min(job.every, ERROR_BACKOFF_SECONDS)
                self.stopping.wait(wait)
        finally:
            connection.close()  # this thread's own connection
            if not self.stopping.is_set() and self.on_death is not None:
                self.on_death()

    def tick(self, job: Job) -> float:
        """Run the job if this loop claims its period; returns the seconds until the next."""
        now = timezone.now()
        if schedule_job_claim(job, now=now):
            schedule_job_run(job)
            next_run: datetime | None = now + timedelta(seconds=job.every)
        else:
            next_run = schedule_next_run(job)
        if next_run is None:  # the row was deleted: recreate it next time round
            schedule_install([job])
            return 0.0
        return min(max((next_run - timezone.now()).total_seconds(), 0.0), job.every)
