from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def create_charge(api: APIClient) -> Callable[..., dict[str, Any]]:
    def create(client: APIClient | None = None, **body: Any) -> dict[str, Any]:
        body.setdefault("valor", 100.50)
        response = (client or api).post("/api/charges", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()["data"]

    return create


@pytest.fixture
def pay(api: APIClient) -> Callable[..., Any]:
    def pay_charge(charge_id: str, client: APIClient | None = None, **body: Any) -> Any:
        return (client or api).post(f"/api/sandbox/charges/{charge_id}/pay", body, format="json")

    return pay_charge
