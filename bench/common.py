"""Shared pieces of the PagTracker benchmarks.

- ``Server``: a production-shaped server (``manage.py serve --workers 2``: uvicorn, uvloop +
  httptools, connections balanced across the workers, no access log)
  on a fresh SQLite file in a temp dir, migrated, with one merchant (plan ``empresarial``,
  rate limit raised so throttling runs but never blocks), its API key and a JWT.
- ``Workload`` + ``run_matrix``: closed-loop wrk runs, interleaved (repeat x concurrency x
  workload) to spread machine noise, with server CPU (the server process tree) and wrk CPU
  beside every figure; medians to ``bench/results/*.json`` and a markdown table.
- GET runs use ``bench/wrk_get.lua``, one-URL-per-request runs ``bench/wrk_paths.lua``; POST
  runs with a constant body call the shared driver
  ``/work/shared/anchor-harness/http_bench.py`` (one repeat, one concurrency per call), the
  same driver that measured the anchors.

Load targets 127.0.0.1 only. Every wait and loop is bounded in count and time.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
HARNESS = Path(os.environ.get("ANCHOR_HARNESS", "/work/shared/anchor-harness"))
VENV_PY = REPO / ".venv" / "bin" / "python"
PYTHON = str(VENV_PY if VENV_PY.exists() else Path(sys.executable))

CHAVE_PIX = "123e4567-e12b-12d1-a456-426655440000"
PASSWORD = "bench-Password-123"


def _load_by_path(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


procmem = _load_by_path("anchor_procmem", HARNESS / "procmem.py")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine spent busy so far (all cores, /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout_s: float = 60, proc: subprocess.Popen[Any] | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before port {port} opened")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"port {port} not up after {timeout_s}s")


def http_json(
    method: str,
    url: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, Any]:
    assert url.startswith("http://127.0.0.1:"), "load targets 127.0.0.1 only"
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        status = exc.code
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode(errors="replace")


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {"nproc": os.cpu_count(), "loadavg": os.getloadavg()}
    try:
        with open("/proc/cpuinfo") as f:
            models = [ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")]
        info["cpu"] = models[0] if models else "?"
    except OSError:
        pass
    try:
        info["wrk"] = subprocess.run(
            ["wrk", "--version"], capture_output=True, text=True, timeout=10
        ).stdout.splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        info["wrk"] = "?"
    try:
        info["git_head"] = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    return info


# --------------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------------


class Server:
    """One PagTracker production server on its own SQLite file (and optional Redis)."""

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
        p = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if p.returncode != 0:
            raise RuntimeError(
                f"manage.py {' '.join(args)} failed ({p.returncode}):\n"
                f"{p.stdout[-2000:]}\n{p.stderr[-4000:]}"
            )
        return p.stdout

    def script(self, *args: str, timeout: float = 900) -> dict[str, Any]:
        """Run ``bench/seed.py`` with the server's env; it prints one JSON line last."""
        p = subprocess.run(
            [PYTHON, str(BENCH / "seed.py"), *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if p.returncode != 0:
            raise RuntimeError(
                f"seed.py {' '.join(args)} failed ({p.returncode}):\n"
                f"{p.stdout[-2000:]}\n{p.stderr[-4000:]}"
            )
        lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
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
        # As production runs it: manage.py serve (uvicorn with uvloop and httptools, the
        # workers' connections balanced), without its task worker (start_worker runs one).
        cmd = [
            PYTHON,
            "manage.py",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--no-worker",
            "--no-access-log",
        ]
        self.log_path = self.workdir / "server.log"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_port(self.port, 60, self.proc)
        # Both workers import Django lazily: poll until the app answers (bounded).
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = http_json("GET", f"{self.url}/bench/bare", timeout=5)
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.name}: /bench/bare never answered 200; see {self.log_path}"
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
            f"({self.workers} server processes"
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
        """The task worker, as ``manage.py serve`` runs it (``--interval 0.2``)."""
        self._wlog = open(self.workdir / "worker.log", "w")
        self.worker_proc = subprocess.Popen(
            [PYTHON, "manage.py", "db_worker", "--no-reload", "--interval", interval],
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
        shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# wrk runs
# --------------------------------------------------------------------------------------------


@dataclass
class Workload:
    """One measured request shape.

    kind: ``get`` (constant URL, wrk_get.lua), ``paths`` (one URL per request from a file,
    wrk_paths.lua), ``post`` (constant body or BODY_FILE via the shared http_bench.py).
    ``pre``: called before every measured run (and the warm-up) with (conc, run_label); it
    may return env overrides for wrk (e.g. a fresh PATHS_FILE).
    ``after``: called with each run's result (e.g. to size the next pool).
    ``pre_hook``: a shell command for http_bench.py --pre-hook (post kind only).
    """

    name: str
    kind: str
    url: str
    pid: int
    header: str = ""
    body: str = "{}"
    body_file: str = ""
    method: str = "GET"
    paths_file: str = ""
    pre: Callable[[int, str], dict[str, str] | None] | None = None
    after: Callable[[dict[str, Any]], None] | None = None
    pre_hook: str = ""
    concs: list[int] | None = None
    group: str = ""
    extra_pids: list[int] = field(default_factory=list)


def run_wrk(
    wl: Workload,
    conc: int,
    duration: int,
    *,
    threads: int = 2,
    timeout_s: int = 10,
    env_extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One closed-loop wrk run of ``wl`` (get/paths kinds) with CPU and memory of the server."""
    host = wl.url.split("//", 1)[1].split("/", 1)[0].split(":")[0]
    if host != "127.0.0.1":
        raise SystemExit("refusing: load must target 127.0.0.1")
    threads = min(threads, conc)
    script = BENCH / ("wrk_get.lua" if wl.kind == "get" else "wrk_paths.lua")
    base = wl.url if wl.kind == "get" else wl.url.split("/", 3)[0] + "//" + wl.url.split("/", 3)[2]
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{conc}",
        f"-d{duration}s",
        "--timeout",
        f"{timeout_s}s",
        "--latency",
        "-s",
        str(script),
        base,
    ]
    env = dict(
        os.environ,
        WRK_THREADS=str(threads),
        EXTRA_HEADER=wl.header,
        METHOD=wl.method,
        BODY=wl.body,
        PATHS_FILE=wl.paths_file,
    )
    env.update(env_extra or {})
    procmem.reset_hwm(wl.pid)
    cpu0 = procmem.cpu_seconds(wl.pid)
    extra0 = [procmem.cpu_seconds(p) for p in wl.extra_pids]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=duration + timeout_s + 30)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate(timeout=10)
    wall = time.monotonic() - t0
    lines = [ln for ln in out.splitlines() if ln.startswith("WRKJSON ")]
    if not lines:
        raise RuntimeError(f"wrk failed rc={p.returncode}\n{out}\n{err}")
    res: dict[str, Any] = json.loads(lines[-1][len("WRKJSON ") :])
    res["server_cpu_cores"] = round((procmem.cpu_seconds(wl.pid) - cpu0) / wall, 2)
    if wl.extra_pids:
        res["extra_cpu_cores"] = round(
            sum(procmem.cpu_seconds(p) - c0 for p, c0 in zip(wl.extra_pids, extra0, strict=True))
            / wall,
            2,
        )
    res.update(procmem.mem_mb(wl.pid))
    res["cmd"] = " ".join(cmd)
    return res


def _timed_child_cpu(fn: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], float]:
    import resource

    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    res = fn()
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    return res, cpu / wall


def run_http_bench(wl: Workload, conc: int, duration: int, label: str) -> dict[str, Any]:
    """One repeat at one concurrency through the shared http_bench.py (POST, wrk_post.lua)."""
    out = Path(tempfile.mkdtemp(prefix="ptbench-hb-")) / "run.json"
    cmd = [
        sys.executable,
        str(HARNESS / "http_bench.py"),
        "--label",
        label,
        "--url",
        wl.url,
        "--pid",
        str(wl.pid),
        "--body",
        wl.body,
        "--conc",
        str(conc),
        "--duration",
        str(duration),
        "--repeats",
        "1",
        "--warmup",
        "0",
        "--out",
        str(out),
    ]
    if wl.header:
        cmd += ["--header", wl.header]
    if wl.body_file:
        cmd += ["--body-file", wl.body_file]
    if wl.pre_hook:
        # the same as http_bench.py --pre-hook, but outside the CPU accounting window below
        subprocess.run(
            wl.pre_hook,
            shell=True,
            check=True,
            timeout=600,
            env=dict(os.environ, RUN=label, CONC=str(conc), BODY_FILE=wl.body_file),
        )
    extra0 = [procmem.cpu_seconds(p) for p in wl.extra_pids]
    t0 = time.monotonic()
    b0 = busy_cpu_seconds()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 900)
    wall = time.monotonic() - t0
    busy = (busy_cpu_seconds() - b0) / wall
    if p.returncode != 0:
        raise RuntimeError(f"http_bench failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    res: dict[str, Any] = json.loads(out.read_text())["runs"][0]
    if wl.extra_pids:
        res["extra_cpu_cores"] = round(
            sum(procmem.cpu_seconds(p) - c0 for p, c0 in zip(wl.extra_pids, extra0, strict=True))
            / wall,
            2,
        )
    # approximate: the window also holds http_bench.py's own start-up (~0.1 s)
    res["other_cpu_cores"] = round(
        max(
            busy
            - res["server_cpu_cores"] * res["duration_s"] / wall
            - res["wrk_cpu_cores"]
            - res.get("extra_cpu_cores", 0),
            0,
        ),
        2,
    )
    shutil.rmtree(out.parent, ignore_errors=True)
    return res


def run_cell(wl: Workload, conc: int, duration: int, run_label: str) -> dict[str, Any]:
    env_extra = None
    if wl.pre is not None:
        env_extra = wl.pre(conc, run_label) or None
    if wl.kind == "post":
        if env_extra and "BODY_FILE" in env_extra:
            wl.body_file = env_extra["BODY_FILE"]
        res = run_http_bench(wl, conc, duration, wl.name)
    else:
        if env_extra and "PATHS_FILE" in env_extra:
            wl.paths_file = env_extra["PATHS_FILE"]
        b0, t0 = busy_cpu_seconds(), time.monotonic()
        res, wrk_cpu = _timed_child_cpu(lambda: run_wrk(wl, conc, duration))
        res["wrk_cpu_cores"] = round(wrk_cpu, 2)
        busy = (busy_cpu_seconds() - b0) / (time.monotonic() - t0)
        # what else ran on the machine meanwhile (other users, the kernel's share of networking)
        res["other_cpu_cores"] = round(
            max(busy - res["server_cpu_cores"] - wrk_cpu - res.get("extra_cpu_cores", 0), 0), 2
        )
    res.update(
        {
            "workload": wl.name,
            "conc": conc,
            "run": run_label,
            "started": time.time(),
            "loadavg": os.getloadavg()[0],
        }
    )
    if wl.after is not None:
        wl.after(res)
    return res


def run_matrix(
    workloads: list[Workload],
    concs: list[int],
    repeats: int,
    duration: int,
    *,
    warmup: int = 3,
    results: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Warm each workload once, then repeat x concurrency x workload, interleaved."""
    assert 1 <= repeats <= 10 and 1 <= duration <= 120
    runs = results if results is not None else []
    if warmup:
        for wl in workloads:
            c = (wl.concs or concs)[0]
            res = run_cell(wl, c, warmup, "warmup")
            log(
                f"  warm-up {wl.name} c={c} {warmup}s: {res['rps']:.1f} req/s "
                f"statuses={res['statuses']}"
            )
    for r in range(repeats):
        for c in concs:
            for wl in workloads:
                if c not in (wl.concs or concs):
                    continue
                res = run_cell(wl, c, duration, str(r))
                runs.append(res)
                log(
                    f"  rep{r} {wl.name} c={c}: {res['rps']:.1f} req/s "
                    f"p50={res['lat_p50_ms']:.1f}ms "
                    f"p99={res['lat_p99_ms']:.1f}ms statuses={res['statuses']} "
                    f"timeouts={res['err_timeout']} wraps={res.get('body_wraps', 0)} "
                    f"cpu server/wrk/other={res['server_cpu_cores']}/{res['wrk_cpu_cores']}/"
                    f"{res.get('other_cpu_cores')}"
                    + (f" extra={res['extra_cpu_cores']}" if "extra_cpu_cores" in res else "")
                )
    return runs


def summarize(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Medians per (workload, conc)."""
    med = statistics.median
    out: dict[str, dict[str, Any]] = {}
    keys = sorted({(r["workload"], r["conc"]) for r in runs}, key=lambda k: (k[0], k[1]))
    order = {w: i for i, w in enumerate(dict.fromkeys(r["workload"] for r in runs))}
    keys.sort(key=lambda k: (order[k[0]], k[1]))
    for w, c in keys:
        rs = [r for r in runs if r["workload"] == w and r["conc"] == c]
        s = {
            "workload": w,
            "conc": c,
            "runs": len(rs),
            "rps_median": round(med(r["rps"] for r in rs), 1),
            "rps_min": round(min(r["rps"] for r in rs), 1),
            "rps_max": round(max(r["rps"] for r in rs), 1),
            "p50_ms_median": round(med(r["lat_p50_ms"] for r in rs), 2),
            "p99_ms_median": round(med(r["lat_p99_ms"] for r in rs), 2),
            "p99_ms_max": round(max(r["lat_p99_ms"] for r in rs), 2),
            "server_cpu_cores_median": round(med(r.get("server_cpu_cores", 0) for r in rs), 2),
            "wrk_cpu_cores_median": round(med(r.get("wrk_cpu_cores", 0) for r in rs), 2),
            "other_cpu_cores_median": round(med(r.get("other_cpu_cores", 0) for r in rs), 2),
            # server CPU milliseconds per request: less sensitive to a noisy neighbour than req/s
            "cpu_ms_per_req_median": round(
                med(1000 * r.get("server_cpu_cores", 0) / r["rps"] for r in rs if r["rps"]), 2
            )
            if any(r["rps"] for r in rs)
            else None,
            "hwm_mb_max": max(r.get("hwm_mb", 0) for r in rs),
            "non2xx_total": sum(r["err_status"] for r in rs),
            "timeouts_total": sum(r["err_timeout"] for r in rs),
            "socket_errors_total": sum(
                r["err_connect"] + r["err_read"] + r["err_write"] for r in rs
            ),
            "wraps_total": sum(r.get("body_wraps", 0) for r in rs),
            "requests_total": sum(r["requests"] for r in rs),
        }
        if any("extra_cpu_cores" in r for r in rs):
            s["extra_cpu_cores_median"] = round(med(r.get("extra_cpu_cores", 0) for r in rs), 2)
        out[f"{w}@{c}"] = s
    return out


def table(summary: dict[str, dict[str, Any]]) -> str:
    rows = [
        "| workload | clients | req/s median (min–max) | p50 ms | p99 ms | server CPU cores | "
        "server CPU ms/req | wrk CPU cores | other CPU cores | non-2xx | timeouts | runs |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summary.values():
        rows.append(
            f"| {s['workload']} | {s['conc']} | "
            f"{s['rps_median']} ({s['rps_min']}–{s['rps_max']}) | "
            f"{s['p50_ms_median']} | {s['p99_ms_median']} | {s['server_cpu_cores_median']} | "
            f"{s['cpu_ms_per_req_median']} | {s['wrk_cpu_cores_median']} | "
            f"{s['other_cpu_cores_median']} | "
            f"{s['non2xx_total']} | {s['timeouts_total']} | {s['runs']} |"
        )
    return "\n".join(rows)


def save(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"{name}-{stamp}.json"
    path.write_text(json.dumps(payload, indent=1, default=str))
    latest = RESULTS / f"{name}-latest.json"
    latest.write_text(json.dumps(payload, indent=1, default=str))
    return path


def parse_concs(text: str) -> list[int]:
    concs = [int(c) for c in text.split(",") if c.strip()]
    assert concs and all(1 <= c <= 1024 for c in concs)
    return concs
