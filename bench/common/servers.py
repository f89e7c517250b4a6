"""The servers a bench runs: PagTracker as production runs it, and a private Redis."""

from __future__ import annotations

import json
import os
import pwd
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from .basics import BENCH, CHAVE_PIX, PASSWORD, PYTHON, REPO, free_port, http_json, log, wait_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SAMPLE_NGINX_CONF = REPO / "deploy" / "nginx.conf"


def nginx_write_config(directory: Path, port: int, backend_ports: list[int]) -> Path:
    """nginx's configuration for a bench: the sample site (deploy/nginx.conf) on plain HTTP at
    ``port`` with ``backend_ports`` as its upstream, inside a main file whose paths all lie in
    ``directory``. Returns the main file."""
    directory.mkdir(parents=True, exist_ok=True)
    site = SAMPLE_NGINX_CONF.read_text()
    upstream = "    server 127.0.0.1:8001;\n    server 127.0.0.1:8002;\n"
    for old, new in (
        (upstream, "".join(f"    server 127.0.0.1:{p};\n" for p in backend_ports)),
        ("listen 443 ssl;", f"listen 127.0.0.1:{port};"),
        ("listen 80;", f"listen 127.0.0.1:{free_port()};"),
    ):
        if site.count(old) != 1:
            raise RuntimeError(f"{old!r} is not once in {SAMPLE_NGINX_CONF}")
        site = site.replace(old, new)
    # Plain HTTP, as the anchors are measured: no certificates.
    site = re.sub(r"^\s*ssl_\w+ [^;]*;\n", "", site, flags=re.MULTILINE)
    (directory / "site.conf").write_text(site)
    user = f"user {pwd.getpwuid(os.getuid()).pw_name};" if os.getuid() == 0 else ""
    temp = "".join(
        f"    {kind}_temp_path {directory / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = directory / "nginx.conf"
    main.write_text(
        f"{user}\ndaemon off;\nworker_processes 1;\npid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'error.log'} warn;\n"
        "events { worker_connections 4096; }\n"
        "http {\n    include /etc/nginx/mime.types;\n    access_log off;\n"
        f"{temp}    include {directory / 'site.conf'};\n}}\n"
    )
    return main


class Server:
    """PagTracker as production runs it: ``workers`` server processes behind nginx, on its own
    SQLite file (and optional Redis)."""

    def __init__(
        self,
        name: str,
        *,
        redis_url: str = "",
        workers: int = 2,
        extra_env: dict[str, str] | None = None,
        keep_dir: bool = False,
    ) -> None:
        self.name = name
        self.workdir = Path(tempfile.mkdtemp(prefix=f"ptbench-{name}-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.keep_dir = keep_dir
        self.proc: subprocess.Popen[Any] | None = None
        self.worker_proc: subprocess.Popen[Any] | None = None
        self.api_key = ""
        self.jwt = ""
        self.email = f"bench-{name}@example.com"
        self.merchant_id = ""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "PAGTRACKER_", "DATABASE_", "REDIS_"))
        }
        env.update(
            {
                # BENCH_SETTINGS_MODULE: only to try the harness against a settings shim.
                "DJANGO_SETTINGS_MODULE": os.environ.get(
                    "BENCH_SETTINGS_MODULE", "pagtracker.settings"
                ),
                "DATABASE_URL": f"sqlite:///{self.workdir / 'db.sqlite3'}",
                "SECRET_KEY": secrets.token_urlsafe(48),
                "DEBUG": "false",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "BENCH_BARE_VIEW": "true",
                "RATE_LIMITS": "empresarial=100000000",
                "LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
                "UVICORN_LOG_LEVEL": "warning",
            }
        )
        if redis_url:
            env["REDIS_URL"] = redis_url
        env.update(extra_env or {})
        self.env = env

    # -- management commands and scripts in the server's environment --------------------------
    def manage(self, *args: str, timeout: float = 600) -> str:
        return self._run(["manage.py", *args], timeout=timeout)

    def _run(self, argv: list[str], *, timeout: float) -> str:
        p = subprocess.run(
            [PYTHON, *argv],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if p.returncode != 0:
            raise RuntimeError(
                f"{Path(argv[0]).name} {' '.join(argv[1:])} failed ({p.returncode}):\n"
                f"{p.stdout[-2000:]}\n{p.stderr[-4000:]}"
            )
        return p.stdout

    def script(self, *args: str, timeout: float = 900) -> dict[str, Any]:
        """Run ``bench/seed.py`` with the server's env; it prints one JSON line last."""
        out = self._run([str(BENCH / "seed.py"), *args], timeout=timeout)
        lines = [ln for ln in out.splitlines() if ln.startswith("{")]
        return json.loads(lines[-1]) if lines else {}

    def create_merchant(self, email: str) -> dict[str, str]:
        out = self.manage(
            "create_merchant",
            "--email",
            email,
            "--password",
            PASSWORD,
            "--plano",
            "empresarial",
            "--chave-pix",
            CHAVE_PIX,
            "--cidade",
            "SAO PAULO",
            "--empresa",
            "Bench LTDA",
            "--json",
        )
        line = [ln for ln in out.splitlines() if ln.strip().startswith("{")][-1]
        return json.loads(line)

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> Server:
        try:
            return self._start()
        except BaseException:
            self.stop()  # no server, worker or temp dir left behind
            raise

    def _start(self) -> Server:
        log(f"{self.name}: migrate into {self.workdir}")
        self.manage("migrate", "--noinput")
        merchant = self.create_merchant(self.email)
        self.api_key = merchant["api_key"]
        self.merchant_id = merchant["id"]
        # As production runs it (docs/deploy.md): one `manage.py serve --no-worker` per port
        # and nginx with the sample config in front (least_conn), plain HTTP here; the task
        # worker only where a bench starts one (start_worker). One shell is the parent of
        # them all, so `pid` is the serving tree (its CPU and memory) and stop() ends it.
        self.backend_ports = [free_port() for _ in range(self.workers)]
        serve = [
            shlex.join(
                [PYTHON, "manage.py", "serve", "--no-worker", "--no-access-log", "--port", str(p)]
            )
            for p in self.backend_ports
        ]
        nginx_dir = self.workdir / "nginx"
        nginx_conf = nginx_write_config(nginx_dir, self.port, self.backend_ports)
        nginx = shlex.join(
            [NGINX, "-p", str(nginx_dir), "-c", str(nginx_conf), "-e", str(nginx_dir / "error.log")]
        )
        script = " & ".join([*serve, nginx]) + " & wait"
        self.log_path = self.workdir / "server.log"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            ["/bin/sh", "-c", script],
            cwd=REPO,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_port(self.port, 60, self.proc)
        # nginx listens at once and the servers after Django has loaded: poll every backend
        # until the app answers (bounded).
        deadline = time.monotonic() + 60
        for url in [f"http://127.0.0.1:{p}" for p in self.backend_ports] + [self.url]:
            while True:
                try:
                    status, _ = http_json("GET", f"{url}/bench/bare", timeout=5)
                    if status == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(
                        f"{self.name}: {url}/bench/bare never answered 200; see {self.log_path}"
                    )
                time.sleep(0.2)
        status, body = http_json(
            "POST", f"{self.url}/api/auth/token", {"email": self.email, "password": PASSWORD}
        )
        if status != 200 or "access_token" not in body:
            raise RuntimeError(f"{self.name}: login failed {status} {body}")
        self.jwt = body["access_token"]
        for path, header in (("/api/users/me", self.auth_jwt), ("/api/users/me", self.auth_key)):
            name, _, value = header.partition(": ")
            status, body = http_json("GET", self.url + path, headers={name: value})
            if status != 200:
                raise RuntimeError(f"{self.name}: GET {path} -> {status} {body}")
        log(
            f"{self.name}: up at {self.url} pid={self.proc.pid} "
            f"({self.workers} server processes behind nginx"
            f"{', Redis ' + self.env['REDIS_URL'] if 'REDIS_URL' in self.env else ''})"
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def auth_jwt(self) -> str:
        return f"Authorization: Bearer {self.jwt}"

    @property
    def auth_key(self) -> str:
        return f"Authorization: Bearer {self.api_key}"

    def start_worker(self, interval: str = "0.2") -> subprocess.Popen[Any]:
        """The worker (tasks and recurring jobs) as its own process, as production runs it."""
        self._wlog = open(self.workdir / "worker.log", "w")
        self.worker_proc = subprocess.Popen(
            [PYTHON, "manage.py", "worker", "--interval", interval],
            cwd=REPO,
            env=self.env,
            stdout=self._wlog,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self.worker_proc

    def stop_worker(self) -> None:
        _stop(self.worker_proc)
        self.worker_proc = None

    def stop(self) -> None:
        self.stop_worker()
        _stop(self.proc)
        self.proc = None
        if not self.keep_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _stop(proc: subprocess.Popen[Any] | None, timeout: float = 15) -> None:
    """SIGTERM the process group we created (start_new_session), then SIGKILL it if needed."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


class RedisServer:
    """Our own throw-away redis-server on 127.0.0.1 (no persistence)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = Path(tempfile.mkdtemp(prefix="ptbench-redis-"))
        self.proc: subprocess.Popen[Any] | None = None

    def start(self) -> RedisServer:
        exe = shutil.which("redis-server")
        if not exe:
            raise RuntimeError("redis-server not installed")
        self.proc = subprocess.Popen(
            [
                exe,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
                "--protected-mode",
                "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_port(self.port, 20, self.proc)
        log(f"redis-server pid={self.proc.pid} at {self.url}")
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        _stop(self.proc)
