#!/usr/bin/env python3
"""Run one of the shared harness scripts with our protocol adapter registered.

    python bench/realtime/harness.py ws_fanout.py --protocol pagtracker --url ws://HOST:PORT ...

The harness directory is $ANCHOR_HARNESS or /work/shared/anchor-harness; its scripts run
unchanged (their own ``ws_protocols`` module gets ``pagtracker`` added before they parse
their arguments)."""

import os
import runpy
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.environ.get("ANCHOR_HARNESS", "/work/shared/anchor-harness")


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    script = os.path.join(HARNESS, sys.argv[1])
    sys.path.insert(0, HARNESS)
    sys.path.insert(1, HERE)
    import ws_protocols
    from pt_protocol import PagTrackerProtocol

    ws_protocols.PROTOCOLS[PagTrackerProtocol.name] = PagTrackerProtocol
    sys.argv = [script, *sys.argv[2:]]
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
