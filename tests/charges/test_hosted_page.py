from django.test import Client

from charges.models import Charge, SandboxWallet
from tests.charges.test_charges_api import png_text
from tests.factories import SandboxWalletFactory


def code_of(charge: dict) -> str:
    return charge["link_pagamento"].rsplit("/", 1)[1]


def test_hosted_page_shows_the_charge(create_charge, merchant):
    charge = create_charge(valor=1234.5, descricao="Assinatura Premium")
    page = Client().get(f"/pay/{code_of(charge)}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "R$ 1.234,50" in html and "Assinatura Premium" in html
    assert merchant.merchant.empresa in html
    assert charge["qr_code"] in html and "Copiar código" in html
    assert "Pague com Pix" in html and 'data-status="pendente"' in html
    assert "cdn" not in html.lower() and "https://" not in html


def test_public_code_is_unguessable_and_unknown_codes_get_a_page(create_charge):
    code = code_of(create_charge())
    assert len(code) >= 20
    missing = Client().get("/pay/definitely-not-a-code")
    assert missing.status_code == 404 and "Cobrança não encontrada" in missing.content.decode()
    assert Client().get("/pay/definitely-not-a-code/status").status_code == 404


def test_status_endpoint_and_qr_png(create_charge, pay):
    charge = create_charge(valor=10)
    client = Client()
    assert client.get(f"/pay/{code_of(charge)}/status").json()["status"] == "pendente"
    png = client.get(f"/pay/{code_of(charge)}/qr.png")
    assert png["Content-Type"] == "image/png"
    assert png_text(png.content) == charge["qr_code"]
    pay(charge["id"])
    status = client.get(f"/pay/{code_of(charge)}/status").json()
    assert status["status"] == "pago" and status["paid_at"]
    page = client.get(f"/pay/{code_of(charge)}").content.decode()
    assert "Pagamento confirmado" in page


def test_expired_and_cancelled_pages(api, create_charge):
    cancelled = create_charge()
    api.delete(f"/api/charges/{cancelled['id']}")
    assert "Cobrança cancelada" in Client().get(f"/pay/{code_of(cancelled)}").content.decode()
    expired = create_charge()
    Charge.objects.filter(pk=expired["id"]).update(status="expirado")
    assert "Cobrança expirada" in Client().get(f"/pay/{code_of(expired)}").content.decode()


def wallet(merchant, **fields):
    return SandboxWalletFactory(merchant=merchant.merchant, **fields)


def test_wallet_pays_below_the_pin_limit_without_a_pin(create_charge, merchant, api):
    card = wallet(merchant)
    charge = create_charge(valor=50)
    response = Client().post(f"/pay/{code_of(charge)}/wallet", {"card_number": "4000000000000002"})
    assert response.status_code == 200 and response.json()["status"] == "pago"
    card.refresh_from_db()
    assert card.balance_cents == 5_000
    assert api.get("/api/balance").json()["data"]["saldo"] == 50


def test_wallet_requires_the_pin_above_the_limit(create_charge, merchant):
    card = wallet(merchant)
    charge = create_charge(valor=50.01)
    url = f"/pay/{code_of(charge)}/wallet"
    missing = Client().post(url, {"card_number": "4000000000000002"})
    assert missing.status_code == 422 and "pin" in missing.json()["error"]["details"]
    wrong = Client().post(url, {"card_number": "4000000000000002", "pin": "9999"})
    assert wrong.status_code == 422
    ok = Client().post(url, {"card_number": "4000000000000002", "pin": "1234"})
    assert ok.status_code == 200 and ok.json()["status"] == "pago"
    card.refresh_from_db()
    assert card.balance_cents == 10_000 - 5_001


def test_wallet_never_asks_for_pin_with_limit_minus_one(create_charge, merchant):
    wallet(merchant, pin_limit_cents=-1, balance_cents=1_000_000)
    charge = create_charge(valor=9000)
    response = Client().post(f"/pay/{code_of(charge)}/wallet", {"card_number": "4000000000000002"})
    assert response.status_code == 200


def test_wallet_refusals_change_nothing(create_charge, merchant):
    wallet(merchant, balance_cents=100, pin_limit_cents=-1)
    charge = create_charge(valor=2)
    url = f"/pay/{code_of(charge)}/wallet"
    poor = Client().post(url, {"card_number": "4000000000000002"})
    assert poor.status_code == 422 and poor.json()["error"]["code"] == "insufficient_funds"
    unknown = Client().post(url, {"card_number": "5555000000000000"})
    assert unknown.status_code == 422 and "card_number" in unknown.json()["error"]["details"]
    assert Charge.objects.get(pk=charge["id"]).status == "pendente"
    assert SandboxWallet.objects.get().balance_cents == 100


def test_wallet_of_another_merchant_does_not_work(create_charge, make_merchant):
    wallet(make_merchant())
    charge = create_charge(valor=1)
    response = Client().post(f"/pay/{code_of(charge)}/wallet", {"card_number": "4000000000000002"})
    assert response.status_code == 422
