"""Charges: create, read, confirm, expire, read-at-scale and a slow PSP, against the Flask seed
(diegorhcp89/API_FLASK_Websockets) measured in the same run on the same machine.

One PagTracker server (2 processes behind nginx, fresh SQLite) and, when --anchor-dir is set up,
the Flask seed on another port; the HTTP workloads of both are interleaved
(repeat x clients x workload) so machine noise hits both alike:

  (a) ours_create    POST /api/charges {"valor": 100.50} (API key): BR Code + PNG per request
      anchor_create  POST /payments/pix {"value": 100.5} (QR PNG written to disk per request)
  (b) ours_get       GET /api/charges/{id} over a pool of 1,000 existing ids
  (c) ours_confirm   POST /api/sandbox/charges/{id}/pay {} over a fresh pool of pending
                     charges seeded before every run, each URL used once (wrk_paths.lua)
      anchor_confirm POST /payments/pix/confirmation {bank_payment_id, value} over 20,000
                     unpaid payments re-seeded before every run (flask_seed_pool.py), exactly
                     like /work/shared/anchor-harness/anchors/run_flask_bench.sh
  (d) expiry of 10,000 due charges: charges_expire_due() in-process, and the running worker
      (its periodic sweep; from the moment they fall due until none is pending)
  (e) GET /api/charges/{id}, GET /api/charges (first page) and GET /api/balance at 16 clients
      on two fresh servers, one whose database holds 10 charges and one with 100,000 (bulk
      insert), interleaved: both and the ratio
  (f) a slow PSP: a fresh server whose sandbox provider sleeps --psp-delay-ms (200) in every
      call; POST /api/charges at 64 clients and, during it, GET /api/charges/{id} at 16

  .venv/bin/python bench/charges.py [--anchor-dir /tmp/anchors] [--repeats 3] [--duration 10]
                                    [--database-url postgres://127.0.0.1:PORT/EMPTY_DB]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# bench/ holds platform.py (the stdlib's name): keep bench/ off the front of sys.path.
_BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _BENCH] + [str(_BENCH)]
import common  # noqa: E402
from common import HARNESS, Server, Workload, log  # noqa: E402

GOALS = {
    "create_ratio": 3.0,
    "create_p99_ms": 200.0,
    "confirm_ratio": 2.0,
    "confirm_p99_ms": 100.0,
    "reads_min_rps_ratio": 0.8,
    "reads_max_p50_ratio": 1.25,
    "reads_max_cpu_ratio": 1.25,
    "slow_create_rps": 150.0,
    "slow_get_p99_ms": 50.0,
}


# --------------------------------------------------------------------------------------------
# The anchor
# --------------------------------------------------------------------------------------------


class FlaskAnchor:
    """The Flask seed, run unmodified by the shared run_flask_seed.py wrapper."""

    def __init__(self, anchor_dir: Path) -> None:
        self.dir = anchor_dir
        self.app = anchor_dir / "flask"
        self.python = anchor_dir / "venv-flask" / "bin" / "python"
        self.port = common.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[Any] | None = None
        self.tmp: Path | None = None

    def missing(self) -> str:
        for path, what in (
            (self.app / "app.py", "the seed checkout"),
            (self.python, "its venv"),
            (HARNESS / "anchors" / "run_flask_seed.py", "the shared harness"),
        ):
            if not path.exists():
                return f"{what} ({path}) is missing"
        return ""

    def start(self) -> FlaskAnchor:
        db = self.app / "instance" / "database.db"
        db.unlink(missing_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix="ptbench-anchor-"))
        self._log = open(self.tmp / "flask.log", "w")
        self.proc = subprocess.Popen(
            [
                str(self.python),
                str(HARNESS / "anchors" / "run_flask_seed.py"),
                str(self.app),
                str(self.port),
            ],
            cwd=self.app,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        common.wait_port(self.port, 30, self.proc)
        status, body = common.http_json("POST", f"{self.url}/payments/pix", {"value": 100.5})
        if status != 200:
            raise RuntimeError(f"anchor create failed: {status} {body}")
        log(f"anchor (Flask seed) up at {self.url} pid={self.proc.pid}")
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def pool_hook(self, n: int) -> str:
        return (
            f"python3 {HARNESS}/anchors/flask_seed_pool.py --db {self.app}/instance/database.db "
            f"--n {n} --out $BODY_FILE"
        )

    def stop(self) -> None:
        common._stop(self.proc)
        self.proc = None
        if self.tmp is not None:
            import shutil

            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


# --------------------------------------------------------------------------------------------
# Our workloads
# --------------------------------------------------------------------------------------------


class ConfirmPool:
    """Before every confirmation run: a fresh pool of pending charges, one URL each."""

    def __init__(self, server: Server, duration: int, fixed: int, tmp: Path) -> None:
        self.server = server
        self.duration = duration
        self.fixed = fixed
        self.tmp = tmp
        self.best_rps = 0.0
        self.sizes: list[int] = []

    def size(self, seconds: int) -> int:
        if self.fixed:
            return self.fixed
        # Enough for 3x the best rate seen so far (2,000 at least, 40,000 at most).
        est = max(self.best_rps, 300.0)
        return int(min(40000, max(2000, math.ceil(est * seconds * 3))))

    def __call__(self, conc: int, run: str) -> dict[str, str]:
        seconds = 3 if run == "warmup" else self.duration
        n = self.size(seconds)
        out = self.tmp / f"pay-{run}-{conc}.txt"
        self.server.script(
            "pool",
            "--email",
            self.server.email,
            "--n",
            str(n),
            "--out",
            str(out),
            "--kind",
            "pay",
            "--tag",
            "bench-pay-pool",
            "--purge-tag",
        )
        self.sizes.append(n)
        return {"PATHS_FILE": str(out)}

    def saw(self, rps: float) -> None:
        self.best_rps = max(self.best_rps, rps)


def expiry(server: Server, n: int, repeats: int, tmp: Path) -> dict[str, Any]:
    """(d): the in-process sweep, then the running worker's periodic expiry."""
    inproc, viaworker = [], []

    def seed(*flags: str) -> dict[str, Any]:
        return server.script(
            "pool", "--email", server.email, "--n", str(n), "--out", str(tmp / "due.txt"),
            "--tag", "bench-due", *flags,
        )  # fmt: skip

    for r in range(repeats):
        seeded = seed("--due")
        res = server.script("expire-inproc")
        res["seed_s"] = seeded["seconds"]
        inproc.append(res)
        log(f"  expire in-process rep{r}: {res}")
    server.start_worker()
    try:
        time.sleep(3)  # the worker's start-up
        for r in range(repeats):
            seed()  # pending, due in an hour: the worker leaves them alone while they land
            res = server.script(
                "expire-worker", "--tag", "bench-due", "--timeout", "600", timeout=900
            )
            viaworker.append(res)
            log(f"  expire via the worker rep{r}: {res}")
    finally:
        server.stop_worker()
    med = statistics.median
    ok = [x for x in viaworker if x.get("until_none_pending_s") is not None]
    return {
        "n": n,
        "inproc": inproc,
        "via_worker": viaworker,
        "inproc_s_median": med(x["seconds"] for x in inproc),
        "inproc_per_s_median": med(x["per_s"] for x in inproc),
        "worker_s_median": med(x["until_none_pending_s"] for x in ok) if ok else None,
        "worker_timeouts": len(viaworker) - len(ok),
    }


def reads(
    make_server: Callable[[str], Server],
    repeats: int,
    duration: int,
    warmup: int,
    small: int,
    large: int,
    tmp: Path,
) -> dict[str, Any]:
    """(e): detail, list and balance at 16 clients on two fresh servers, one whose database
    holds 10 charges and one whose database holds 100,000 (one merchant each, half of it
    paid, with its ledger entries), measured interleaved in one matrix so that the machine's
    drift hits both alike (measured one after the other, a slow minute read as a slowdown)."""
    servers: dict[str, Server] = {}
    out: dict[str, Any] = {}
    try:
        by_size: dict[str, list[Workload]] = {}
        counts: dict[str, int] = {}
        for label, total in (("small", small), ("large", large)):
            server = servers[label] = make_server(f"reads-{label}")
            server.start()
            server.script("template", "--email", server.email)
            t0 = time.monotonic()
            res = server.script(
                "bulk",
                "--email",
                server.email,
                "--total",
                str(total),
                "--days",
                "30",
                "--tag",
                "bench-reads",
                "--paid-share",
                "0.5",
                timeout=1800,
            )
            log(f"  reads: bulk insert to {total}: {res} ({time.monotonic() - t0:.1f}s)")
            count = counts[label] = server.script("count", "--email", server.email)["charges"]
            paths = tmp / f"reads-{label}.txt"
            server.script("ids", "--email", server.email, "--n", "1000", "--out", str(paths))
            wls = by_size[label] = []
            wls.append(
                Workload(
                    f"detail_{count}",
                    "paths",
                    f"{server.url}/api/charges/x",
                    server.pid,
                    header=server.auth_key,
                    paths_file=str(paths),
                    concs=[16],
                )
            )
            # The list's page size is the same at both sizes (10 rows fill it): only the
            # stored count varies.
            for kind, path in (("list", "/api/charges?per_page=10"), ("balance", "/api/balance")):
                wls.append(
                    Workload(
                        f"{kind}_{count}",
                        "get",
                        server.url + path,
                        server.pid,
                        header=server.auth_key,
                        concs=[16],
                    )
                )
        if counts["small"] == counts["large"]:
            raise RuntimeError(f"both read servers hold {counts['small']} charges")
        log(f"  reads with {counts['small']} and {counts['large']} charges stored, interleaved")
        # Each read at both sizes back to back (10 s apart), so drift hits both sides alike.
        wls = [wl for pair in zip(by_size["small"], by_size["large"], strict=True) for wl in pair]
        runs = common.run_matrix(wls, [16], repeats, duration, warmup=warmup)
    finally:
        for server in servers.values():
            server.stop()
    summary = common.summarize(runs)
    for label, count in counts.items():
        out[label] = {
            "charges": count,
            "summary": {k: v for k, v in summary.items() if v["workload"].endswith(f"_{count}")},
        }
    out["runs"] = runs
    ratios = {}
    for kind in ("detail", "list", "balance"):
        s = summary[f"{kind}_{counts['small']}@16"]
        g = summary[f"{kind}_{counts['large']}@16"]
        ratios[kind] = {
            "rps_ratio": round(g["rps_median"] / s["rps_median"], 3),
            "p50_ratio": round(g["p50_ms_median"] / s["p50_ms_median"], 3),
            "p99_ratio": round(g["p99_ms_median"] / s["p99_ms_median"], 3),
            "cpu_ratio": round(g["cpu_ms_per_req_median"] / s["cpu_ms_per_req_median"], 3),
        }
    out["ratios"] = ratios
    return out


def slow_psp(server: Server, repeats: int, duration: int, tmp: Path) -> dict[str, Any]:
    """(f): creation at 64 clients while each call to the provider takes the delay the server
    was started with, and reads at 16 clients measured inside the creation window."""
    from concurrent.futures import ThreadPoolExecutor

    get_paths = tmp / "slow-get.txt"
    server.script(
        "pool", "--email", server.email, "--n", "1000", "--out", str(get_paths),
        "--kind", "get", "--tag", "bench-slow-get",
    )  # fmt: skip
    create = Workload(
        "slow_create",
        "post",
        f"{server.url}/api/charges",
        server.pid,
        header=server.auth_key,
        body='{"valor": 100.50}',
    )
    get = Workload(
        "slow_get",
        "paths",
        f"{server.url}/api/charges/x",
        server.pid,
        header=server.auth_key,
        paths_file=str(get_paths),
    )
    runs: list[dict[str, Any]] = []
    common.run_cell(create, 64, 3, "warmup")
    for r in range(repeats):
        with ThreadPoolExecutor(2) as pool:
            creating = pool.submit(common.run_cell, create, 64, duration + 2, str(r))
            time.sleep(1.0)  # the reads fall inside the creation window
            reading = pool.submit(common.run_cell, get, 16, duration, str(r))
            for res in (creating.result(), reading.result()):
                runs.append(res)
                log(
                    f"  rep{r} {res['workload']} c={res['conc']}: {res['rps']:.1f} req/s "
                    f"p50={res['lat_p50_ms']:.1f}ms p99={res['lat_p99_ms']:.1f}ms "
                    f"statuses={res['statuses']}"
                )
    return {"runs": runs, "summary": common.summarize(runs)}


def _fresh_postgres_database(url: str, name: str) -> str:
    """An empty database beside ``url``'s (dropped first if a previous run left it)."""
    import psycopg

    parts = urlsplit(url)
    database = f"{parts.path.lstrip('/')}_{name.replace('-', '_')}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
        conn.execute(f'CREATE DATABASE "{database}"')
    return urlunsplit(parts._replace(path=f"/{database}"))


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(res: dict[str, Any]) -> str:
    database = "PostgreSQL" if res.get("args", {}).get("database_url") else "SQLite"
    L: list[str] = [
        f"\n### charges — HTTP workloads (ours on {database} and the anchor, interleaved)\n",
        common.table(res["summary"]),
    ]
    pools = res.get("confirm_pool_sizes")
    if pools:
        L.append(f"\nours_confirm pool sizes per run: {pools}")
    s = res["summary"]
    if res.get("anchor"):
        L += [
            "\n### vs the anchor (Flask seed) — goals: create ≥3x and p99 < 200 ms; "
            "confirm ≥2x and p99 < 100 ms\n",
            "| clients | create req/s ours / seed | ratio | ours p99 ms | goal | "
            "confirm req/s ours / seed | ratio | ours p99 ms | goal |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for c in res["concs"]:
            oc, ac = s.get(f"ours_create@{c}"), s.get(f"anchor_create@{c}")
            of, af = s.get(f"ours_confirm@{c}"), s.get(f"anchor_confirm@{c}")
            if not (oc and ac and of and af):
                continue
            cr = oc["rps_median"] / ac["rps_median"]
            fr = of["rps_median"] / af["rps_median"]
            cg = cr >= GOALS["create_ratio"] and oc["p99_ms_median"] < GOALS["create_p99_ms"]
            fg = fr >= GOALS["confirm_ratio"] and of["p99_ms_median"] < GOALS["confirm_p99_ms"]
            L.append(
                f"| {c} | {oc['rps_median']} / {ac['rps_median']} | {cr:.2f}x | "
                f"{oc['p99_ms_median']} | {verdict(cg)} | {of['rps_median']} / "
                f"{af['rps_median']} | {fr:.2f}x | {of['p99_ms_median']} | {verdict(fg)} |"
            )
        # Paired: each repeat's run of ours against the anchor's run right after it.
        rps = {(r["workload"], r["conc"], r["run"]): r["rps"] for r in res.get("runs", [])}
        L += [
            "",
            "| clients | paired per repeat (ours / seed): create | confirm |",
            "|---|---|---|",
        ]
        for c in res["concs"]:
            cells = []
            for kind in ("create", "confirm"):
                ratios = [
                    rps[(f"ours_{kind}", c, run)] / rps[(f"anchor_{kind}", c, run)]
                    for (name, conc, run) in rps
                    if name == f"ours_{kind}" and conc == c and (f"anchor_{kind}", c, run) in rps
                ]
                cells.append(
                    f"median {statistics.median(ratios):.2f}x "
                    f"({', '.join(f'{x:.2f}' for x in ratios)})"
                    if ratios
                    else "—"
                )
            L.append(f"| {c} | {cells[0]} | {cells[1]} |")
    elif res.get("anchor_skipped"):
        L.append(f"\nanchor skipped: {res['anchor_skipped']}")
    e = res.get("expiry")
    if e:
        L += [
            f"\n### expiry of {e['n']:,} due charges\n",
            "| path | seconds (median) | charges/s | runs |",
            "|---|---|---|---|",
            f"| charges_expire_due() in-process | {e['inproc_s_median']} | "
            f"{e['inproc_per_s_median']} | {len(e['inproc'])} |",
        ]
        if e["worker_s_median"] is not None:
            L.append(
                f"| the running worker's periodic sweep (due → none pending) | "
                f"{e['worker_s_median']} | {round(e['n'] / e['worker_s_median'], 1)} | "
                f"{len(e['via_worker'])} (timeouts {e['worker_timeouts']}) |"
            )
    r = res.get("reads")
    if r:
        L += [
            f"\n### reads as charges accumulate (16 clients; two databases, one merchant each, "
            f"measured interleaved): {r['small']['charges']:,} vs {r['large']['charges']:,} "
            "charges\n",
            common.table({**r["small"]["summary"], **r["large"]["summary"]}),
            "",
            "| read | req/s ratio (large/small) | p50 ratio | p99 ratio "
            "| flat? (req/s ≥0.8x, p50 ≤1.25x) | server CPU ms/req ratio "
            "| flat by CPU/req? (≤1.25x) |",
            "|---|---|---|---|---|---|---|",
        ]
        for kind, q in r["ratios"].items():
            flat = (
                q["rps_ratio"] >= GOALS["reads_min_rps_ratio"]
                and q["p50_ratio"] <= GOALS["reads_max_p50_ratio"]
            )
            flat_cpu = q["cpu_ratio"] <= GOALS["reads_max_cpu_ratio"]
            L.append(
                f"| {kind} | {q['rps_ratio']} | {q['p50_ratio']} | {q['p99_ratio']} | "
                f"{verdict(flat)} | {q['cpu_ratio']} | {verdict(flat_cpu)} |"
            )
    slow = res.get("slow_psp")
    if slow:
        s = slow["summary"]
        c, g = s["slow_create@64"], s["slow_get@16"]
        ok_c = c["rps_median"] >= GOALS["slow_create_rps"]
        ok_g = g["p99_ms_median"] < GOALS["slow_get_p99_ms"]
        L += [
            f"\n### slow PSP: every provider call takes {res['args']['psp_delay_ms']} ms "
            f"({res['args']['workers']} processes)\n",
            common.table(s),
            "",
            "| goal | measured (median) | verdict |",
            "|---|---|---|",
            f"| creation at 64 clients ≥ {GOALS['slow_create_rps']:g} req/s | "
            f"{c['rps_median']} req/s, p99 {c['p99_ms_median']} ms | {verdict(ok_c)} |",
            f"| meanwhile GET /api/charges/{{id}} at 16 clients p99 < "
            f"{GOALS['slow_get_p99_ms']:g} ms | {g['p99_ms_median']} ms, "
            f"{g['rps_median']} req/s | {verdict(ok_g)} |",
        ]
    return "\n".join(L)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--conc", default="16,64")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--anchor-dir",
        default=os.environ.get("BENCH_ANCHOR_DIR", ""),
        help="where bench/anchors/setup_flask.sh put the Flask seed (e.g. /tmp/anchors)",
    )
    ap.add_argument(
        "--anchor-pool",
        type=int,
        default=int(os.environ.get("POOL", "20000")),
        help="unpaid payments seeded before each anchor confirmation run (as run_flask_bench.sh)",
    )
    ap.add_argument(
        "--pool",
        type=int,
        default=0,
        help="pending charges per confirmation run (default: 3x the best rate seen x duration)",
    )
    ap.add_argument(
        "--database-url",
        default="",
        help="run our server on this empty postgres://127.0.0.1 database instead of a fresh "
        "SQLite file",
    )
    ap.add_argument("--expire-n", type=int, default=10000)
    ap.add_argument("--expire-repeats", type=int, default=0, help="default: min(repeats, 3)")
    ap.add_argument("--reads-small", type=int, default=10)
    ap.add_argument("--reads-large", type=int, default=100000)
    ap.add_argument("--psp-delay-ms", type=int, default=200)
    ap.add_argument(
        "--skip", default="", help="comma list of parts to skip: http,expiry,reads,slowpsp"
    )
    a = ap.parse_args(argv)
    concs = common.parse_concs(a.conc)
    skip = {x.strip() for x in a.skip.split(",") if x.strip()}
    assert a.expire_n <= 100000 and a.reads_large <= 200000
    res: dict[str, Any] = {
        "suite": "charges",
        "machine": common.machine_info(),
        "args": vars(a),
        "concs": concs,
    }
    tmp = Path(tempfile.mkdtemp(prefix="ptbench-charges-"))
    anchor: FlaskAnchor | None = None
    if "http" not in skip:
        if a.anchor_dir:
            anchor = FlaskAnchor(Path(a.anchor_dir))
            why = anchor.missing()
            if why:
                res["anchor_skipped"] = (
                    f"{why}; set it up with bench/anchors/setup_flask.sh "
                    f"<fetched repo> {a.anchor_dir} (see bench/README.md)"
                )
                anchor = None
        else:
            res["anchor_skipped"] = "no --anchor-dir given (see bench/README.md)"
        if anchor is None:
            log(f"ANCHOR SKIPPED: {res['anchor_skipped']}")
    if a.database_url and not a.database_url.startswith("postgres://"):
        raise SystemExit("--database-url must be a postgres:// URL (SQLite is the default)")
    server = Server(
        "charges",
        workers=a.workers,
        extra_env={"DATABASE_URL": a.database_url} if a.database_url else None,
    )
    try:
        server.start()
        status, body = common.http_json(
            "POST",
            f"{server.url}/api/charges",
            {"valor": 100.50},
            headers={"Authorization": f"Bearer {server.api_key}"},
        )
        if status != 201:
            raise RuntimeError(f"POST /api/charges -> {status} {body}")
        if "http" not in skip:
            if anchor is not None:
                try:
                    anchor.start()
                except Exception:
                    anchor.stop()
                    raise
            get_paths = tmp / "get.txt"
            server.script(
                "pool",
                "--email",
                server.email,
                "--n",
                "1000",
                "--out",
                str(get_paths),
                "--kind",
                "get",
                "--tag",
                "bench-get-pool",
            )
            pool = ConfirmPool(server, a.duration, a.pool, tmp)
            wls = [
                Workload(
                    "ours_create",
                    "post",
                    f"{server.url}/api/charges",
                    server.pid,
                    header=server.auth_key,
                    body='{"valor": 100.50}',
                )
            ]
            if anchor is not None:
                wls.append(
                    Workload(
                        "anchor_create",
                        "post",
                        f"{anchor.url}/payments/pix",
                        anchor.pid,
                        body='{"value": 100.5}',
                    )
                )
            wls.append(
                Workload(
                    "ours_get",
                    "paths",
                    f"{server.url}/api/charges/x",
                    server.pid,
                    header=server.auth_key,
                    paths_file=str(get_paths),
                )
            )
            wls.append(
                Workload(
                    "ours_confirm",
                    "paths",
                    f"{server.url}/x",
                    server.pid,
                    header=server.auth_key,
                    method="POST",
                    body="{}",
                    pre=pool,
                    after=lambda r: pool.saw(r["rps"]),
                )
            )
            if anchor is not None:
                wls.append(
                    Workload(
                        "anchor_confirm",
                        "post",
                        f"{anchor.url}/payments/pix/confirmation",
                        anchor.pid,
                        body_file=str(tmp / "flask_pool.jsonl"),
                        pre_hook=anchor.pool_hook(a.anchor_pool),
                    )
                )
            runs: list[dict[str, Any]] = []
            common.run_matrix(wls, concs, a.repeats, a.duration, warmup=a.warmup, results=runs)
            res["runs"] = runs
            res["summary"] = common.summarize(runs)
            res["confirm_pool_sizes"] = pool.sizes
            res["anchor"] = anchor is not None
            if anchor is not None:
                anchor.stop()
                anchor = None
        else:
            res["summary"] = {}
        if "expiry" not in skip:
            log(f"expiry of {a.expire_n} due charges")
            res["expiry"] = expiry(server, a.expire_n, a.expire_repeats or min(a.repeats, 3), tmp)
        if "reads" not in skip:
            log(f"reads: {a.reads_small} vs {a.reads_large} charges")
            server.stop()  # idle from here on: the reads have servers of their own

            def make_server(name: str) -> Server:
                url = _fresh_postgres_database(a.database_url, name) if a.database_url else ""
                extra = {"DATABASE_URL": url} if url else None
                return Server(name, workers=a.workers, extra_env=extra)

            res["reads"] = reads(
                make_server, a.repeats, a.duration, a.warmup, a.reads_small, a.reads_large, tmp
            )
        if "slowpsp" not in skip:
            log(f"slow PSP: {a.psp_delay_ms} ms per provider call")
            server.stop()
            url = _fresh_postgres_database(a.database_url, "slowpsp") if a.database_url else ""
            extra = {"SANDBOX_PROVIDER_DELAY_MS": str(a.psp_delay_ms)}
            if url:
                extra["DATABASE_URL"] = url
            slow_server = Server("slowpsp", workers=a.workers, extra_env=extra)
            try:
                slow_server.start()
                res["slow_psp"] = slow_psp(slow_server, a.repeats, a.duration, tmp)
            finally:
                slow_server.stop()
    finally:
        if anchor is not None:
            anchor.stop()
        server.stop()
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    text = report(res)
    res["markdown"] = text
    path = common.save("charges", res)
    print(text)
    print(f"\nresults: {path}")
    return res


if __name__ == "__main__":
    main()
