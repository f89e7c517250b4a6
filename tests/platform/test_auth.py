from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from pagtracker.accounts.models import ApiKey

PASSWORD = "correct horse battery"


def login(client: APIClient, email: str, password: str = PASSWORD):
    return client.post("/api/auth/token", {"email": email, "password": password}, format="json")


def test_login_returns_the_bare_token_pair_that_authenticates(merchant):
    client = APIClient()
    response = login(client, merchant.email)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "expires_in", "token_type"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    me = client.get("/api/users/me")
    assert me.status_code == 200
    assert me.json()["data"]["email"] == merchant.email


def test_wrong_password_is_invalid_credentials(merchant):
    response = login(APIClient(), merchant.email, "wrong password")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_login_is_throttled_against_password_guessing(merchant, settings):
    settings.LOGIN_ATTEMPTS_PER_WINDOW = 5
    client = APIClient()
    codes = [login(client, merchant.email, f"guess {i}").status_code for i in range(5)]
    assert codes == [401] * 5
    blocked = login(client, merchant.email)  # even the right password waits now
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "rate_limit_exceeded"


def test_refresh_rotates_and_a_used_refresh_token_is_dead(merchant):
    client = APIClient()
    first = login(client, merchant.email).json()
    rotated = client.post(
        "/api/auth/token/refresh", {"refresh_token": first["refresh_token"]}, format="json"
    )
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]

    reused = client.post(
        "/api/auth/token/refresh", {"refresh_token": first["refresh_token"]}, format="json"
    )
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "invalid_credentials"
    # Reuse means the token leaked: the family is revoked, the newer refresh token too.
    after = client.post(
        "/api/auth/token/refresh", {"refresh_token": second["refresh_token"]}, format="json"
    )
    assert after.status_code == 401


def test_garbage_refresh_token_is_refused(db):
    response = APIClient().post("/api/auth/token/refresh", {"refresh_token": "nope"}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_api_key_exchanges_for_tokens_and_works_directly(merchant, api_key_for):
    raw = api_key_for(merchant)
    assert raw.startswith("pt_test_")
    tokens = APIClient().post("/api/auth/token/api-key", {"api_key": raw}, format="json")
    assert tokens.status_code == 200 and tokens.json()["token_type"] == "bearer"

    direct = APIClient()
    direct.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert direct.get("/api/users/me").json()["data"]["id"] == str(merchant.id)

    header = APIClient()
    header.credentials(HTTP_X_API_KEY=raw)
    assert header.get("/api/users/me").status_code == 200


def test_api_key_is_stored_hashed_and_usage_recorded(merchant, api):
    key = ApiKey.objects.get(merchant=merchant.merchant)
    assert key.last_used_at is None
    api.get("/api/users/me")
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert len(key.key_hash) == 64 and not key.key_hash.startswith("pt_")


def test_expired_or_revoked_api_keys_are_refused(merchant, api_key_for):
    expired_raw = api_key_for(merchant)
    ApiKey.objects.filter(merchant=merchant.merchant).update(
        expires_at=timezone.now() - timedelta(1)
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {expired_raw}")
    response = client.get("/api/users/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_no_credentials_is_authentication_required(db):
    response = APIClient().get("/api/users/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_required"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_bad_jwt_is_invalid_credentials(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")
    response = client.get("/api/users/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


@pytest.mark.parametrize(
    "path", ["/api/auth/token", "/api/auth/token/api-key", "/api/auth/token/refresh"]
)
def test_auth_endpoints_validate_their_bodies(db, path):
    response = APIClient().post(path, {}, format="json")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"
    assert response.json()["error"]["details"]


def test_a_profile_update_leaves_the_cached_shared_user_as_it_was(merchant, api_key_for):
    """Requests share the authentication cache's instances (authcache): services must not
    change the user they are handed, only a fresh copy of its row."""
    from pagtracker.accounts.authentication import api_key_resolve
    from pagtracker.accounts.services import user_update_profile

    raw = api_key_for(merchant)
    cached_user = api_key_resolve(raw).created_by
    assert api_key_resolve(raw).created_by is cached_user  # one shared instance per process
    updated = user_update_profile(user=cached_user, nome="Outro Nome", cidade="RECIFE")
    assert updated is not cached_user
    assert (updated.nome, updated.merchant.cidade) == ("Outro Nome", "RECIFE")
    assert cached_user.nome == merchant.nome
    assert cached_user.merchant.cidade == merchant.merchant.cidade
    # The save cleared the cache: the next request reads the new profile.
    assert api_key_resolve(raw).created_by.nome == "Outro Nome"
