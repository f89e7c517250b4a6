"""Real concurrency: several senders, each with its own database connection (threads), on
the same due deliveries (PostgreSQL in CI's second run, SQLite in the first)."""

import pytest

from tests.conftest import run_concurrently
from webhooks import services
from webhooks.models import WebhookAttempt, WebhookDelivery


@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_send_every_delivery_exactly_once(api, create_webhook, receiver):
    create_webhook(url=receiver.url, eventos=["payment.created"])
    create_webhook(url=receiver.url + "/second", eventos=["payment.created"])
    for _ in range(15):
        api.post("/api/charges", {"valor": 10}, format="json")
    assert WebhookDelivery.objects.filter(status="pending").count() == 30
    results = run_concurrently(6, lambda i: services.webhook_deliveries_send(drain_seconds=30))
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 30
    keys = [(r.path, r.headers["webhook-id"]) for r in receiver.requests]
    assert len(keys) == 30 and len(set(keys)) == 30
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}
    assert WebhookAttempt.objects.count() == 30
    assert set(WebhookAttempt.objects.values_list("number", flat=True)) == {1}
