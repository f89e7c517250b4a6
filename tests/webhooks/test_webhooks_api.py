"""/api/webhooks: CRUD, validation, the secret, merchant isolation and the test endpoint."""

import base64
import uuid

import pytest
from rest_framework.test import APIClient

from pagtracker.crypto import decrypt_text
from tests.conftest import free_port
from tests.webhooks.conftest import verify_signatures
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def test_create_generates_a_secret_shown_once_and_stored_encrypted(api, receiver):
    response = api.post(
        "/api/webhooks",
        {
            "url": receiver.url,
            "eventos": ["payment.created", "payment.confirmed"],
            "descricao": "Pedidos",
        },
        format="json",
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert set(data) == {
        "id",
        "url",
        "eventos",
        "segredo",
        "ativo",
        "descricao",
        "created_at",
        "updated_at",
    }
    assert data["url"] == receiver.url and data["ativo"] is True
    assert data["eventos"] == ["payment.created", "payment.confirmed"]
    assert data["created_at"].endswith("Z")
    secret = data["segredo"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) >= 24
    stored = WebhookEndpoint.objects.get(pk=data["id"]).secret_encrypted
    assert secret not in stored and secret[6:] not in stored
    assert decrypt_text(stored) == secret
    # Never again: not on GET, list or PUT.
    assert "segredo" not in api.get(f"/api/webhooks/{data['id']}").json()["data"]
    assert "segredo" not in api.get("/api/webhooks").json()["data"][0]
    put = api.put(
        f"/api/webhooks/{data['id']}",
        {"url": receiver.url, "eventos": ["payment.expired"]},
        format="json",
    )
    assert put.status_code == 200 and "segredo" not in put.json()["data"]
    assert "secret" not in str(put.json()).lower()


def test_a_given_secret_is_kept_as_given(api, receiver):
    data = api.post(
        "/api/webhooks",
        {
            "url": receiver.url,
            "eventos": ["payment.confirmed"],
            "segredo": "chave_secreta_para_assinatura",
        },
        format="json",
    ).json()["data"]
    assert data["segredo"] == "chave_secreta_para_assinatura"
    endpoint = WebhookEndpoint.objects.get(pk=data["id"])
    assert decrypt_text(endpoint.secret_encrypted) == "chave_secreta_para_assinatura"


@pytest.mark.parametrize(
    "body, field, fragment",
    [
        ({"eventos": ["payment.created"]}, "url", "obrigat"),
        ({"url": "https://example.com/h"}, "eventos", "obrigat"),
        ({"url": "ftp://example.com/h", "eventos": ["payment.created"]}, "url", "https://"),
        ({"url": "example.com/h", "eventos": ["payment.created"]}, "url", "https://"),
        ({"url": "https:///nohost", "eventos": ["payment.created"]}, "url", "host"),
        (
            {"url": "https://user:pw@example.com/h", "eventos": ["payment.created"]},
            "url",
            "credentials",
        ),
        ({"url": "https://example.com:99999/h", "eventos": ["payment.created"]}, "url", "port"),
        ({"url": "https://exa mple.com/h", "eventos": ["payment.created"]}, "url", "spaces"),
        ({"url": "https://example.com/h", "eventos": []}, "eventos", "at least one"),
        (
            {"url": "https://example.com/h", "eventos": ["payment.created", "payment.paid"]},
            "eventos",
            "payment.paid",
        ),
        ({"url": "https://example.com/h", "eventos": "payment.created"}, "eventos", "lista"),
        (
            {"url": "https://example.com/h", "eventos": ["payment.created"], "segredo": "curto"},
            "segredo",
            "16",
        ),
        (
            {
                "url": "https://example.com/h",
                "eventos": ["payment.created"],
                "segredo": "whsec_not*base64*at*all!!",
            },
            "segredo",
            "base64",
        ),
    ],
)
def test_invalid_registrations_are_refused_per_field(api, body, field, fragment):
    response = api.post("/api/webhooks", body, format="json")
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert field in error["details"], error
    assert fragment.lower() in " ".join(error["details"][field]).lower()
    assert WebhookEndpoint.objects.count() == 0


def test_list_is_paginated_with_meta_and_only_shows_live_endpoints(api, create_webhook, receiver):
    ids = [create_webhook(url=f"{receiver.url}/{n}")["id"] for n in range(3)]
    api.delete(f"/api/webhooks/{ids[0]}")
    page = api.get("/api/webhooks?per_page=1&page=2").json()
    assert page["meta"] == {"page": 2, "per_page": 1, "total": 2}
    assert len(page["data"]) == 1
    listed = {item["id"] for item in api.get("/api/webhooks").json()["data"]}
    assert listed == set(ids[1:])
    assert api.get("/api/webhooks?per_page=0").json()["error"]["code"] == "invalid_input"


def test_update_put_and_patch(api, create_webhook, receiver):
    hook = create_webhook(url=receiver.url, segredo="first-secret-0123456789")
    put = api.put(
        f"/api/webhooks/{hook['id']}",
        {
            "url": receiver.url + "/v2",
            "eventos": ["payment.refunded", "payout.paid"],
            "segredo": "second-secret-0123456789",
            "ativo": False,
            "descricao": "contabilidade",
        },
        format="json",
    )
    assert put.status_code == 200
    data = put.json()["data"]
    assert data["url"].endswith("/v2") and data["eventos"] == ["payment.refunded", "payout.paid"]
    assert data["ativo"] is False and data["descricao"] == "contabilidade"
    endpoint = WebhookEndpoint.objects.get(pk=hook["id"])
    assert decrypt_text(endpoint.secret_encrypted) == "second-secret-0123456789"
    patch = api.patch(f"/api/webhooks/{hook['id']}", {"ativo": True}, format="json")
    assert patch.json()["data"]["ativo"] is True
    assert patch.json()["data"]["eventos"] == ["payment.refunded", "payout.paid"]
    # PUT is a replacement: url and eventos are required.
    missing = api.put(f"/api/webhooks/{hook['id']}", {"ativo": False}, format="json")
    assert missing.status_code == 422
    assert {"url", "eventos"} <= set(missing.json()["error"]["details"])
    bad = api.patch(f"/api/webhooks/{hook['id']}", {"eventos": ["nope"]}, format="json")
    assert bad.status_code == 422 and "eventos" in bad.json()["error"]["details"]


def test_delete_answers_id_and_deleted_and_then_404(api, create_webhook, receiver):
    hook = create_webhook(url=receiver.url)
    response = api.delete(f"/api/webhooks/{hook['id']}")
    assert response.status_code == 200
    assert response.json()["data"] == {"id": hook["id"], "deleted": True}
    for call in (api.get, api.delete):
        again = call(f"/api/webhooks/{hook['id']}")
        assert again.status_code == 404
        assert again.json()["error"]["code"] == "resource_not_found"


def test_another_merchants_webhook_is_not_found(make_merchant, client_of, receiver):
    owner, intruder = client_of(make_merchant()), client_of(make_merchant())
    hook = owner.post(
        "/api/webhooks", {"url": receiver.url, "eventos": ["payment.created"]}, format="json"
    ).json()["data"]
    path = f"/api/webhooks/{hook['id']}"
    responses = [
        intruder.get(path),
        intruder.put(path, {"url": receiver.url, "eventos": ["payment.created"]}, format="json"),
        intruder.patch(path, {"ativo": False}, format="json"),
        intruder.delete(path),
        intruder.post(f"{path}/test", {}, format="json"),
    ]
    assert [r.status_code for r in responses] == [404] * 5
    assert {r.json()["error"]["code"] for r in responses} == {"resource_not_found"}
    assert intruder.get("/api/webhooks").json()["meta"]["total"] == 0
    assert receiver.requests == []
    assert WebhookEndpoint.objects.get(pk=hook["id"]).active is True
    assert api_404(owner, uuid.uuid4()) == 404


def api_404(client: APIClient, webhook_id: uuid.UUID) -> int:
    return client.get(f"/api/webhooks/{webhook_id}").status_code


def test_webhooks_need_authentication(db):
    response = APIClient().get("/api/webhooks")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_required"


def test_test_endpoint_sends_a_signed_sample_and_records_it(api, create_webhook, receiver):
    hook = create_webhook(url=receiver.url)
    response = api.post(
        f"/api/webhooks/{hook['id']}/test", {"evento": "payment.refunded"}, format="json"
    )
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["webhook_id"] == hook["id"] and data["evento"] == "payment.refunded"
    assert data["resultado"] == "success" and data["codigo_http"] == 200
    assert isinstance(data["tempo_resposta"], int) and data["tempo_resposta"] >= 0
    assert data["created_at"].endswith("Z") and data["erro"] is None
    [request] = receiver.requests
    body = verify_signatures(hook["segredo"], request)
    assert body["event"] == "payment.refunded" and body["data"]["teste"] is True
    assert set(body) == {"id", "event", "data", "timestamp"}
    assert request.headers["webhook-id"] == body["id"]
    attempt = WebhookAttempt.objects.get(pk=data["id"])
    assert attempt.status_code == 200 and attempt.success and attempt.finished_at
    assert attempt.delivery.event.is_test and attempt.delivery.status == "succeeded"


def test_test_endpoint_defaults_to_payment_confirmed_and_refuses_unknown_events(
    api, create_webhook, receiver
):
    hook = create_webhook(url=receiver.url)
    assert (
        api.post(f"/api/webhooks/{hook['id']}/test", {}, format="json").json()["data"]["evento"]
        == "payment.confirmed"
    )
    bad = api.post(f"/api/webhooks/{hook['id']}/test", {"evento": "nope"}, format="json")
    assert bad.status_code == 422 and "evento" in bad.json()["error"]["details"]


def test_a_failing_receiver_is_a_failed_result_not_our_error(api, create_webhook, make_receiver):
    receiver = make_receiver(default=(500, {}, b"boom"))
    hook = create_webhook(url=receiver.url)
    response = api.post(f"/api/webhooks/{hook['id']}/test", {}, format="json")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["resultado"] == "failed" and data["codigo_http"] == 500
    attempt = WebhookAttempt.objects.get(pk=data["id"])
    assert attempt.response_body == "boom" and not attempt.success
    assert attempt.delivery.status == "failed"
    # A test is never retried.
    assert attempt.delivery.next_attempt_at is None


def test_an_unreachable_receiver_is_webhook_delivery_failed(api, create_webhook):
    hook = create_webhook(url=f"http://127.0.0.1:{free_port()}/nobody-listens")
    response = api.post(f"/api/webhooks/{hook['id']}/test", {}, format="json")
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "webhook_delivery_failed"
    attempt = error["details"]["attempt"]
    assert attempt["resultado"] == "failed" and attempt["codigo_http"] is None
    assert attempt["webhook_id"] == hook["id"] and attempt["erro"]
    recorded = WebhookAttempt.objects.get(pk=attempt["id"])
    assert recorded.error and recorded.status_code is None
    assert WebhookDelivery.objects.get(pk=recorded.delivery_id).status == "failed"


def test_the_schema_documents_the_webhook_endpoints(db):
    schema = APIClient().get("/api/schema/?format=json").json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/webhooks"])
    assert {"get", "put", "patch", "delete"} <= set(paths["/api/webhooks/{webhook_id}"])
    test = paths["/api/webhooks/{webhook_id}/test"]["post"]["responses"]
    assert {"200", "404", "422", "502"} <= set(test)


def test_secrets_move_to_a_new_encryption_key(api, create_webhook, receiver, settings):
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    hook = create_webhook(url=receiver.url)
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]  # rotation: the new key first
    call_command("webhooks_reencrypt_secrets")
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is retired
    stored = WebhookEndpoint.objects.get(pk=hook["id"]).secret_encrypted
    assert decrypt_text(stored) == hook["segredo"]
    # And deliveries are still signed with it.
    response = api.post(f"/api/webhooks/{hook['id']}/test", {}, format="json")
    assert response.json()["data"]["resultado"] == "success"
    verify_signatures(hook["segredo"], receiver.requests[-1])


def test_international_urls_are_stored_as_sent_on_the_wire(api):
    response = api.post(
        "/api/webhooks",
        {"url": "https://café.example/ganchos/pedido ação?x=é", "eventos": ["payment.created"]},
        format="json",
    )
    # A space is refused; without it the URL is kept in its ASCII (wire) form.
    assert response.status_code == 422
    response = api.post(
        "/api/webhooks",
        {"url": "https://café.example/ganchos/ação?x=é", "eventos": ["payment.created"]},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["data"]["url"] == (
        "https://xn--caf-dma.example/ganchos/a%C3%A7%C3%A3o?x=%C3%A9"
    )
