"""``SANDBOX_PROVIDER_DELAY_MS``: every call through the provider seam waits, as a PSP would."""

import time

from charges.models import Charge, ChargeStatus

DELAY_MS = 300


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_every_provider_call_waits_the_configured_delay(api, settings, create_charge, pay):
    settings.SANDBOX_PROVIDER_DELAY_MS = DELAY_MS
    delay = DELAY_MS / 1000

    created, creating = timed(lambda: api.post("/api/charges", {"valor": 10}, format="json"))
    assert created.status_code == 201
    # The sandbox bank's payment is not a provider call: it comes back from the bank's side.
    paid, paying = timed(lambda: pay(created.json()["data"]["id"]))
    assert paid.status_code == 200
    refunded, refunding = timed(
        lambda: api.post(
            f"/api/charges/{created.json()['data']['id']}/refund", {"valor": 4}, format="json"
        )
    )
    assert refunded.status_code == 201
    pending = create_charge(valor=5)
    cancelled, cancelling = timed(lambda: api.delete(f"/api/charges/{pending['id']}"))
    assert cancelled.status_code == 200

    # The delay is a lower bound on each call that reaches the provider; a payment, which
    # does not, finishes before the delay has passed.
    assert creating >= delay and refunding >= delay and cancelling >= delay
    assert paying < creating
    assert Charge.objects.get(pk=pending["id"]).status == ChargeStatus.CANCELADO
