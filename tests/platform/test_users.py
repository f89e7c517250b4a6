import json

from django.core.management import call_command
from rest_framework.test import APIClient

from pagtracker.accounts.models import ApiKey, PspCredential
from pagtracker.crypto import decrypt_text


def test_me_returns_the_profile(merchant, api):
    data = api.get("/api/users/me").json()["data"]
    assert set(data) == {
        "id",
        "email",
        "nome",
        "empresa",
        "plano",
        "chave_pix",
        "cidade",
        "created_at",
        "updated_at",
    }
    assert data["created_at"].endswith("Z")


def test_put_me_canonicalises_the_pix_key(api):
    response = api.put(
        "/api/users/me",
        {"nome": "Novo Nome", "empresa": "Nova Empresa", "chave_pix": "(61) 91234-5678"},
        format="json",
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["nome"] == "Novo Nome" and data["empresa"] == "Nova Empresa"
    assert data["chave_pix"] == "+5561912345678"


def test_put_me_refuses_an_invalid_pix_key_and_keeps_the_old_one(api):
    before = api.get("/api/users/me").json()["data"]
    response = api.put("/api/users/me", {"nome": "X", "chave_pix": "123.456.789-00"}, format="json")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"
    assert "chave_pix" in response.json()["error"]["details"]
    after = api.get("/api/users/me").json()["data"]
    assert after["chave_pix"] == before["chave_pix"] and after["nome"] == before["nome"]


def test_put_me_refuses_read_only_fields(api):
    response = api.put("/api/users/me", {"email": "other@example.com"}, format="json")
    assert response.status_code == 422
    assert "email" in response.json()["error"]["details"]


def test_api_key_lifecycle(api, merchant):
    created = api.post(
        "/api/users/me/api-keys", {"descricao": "ERP", "expiracao": 30}, format="json"
    )
    assert created.status_code == 201
    data = created.json()["data"]
    assert data["api_key"].startswith("pt_test_") and data["expires_at"]
    listed = api.get("/api/users/me/api-keys").json()
    assert listed["meta"]["total"] == 2
    assert all("api_key" not in item and "key_hash" not in item for item in listed["data"])

    revoked = api.delete(f"/api/users/me/api-keys/{data['id']}")
    assert revoked.status_code == 200 and revoked.json()["data"]["revoked_at"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {data['api_key']}")
    assert client.get("/api/users/me").status_code == 401


def test_another_merchants_api_key_answers_404(make_merchant, client_of):
    a, b = make_merchant(), make_merchant()
    key_b = ApiKey.objects.create(
        merchant=b.merchant, created_by=b, prefix="pt_test_x", key_hash="f" * 64
    )
    response = client_of(a).delete(f"/api/users/me/api-keys/{key_b.id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "resource_not_found"


def test_gerencianet_credentials_are_validated_and_encrypted(api, merchant):
    bad = api.put(
        "/api/users/me/credentials/gerencianet",
        {"client_id": "id", "client_secret": "s", "pix_key": "not a key"},
        format="json",
    )
    assert bad.status_code == 422 and "pix_key" in bad.json()["error"]["details"]
    bad_cert = api.put(
        "/api/users/me/credentials/gerencianet",
        {
            "client_id": "id",
            "client_secret": "s",
            "pix_key": "a@b.com",
            "certificate": "bm90IGEgY2VydA==",
        },
        format="json",
    )
    assert bad_cert.status_code == 422 and "certificate" in bad_cert.json()["error"]["details"]

    good = api.put(
        "/api/users/me/credentials/gerencianet",
        {
            "client_id": "Client_Id_abc",
            "client_secret": "Client_Secret_xyz",
            "pix_key": "Fulano@Example.com",
            "sandbox": True,
        },
        format="json",
    )
    assert good.status_code == 200
    assert good.json()["data"] == {
        "success": True,
        "message": "Credenciais configuradas com sucesso",
    }
    stored = PspCredential.objects.get(merchant=merchant.merchant)
    assert "Client_Secret_xyz" not in stored.client_secret_encrypted
    assert decrypt_text(stored.client_secret_encrypted) == "Client_Secret_xyz"
    assert stored.pix_key == "fulano@example.com"


def test_create_merchant_command_json(db, capsys):
    call_command(
        "create_merchant",
        "--email",
        "ops@example.com",
        "--password",
        "s3cret-pass",
        "--empresa",
        "Ops SA",
        "--plano",
        "profissional",
        "--chave-pix",
        "123.456.789-09",
        "--cidade",
        "Recife",
        "--json",
    )
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"id", "email", "api_key"}
    assert out["api_key"].startswith("pt_test_")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {out['api_key']}")
    me = client.get("/api/users/me").json()["data"]
    assert me["plano"] == "profissional" and me["chave_pix"] == "12345678909"


def test_hand_built_outputs_match_their_declared_schema(api, merchant):
    from charges.serializers import ChargeListItemSerializer, ChargeOutputSerializer
    from pagtracker.accounts.serializers import UserOutputSerializer

    me = api.get("/api/users/me").json()["data"]
    assert set(me) == set(UserOutputSerializer().fields)
    charge = api.post("/api/charges", {"valor": 1}, format="json").json()["data"]
    assert set(charge) == set(ChargeOutputSerializer().fields)
    listed = api.get("/api/charges").json()["data"][0]
    assert set(listed) == set(ChargeListItemSerializer().fields)
