"""End to end with the real worker in its own process (``manage.py worker``, or the task
queue's ``db_worker`` for one batch): charges made through the API reach a real receiver;
failures are retried on schedule; a worker killed mid-request, or a task that was never
enqueued, loses nothing: the recovery sweep, a recurring job of the worker, finds them."""

import os
import signal
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from charges.models import Charge
from pagtracker.scheduling.models import ScheduledJob
from tests.webhooks.conftest import run_worker_batch, start_worker, verify_signatures, wait_until
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from webhooks.tasks import webhook_deliveries_send_task

SEND_TASK = webhook_deliveries_send_task.module_path

pytestmark = pytest.mark.django_db(transaction=True)


def test_paying_a_charge_delivers_signed_events_through_the_worker(api, create_webhook, receiver):
    hook = create_webhook(url=receiver.url, eventos=["payment.created", "payment.confirmed"])
    charge = api.post("/api/charges", {"valor": 42.5}, format="json").json()["data"]
    api.post(f"/api/sandbox/charges/{charge['id']}/pay", {}, format="json")
    assert WebhookDelivery.objects.filter(status="pending").count() == 2
    # Enqueued after commit, one task per committed change.
    assert DBTaskResult.objects.filter(task_path=SEND_TASK).count() == 2
    run_worker_batch()
    requests = receiver.wait_for(2)
    bodies = [verify_signatures(hook["segredo"], request) for request in requests]
    assert sorted(b["event"] for b in bodies) == ["payment.confirmed", "payment.created"]
    assert all(b["data"]["id"] == charge["id"] for b in bodies)
    confirmed = next(b for b in bodies if b["event"] == "payment.confirmed")
    assert confirmed["data"]["status"] == "pago" and confirmed["data"]["valor"] == 42.5
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}
    assert WebhookAttempt.objects.filter(status_code=200, success=True).count() == 2
    # Nothing recurring rides on the task queue.
    assert set(DBTaskResult.objects.values_list("task_path", flat=True)) == {SEND_TASK}


def test_retries_until_the_receiver_recovers_or_the_schedule_ends(
    api, create_webhook, make_receiver, tmp_path
):
    flaky = make_receiver(replies=[(500, {}, b"down"), (502, {}, b"down")])
    dead = make_receiver(default=(500, {}, b"always down"))
    flaky_hook = create_webhook(url=flaky.url, eventos=["payment.created"])
    create_webhook(url=dead.url, eventos=["payment.created"])
    api.post("/api/charges", {"valor": 10}, format="json")
    worker = start_worker(tmp_path / "worker.log", WEBHOOK_RETRY_SCHEDULE="0.2,0.2,0.2")
    try:

        def settled():
            statuses = dict(WebhookDelivery.objects.values_list("endpoint__url", "status"))
            return statuses if "pending" not in statuses.values() else None

        statuses = wait_until(settled, what="both deliveries to settle")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert statuses == {flaky.url: "succeeded", dead.url: "failed"}
    # The flaky receiver got the event exactly once more after its failures, same webhook-id.
    assert len(flaky.requests) == 3
    assert len({r.headers["webhook-id"] for r in flaky.requests}) == 1
    verify_signatures(flaky_hook["segredo"], flaky.requests[-1])
    flaky_delivery = WebhookDelivery.objects.get(endpoint__url=flaky.url)
    assert list(flaky_delivery.attempt_set.values_list("number", "status_code")) == [
        (1, 500),
        (2, 502),
        (3, 200),
    ]
    # The dead one: the first attempt plus one per scheduled retry, then failed.
    dead_delivery = WebhookDelivery.objects.get(endpoint__url=dead.url)
    assert len(dead.requests) == 4 and dead_delivery.attempts == 4
    assert dead_delivery.next_attempt_at is None and dead_delivery.last_status_code == 500
    assert all(
        a.finished_at and a.latency_ms is not None and a.response_body == "always down"
        for a in dead_delivery.attempt_set.all()
    )


def test_a_worker_killed_mid_request_loses_nothing(api, create_webhook, make_receiver, tmp_path):
    receiver = make_receiver(block=True)
    hook = create_webhook(url=receiver.url, eventos=["payment.created"])
    api.post("/api/charges", {"valor": 10}, format="json")
    worker = start_worker(tmp_path / "worker.log")
    try:
        receiver.wait_for(1)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    receiver.block = False
    receiver.release.set()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.claimed_by
    assert delivery.locked_until > timezone.now()  # its lease outlives the dead worker
    # Time passes (in the database): the lease expires, the delivery is overdue and the
    # recovery sweep is due. A new worker runs the sweep, which re-enqueues the delivery.
    past = timezone.now() - timedelta(minutes=2)
    WebhookDelivery.objects.update(locked_until=past, next_attempt_at=past)
    assert ScheduledJob.objects.filter(name="webhooks.recover").update(next_run_at=past) == 1
    worker = start_worker(tmp_path / "worker2.log")
    try:
        requests = receiver.wait_for(2)
        wait_until(
            lambda: WebhookDelivery.objects.filter(status="succeeded").exists(),
            what="the delivery to succeed",
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert len(requests) == 2
    assert requests[0].headers["webhook-id"] == requests[1].headers["webhook-id"]
    verify_signatures(hook["segredo"], requests[1])
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    first, second = delivery.attempt_set.all()
    assert first.error.startswith("interrupted") and first.status_code is None
    assert second.status_code == 200 and second.success


def test_deliveries_whose_task_was_never_enqueued_are_found_by_the_sweep(
    api, create_webhook, receiver, tmp_path
):
    # The web process died right after committing the charge, before its on_commit enqueue:
    # the delivery rows exist, no task does.
    create_webhook(url=receiver.url, eventos=["payment.created"])
    api.post("/api/charges", {"valor": 10}, format="json")
    DBTaskResult.objects.filter(task_path=SEND_TASK).delete()
    past = timezone.now() - timedelta(minutes=2)
    WebhookDelivery.objects.update(next_attempt_at=past)
    # The tasks alone never find it: nothing woke a sender.
    run_worker_batch()
    assert WebhookDelivery.objects.get().status == "pending" and not receiver.requests
    # The worker's recurring recovery sweep does (a new worker runs it at once).
    worker = start_worker(tmp_path / "worker.log")
    try:
        receiver.wait_for(1)
        wait_until(
            lambda: WebhookDelivery.objects.filter(status="succeeded").exists(),
            what="the delivery to succeed",
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert WebhookEvent.objects.filter(name="payment.created").count() == 1
    recover = ScheduledJob.objects.get(name="webhooks.recover")
    assert recover.last_run_at is not None and recover.next_run_at > recover.last_run_at


def test_the_worker_expires_charges_on_time_and_records_payment_expired(
    api, create_webhook, receiver, settings, tmp_path
):
    # Nobody reads the charge: the worker's recurring expiry job alone expires it.
    create_webhook(url=receiver.url, eventos=["payment.expired"])
    charge = api.post("/api/charges", {"valor": 10}, format="json").json()["data"]
    worker = start_worker(tmp_path / "worker.log")
    try:
        wait_until(
            lambda: ScheduledJob.objects.filter(
                name="charges.expire_due", last_run_at__isnull=False
            ).exists(),
            what="the worker's expiry job to run",
        )
        expires_at = timezone.now() + timedelta(seconds=settings.CHARGE_EXPIRY_INTERVAL_SECONDS)
        Charge.objects.filter(pk=charge["id"]).update(expires_at=expires_at)
        expired = wait_until(
            lambda: Charge.objects.filter(pk=charge["id"], status="expirado").first(),
            what="the charge to expire",
        )
        [request] = receiver.wait_for(1)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert worker.returncode == 0  # SIGTERM is a clean stop
    # On time: within a couple of the job's periods of its expiry, never before it.
    lateness = (expired.expired_at - expired.expires_at).total_seconds()
    assert 0 <= lateness < 2.5 * settings.CHARGE_EXPIRY_INTERVAL_SECONDS
    assert WebhookEvent.objects.filter(name="payment.expired").count() == 1
    assert request.json["event"] == "payment.expired"
    assert request.json["data"]["id"] == charge["id"]
