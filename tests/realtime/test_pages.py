"""The pages wire themselves to the sockets (the browser tests drive them for real)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from .conftest import code_of

pytestmark = pytest.mark.django_db


def test_hosted_page_listens_on_its_room_and_keeps_polling_as_fallback(merchant, charge_of):
    html = Client().get(f"/pay/{code_of(charge_of(merchant))}").content.decode()
    assert '"/ws/payments/"' in html and "new WebSocket" in html
    assert "window.pagtrackerPoll" in html  # the fallback is still there
    for push in ("PAYMENT_STATUS", "PAYMENT_CONFIRMED", "PAYMENT_EXPIRED", "PAYMENT_CANCELED"):
        assert push in html


def test_admin_charge_list_listens_on_the_merchant_channel(merchant, charge_of):
    charge_of(merchant)
    get_user_model().objects.create_user(
        "staff@example.com", "staff password 123", merchant=merchant.merchant, is_staff=True
    )
    client = Client()
    assert client.login(email="staff@example.com", password="staff password 123")
    response = client.get("/admin/charges/charge/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '"/ws/merchant/"' in html and 'id="changelist"' in html
    assert "action-select" in html  # the rows the script patches carry the charge ids
