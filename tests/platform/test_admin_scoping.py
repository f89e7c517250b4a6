import pytest
from django.test import Client

from pagtracker.accounts import services
from pagtracker.accounts.models import ApiKey, User


@pytest.fixture
def two_merchants(make_merchant):
    a, b = make_merchant(), make_merchant()
    services.api_key_create(user=a, descricao="key of A")
    services.api_key_create(user=b, descricao="key of B")
    return a, b


def admin_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_merchant_staff_list_only_their_objects(two_merchants):
    a, b = two_merchants
    client = admin_client(a)
    keys = client.get("/admin/accounts/apikey/")
    assert keys.status_code == 200
    assert "key of A" in keys.content.decode() and "key of B" not in keys.content.decode()
    users = client.get("/admin/accounts/user/").content.decode()
    assert a.email in users and b.email not in users
    merchants = client.get("/admin/accounts/merchant/").content.decode()
    assert str(a.merchant) in merchants and str(b.merchant) not in merchants


def test_merchant_staff_cannot_open_or_change_another_merchants_objects(two_merchants):
    a, b = two_merchants
    client = admin_client(a)
    key_b = ApiKey.objects.get(merchant=b.merchant)
    assert client.get(f"/admin/accounts/apikey/{key_b.pk}/change/").status_code in (302, 404)
    assert client.get(f"/admin/accounts/merchant/{b.merchant_id}/change/").status_code in (302, 404)
    response = client.post(
        f"/admin/accounts/merchant/{b.merchant_id}/change/",
        {"empresa": "hijacked", "plano": "basico", "provider": "sandbox"},
    )
    assert response.status_code in (302, 403, 404)
    b.merchant.refresh_from_db()
    assert b.merchant.empresa != "hijacked"
    # Revoking via the action only touches rows in the merchant's own queryset.
    client.post("/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [key_b.pk]})
    key_b.refresh_from_db()
    assert key_b.revoked_at is None


def test_merchant_staff_can_edit_their_own_merchant(two_merchants):
    a, _ = two_merchants
    client = admin_client(a)
    page = client.get(f"/admin/accounts/merchant/{a.merchant_id}/change/")
    assert page.status_code == 200


def test_back_office_sees_everything(two_merchants):
    staff = User.objects.create_user(
        email="ops@pagtracker.local", password="x" * 12, is_staff=True, is_superuser=True
    )
    body = admin_client(staff).get("/admin/accounts/apikey/").content.decode()
    assert "key of A" in body and "key of B" in body


def test_non_staff_users_cannot_enter_the_admin(make_merchant):
    user = make_merchant(is_staff=False)
    response = admin_client(user).get("/admin/accounts/apikey/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
