"""Closed-loop load: workloads, wrk and the shared HTTP driver, interleaved matrices, the
summary table and saved results."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .basics import BENCH, HARNESS, RESULTS, busy_cpu_seconds, log, procmem


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
