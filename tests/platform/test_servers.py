"""Real server processes: rate limits shared through Redis, and the production checks."""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from email.message import Message

import pytest

from tests.conftest import ROOT, start_of_rate_limit_window


def get(url: str, token: str) -> tuple[int, Message]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (CI's second run)")
def test_rate_limit_holds_across_two_server_processes(make_merchant, api_key_for, start_server):
    raw = api_key_for(make_merchant(plano="basico"))
    one, two = start_server(), start_server()
    start_of_rate_limit_window()
    statuses = []
    for i in range(70):
        server = one if i % 2 == 0 else two
        status, _ = get(f"{server.url}/api/users/me", raw)
        statuses.append(status)
    assert statuses[:60] == [200] * 60
    assert set(statuses[60:]) == {429}


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_real_server_serves_api_health_and_admin_static(make_merchant, api_key_for, start_server):
    raw = api_key_for(make_merchant())
    server = start_server()
    status, headers = get(f"{server.url}/api/users/me", raw)
    assert status == 200 and headers["X-API-Version"] == "v1"
    with urllib.request.urlopen(f"{server.url}/health", timeout=10) as response:
        assert json.loads(response.read())["status"] == "healthy"
    with urllib.request.urlopen(f"{server.url}/static/admin/css/base.css", timeout=10) as response:
        assert response.status == 200


def test_check_deploy_is_clean_with_production_settings():
    env = dict(
        os.environ,
        PRODUCTION="true",
        DEBUG="false",
        SECRET_KEY="k7#Qz!p2@Lm9$Xw4%Rb8^Tn3&Vc6*Hy1(Gd5)Fs0" * 2,
        ALLOWED_HOSTS="pagtracker.example.com",
        DJANGO_SETTINGS_MODULE="pagtracker.settings",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
