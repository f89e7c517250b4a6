"""End to end with the real task worker (``manage.py db_worker``) in its own process: charges
made through the API reach a real receiver; failures are retried on schedule; a worker killed
mid-request, or a task that was never enqueued, loses nothing."""

import os
import signal
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.webhooks.conftest import run_worker_batch, start_worker, verify_signatures, wait_until
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSweep

SEND_TASK = "webhooks.tasks.webhook_deliveries_send_task"
RECOVER_TASK = "webhooks.tasks.webhook_deliveries_recover_task"

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
    # The recovery sweep is scheduled by itself and has a single next link.
    assert DBTaskResult.objects.filter(task_path=RECOVER_TASK, status="READY").count() == 1
    assert WebhookSweep.objects.get().next_run_at > timezone.now()


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
    # Time passes (in the database): the lease expires and the delivery is overdue. The
    # recovery sweep, on the queue by itself, notices; a new worker delivers it.
    past = timezone.now() - timedelta(minutes=2)
    WebhookDelivery.objects.update(locked_until=past, next_attempt_at=past)
    DBTaskResult.objects.filter(task_path=RECOVER_TASK, status="READY").update(run_after=past)
    run_worker_batch()
    requests = receiver.wait_for(2)
    assert len(requests) == 2
    assert requests[0].headers["webhook-id"] == requests[1].headers["webhook-id"]
    verify_signatures(hook["segredo"], requests[1])
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    first, second = delivery.attempt_set.all()
    assert first.error.startswith("interrupted") and first.status_code is None
    assert second.status_code == 200 and second.success


def test_deliveries_whose_task_was_never_enqueued_are_found_by_the_sweep(
    api, create_webhook, receiver
):
    # The web process died right after committing the charge, before its on_commit enqueue:
    # the delivery rows exist, no task does.
    create_webhook(url=receiver.url, eventos=["payment.created"])
    api.post("/api/charges", {"valor": 10}, format="json")
    DBTaskResult.objects.filter(task_path=SEND_TASK).delete()
    past = timezone.now() - timedelta(minutes=2)
    WebhookDelivery.objects.update(next_attempt_at=past)
    DBTaskResult.objects.filter(task_path=RECOVER_TASK, status="READY").update(run_after=past)
    run_worker_batch()
    receiver.wait_for(1)
    assert WebhookDelivery.objects.get().status == "succeeded"
    assert WebhookEvent.objects.filter(name="payment.created").count() == 1
    # The chain went on: exactly one future link.
    links = DBTaskResult.objects.filter(task_path=RECOVER_TASK, status="READY")
    assert links.count() == 1 and links.get().run_after > timezone.now()
