"""Webhook delivery benchmark (issue "webhooks"), on the embedded default: SQLite, the
database task queue, ONE ``db_worker`` process.

1. **throughput**: N deliveries (default 2,000: N ``payment.confirmed`` domain events, each in
   its own transaction, so N tasks on the queue, as N real confirmations would leave) to one
   endpoint on a fast loopback receiver; one worker is started and we time until every
   delivery is ``succeeded``. Run with the normal design (a task sends its delivery and then
   drains whatever else is due, in parallel batches) and with ``WEBHOOK_DRAIN_SECONDS=0``
   (strictly one delivery per task) for comparison.
2. **lag**: a production-shaped server (daphne, as ``make run``; plus one worker) takes a
   steady 50 payment confirmations/s (``POST /api/sandbox/charges/{id}/pay``, open loop) for
   ``--duration`` s; the receiver timestamps each webhook. Lag = receipt - the event's
   ``timestamp`` (taken in the confirming transaction, just before commit); also receipt -
   the moment the API answered the confirmation. p50/p90/p99/max, for each worker
   ``--interval`` (the db_worker default 1 s, ``make run``'s 0.2 s, and 0.05 s).

    .venv/bin/python bench/webhooks_bench.py                   # everything (~3 min)
    .venv/bin/python bench/webhooks_bench.py --n 500 --duration 5 --intervals 0.2   # quick

Everything runs on 127.0.0.1 in a temp dir that is removed at the end; every wait is bounded.
Results: ``bench/results/webhooks-<timestamp>.json`` and ``webhooks-latest.json``.
Self-contained on purpose: it imports nothing from the other bench modules.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
VENV_PY = REPO / ".venv" / "bin" / "python"
PYTHON = str(VENV_PY if VENV_PY.exists() else Path(sys.executable))
# bench/platform.py would shadow the standard library's platform module (uuid needs it).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]

RECEIVER = r"""
import json, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
records, lock = [], threading.Lock()

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, Nagle on our side and the
    # client's delayed ACK add ~40 ms to every answer (real servers coalesce them).
    disable_nagle_algorithm = True
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        now = time.time()
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
        doc = json.loads(body)
        with lock:
            records.append([now, doc["id"], doc["timestamp"], doc["data"].get("id"),
                            self.headers.get("webhook-id")])
    def do_GET(self):
        with lock:
            payload = json.dumps({"count": len(records)} if self.path == "/count"
                                 else records).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
    def log_message(self, *a):
        pass

server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
server.daemon_threads = True
server.serve_forever(0.05)
"""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[Any], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited ({proc.returncode}) before port {port} opened")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"port {port} not up after {timeout}s")


def get_json(port: int, path: str) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine spent busy so far (all cores, /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """Cores used per wall second: the whole machine, and the processes we name."""

    def __init__(self, **procs: subprocess.Popen[Any]) -> None:
        self.procs = procs
        self.wall = time.monotonic()
        self.machine = busy_cpu_seconds()
        self.start = {name: process_cpu_seconds(p.pid) for name, p in procs.items()}

    def read(self) -> dict[str, float]:
        wall = time.monotonic() - self.wall
        out = {"machine_cores": round((busy_cpu_seconds() - self.machine) / wall, 2)}
        for name, proc in self.procs.items():
            used = process_cpu_seconds(proc.pid) - self.start[name]
            out[f"{name}_cores"] = round(used / wall, 2)
        return out


def background_cores(seconds: float = 3.0) -> float:
    """Cores busy with other work while ours is idle (the machine is shared)."""
    before = busy_cpu_seconds()
    time.sleep(seconds)
    return round((busy_cpu_seconds() - before) / seconds, 2)


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "n": len(ordered),
        "p50_ms": round(at(0.50) * 1000, 1),
        "p90_ms": round(at(0.90) * 1000, 1),
        "p99_ms": round(at(0.99) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 1),
    }


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.workdir = Path(tempfile.mkdtemp(prefix="ptbench-webhooks-"))
        self.procs: list[subprocess.Popen[Any]] = []
        # A settings shim per run lets us set WEBHOOK_DRAIN_SECONDS without touching settings.
        (self.workdir / "bench_settings.py").write_text(
            "import os\nfrom pagtracker.settings import *  # noqa\n"
            "WEBHOOK_DRAIN_SECONDS = float(os.environ.get('BENCH_DRAIN_SECONDS', '5'))\n"
        )
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "PAGTRACKER_", "DATABASE_", "REDIS_", "WEBHOOK_"))
        }
        self.env.update(
            {
                "DJANGO_SETTINGS_MODULE": "bench_settings",
                "PYTHONPATH": f"{self.workdir}{os.pathsep}{REPO}",
                "DATABASE_URL": args.database_url or f"sqlite:///{self.workdir / 'db.sqlite3'}",
                "SECRET_KEY": secrets.token_urlsafe(48),
                "DEBUG": "false",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "RATE_LIMITS": "empresarial=100000000",
                "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",  # the receiver is on loopback
                "LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1",
            }
        )

    # -- processes ---------------------------------------------------------------------

    def spawn(self, cmd: list[str], name: str, **env: str) -> subprocess.Popen[Any]:
        logfile = (self.workdir / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            cmd, cwd=REPO, env={**self.env, **env}, stdout=logfile, stderr=subprocess.STDOUT
        )
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[Any]) -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        return done.stdout

    def django(self) -> None:
        """This process talks to the same database (setup and polling only)."""
        os.environ.update(self.env)
        sys.path[:0] = [str(self.workdir), str(REPO)]
        import django

        django.setup()

    def start_worker(self, interval: float, **env: str) -> subprocess.Popen[Any]:
        cmd = [PYTHON, "manage.py", "db_worker", "--no-reload", "--interval", str(interval)]
        return self.spawn(cmd, "worker", **env)

    # -- setup -------------------------------------------------------------------------

    def setup(self) -> None:
        log(f"temp dir {self.workdir}; migrating")
        self.manage("migrate", "--noinput")
        made = json.loads(
            self.manage(
                "create_merchant",
                "--email",
                "bench-webhooks@example.com",
                "--password",
                "bench-Password-123",
                "--plano",
                "empresarial",
                "--chave-pix",
                "123e4567-e12b-12d1-a456-426655440000",
                "--cidade",
                "Sao Paulo",
                "--json",
            )
        )
        self.merchant_id, self.api_key = made["id"], made["api_key"]
        self.receiver_port = free_port()
        receiver = self.spawn([PYTHON, "-c", RECEIVER, str(self.receiver_port)], "receiver")
        wait_port(self.receiver_port, receiver)
        self.receiver = receiver
        self.django()

    def endpoint(self, events: list[str]) -> None:
        from webhooks.models import WebhookEndpoint
        from webhooks.services import webhook_endpoint_create

        WebhookEndpoint.objects.update(active=False)
        webhook_endpoint_create(
            merchant_id=self.merchant_id,
            url=f"http://127.0.0.1:{self.receiver_port}/hooks",
            events=events,
        )

    # -- 1. throughput -----------------------------------------------------------------

    def throughput(self, n: int, drain_seconds: float) -> dict[str, Any]:
        import uuid  # not at the top: bench/platform.py must leave sys.path first

        from django.conf import settings
        from django.db import transaction
        from django.utils import timezone
        from django_tasks_db.models import DBTaskResult

        from charges.models import Charge
        from pagtracker.events import domain_event_emit
        from webhooks.models import WebhookDelivery

        # This process enqueues (on commit), so it must follow the mode the worker runs in.
        settings.WEBHOOK_DRAIN_SECONDS = drain_seconds
        self.endpoint(["payment.confirmed"])
        received_before = get_json(self.receiver_port, "/count")["count"]
        started = time.monotonic()
        for _ in range(n):
            # An unsaved charge: the event's data, rendered as real events are.
            now = timezone.now()
            charge = Charge(
                id=uuid.uuid4(),
                txid=uuid.uuid4().hex,
                public_code=uuid.uuid4().hex,
                status="pago",
                amount_cents=100,
                created_at=now,
                paid_at=now,
                expires_at=now,
            )
            with transaction.atomic():
                domain_event_emit(
                    name="payment.confirmed",
                    merchant_id=self.merchant_id,
                    data={"charge": charge},
                )
        enqueue_s = time.monotonic() - started
        tasks = DBTaskResult.objects.filter(
            task_path="webhooks.tasks.webhook_deliveries_send_task", status="READY"
        ).count()
        log(f"throughput: {n} deliveries and {tasks} tasks enqueued in {enqueue_s:.1f} s")
        pending = WebhookDelivery.objects.filter(status="pending")
        background = background_cores()
        t0 = time.monotonic()
        worker = self.start_worker(0.2, BENCH_DRAIN_SECONDS=str(drain_seconds))
        meter = CpuMeter(worker=worker, receiver=self.receiver)
        first_at = done_at = None
        deadline = t0 + max(120.0, n / 20)
        while time.monotonic() < deadline:
            left = pending.count()
            now = time.monotonic()
            if first_at is None and left < n:
                first_at = now
            if left == 0:
                done_at = now
                break
            time.sleep(0.05)
        # Let the no-op tasks of the drained deliveries run out too: that is worker time.
        tasks_done_at = None
        while time.monotonic() < deadline:
            if not DBTaskResult.objects.filter(
                task_path="webhooks.tasks.webhook_deliveries_send_task", status="READY"
            ).exists():
                tasks_done_at = time.monotonic()
                break
            time.sleep(0.05)
        cpu = meter.read()
        self.stop(worker)
        received = get_json(self.receiver_port, "/count")["count"] - received_before
        succeeded = WebhookDelivery.objects.filter(status="succeeded").count()
        WebhookDelivery.objects.all().delete()
        if done_at is None or first_at is None:
            raise RuntimeError(f"not all delivered in time ({received}/{n})")
        result = {
            "n": n,
            "drain_seconds": drain_seconds,
            "tasks_enqueued": tasks,
            "received": received,
            "succeeded": succeeded,
            "worker_start_to_first_s": round(first_at - t0, 2),
            "first_to_last_s": round(done_at - first_at, 2),
            "deliveries_per_s": round(n / max(done_at - first_at, 1e-9), 1),
            "deliveries_per_s_incl_startup": round(n / (done_at - t0), 1),
            "queue_empty_after_s": round((tasks_done_at or done_at) - first_at, 2),
            "cpu": {**cpu, "background_cores_before": background},
        }
        log(f"throughput: {json.dumps(result)}")
        return result

    # -- 2. lag under load -------------------------------------------------------------

    def pending_charges(self, count: int) -> list[str]:
        """Bulk copies of one real charge (unique txid and public code), as bench/charges.py
        seeds its confirm pool: creating them one by one would dominate the run."""
        import uuid

        from django.utils import timezone

        from charges.models import Charge
        from charges.services import charge_create
        from pagtracker.accounts.models import Merchant

        merchant = Merchant.objects.get(pk=self.merchant_id)
        model = charge_create(merchant=merchant, amount_cents=1000, expires_in=86400)
        fields = {
            f.attname: getattr(model, f.attname)
            for f in Charge._meta.concrete_fields
            if f.attname not in ("id", "txid", "public_code")
        }
        fields["created_at"] = timezone.now()
        charges = [
            Charge(id=uuid.uuid4(), txid=uuid.uuid4().hex, public_code=uuid.uuid4().hex, **fields)
            for _ in range(count)
        ]
        Charge.objects.bulk_create(charges, batch_size=500)
        return [str(c.id) for c in charges]

    def lag(self, interval: float, rate: float, duration: float) -> dict[str, Any]:
        from webhooks.models import WebhookDelivery

        self.endpoint(["payment.confirmed"])
        count = int(rate * duration)
        ids = self.pending_charges(count)
        background = background_cores()
        port = free_port()
        web = self.spawn(
            [
                PYTHON,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "pagtracker.asgi:application",
            ],
            "daphne",
        )
        wait_port(port, web)
        worker = self.start_worker(interval)
        time.sleep(1.5)  # let the worker start and take its first nap
        meter = CpuMeter(worker=worker, web=web, receiver=self.receiver)
        answered: dict[str, float] = {}
        errors: list[str] = []
        lock = threading.Lock()
        start = time.time() + 0.5
        threads = 8

        def client(offset: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            headers = {
                "Authorization": f"Bearer {self.api_key}",
                "Content-Type": "application/json",
            }
            for i in range(offset, count, threads):
                due = start + i / rate
                pause = due - time.time()
                if pause > 0:
                    time.sleep(pause)
                try:
                    conn.request("POST", f"/api/sandbox/charges/{ids[i]}/pay", b"{}", headers)
                    response = conn.getresponse()
                    response.read()
                    if response.status != 200:
                        errors.append(str(response.status))
                except (OSError, http.client.HTTPException) as exc:
                    errors.append(type(exc).__name__)
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    continue
                with lock:
                    answered[ids[i]] = time.time()
            conn.close()

        workers = [threading.Thread(target=client, args=(k,)) for k in range(threads)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(timeout=duration + 120)
        offered_s = time.time() - start
        cpu = meter.read()
        deadline = time.monotonic() + 60
        want = {cid for cid in answered}
        records: list[list[Any]] = []
        while time.monotonic() < deadline:
            records = [r for r in get_json(self.receiver_port, "/dump") if r[3] in want]
            if len(records) >= len(want):
                break
            time.sleep(0.2)
        self.stop(worker)
        self.stop(web)
        from datetime import datetime

        from webhooks.models import WebhookAttempt

        claimed_at = {
            str(event_id): started.timestamp()
            for event_id, started in WebhookAttempt.objects.filter(number=1).values_list(
                "delivery__event_id", "started_at"
            )
        }
        since_event, since_answer, to_claim, claim_to_receipt = [], [], [], []
        for received_at, event_id, timestamp, charge_id, _wid in records:
            emitted = datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
            since_event.append(received_at - emitted)
            since_answer.append(received_at - answered[charge_id])
            if event_id in claimed_at:
                to_claim.append(claimed_at[event_id] - emitted)
                claim_to_receipt.append(received_at - claimed_at[event_id])
        WebhookDelivery.objects.all().delete()
        result = {
            "worker_interval_s": interval,
            "rate_per_s": rate,
            "confirmations": len(answered),
            "errors": len(errors),
            "achieved_rate_per_s": round(len(answered) / offered_s, 1),
            "received": len(records),
            "lag_since_event": percentiles(since_event),
            "lag_since_api_answer": percentiles(since_answer),
            # Where the lag goes: waiting for a worker to claim it, then the request itself.
            "event_to_claim": percentiles(to_claim),
            "claim_to_receipt": percentiles(claim_to_receipt),
            "cpu": {**cpu, "background_cores_before": background},
        }
        log(f"lag: {json.dumps(result)}")
        return result

    def cleanup(self) -> None:
        for proc in self.procs:
            self.stop(proc)
        if not self.args.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "| throughput run | tasks | deliveries/s (first→last) | incl. worker start | "
        "queue empty after | machine / worker cores | others before |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in results["throughput"]:
        label = "drain (default)" if run["drain_seconds"] else "one delivery per task"
        lines.append(
            f"| {label}, N={run['n']} | {run['tasks_enqueued']} | {run['deliveries_per_s']} | "
            f"{run['deliveries_per_s_incl_startup']} | {run['queue_empty_after_s']} s | "
            f"{run['cpu']['machine_cores']} / {run['cpu']['worker_cores']} | "
            f"{run['cpu']['background_cores_before']} |"
        )
    lines += [
        "",
        "| worker --interval | confirmations/s | lag p50 | p90 | p99 | max | "
        "p99 since API answer | p50/p99 to claim | p50/p99 claim to receipt | "
        "machine / web / worker cores | others before |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in results["lag"]:
        lag = run["lag_since_event"]
        lines.append(
            f"| {run['worker_interval_s']} s | {run['achieved_rate_per_s']} | "
            f"{lag.get('p50_ms')} ms | {lag.get('p90_ms')} ms | {lag.get('p99_ms')} ms | "
            f"{lag.get('max_ms')} ms | "
            f"{run['lag_since_api_answer'].get('p99_ms')} ms | "
            f"{run['event_to_claim'].get('p50_ms')}/{run['event_to_claim'].get('p99_ms')} ms | "
            f"{run['claim_to_receipt'].get('p50_ms')}/{run['claim_to_receipt'].get('p99_ms')} ms | "
            f"{run['cpu']['machine_cores']} / {run['cpu']['web_cores']} / "
            f"{run['cpu']['worker_cores']} | {run['cpu']['background_cores_before']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="deliveries for the throughput run")
    parser.add_argument("--rate", type=float, default=50, help="confirmations per second")
    parser.add_argument("--duration", type=float, default=20, help="seconds of load per run")
    parser.add_argument("--intervals", default="1,0.2,0.05", help="worker --interval values")
    parser.add_argument("--skip", default="", help="throughput,per-task,lag")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    parser.add_argument(
        "--database-url",
        default="",
        help="an EMPTY database to use instead of the embedded SQLite (e.g. PostgreSQL)",
    )
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    bench = Bench(args)
    results: dict[str, Any] = {
        "database": args.database_url.split("://")[0] if args.database_url else "sqlite",
        "throughput": [],
        "lag": [],
        "loadavg_start": os.getloadavg(),
    }
    try:
        bench.setup()
        if "throughput" not in skip:
            results["throughput"].append(bench.throughput(args.n, drain_seconds=5))
        if "per-task" not in skip:
            results["throughput"].append(bench.throughput(args.n, drain_seconds=0))
        if "lag" not in skip:
            for interval in [float(x) for x in args.intervals.split(",") if x]:
                results["lag"].append(bench.lag(interval, args.rate, args.duration))
    finally:
        bench.cleanup()
    results["loadavg_end"] = os.getloadavg()
    results["markdown"] = markdown(results)
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    suffix = "" if results["database"] == "sqlite" else f"-{results['database']}"
    for name in (f"webhooks{suffix}-{stamp}.json", f"webhooks{suffix}-latest.json"):
        (RESULTS / name).write_text(json.dumps(results, indent=2))
    print()
    print(results["markdown"])


if __name__ == "__main__":
    main()
