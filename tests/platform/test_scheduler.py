"""The platform's scheduler on the real database: each period of a job runs once however many
loops race for it, a failing job neither stops the others nor itself, the declared schedule
holds every recurring job, and ``manage.py worker`` stops cleanly on SIGTERM."""

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.module_loading import import_string

from pagtracker.schedule import schedule_jobs
from pagtracker.scheduling.models import ScheduledJob
from pagtracker.scheduling.services import (
    Job,
    Scheduler,
    schedule_install,
    schedule_run_due,
)
from tests.conftest import ROOT, database_url_for_subprocesses

PERIOD = 0.2
runs: dict[str, list[float]] = {}
runs_lock = threading.Lock()


def _record(name: str) -> None:
    with runs_lock:
        runs.setdefault(name, []).append(time.monotonic())


def counted_job() -> str:
    _record("counted")
    return "ok"


def broken_job() -> None:
    _record("broken")
    raise RuntimeError("the job broke")


@pytest.fixture(autouse=True)
def _fresh_runs() -> None:
    runs.clear()


def _loop_for(schedulers: list[Scheduler], periods: int) -> None:
    for scheduler in schedulers:
        scheduler.start()
    time.sleep(PERIOD * periods)
    for scheduler in schedulers:
        scheduler.stop()


@pytest.mark.django_db
def test_a_period_is_claimed_once():
    job = Job(name="counted", every=60, call="tests.platform.test_scheduler.counted_job")
    now = timezone.now()
    schedule_install([job], now=now)
    assert schedule_run_due([job], now=now) == {"counted": "ok"}
    # Another worker, at the same moment or later in the period, finds nothing to do.
    assert schedule_run_due([job], now=now) == {}
    assert schedule_run_due([job], now=now + timedelta(seconds=59)) == {}
    assert schedule_run_due([job], now=now + timedelta(seconds=60)) == {"counted": "ok"}
    assert len(runs["counted"]) == 2
    # A shortened period takes effect at once: the far-off next run is brought forward.
    shorter = Job(name="counted", every=1, call=job.call)
    schedule_install([shorter], now=now + timedelta(seconds=61))
    assert schedule_run_due([shorter], now=now + timedelta(seconds=61)) == {"counted": "ok"}


@pytest.mark.django_db(transaction=True)
def test_racing_loops_run_each_period_once():
    job = Job(name="counted", every=PERIOD, call="tests.platform.test_scheduler.counted_job")
    periods = 12
    _loop_for([Scheduler([job]), Scheduler([job]), Scheduler([job])], periods)
    times = runs["counted"]
    # Three loops, yet about one run per period, never two in one period.
    assert 0.5 * periods <= len(times) <= periods + 1
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= 0.8 * PERIOD, gaps


@pytest.mark.django_db(transaction=True)
def test_a_failing_job_does_not_stop_the_others_or_itself():
    broken = Job(name="broken", every=PERIOD, call="tests.platform.test_scheduler.broken_job")
    counted = Job(name="counted", every=PERIOD, call="tests.platform.test_scheduler.counted_job")
    missing = Job(name="missing", every=PERIOD, call="tests.platform.test_scheduler.no_such_job")
    deaths: list[bool] = []
    scheduler = Scheduler([broken, missing, counted], on_death=lambda: deaths.append(True))
    _loop_for([scheduler], 8)
    assert len(runs["counted"]) >= 3
    assert len(runs["broken"]) >= 3  # tried again every period
    assert not deaths
    row = ScheduledJob.objects.get(name="broken")
    assert row.last_failed_at is not None and "the job broke" in row.last_error
    assert ScheduledJob.objects.get(name="missing").last_error.startswith("ImportError")
    assert ScheduledJob.objects.get(name="counted").last_error == ""


def test_the_schedule_declares_every_recurring_job(settings):
    settings.CHARGE_EXPIRY_INTERVAL_SECONDS = 2
    jobs = {job.name: job for job in schedule_jobs()}
    assert set(jobs) == {"charges.expire_due", "webhooks.recover"}
    assert jobs["charges.expire_due"].every == 2
    assert jobs["webhooks.recover"].every == settings.WEBHOOK_RECOVERY_INTERVAL_SECONDS
    for job in jobs.values():
        assert callable(import_string(job.call))


@pytest.mark.django_db(transaction=True)
def test_the_worker_command_runs_the_jobs_and_stops_on_sigterm(tmp_path):
    log = tmp_path / "worker.log"
    env = {
        "DATABASE_URL": database_url_for_subprocesses(),
        "DJANGO_SETTINGS_MODULE": "pagtracker.settings_test",
        "PYTHONUNBUFFERED": "1",
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "worker"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        names = {job.name for job in schedule_jobs()}
        while time.monotonic() < deadline:
            ran = set(
                ScheduledJob.objects.filter(last_run_at__isnull=False).values_list(
                    "name", flat=True
                )
            )
            if ran == names or worker.poll() is not None:
                break
            time.sleep(0.1)
        assert ran == names, log.read_text()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
