import base64
import binascii
import io
import re
from datetime import timedelta

import pytest
import zxingcpp
from brcode.utils.brcodeId import jsonFromBrcode
from django.utils import timezone
from PIL import Image

from charges.models import Charge, ChargeEvent, PaymentNotification
from pagtracker.pix.brcode import decode


def png_text(data_uri_or_bytes) -> str:
    raw = data_uri_or_bytes
    if isinstance(raw, str):
        raw = base64.b64decode(raw.split(",", 1)[1])
    # Only QR codes: with every format enabled, zxing also "finds" a 1D barcode (ITF) inside
    # the modules of about 1 QR in 3,000 (seen in CI; reproduced with random txids).
    results = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(raw)), formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    assert len(results) == 1
    return results[0].text


def test_create_charge_returns_an_exact_br_code_and_its_png(api, merchant, create_charge):
    data = create_charge(
        valor=100.50,
        descricao="Pedido #12345",
        cliente={
            "nome": "João Silva",
            "email": "joao@exemplo.com",
            "documento": "123.456.789-09",
            "telefone": "+5511987654321",
        },
        metadata={"pedido_id": "12345"},
    )
    assert data["status"] == "pendente" and data["valor"] == 100.5
    assert data["valor_reembolsado"] == 0
    assert data["cliente"]["documento"] == "12345678909"
    assert data["link_pagamento"].startswith("http://testserver/pay/")
    assert data["created_at"].endswith("Z") and data["expires_at"].endswith("Z")
    code = decode(data["qr_code"])
    assert code.amount_cents == 10050
    assert code.txid == data["txid"]
    assert code.key == merchant.merchant.chave_pix
    # An independent parser (starkbank-brcode) reads the same fields.
    parsed = jsonFromBrcode(data["qr_code"])
    assert parsed["54"] == "100.50" and parsed["53"] == "986" and parsed["58"] == "BR"
    assert parsed["26"]["00"] == "br.gov.bcb.pix"
    assert parsed["26"]["01"] == merchant.merchant.chave_pix
    assert parsed["62"]["05"] == data["txid"]
    assert parsed["59"] == merchant.merchant.empresa and parsed["60"] == "Sao Paulo"
    assert re.fullmatch(r"Loja \d+ LTDA", parsed["59"])
    crc_body = data["qr_code"][:-4]
    assert parsed["63"] == format(binascii.crc_hqx(crc_body.encode("ascii"), 0xFFFF), "04X")
    assert png_text(data["qr_code_image"]) == data["qr_code"]
    assert Charge.objects.get(pk=data["id"]).amount_cents == 10050


@pytest.mark.parametrize(
    "valor, message_field",
    [
        (0, "valor"),
        (-5, "valor"),
        (1.234, "valor"),
        ("abc", "valor"),
        (None, "valor"),
    ],
)
def test_invalid_amounts_are_refused(api, valor, message_field):
    response = api.post("/api/charges", {"valor": valor}, format="json")
    assert response.status_code == 422
    assert message_field in response.json()["error"]["details"]
    assert Charge.objects.count() == 0


def test_amounts_are_parsed_exactly(api, create_charge):
    assert Charge.objects.get(pk=create_charge(valor=0.29)["id"]).amount_cents == 29
    assert Charge.objects.get(pk=create_charge(valor="19.99")["id"]).amount_cents == 1999
    assert Charge.objects.get(pk=create_charge(valor=1234567.89)["id"]).amount_cents == 123456789


@pytest.mark.parametrize(
    "body, field",
    [
        ({"valor": 10, "expiracao": 59}, "expiracao"),
        ({"valor": 10, "expiracao": 86401}, "expiracao"),
        (
            {"valor": 10, "cliente": {"nome": "X", "documento": "111.111.111-11"}},
            "cliente.documento",
        ),
        ({"valor": 10, "metadata": {"a": {"nested": 1}}}, "metadata"),
    ],
)
def test_invalid_fields_are_refused(api, body, field):
    response = api.post("/api/charges", body, format="json")
    assert response.status_code == 422
    assert field in response.json()["error"]["details"]


def test_alphanumeric_cnpj_is_accepted_as_documento(api, create_charge):
    data = create_charge(valor=10, cliente={"nome": "Empresa", "documento": "12.ABC.345/01DE-35"})
    assert data["cliente"]["documento"] == "12ABC34501DE35"


def test_a_merchant_without_pix_key_is_told_to_set_one(make_merchant, client_of):
    client = client_of(make_merchant(chave_pix=""))
    response = client.post("/api/charges", {"valor": 10}, format="json")
    assert response.status_code == 422
    assert "chave_pix" in response.json()["error"]["details"]


def test_create_is_idempotent(api, create_charge):
    first = api.post("/api/charges", {"valor": 10}, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    again = api.post("/api/charges", {"valor": 10}, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    assert first.json()["data"]["id"] == again.json()["data"]["id"]
    assert Charge.objects.count() == 1
    conflict = api.post(
        "/api/charges", {"valor": 11}, format="json", HTTP_IDEMPOTENCY_KEY="order-1"
    )
    assert conflict.json()["error"]["code"] == "idempotency_conflict"


def test_get_and_list_with_filters(api, create_charge, pay):
    a = create_charge(valor=1)
    b = create_charge(valor=2)
    pay(b["id"])
    assert (
        api.get(f"/api/charges/{a['id']}")
        .json()["data"]["qr_code_image"]
        .startswith("data:image/png;base64,")
    )
    listed = api.get("/api/charges").json()
    assert listed["meta"]["total"] == 2 and "qr_code_image" not in listed["data"][0]
    for status in ("paid", "pago"):
        only = api.get(f"/api/charges?status={status}").json()["data"]
        assert [c["id"] for c in only] == [b["id"]]
    assert [c["id"] for c in api.get("/api/charges?status=pending").json()["data"]] == [a["id"]]
    assert api.get(f"/api/charges?txid={a['txid']}").json()["meta"]["total"] == 1
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    assert api.get(f"/api/charges?created_from={tomorrow}").json()["meta"]["total"] == 0
    assert api.get(f"/api/charges?created_to={tomorrow}").json()["meta"]["total"] == 2
    bad = api.get("/api/charges?status=whatever")
    assert bad.status_code == 422 and "status" in bad.json()["error"]["details"]
    assert api.get("/api/charges?created_from=yesterday").status_code == 422


def test_other_merchants_charges_are_invisible(make_merchant, client_of, create_charge, api):
    other = client_of(make_merchant())
    mine = create_charge()
    assert other.get(f"/api/charges/{mine['id']}").status_code == 404
    assert other.get("/api/charges").json()["meta"]["total"] == 0
    assert other.delete(f"/api/charges/{mine['id']}").status_code == 404
    assert other.post(f"/api/charges/{mine['id']}/refund", {}, format="json").status_code == 404
    assert (
        other.post(f"/api/sandbox/charges/{mine['id']}/pay", {}, format="json").status_code == 404
    )
    assert api.get("/api/charges/not-a-uuid").status_code == 404


def test_sandbox_payment_confirms_once_and_credits_the_ledger(api, create_charge, pay):
    charge = create_charge(valor=100.50)
    paid = pay(charge["id"])
    assert paid.status_code == 200
    data = paid.json()["data"]
    assert data["status"] == "pago" and data["paid_at"] and len(data["end_to_end_id"]) == 32
    assert api.get("/api/balance").json()["data"] == {"saldo": 100.5, "moeda": "BRL"}

    e2e = paid.json()["meta"]["end_to_end_id"]
    replay = pay(charge["id"], end_to_end_id=e2e)
    assert replay.status_code == 200 and replay.json()["meta"]["replayed"] is True
    second = pay(charge["id"])  # another payment of an already paid charge
    assert second.status_code == 409 and second.json()["error"]["code"] == "invalid_state"
    assert api.get("/api/balance").json()["data"]["saldo"] == 100.5
    assert PaymentNotification.objects.filter(outcome="applied").count() == 1
    assert PaymentNotification.objects.filter(outcome="not_payable").count() == 1


def test_sandbox_payment_body_is_optional_and_checked_when_present(api, create_charge):
    url = "/api/sandbox/charges/{}/pay"
    # No body at all pays the charge's amount, like {}.
    assert api.post(url.format(create_charge()["id"])).status_code == 200
    charge = create_charge()
    for body in ([], [1], {"valor": "abc"}, {"end_to_end_id": "short"}):
        response = api.post(url.format(charge["id"]), body, format="json")
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "invalid_input"
    assert api.get(f"/api/charges/{charge['id']}").json()["data"]["status"] == "pendente"
    assert PaymentNotification.objects.filter(charge_id=charge["id"]).count() == 0


def test_wrong_amount_is_recorded_and_not_applied(api, create_charge, pay):
    charge = create_charge(valor=50)
    response = pay(charge["id"], valor=49.99)
    assert response.status_code == 422 and "valor" in response.json()["error"]["details"]
    assert api.get(f"/api/charges/{charge['id']}").json()["data"]["status"] == "pendente"
    notification = PaymentNotification.objects.get()
    assert notification.outcome == "amount_mismatch" and notification.amount_cents == 4999
    assert ChargeEvent.objects.filter(charge_id=charge["id"], type="payment_rejected").exists()
    assert api.get("/api/balance").json()["data"]["saldo"] == 0


def test_cancel_then_nothing_more(api, create_charge, pay):
    charge = create_charge()
    response = api.delete(f"/api/charges/{charge['id']}")
    assert response.status_code == 200
    assert response.json()["data"]["status"] == "cancelado"
    assert response.json()["data"]["cancelled_at"].endswith("Z")
    again = api.delete(f"/api/charges/{charge['id']}")
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_state"
    assert pay(charge["id"]).status_code == 409
    assert api.get(f"/api/charges/{charge['id']}").json()["data"]["status"] == "cancelado"


def test_refunds_partial_then_total(api, create_charge, pay):
    charge = create_charge(valor=100)
    assert api.post(f"/api/charges/{charge['id']}/refund", {}, format="json").status_code == 409
    pay(charge["id"])
    partial = api.post(
        f"/api/charges/{charge['id']}/refund",
        {"valor": 50.25, "motivo": "Produto com defeito"},
        format="json",
    )
    assert partial.status_code == 201
    assert partial.json()["data"]["status"] == "DEVOLVIDO"
    assert partial.json()["data"]["valor"] == 50.25
    assert partial.json()["data"]["message"] == "Reembolso processado com sucesso"
    state = api.get(f"/api/charges/{charge['id']}").json()["data"]
    assert state["status"] == "pago" and state["valor_reembolsado"] == 50.25

    too_much = api.post(f"/api/charges/{charge['id']}/refund", {"valor": 49.76}, format="json")
    assert too_much.status_code == 422 and "valor" in too_much.json()["error"]["details"]
    rest = api.post(f"/api/charges/{charge['id']}/refund", {}, format="json")
    assert rest.status_code == 201 and rest.json()["data"]["valor"] == 49.75
    state = api.get(f"/api/charges/{charge['id']}").json()["data"]
    assert state["status"] == "reembolsado" and state["valor_reembolsado"] == 100
    assert api.get("/api/balance").json()["data"]["saldo"] == 0
    done = api.post(f"/api/charges/{charge['id']}/refund", {}, format="json")
    assert done.status_code == 409


def test_refund_larger_than_balance_is_insufficient_funds(api, merchant, create_charge, pay):
    import uuid

    from django.db import transaction

    from pagtracker.ledger.models import EntryKind
    from pagtracker.ledger.services import ledger_debit, merchant_lock

    charge = create_charge(valor=100)
    pay(charge["id"])
    with transaction.atomic():  # money left the account some other way (a payout)
        merchant_lock(merchant_id=merchant.merchant_id)
        ledger_debit(
            merchant_id=merchant.merchant_id,
            kind=EntryKind.PAYOUT_OUT,
            amount_cents=9_000,
            reference_id=uuid.uuid4(),
        )
    response = api.post(f"/api/charges/{charge['id']}/refund", {"valor": 20}, format="json")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "insufficient_funds"
    assert api.get(f"/api/charges/{charge['id']}").json()["data"]["valor_reembolsado"] == 0
    assert api.get("/api/balance").json()["data"]["saldo"] == 10


def test_refund_is_idempotent_with_a_key(api, create_charge, pay):
    charge = create_charge(valor=30)
    pay(charge["id"])
    url = f"/api/charges/{charge['id']}/refund"
    first = api.post(url, {"valor": 10}, format="json", HTTP_IDEMPOTENCY_KEY="refund-1")
    again = api.post(url, {"valor": 10}, format="json", HTTP_IDEMPOTENCY_KEY="refund-1")
    assert first.json() == again.json()
    assert api.get(f"/api/charges/{charge['id']}").json()["data"]["valor_reembolsado"] == 10


def test_listing_costs_the_same_queries_for_1_or_20_charges(api, create_charge, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.LIST_TOTAL_CACHE_SECONDS = 0
    create_charge(valor=1)
    create_charge(valor=1)
    with CaptureQueriesContext(connection) as one:
        assert len(api.get("/api/charges?per_page=1").json()["data"]) == 1
    for _ in range(19):
        create_charge(valor=1)
    with CaptureQueriesContext(connection) as twenty:
        assert len(api.get("/api/charges").json()["data"]) == 20
    assert len(twenty.captured_queries) == len(one.captured_queries) <= 3


def test_list_total_is_exact_without_a_count_on_the_last_page(api, create_charge, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(5):
        create_charge(valor=1)
    with CaptureQueriesContext(connection) as last_page:
        body = api.get("/api/charges?per_page=2&page=3").json()
    assert body["meta"] == {"page": 3, "per_page": 2, "total": 5}
    assert not [q for q in last_page.captured_queries if "COUNT(" in q["sql"].upper()]
    assert api.get("/api/charges?per_page=2&page=4").json()["meta"]["total"] == 5


def test_list_total_of_full_pages_is_counted_once_per_window(api, create_charge, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.LIST_TOTAL_CACHE_SECONDS = 60
    for _ in range(4):
        create_charge(valor=1)
    assert api.get("/api/charges?per_page=2").json()["meta"]["total"] == 4
    create_charge(valor=1)
    with CaptureQueriesContext(connection) as again:
        meta = api.get("/api/charges?per_page=2&page=2").json()["meta"]
    # Within the window the count is reused (documented staleness)...
    assert meta["total"] == 4
    assert not [q for q in again.captured_queries if "COUNT(" in q["sql"].upper()]
    # ...per filter set: another filter counts afresh.
    assert api.get("/api/charges?per_page=2&status=pending").json()["meta"]["total"] == 5
    settings.LIST_TOTAL_CACHE_SECONDS = 0
    assert api.get("/api/charges?per_page=2").json()["meta"]["total"] == 5
