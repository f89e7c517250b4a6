import threading

import pytest
from django.db import connections
from rest_framework.test import APIClient

from pagtracker.accounts.models import ApiKey
from tests.conftest import start_of_rate_limit_window


def test_unknown_api_url_is_a_json_404(api):
    response = api.get("/api/nothing/here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "resource_not_found"
    assert response["X-API-Version"] == "v1"


def test_method_not_allowed_uses_the_envelope(api):
    response = api.patch("/api/users/me", {}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_malformed_json_is_invalid_input(api):
    response = api.post(
        "/api/users/me/api-keys", data='{"descricao": ', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"


def test_wrong_content_type_is_unsupported_media_type(api):
    response = api.post(
        "/api/users/me/api-keys",
        data="descricao=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_api_version_header(api):
    assert api.get("/api/users/me", HTTP_X_API_VERSION="v1")["X-API-Version"] == "v1"
    response = api.get("/api/users/me", HTTP_X_API_VERSION="v2")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsupported_version"


def test_uncaught_exception_is_internal_error_without_internals(api, monkeypatch):
    from pagtracker.accounts import apis

    def explode(*args, **kwargs):
        raise RuntimeError("SELECT secret FROM internals")

    monkeypatch.setattr(apis, "user_output", explode)
    response = api.get("/api/users/me")
    assert response.status_code == 500
    body = response.json()
    assert body["error"]["code"] == "internal_error"
    assert body["error"]["details"]["request_id"] == response["X-Request-ID"]
    assert (
        "SELECT" not in response.content.decode() and "Traceback" not in response.content.decode()
    )


def test_pagination_meta_and_limits(api, merchant, api_key_for):
    for _ in range(4):
        api_key_for(merchant)
    page = api.get("/api/users/me/api-keys?per_page=2&page=2").json()
    assert page["meta"] == {"page": 2, "per_page": 2, "total": 5}
    assert len(page["data"]) == 2
    capped = api.get("/api/users/me/api-keys?per_page=1000").json()
    assert capped["meta"]["per_page"] == 100
    bad = api.get("/api/users/me/api-keys?page=0")
    assert bad.status_code == 422 and "page" in bad.json()["error"]["details"]


def test_rate_limit_headers_and_429(make_merchant, client_of):
    client = client_of(make_merchant(plano="basico"))
    start_of_rate_limit_window(needed_seconds=10)
    first = client.get("/api/users/me")
    assert first["X-RateLimit-Limit"] == "60"
    assert first["X-RateLimit-Remaining"] == "59"
    assert int(first["X-RateLimit-Reset"]) > 0
    for _ in range(59):
        assert client.get("/api/users/me").status_code == 200
    blocked = client.get("/api/users/me")
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "rate_limit_exceeded"
    assert 1 <= int(blocked["Retry-After"]) <= 60
    assert blocked["X-RateLimit-Remaining"] == "0"


def test_rate_limits_are_per_merchant(make_merchant, client_of):
    a = client_of(make_merchant(plano="basico"))
    b = client_of(make_merchant(plano="profissional"))
    start_of_rate_limit_window(needed_seconds=10)
    for _ in range(60):
        a.get("/api/users/me")
    assert a.get("/api/users/me").status_code == 429
    response = b.get("/api/users/me")
    assert response.status_code == 200 and response["X-RateLimit-Limit"] == "300"


def test_idempotency_key_replays_the_first_response(api, merchant):
    body = {"descricao": "idem"}
    first = api.post("/api/users/me/api-keys", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/api/users/me/api-keys", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert ApiKey.objects.filter(merchant=merchant.merchant, descricao="idem").count() == 1

    other = api.post(
        "/api/users/me/api-keys", {"descricao": "other"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_conflict"


def test_idempotency_keys_are_scoped_per_merchant(make_merchant, client_of):
    a, b = make_merchant(), make_merchant()
    ra = client_of(a).post(
        "/api/users/me/api-keys", {"descricao": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )
    rb = client_of(b).post(
        "/api/users/me/api-keys", {"descricao": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )
    assert ra.json()["data"]["id"] != rb.json()["data"]["id"]


def test_failed_request_does_not_burn_the_idempotency_key(api):
    bad = api.post(
        "/api/users/me/api-keys", {"expiracao": -1}, format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert bad.status_code == 422
    good = api.post(
        "/api/users/me/api-keys", {"expiracao": 5}, format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert good.status_code == 201


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_idempotency_key_create_one_key(make_merchant, api_key_for):
    user = make_merchant()
    raw = api_key_for(user)
    results: list[tuple[int, str]] = []
    barrier = threading.Barrier(8)

    def call() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        barrier.wait()
        response = client.post(
            "/api/users/me/api-keys",
            {"descricao": "race"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="race-key",
        )
        body = response.json()
        results.append(
            (
                response.status_code,
                body.get("data", {}).get("id", body.get("error", {}).get("code")),
            )
        )
        connections.close_all()

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ApiKey.objects.filter(merchant=user.merchant, descricao="race").count() == 1
    created = {value for status, value in results if status == 201}
    assert len(created) == 1, results
    # Every other caller either replayed the same key or was told to retry.
    assert all(status == 201 or value == "idempotency_conflict" for status, value in results)


def test_health_and_root_are_public(db):
    client = APIClient()
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json()["checks"] == {"database": "ok", "cache": "ok", "channel_layer": "ok"}
    assert client.get("/").json()["name"] == "PagTracker"


def test_openapi_schema_validates_and_documents_errors(db):
    from drf_spectacular.validation import validate_schema

    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    me = schema["paths"]["/api/users/me"]["get"]["responses"]
    assert {"200", "401", "429", "500"} <= set(me)
    assert "ErrorEnvelope" in schema["components"]["schemas"]


def test_swagger_ui_works_offline(db):
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html
