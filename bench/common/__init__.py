"""Shared pieces of the PagTracker benchmarks.

- ``Server``: a production-shaped server (docs/deploy.md: two ``manage.py serve --no-worker``
  processes, uvicorn with uvloop + httptools, no access log, behind nginx with ``least_conn``)
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

from .basics import (
    BENCH,
    CHAVE_PIX,
    HARNESS,
    PASSWORD,
    PYTHON,
    REPO,
    RESULTS,
    busy_cpu_seconds,
    free_port,
    http_json,
    log,
    machine_info,
    procmem,
    wait_port,
)
from .load import (
    Workload,
    parse_concs,
    run_cell,
    run_http_bench,
    run_matrix,
    run_wrk,
    save,
    summarize,
    table,
)
from .servers import RedisServer, Server, _stop

__all__ = [
    "BENCH",
    "CHAVE_PIX",
    "HARNESS",
    "PASSWORD",
    "PYTHON",
    "REPO",
    "RESULTS",
    "RedisServer",
    "Server",
    "Workload",
    "_stop",
    "busy_cpu_seconds",
    "free_port",
    "http_json",
    "log",
    "machine_info",
    "parse_concs",
    "procmem",
    "run_cell",
    "run_http_bench",
    "run_matrix",
    "run_wrk",
    "save",
    "summarize",
    "table",
    "wait_port",
]
