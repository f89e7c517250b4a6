import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from pagtracker.accounts import services
from pagtracker.accounts.models import User

from .factories import MerchantFactory

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    from pagtracker.api.throttling import rate_limits_reset

    cache.clear()
    rate_limits_reset()
    yield


@pytest.fixture
def make_merchant(db: Any) -> Callable[..., User]:
    """Make a merchant (``MerchantFactory``); any field can be given."""
    return lambda **fields: MerchantFactory(**fields)


@pytest.fixture
def merchant(make_merchant: Callable[..., User]) -> User:
    return make_merchant()


def client_for_key(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


@pytest.fixture
def api_key_for() -> Callable[[User], str]:
    def issue(user: User) -> str:
        return services.api_key_create(user=user, descricao="tests").raw_key

    return issue


@pytest.fixture
def api(merchant: User, api_key_for: Callable[[User], str]) -> APIClient:
    """An API client authenticated with a sandbox API key of ``merchant``."""
    return client_for_key(api_key_for(merchant))


@pytest.fixture
def client_of(api_key_for: Callable[[User], str]) -> Callable[[User], APIClient]:
    return lambda user: client_for_key(api_key_for(user))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url_for_subprocesses() -> str:
    """The URL of the database the test run created, for server processes we start."""
    from django.db import connection

    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{params['NAME']}"
    user = params.get("USER") or ""
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{params['HOST']}:{params['PORT']}/{params['NAME']}"


class ServerProcess:
    def __init__(self, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
        self.port = port
        self.process = process
        self.log = log
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def wait_for_port(
    port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()[-3000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server did not listen on {port}:\n{log.read_text()[-3000:]}")


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start real server processes (``manage.py serve``) on the test database (use with
    ``transactional_db``)."""
    started: list[ServerProcess] = []

    def start(
        *, extra_env: dict[str, str] | None = None, worker: bool = False
    ) -> ServerProcess:
        port = free_port()
        log = tmp_path / f"server-{port}.log"
        env = dict(
            os.environ,
            DATABASE_URL=database_url_for_subprocesses(),
            DJANGO_SETTINGS_MODULE="pagtracker.settings_test",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra_env or {})
        cmd = [sys.executable, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(port)]
        if not worker:
            cmd.append("--no-worker")
        process = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
        )
        server = ServerProcess(port, process, log)
        started.append(server)
        wait_for_port(port, process, log)
        return server

    yield start
    for server in started:
        server.stop()


def start_of_rate_limit_window(*, needed_seconds: float = 20) -> None:
    """Rate limits count in fixed one-minute windows; a test that must stay inside one window
    waits for the next one when fewer than ``needed_seconds`` are left."""
    left = 60 - time.time() % 60
    if left < needed_seconds:
        time.sleep(left + 0.2)


def run_concurrently(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released together, each with its own database
    connection; returns each result or the exception it raised."""
    import threading

    from django.db import connections

    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def runner(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # collected and asserted on by the test
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
