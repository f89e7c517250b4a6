#!/usr/bin/env python3
"""Realtime benchmark: PagTracker's sockets and the anchor Credgroup/ws-payment-server (Node +
ws) on the same workloads, in one run, interleaved.

    .venv/bin/python bench/realtime/run.py                    # everything, 3 repeats
    .venv/bin/python bench/realtime/run.py --quick            # 1 repeat, shorter runs
    .venv/bin/python bench/realtime/run.py --anchor-dir /tmp/anchors/wsps

Workloads (the shared harness in $ANCHOR_HARNESS, default /work/shared/anchor-harness):
- idle: sockets held by one process at 1,000 / 5,000 / 10,000; server RSS, KB per socket;
- fanout: 200 sockets in one room, one sender at 50 msg/s for 10 s; delivery latency;
- pairs: 1,000 rooms of two sockets, each pair 1 msg/s (1,000 msg/s) for 15 s;
- confirm (ours only): 1,000 payer sockets; a payment confirmed through the API to the
  PAYMENT_CONFIRMED frame on its socket.

Ours runs as production does on one core's worth of process: ``uvicorn
pagtracker.asgi:application --loop uvloop --http httptools --ws websockets-sansio
--ws-max-size 65536 --ws-per-message-deflate false --lifespan on --no-access-log``
(one process), on a fresh SQLite database,
DEBUG off. The anchor is its ``dist/app.js`` started like ``npm start`` with the harness's
``bind-loopback.js`` preloaded (NODE_ENV unset, as shipped; its log to a file). The anchor
checkout lives outside this repo (see README.md here). Results: bench/realtime/results/.
"""

import argparse
import json
import os
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
HARNESS = Path(os.environ.get("ANCHOR_HARNESS", "/work/shared/anchor-harness"))
PY = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early ({process.returncode})")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


class Server:
    def __init__(self, name: str, cmd: list[str], env: dict[str, str], cwd: Path, log: Path):
        self.name = name
        self.port = free_port()
        self.log = log
        self.process = subprocess.Popen(
            [c.replace("{port}", str(self.port)) for c in cmd],
            env={**env, "PORT": str(self.port)},
            cwd=cwd,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        wait_port(self.port, self.process)
        time.sleep(1.0)  # settle (start-up allocations) before the baseline is read

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Bench:
    def __init__(self, a: argparse.Namespace) -> None:
        self.a = a
        self.tmp = Path(tempfile.mkdtemp(prefix="pt-rt-bench-"))
        self.results: dict[str, Any] = {"runs": {}}
        self.env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="pagtracker.settings",
            DATABASE_URL=f"sqlite:///{self.tmp / 'db.sqlite3'}",
            DEBUG="false",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            RATE_LIMITS="empresarial=100000000",
            # The fan-out workload sends 50 msg/s from ONE socket; the default per-socket
            # limit (20/s, burst 40) would refuse most of it.
            REALTIME_MESSAGES_PER_SECOND="200",
            REALTIME_MESSAGE_BURST="400",
            LOG_LEVEL="WARNING",
            SECRET_KEY=secrets.token_urlsafe(40),
            PYTHONUNBUFFERED="1",
        )
        self.env.pop("REDIS_URL", None)
        self.codes = self.tmp / "codes.json"
        self.seed = self.tmp / "seed.json"

    # -- servers ---------------------------------------------------------------------------

    def ours(self, tag: str) -> Server:
        cmd = [
            PY, "-m", "uvicorn", "pagtracker.asgi:application",
            "--host", "127.0.0.1", "--port", "{port}",
            "--loop", "uvloop", "--http", "httptools", "--ws", "websockets-sansio",
            "--ws-max-size", "65536", "--ws-ping-interval", "20", "--ws-ping-timeout", "20",
            "--ws-per-message-deflate", "false",
            "--lifespan", "on", "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
        return Server("ours", cmd, self.env, ROOT, self.tmp / f"ours-{tag}.log")

    def anchor(self, tag: str) -> Server | None:
        if self.a.skip_anchor:
            return None
        app = Path(self.a.anchor_dir)
        cmd = ["node", "-r", str(HARNESS / "bind-loopback.js"), "dist/app.js"]
        env = {k: v for k, v in os.environ.items() if k != "NODE_ENV"}
        return Server("anchor", cmd, env, app, self.tmp / f"anchor-{tag}.log")

    # -- harness ---------------------------------------------------------------------------

    def harness(self, server: Server, script: str, label: str, *args: str) -> dict[str, Any]:
        out = self.tmp / f"{label}.json"
        if server.name == "ours":
            cmd = [PY, str(HERE / "harness.py"), script, "--protocol", "pagtracker"]
            url = f"ws://127.0.0.1:{server.port}"
        else:
            cmd = [PY, str(HARNESS / script), "--protocol", "wsps"]
            url = f"ws://127.0.0.1:{server.port}/"
        cmd += ["--url", url, "--pid", str(server.pid), "--label", label, "--out", str(out), *args]
        env = {**os.environ, "PT_RT_CODES": str(self.codes)}
        print(f"  {label}: {' '.join(cmd[1:4])} ...", flush=True)
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, timeout=900)
        result = json.loads(out.read_text())
        self.results["runs"].setdefault(label.rsplit("_", 1)[0], []).append(result)
        return result

    # -- workloads -------------------------------------------------------------------------

    def prepare(self) -> None:
        subprocess.run(
            [PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=self.env, check=True
        )
        seeded = subprocess.run(
            [PY, str(HERE / "seed.py"), "--charges", str(self.a.charges)],
            cwd=ROOT, env=self.env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        self.seed.write_text(seeded.stdout)
        self.codes.write_text(json.dumps([c["code"] for c in json.loads(seeded.stdout)["charges"]]))

    def idle(self) -> None:
        print("idle sockets", flush=True)
        checkpoints = self.a.idle_checkpoints
        for name in ("ours", "anchor"):
            server = self.ours("idle") if name == "ours" else self.anchor("idle")
            if server is None:
                continue
            try:
                self.harness(
                    server, "ws_idle.py", f"{name}_idle_1", "--checkpoints", checkpoints,
                    "--settle", "5", "--max-time", "400",
                )  # fmt: skip
            finally:
                server.stop()

    def relays(self) -> None:
        print("fan-out and pairs", flush=True)
        ours, anchor = self.ours("relay"), self.anchor("relay")
        try:
            for rep in range(1, self.a.repeats + 1):
                for server in (ours, anchor) if rep % 2 else (anchor, ours):
                    if server is None:
                        continue
                    self.harness(
                        server, "ws_fanout.py", f"{server.name}_fanout_{rep}",
                        "--clients", "200", "--rate", "50", "--duration", str(self.a.fanout_s),
                    )  # fmt: skip
            for rep in range(1, self.a.repeats + 1):
                for server in (ours, anchor) if rep % 2 else (anchor, ours):
                    if server is None:
                        continue
                    pairs = ["--rooms", "1000", "--rate-per-pair", "1"]
                    pairs += ["--duration", str(self.a.pairs_s)]
                    self.harness(server, "ws_pairs.py", f"{server.name}_pairs_{rep}", *pairs)
        finally:
            ours.stop()
            if anchor is not None:
                anchor.stop()

    def confirm(self) -> None:
        print("confirmation to push", flush=True)
        server = self.ours("confirm")
        try:
            for rep in range(1, self.a.repeats + 1):
                out = self.tmp / f"ours_confirm_{rep}.json"
                cmd = [PY, str(HERE / "confirm_latency.py"), "--out", str(out)]
                cmd += ["--url", f"http://127.0.0.1:{server.port}", "--pid", str(server.pid)]
                cmd += ["--seed", str(self.seed), "--sockets", "1000"]
                cmd += ["--offset", str((rep - 1) * 1000 + 1000)]
                cmd += ["--confirmations", str(self.a.confirmations)]
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, timeout=900)
                self.results["runs"].setdefault("ours_confirm", []).append(
                    json.loads(out.read_text())
                )
        finally:
            server.stop()

    # -- report ----------------------------------------------------------------------------

    def machine(self) -> dict[str, Any]:
        git = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        return {
            "cpu_count": os.cpu_count(),
            "loadavg_start": self.results.get("loadavg_start"),
            "loadavg_end": os.getloadavg(),
            "git_head": git.stdout.strip(),
            "python": sys.version.split()[0],
            "node": subprocess.run(
                ["node", "--version"], capture_output=True, text=True
            ).stdout.strip(),
        }

    def write(self, markdown: str) -> Path:
        out_dir = Path(self.a.out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.results["markdown"] = markdown
        self.results["machine"] = self.machine()
        self.results["args"] = vars(self.a)
        path = out_dir / f"realtime-{stamp}.json"
        path.write_text(json.dumps(self.results, indent=1))
        (out_dir / "realtime-latest.json").write_text(json.dumps(self.results, indent=1))
        (out_dir / "realtime-latest.md").write_text(markdown)
        return path


def med(values: list[float | None]) -> float | None:
    xs = [v for v in values if v is not None]
    return round(statistics.median(xs), 3) if xs else None


def least(values: list[float | None]) -> float | None:
    xs = [v for v in values if v is not None]
    return round(min(xs), 3) if xs else None


def ratio(ours: float | None, anchor: float | None) -> str:
    if ours is None or anchor in (None, 0):
        return "-"
    return f"{ours / anchor:.2f}x"


def summarize(results: dict[str, Any]) -> str:
    runs = results["runs"]
    lines = ["## Realtime: PagTracker vs Credgroup/ws-payment-server (same machine, same run)", ""]
    lines += ["### Idle sockets held by one process", ""]
    lines += [
        "| sockets | ours RSS MB | ours KB/socket | anchor RSS MB | anchor KB/socket | KB ratio |"
    ]
    lines += ["|---|---|---|---|---|---|"]
    ours_idle = {c["checkpoint"]: c for r in runs.get("ours_idle", []) for c in r["checkpoints"]}
    anchor_idle = {
        c["checkpoint"]: c for r in runs.get("anchor_idle", []) for c in r["checkpoints"]
    }
    for cp in sorted(set(ours_idle) | set(anchor_idle)):
        o, n = ours_idle.get(cp, {}), anchor_idle.get(cp, {})
        lines.append(
            f"| {cp} ({o.get('alive_after_settle', '-')}/{n.get('alive_after_settle', '-')} alive) "
            f"| {o.get('server_rss_mb', '-')} | {o.get('server_kb_per_conn', '-')} "
            f"| {n.get('server_rss_mb', '-')} | {n.get('server_kb_per_conn', '-')} "
            f"| {ratio(o.get('server_kb_per_conn'), n.get('server_kb_per_conn'))} |"
        )
    for name, title in (
        ("fanout", "200 sockets in one room, 50 msg/s"),
        ("pairs", "1,000 rooms x 2, 1 msg/s each"),
    ):
        o_runs, n_runs = runs.get(f"ours_{name}", []), runs.get(f"anchor_{name}", [])
        lines += ["", f"### {title} ({len(o_runs)} + {len(n_runs)} runs: median, [best run])", ""]
        lines += ["| metric | ours | anchor | ratio (median) | ratio (best) |"]
        lines += ["|---|---|---|---|---|"]
        keys = ["latency"] + (["last_receiver_latency"] if name == "fanout" else [])
        for key in keys:
            for p in ("p50_ms", "p99_ms", "max_ms"):
                o = med([r[key][p] for r in o_runs])
                n = med([r[key][p] for r in n_runs])
                ob = least([r[key][p] for r in o_runs])
                nb = least([r[key][p] for r in n_runs])
                lines.append(
                    f"| {key} {p} | {o} [{ob}] | {n} [{nb}] | {ratio(o, n)} | {ratio(ob, nb)} |"
                )
        for key in (
            "lost",
            "server_cpu_cores",
            "server_hwm_mb",
            "client_cpu_util",
            "sender_lag_p99_ms",
        ):
            o = med([r[key] for r in o_runs])
            n = med([r[key] for r in n_runs])
            lines.append(f"| {key} | {o} | {n} | {ratio(o, n)} | |")
    confirms = runs.get("ours_confirm", [])
    if confirms:
        lines += [
            "",
            "### Confirmation to push, 1,000 sockets connected (ours only; median of runs)",
            "",
        ]
        lines += ["| metric | p50 ms | p99 ms | max ms |", "|---|---|---|---|"]
        for key in ("commit_to_push", "confirm_to_push", "http_response", "push_minus_response"):
            p50, p99, top = (
                med([r[key][p] for r in confirms]) for p in ("p50_ms", "p99_ms", "max_ms")
            )
            lines.append(f"| {key} | {p50} | {p99} | {top} |")
        lines.append(
            f"| lost / server CPU cores | {sum(r['lost'] for r in confirms)} "
            f"| {med([r['server_cpu_cores'] for r in confirms])} | |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--anchor-dir", default=os.environ.get("WSPS_DIR", "/tmp/anchors/wsps"))
    ap.add_argument("--skip-anchor", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="1 repeat, 5 s runs, idle to 5,000")
    ap.add_argument("--idle-checkpoints", default="1000,5000,10000")
    ap.add_argument("--fanout-s", type=float, default=10)
    ap.add_argument("--pairs-s", type=float, default=15)
    ap.add_argument("--confirmations", type=int, default=200)
    ap.add_argument("--only", default="idle,relays,confirm")
    ap.add_argument("--out-dir", default=str(HERE / "results"))
    a = ap.parse_args()
    if a.quick:
        a.repeats, a.fanout_s, a.pairs_s, a.confirmations = 1, 5, 5, 50
        a.idle_checkpoints = "1000,5000"
    if not a.skip_anchor and not (Path(a.anchor_dir) / "dist" / "app.js").exists():
        sys.exit(
            f"no built anchor at {a.anchor_dir} (see bench/realtime/README.md) or --skip-anchor"
        )
    a.charges = 1000 + 1000 * a.repeats + 200
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the servers inherit it
    bench = Bench(a)
    bench.results["loadavg_start"] = os.getloadavg()
    try:
        bench.prepare()
        steps = a.only.split(",")
        if "idle" in steps:
            bench.idle()
        if "relays" in steps:
            bench.relays()
        if "confirm" in steps:
            bench.confirm()
        markdown = summarize(bench.results)
        path = bench.write(markdown)
        print(markdown)
        print(f"results: {path}")
    finally:
        shutil.rmtree(bench.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
