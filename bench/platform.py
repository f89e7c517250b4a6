"""Issue "foundation": what the platform layer (authentication, rate limit, envelope,
middleware) costs per request.

In ONE run against ONE server, interleaved: GET /bench/bare (a plain Django JsonResponse),
GET /bench/bare-drf (a DRF view with no authentication, permission, throttling, envelope or
version header), GET /api/users/me with a JWT, GET /api/users/me with an API key, at 16 and
64 clients. Prints req/s, p50/p99, server and wrk CPU, and the overhead ratio
1 - api_rps / baseline_rps against each baseline: against bare-drf it is what the platform
layers (auth, throttling, envelope, versioning) cost; against bare, those and DRF together.
Runs on the embedded default (SQLite + local-memory cache) and, with --redis-url URL (or
``auto``: our own throw-away redis-server), again with Redis as the cache.

  .venv/bin/python bench/platform.py [--repeats 3] [--duration 10] [--conc 16,64] [--redis-url auto]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

# This file is named like the stdlib's ``platform``: take bench/ off the front of sys.path (so
# ``import platform`` anywhere still finds the stdlib) and append it for ``common``.
_BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _BENCH] + [str(_BENCH)]
import common  # noqa: E402
from common import RedisServer, Server, Workload, log  # noqa: E402


def measure(
    server: Server,
    label: str,
    concs: list[int],
    repeats: int,
    duration: int,
    warmup: int,
    redis: RedisServer | None,
) -> dict[str, Any]:
    extra = [redis.pid] if redis is not None else []
    workloads = [
        Workload("bare", "get", f"{server.url}/bench/bare", server.pid, extra_pids=extra),
        Workload("bare_drf", "get", f"{server.url}/bench/bare-drf", server.pid, extra_pids=extra),
        Workload(
            "me_jwt",
            "get",
            f"{server.url}/api/users/me",
            server.pid,
            header=server.auth_jwt,
            extra_pids=extra,
        ),
        Workload(
            "me_apikey",
            "get",
            f"{server.url}/api/users/me",
            server.pid,
            header=server.auth_key,
            extra_pids=extra,
        ),
    ]
    runs = common.run_matrix(workloads, concs, repeats, duration, warmup=warmup)
    summary = common.summarize(runs)
    overhead: dict[str, dict[str, float]] = {}
    rps = {(r["workload"], r["conc"], r["run"]): r["rps"] for r in runs}
    reps = sorted({r["run"] for r in runs})
    for c in concs:
        overhead[str(c)] = {}
        for base in ("bare", "bare_drf"):
            for name in ("me_jwt", "me_apikey"):
                # Paired: each repeat's API run against the same repeat's baseline (they ran
                # within seconds of each other), then the median over repeats.
                pairs = [
                    1 - rps[(name, c, rep)] / rps[(base, c, rep)]
                    for rep in reps
                    if (name, c, rep) in rps and (base, c, rep) in rps
                ]
                overhead[str(c)][f"{name}_vs_{base}_paired"] = round(statistics.median(pairs), 3)
            bare = summary[f"{base}@{c}"]["rps_median"]
            bare_cpu = summary[f"{base}@{c}"]["cpu_ms_per_req_median"]
            for name in ("me_jwt", "me_apikey"):
                api = summary[f"{name}@{c}"]
                overhead[str(c)][f"{name}_vs_{base}"] = round(1 - api["rps_median"] / bare, 3)
                # the same from server CPU per request (robust to other load on the machine)
                overhead[str(c)][f"{name}_vs_{base}_cpu"] = round(
                    1 - bare_cpu / api["cpu_ms_per_req_median"], 3
                )
    return {"label": label, "runs": runs, "summary": summary, "overhead": overhead}


def report(result: dict[str, Any]) -> str:
    lines = [
        f"\n### platform — {result['label']}\n",
        common.table(result["summary"]),
        "",
        "| clients | baseline | overhead JWT (1 - rps/baseline) | overhead API key | "
        "paired per repeat, median: JWT | API key | "
        "by CPU/req: JWT (1 - baseline/api) | by CPU/req: API key |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c, o in result["overhead"].items():
        for base, what in (("bare_drf", "DRF view (platform layers)"), ("bare", "Django view")):
            lines.append(
                f"| {c} | {what} | {o[f'me_jwt_vs_{base}']:.1%} | "
                f"{o[f'me_apikey_vs_{base}']:.1%} | "
                f"{o[f'me_jwt_vs_{base}_paired']:.1%} | {o[f'me_apikey_vs_{base}_paired']:.1%} | "
                f"{o[f'me_jwt_vs_{base}_cpu']:.1%} | {o[f'me_apikey_vs_{base}_cpu']:.1%} |"
            )
    if "redis_cpu" in result:
        lines.append(f"\n(redis-server CPU cores, median per run: {result['redis_cpu']})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    ap.add_argument(
        "--warmup", type=int, default=3, help="seconds of unmeasured warm-up per workload"
    )
    ap.add_argument("--conc", default="16,64")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--redis-url",
        default="",
        help="also run with Redis as cache: a redis:// URL on 127.0.0.1, or 'auto' "
        "to start our own redis-server on a free port",
    )
    ap.add_argument("--no-default", action="store_true", help="skip the embedded-default run")
    a = ap.parse_args(argv)
    concs = common.parse_concs(a.conc)
    out: dict[str, Any] = {
        "suite": "platform",
        "machine": common.machine_info(),
        "args": vars(a),
        "configs": [],
    }
    if not a.no_default:
        log("platform: embedded default (SQLite + local-memory cache)")
        with Server("platform", workers=a.workers) as server:
            out["configs"].append(
                measure(
                    server,
                    "embedded default (SQLite, LocMemCache)",
                    concs,
                    a.repeats,
                    a.duration,
                    a.warmup,
                    None,
                )
            )
    if a.redis_url:
        redis = None
        url = a.redis_url
        if url == "auto":
            redis = RedisServer().start()
            url = redis.url
        elif not url.startswith("redis://127.0.0.1:"):
            raise SystemExit("--redis-url must be redis://127.0.0.1:PORT/... or 'auto'")
        try:
            log(f"platform: Redis cache ({url})")
            with Server("platform-redis", workers=a.workers, redis_url=url) as server:
                res = measure(
                    server,
                    "Redis cache + channel layer (SQLite DB)",
                    concs,
                    a.repeats,
                    a.duration,
                    a.warmup,
                    redis,
                )
                if redis is not None:
                    res["redis_cpu"] = {
                        k: s.get("extra_cpu_cores_median") for k, s in res["summary"].items()
                    }
                out["configs"].append(res)
        finally:
            if redis is not None:
                redis.stop()
    text = "\n".join(report(r) for r in out["configs"])
    out["markdown"] = text
    path = common.save("platform", out)
    print(text)
    print(f"\nresults: {path}")
    return out


if __name__ == "__main__":
    main()
