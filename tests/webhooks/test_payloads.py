"""What a merchant's receiver gets for each ``payment.*`` event: the charge as the API shows
it, signed, the same bytes on every attempt. Through the real task worker and a real HTTP
receiver on loopback."""

from datetime import timedelta

import pytest
from django.utils import timezone

from charges import services as charge_services
from tests.webhooks.conftest import run_worker_batch, start_worker, verify_signatures, wait_until
from webhooks.models import WebhookDelivery, WebhookEvent

PAYMENT_EVENTS = [
    "payment.created",
    "payment.confirmed",
    "payment.expired",
    "payment.canceled",
    "payment.refunded",
]

pytestmark = pytest.mark.django_db(transaction=True)


def shown(api, charge_id):
    """The charge as ``GET /api/charges/{id}`` shows it, and the raw JSON text of that answer."""
    response = api.get(f"/api/charges/{charge_id}")
    assert response.status_code == 200
    return response.json()["data"], response.content


def test_every_payment_event_carries_the_charge_as_the_api_shows_it(
    api, create_webhook, receiver, settings
):
    settings.PUBLIC_BASE_URL = "https://pagamentos.example"
    hook = create_webhook(url=receiver.url, eventos=PAYMENT_EVENTS)
    paid = api.post(
        "/api/charges",
        {
            "valor": 100.5,
            "descricao": "Pedido 42",
            "cliente": {"nome": "Maria", "email": "maria@example.com"},
            "metadata": {"pedido": "42"},
        },
        format="json",
    ).json()["data"]
    assert api.post(f"/api/sandbox/charges/{paid['id']}/pay", {}, format="json").status_code == 200
    for valor in (40.25, 60.25):
        refund = api.post(f"/api/charges/{paid['id']}/refund", {"valor": valor}, format="json")
        assert refund.status_code == 201, refund.content
    cancelled = api.post("/api/charges", {"valor": 7}, format="json").json()["data"]
    assert api.delete(f"/api/charges/{cancelled['id']}").status_code == 200
    expired = api.post("/api/charges", {"valor": 9.99}, format="json").json()["data"]
    charge_services.charges_expire_due(now=timezone.now() + timedelta(hours=2))

    run_worker_batch()
    requests = receiver.wait_for(8)
    bodies = [verify_signatures(hook["segredo"], request) for request in requests]
    by_charge = {}
    for request, body in zip(requests, bodies, strict=True):
        assert set(body) == {"id", "event", "data", "timestamp"}
        # The stored event row is exactly what was signed and sent.
        assert WebhookEvent.objects.get(pk=body["id"]).payload.encode() == request.body
        by_charge.setdefault(body["data"]["id"], []).append((body, request.body))
    order = [
        str(pk) for pk in WebhookEvent.objects.order_by("created_at").values_list("pk", flat=True)
    ]
    for events in by_charge.values():
        events.sort(key=lambda item: order.index(item[0]["id"]))

    def states(charge_id):
        return [(b["event"], b["data"]["status"]) for b, _ in by_charge[charge_id]]

    assert states(paid["id"]) == [
        ("payment.created", "pendente"),
        ("payment.confirmed", "pago"),
        ("payment.refunded", "pago"),
        ("payment.refunded", "reembolsado"),
    ]
    assert states(cancelled["id"]) == [
        ("payment.created", "pendente"),
        ("payment.canceled", "cancelado"),
    ]
    assert states(expired["id"]) == [
        ("payment.created", "pendente"),
        ("payment.expired", "expirado"),
    ]
    partial = by_charge[paid["id"]][2][0]["data"]
    assert partial["valor_reembolsado"] == 40.25 and partial["valor"] == 100.5

    for charge in (paid, cancelled, expired):
        api_data, api_text = shown(api, charge["id"])
        # Every field the API shows but the image (the BR Code is in qr_code).
        expected = {k: v for k, v in api_data.items() if k != "qr_code_image"}
        for body, raw in by_charge[charge["id"]]:
            assert set(body["data"]) == set(expected)
            assert body["data"]["link_pagamento"].startswith("https://pagamentos.example/pay/")
            # valor is the same JSON number text as the API's, not just an equal float.
            valor = f'"valor":{api_data["valor"]}'.encode()
            assert valor in raw and valor in api_text
        last_body, _ = by_charge[charge["id"]][-1]
        assert last_body["data"] == expected


def test_a_retried_delivery_sends_the_same_bytes_and_signature(
    api, create_webhook, make_receiver, tmp_path
):
    flaky = make_receiver(replies=[(500, {}, b"down")])
    hook = create_webhook(url=flaky.url, eventos=["payment.created"])
    charge = api.post("/api/charges", {"valor": 12.3}, format="json").json()["data"]
    worker = start_worker(tmp_path / "worker.log", WEBHOOK_RETRY_SCHEDULE="0.2")
    try:
        wait_until(
            lambda: WebhookDelivery.objects.filter(status="succeeded").exists(),
            what="the retry to succeed",
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    first, retry = flaky.requests
    assert retry.body == first.body
    for header in ("x-pagtracker-signature", "webhook-id"):
        assert retry.headers[header] == first.headers[header]
    # Each attempt's Standard Webhooks signature covers its own webhook-timestamp, as the
    # standard's receivers expect (they refuse stale timestamps); both verify.
    for request in (first, retry):
        body = verify_signatures(hook["segredo"], request)
    assert body["data"]["id"] == charge["id"] and body["data"]["valor"] == 12.3


def test_a_test_send_has_the_shape_of_a_real_event(api, create_webhook, receiver):
    hook = create_webhook(url=receiver.url, eventos=["payment.refunded"])
    real = api.post("/api/charges", {"valor": 10}, format="json").json()["data"]
    response = api.post(
        f"/api/webhooks/{hook['id']}/test", {"evento": "payment.confirmed"}, format="json"
    )
    assert response.status_code == 200, response.content
    sample = verify_signatures(hook["segredo"], receiver.requests[-1])["data"]
    assert sample.pop("teste") is True
    assert set(sample) == set(real) - {"qr_code_image"}
    assert sample["status"] == "pago" and sample["valor"] == 100.5
