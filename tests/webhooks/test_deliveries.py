"""Events and deliveries in-process: what a domain event writes, what the receiver gets, the
retry schedule, redirects, timeouts, claims, redelivery, recovery and the admin."""

import time
import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from charges import services as charge_services
from charges.models import Charge
from tests.webhooks.conftest import verify_signatures
from webhooks import sender, services
from webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from webhooks.services import deliveries
from webhooks.tasks import webhook_deliveries_send_task

SEND_TASK = webhook_deliveries_send_task.module_path


def test_a_domain_event_writes_an_event_and_one_delivery_per_subscribed_active_endpoint(
    api, make_merchant, client_of, create_webhook, receiver
):
    subscribed = create_webhook(url=receiver.url, eventos=["payment.created"])
    create_webhook(url=receiver.url + "/other", eventos=["payment.confirmed"])
    inactive = create_webhook(url=receiver.url + "/off", eventos=["payment.created"])
    api.patch(f"/api/webhooks/{inactive['id']}", {"ativo": False}, format="json")
    deleted = create_webhook(url=receiver.url + "/gone", eventos=["payment.created"])
    api.delete(f"/api/webhooks/{deleted['id']}")
    other_merchant = client_of(make_merchant())
    other_merchant.post(
        "/api/webhooks", {"url": receiver.url, "eventos": ["payment.created"]}, format="json"
    )
    charge = api.post("/api/charges", {"valor": 12.34}, format="json").json()["data"]
    event = WebhookEvent.objects.get(name="payment.created")
    [delivery] = WebhookDelivery.objects.all()
    assert str(delivery.endpoint_id) == subscribed["id"] and delivery.event_id == event.id
    assert delivery.status == "pending" and delivery.next_attempt_at <= timezone.now()
    body = event.payload and __import__("json").loads(event.payload)
    assert set(body) == {"id", "event", "data", "timestamp"}
    assert body["id"] == str(event.id) and body["event"] == "payment.created"
    assert body["data"]["id"] == charge["id"] and body["data"]["valor"] == 12.34
    assert body["timestamp"].endswith("Z")


def test_a_rolled_back_change_leaves_no_event_and_no_delivery(api, create_webhook, receiver):
    create_webhook(url=receiver.url, eventos=["payment.canceled", "payment.created"])
    charge = api.post("/api/charges", {"valor": 10}, format="json").json()["data"]
    before = (WebhookEvent.objects.count(), WebhookDelivery.objects.count())
    merchant_id = Charge.objects.get(pk=charge["id"]).merchant_id
    with pytest.raises(RuntimeError), transaction.atomic():
        charge_services.charge_cancel(merchant_id=merchant_id, charge_id=charge["id"])
        assert WebhookEvent.objects.filter(name="payment.canceled").exists()
        raise RuntimeError("the change fails after the event was recorded")
    assert (WebhookEvent.objects.count(), WebhookDelivery.objects.count()) == before
    assert not WebhookEvent.objects.filter(name="payment.canceled").exists()


def test_events_without_subscribers_are_still_recorded(api):
    api.post("/api/charges", {"valor": 10}, format="json")
    assert WebhookEvent.objects.filter(name="payment.created").count() == 1
    assert WebhookDelivery.objects.count() == 0


def test_delivery_is_signed_both_ways_with_standard_headers(api, create_webhook, receiver):
    hook = create_webhook(url=receiver.url, eventos=["payment.confirmed"])
    charge = api.post("/api/charges", {"valor": 10}, format="json").json()["data"]
    api.post(f"/api/sandbox/charges/{charge['id']}/pay", {}, format="json")
    assert services.webhook_deliveries_send() == 1
    [request] = receiver.requests
    body = verify_signatures(hook["segredo"], request)
    event = WebhookEvent.objects.get(name="payment.confirmed")
    assert body["id"] == request.headers["webhook-id"] == str(event.id)
    assert body["event"] == "payment.confirmed" and body["data"]["status"] == "pago"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("PagTracker-Webhooks/")
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 300
    assert request.headers["webhook-signature"].startswith("v1,")
    assert request.body == event.payload.encode()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "succeeded" and delivery.delivered_at and delivery.attempts == 1
    [attempt] = delivery.attempt_set.all()
    assert attempt.status_code == 200 and attempt.success and attempt.latency_ms is not None
    assert attempt.response_body == '{"ok":true}' and attempt.finished_at
    # Succeeded is final: asking again sends nothing.
    assert services.webhook_deliveries_send(delivery_ids=[str(delivery.pk)]) == 0
    assert len(receiver.requests) == 1


def test_a_plain_secret_verifies_with_its_utf8_bytes(api, create_webhook, receiver):
    hook = create_webhook(url=receiver.url, segredo="chave_secreta_para_assinatura")
    api.post("/api/charges", {"valor": 10}, format="json")
    services.webhook_deliveries_send()
    assert verify_signatures(hook["segredo"], receiver.requests[0])["event"] == "payment.created"


def test_failures_follow_the_schedule_with_jitter_and_end_failed(
    api, create_webhook, make_receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_RETRY_SCHEDULE = "100,1000"
    receiver = make_receiver(default=(503, {}, b"busy"))
    create_webhook(url=receiver.url, eventos=["payment.created"])
    api.post("/api/charges", {"valor": 10}, format="json")
    delivery = WebhookDelivery.objects.get()
    waits = []
    for expected in (100, 1000, None):
        started = timezone.now()
        with django_capture_on_commit_callbacks(execute=True):
            assert services.webhook_deliveries_send() == 1
        delivery.refresh_from_db()
        if expected is None:
            assert delivery.status == "failed" and delivery.next_attempt_at is None
            break
        assert delivery.status == "pending"
        wait = (delivery.next_attempt_at - started).total_seconds()
        assert expected * 0.9 - 1 <= wait <= expected * 1.1 + 1
        waits.append(wait)
        # A task is enqueued for the time of the retry.
        assert DBTaskResult.objects.filter(
            task_path=SEND_TASK, run_after=delivery.next_attempt_at
        ).exists()
        # Not due yet: nothing is sent until the time comes (moved in the database).
        assert services.webhook_deliveries_send() == 0
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1)
        )
    attempts = list(delivery.attempt_set.values_list("number", "status_code", "error"))
    assert attempts == [(1, 503, "HTTP 503"), (2, 503, "HTTP 503"), (3, 503, "HTTP 503")]
    assert len({str(r.headers["webhook-id"]) for r in receiver.requests}) == 1
    assert delivery.attempts == 3 and delivery.last_status_code == 503
    assert waits[0] < waits[1]


def test_redirects_are_never_followed(api, create_webhook, make_receiver):
    target = make_receiver()
    redirector = make_receiver(default=(302, {"Location": target.url}, b""))
    create_webhook(url=redirector.url, eventos=["payment.created"])
    api.post("/api/charges", {"valor": 10}, format="json")
    services.webhook_deliveries_send()
    assert len(redirector.requests) == 1 and target.requests == []
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 302 and not attempt.success
    assert "redirect not followed" in attempt.error and target.url in attempt.error
    assert WebhookDelivery.objects.get().status == "pending"


def test_a_slow_receiver_times_out_and_only_2kb_of_an_answer_is_kept(
    api, create_webhook, make_receiver, monkeypatch
):
    monkeypatch.setattr(sender, "TIMEOUT_SECONDS", 0.5)
    slow = make_receiver(block=True)
    chatty = make_receiver(default=(500, {}, b"x" * 10_000))
    create_webhook(url=slow.url, eventos=["payment.created"])
    create_webhook(url=chatty.url, eventos=["payment.created"])
    api.post("/api/charges", {"valor": 10}, format="json")
    assert services.webhook_deliveries_send() == 2
    slow.release.set()
    by_url = {
        a.delivery.endpoint.url: a
        for a in WebhookAttempt.objects.select_related("delivery__endpoint")
    }
    timed_out = by_url[slow.url]
    assert timed_out.status_code is None and timed_out.error.startswith("timeout")
    assert len(by_url[chatty.url].response_body) == 2048


def test_a_claimed_delivery_is_not_sent_by_anyone_else(api, create_webhook, receiver):
    create_webhook(url=receiver.url, eventos=["payment.created"])
    api.post("/api/charges", {"valor": 10}, format="json")
    claimed = deliveries._claim(prefer=None, limit=10, token="worker-a:1")
    assert len(claimed) == 1
    # A second worker (or the same task delivered twice) finds nothing to do.
    assert services.webhook_deliveries_send() == 0
    assert deliveries._claim(prefer=None, limit=10, token="worker-b:1") == []
    assert receiver.requests == []
    # Once the first worker's lease has expired, the delivery is due again.
    WebhookDelivery.objects.update(locked_until=timezone.now() - timedelta(seconds=1))
    assert services.webhook_deliveries_send() == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "succeeded" and delivery.attempts == 2
    assert [a.number for a in delivery.attempt_set.all()] == [1, 2]
    # The first claimant's late answer changes nothing: succeeded stays succeeded.
    deliveries._record(
        claimed,
        [sender.SendResult(False, 500, 3, "HTTP 500", "")],
        "worker-a:1",
    )
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"


def test_a_disabled_endpoint_stops_its_pending_deliveries(api, create_webhook, receiver):
    hook = create_webhook(url=receiver.url, eventos=["payment.created"])
    api.post("/api/charges", {"valor": 10}, format="json")
    api.patch(f"/api/webhooks/{hook['id']}", {"ativo": False}, format="json")
    assert services.webhook_deliveries_send() == 0
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and "disabled" in delivery.last_error
    assert receiver.requests == [] and not WebhookAttempt.objects.exists()


def test_redeliver_resets_a_failed_delivery_and_keeps_its_webhook_id(
    api, create_webhook, make_receiver, settings
):
    settings.WEBHOOK_RETRY_SCHEDULE = ""
    receiver = make_receiver(replies=[(500, {}, b"")])
    create_webhook(url=receiver.url, eventos=["payment.created"])
    api.post("/api/charges", {"valor": 10}, format="json")
    services.webhook_deliveries_send()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"
    services.webhook_delivery_redeliver(delivery_id=delivery.pk, merchant_id=delivery.merchant_id)
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.cycle_attempts == 0
    services.webhook_deliveries_send()
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert [a.number for a in delivery.attempt_set.all()] == [1, 2]
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body


def test_redeliver_refuses_other_merchants_tests_and_in_flight(
    api, create_webhook, receiver, make_merchant
):
    hook = create_webhook(url=receiver.url, eventos=["payment.created"])
    api.post(f"/api/webhooks/{hook['id']}/test", {}, format="json")
    test_delivery = WebhookDelivery.objects.get(event__is_test=True)
    from pagtracker.errors import InvalidState, NotFound

    with pytest.raises(InvalidState):
        services.webhook_delivery_redeliver(delivery_id=test_delivery.pk)
    api.post("/api/charges", {"valor": 10}, format="json")
    real = WebhookDelivery.objects.get(event__is_test=False)
    with pytest.raises(NotFound):
        services.webhook_delivery_redeliver(
            delivery_id=real.pk, merchant_id=make_merchant().merchant_id
        )
    deliveries._claim(prefer=None, limit=1, token="busy:1")
    with pytest.raises(InvalidState):
        services.webhook_delivery_redeliver(delivery_id=real.pk)


def test_recovery_closes_dead_attempts_and_reenqueues_overdue_deliveries(
    api, create_webhook, receiver
):
    create_webhook(url=receiver.url, eventos=["payment.created"])
    api.post("/api/charges", {"valor": 10}, format="json")
    api.post("/api/charges", {"valor": 11}, format="json")
    claimed = deliveries._claim(prefer=None, limit=1, token="dead-worker:1")
    long_ago = timezone.now() - timedelta(minutes=5)
    WebhookDelivery.objects.update(next_attempt_at=long_ago)
    # The claimed one still has a live lease: left alone. The other is overdue: enqueued.
    result = services.webhook_deliveries_recover()
    assert result == {
        "interrupted_attempts": 0,
        "abandoned_tests": 0,
        "stopped": 0,
        "reenqueued": 1,
    }
    WebhookDelivery.objects.update(locked_until=timezone.now() - timedelta(seconds=1))
    result = services.webhook_deliveries_recover()
    assert result == {
        "interrupted_attempts": 1,
        "abandoned_tests": 0,
        "stopped": 0,
        "reenqueued": 2,
    }
    dead = WebhookAttempt.objects.get(pk=claimed[0].attempt_id)
    assert dead.finished_at and dead.error.startswith("interrupted")
    queued = DBTaskResult.objects.filter(task_path=SEND_TASK)
    assert (
        sorted(i for t in queued for i in t.args_kwargs["kwargs"]["delivery_ids"]).count(
            str(claimed[0].delivery_id)
        )
        == 1
    )
    # Recent deliveries are within the grace period: their own task is still on its way.
    api.post("/api/charges", {"valor": 12}, format="json")
    assert services.webhook_deliveries_recover()["reenqueued"] == 2


def test_the_recover_command_runs_the_sweep_once(api, create_webhook, receiver, capsys):
    from django.core.management import call_command

    create_webhook(url=receiver.url, eventos=["payment.created"])
    api.post("/api/charges", {"valor": 10}, format="json")
    DBTaskResult.objects.filter(task_path=SEND_TASK).delete()  # its task was lost
    call_command("webhooks_recover", "--grace", "0")
    out = capsys.readouterr().out
    assert '"reenqueued": 1' in out
    assert DBTaskResult.objects.filter(task_path=SEND_TASK).count() == 1


def test_admin_is_scoped_hides_secrets_and_redelivers(make_merchant, client_of, receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = ""
    owner, other = make_merchant(), make_merchant()
    mine = (
        client_of(owner)
        .post(
            "/api/webhooks",
            {"url": receiver.url + "/mine", "eventos": ["payment.created"]},
            format="json",
        )
        .json()["data"]
    )
    client_of(other).post(
        "/api/webhooks",
        {"url": receiver.url + "/theirs", "eventos": ["payment.created"]},
        format="json",
    )
    receiver.replies = [(500, {}, b"first fails")] * 2
    client_of(owner).post("/api/charges", {"valor": 10}, format="json")
    client_of(other).post("/api/charges", {"valor": 10}, format="json")
    services.webhook_deliveries_send()
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"failed"}
    admin = Client()
    admin.force_login(owner)
    endpoints = admin.get("/admin/webhooks/webhookendpoint/").content.decode()
    assert "/mine" in endpoints and "/theirs" not in endpoints
    page = admin.get(f"/admin/webhooks/webhookendpoint/{mine['id']}/change/").content.decode()
    assert mine["segredo"] not in page and "secret_encrypted" not in page
    endpoint = WebhookEndpoint.objects.get(pk=mine["id"])
    assert endpoint.secret_encrypted not in page
    listing = admin.get("/admin/webhooks/webhookdelivery/?status__exact=failed")
    assert listing.status_code == 200
    my_delivery = WebhookDelivery.objects.get(merchant=owner.merchant)
    their_delivery = WebhookDelivery.objects.get(merchant=other.merchant)
    assert str(my_delivery.pk) in listing.content.decode()
    assert str(their_delivery.pk) not in listing.content.decode()
    filtered = admin.get("/admin/webhooks/webhookdelivery/?event__name=payment.created")
    assert filtered.status_code == 200
    detail = admin.get(f"/admin/webhooks/webhookdelivery/{my_delivery.pk}/change/")
    assert detail.status_code == 200 and "first fails" in detail.content.decode()
    assert admin.get(
        f"/admin/webhooks/webhookdelivery/{their_delivery.pk}/change/"
    ).status_code in (302, 404)
    assert admin.get("/admin/webhooks/webhookevent/").status_code == 200
    admin.post(
        "/admin/webhooks/webhookdelivery/",
        {"action": "redeliver", "_selected_action": [my_delivery.pk, their_delivery.pk]},
    )
    my_delivery.refresh_from_db()
    their_delivery.refresh_from_db()
    assert my_delivery.status == "pending" and their_delivery.status == "failed"


def test_payload_ids_are_unique_per_event(api, create_webhook, receiver):
    create_webhook(url=receiver.url, eventos=["payment.created"])
    for _ in range(3):
        api.post("/api/charges", {"valor": 10}, format="json")
    services.webhook_deliveries_send()
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == 3 and len(set(ids)) == 3
    assert all(uuid.UUID(i) for i in ids)


def test_wakeups_are_bounded_and_lose_nothing(
    api, create_webhook, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_WAKEUP_SLOTS = 2
    create_webhook(url=receiver.url, eventos=["payment.created"])
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            api.post("/api/charges", {"valor": 10}, format="json")
    # Five commits, two waiting tasks: the queue holds wake-ups, not one task per delivery.
    tasks = list(DBTaskResult.objects.filter(task_path=SEND_TASK).order_by("enqueued_at"))
    assert len(tasks) == 2
    first = tasks[0].args_kwargs["kwargs"]
    # The first task to start sends everything due.
    sent = services.webhook_deliveries_send(
        delivery_ids=first["delivery_ids"], wakeup=tuple(first["wakeup"])
    )
    assert sent == 5 and len(receiver.requests) == 5
    # Its slot is free again: the next commit wakes a new task.
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/charges", {"valor": 10}, format="json")
    assert DBTaskResult.objects.filter(task_path=SEND_TASK).count() == 3
    second = tasks[1].args_kwargs["kwargs"]
    assert (
        services.webhook_deliveries_send(
            delivery_ids=second["delivery_ids"], wakeup=tuple(second["wakeup"])
        )
        == 1
    )
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}
