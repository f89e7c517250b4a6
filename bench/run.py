"""Run the PagTracker benchmarks: ``python bench/run.py [platform] [charges] [--quick] [...]``.

Suites (default: all): ``platform`` (issue "foundation") and ``charges`` (issue "charges").
``--quick``: 1 repeat x 5 s (a smoke run; the figures are noisier). ``make bench`` calls this
with ``$(BENCH_ARGS)``, e.g. ``make bench BENCH_ARGS="charges --quick"``.

Options passed on: --repeats, --duration, --conc, --redis-url (platform; default ``auto``
when redis-server is installed, ``none`` to skip), --anchor-dir (charges; default
/tmp/anchors, or $BENCH_ANCHOR_DIR).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
import time
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parent
# bench/platform.py is named like the stdlib module: never put bench/ first on sys.path, load
# the suites by path under other names.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH] + [str(BENCH)]

SUITES = ("platform", "charges")


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("suites", nargs="*", metavar="suite", help="platform, charges (default: all)")
    ap.add_argument("--quick", action="store_true", help="1 repeat x 5 s")
    ap.add_argument("--repeats", type=int)
    ap.add_argument("--duration", type=int)
    ap.add_argument("--conc")
    ap.add_argument(
        "--redis-url",
        default="auto" if shutil.which("redis-server") else "none",
        help="platform with Redis too: a redis://127.0.0.1 URL, 'auto' (own redis-server) "
        "or 'none'",
    )
    ap.add_argument("--anchor-dir", default=os.environ.get("BENCH_ANCHOR_DIR", "/tmp/anchors"))
    a = ap.parse_args()
    suites = a.suites or list(SUITES)
    for name in suites:
        if name not in SUITES:
            ap.error(f"unknown suite {name!r}; choose from {', '.join(SUITES)}")
    common: list[str] = []
    repeats = a.repeats or (1 if a.quick else None)
    duration = a.duration or (5 if a.quick else None)
    if repeats:
        common += ["--repeats", str(repeats)]
    if duration:
        common += ["--duration", str(duration)]
    if a.quick:
        common += ["--warmup", "2"]
    if a.conc:
        common += ["--conc", a.conc]
    t0 = time.monotonic()
    texts = []
    for name in suites:
        argv = list(common)
        if name == "platform" and a.redis_url != "none":
            argv += ["--redis-url", a.redis_url]
        if name == "charges":
            argv += ["--anchor-dir", a.anchor_dir]
        print(f"\n===== bench {name} {' '.join(argv)}", flush=True)
        result = load(name).main(argv)
        texts.append(result.get("markdown", ""))
    print(f"\n===== all suites done in {time.monotonic() - t0:.0f}s\n")
    print("\n".join(texts))


if __name__ == "__main__":
    main()
