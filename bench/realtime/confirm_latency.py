#!/usr/bin/env python3
"""Confirmation-to-push latency with --sockets payers connected (ours only).

Each of --sockets seeded charges gets one payer socket (``/ws/payments/<public code>/``, the
hosted page's connection). Then, one at a time at --rate per second, a charge is paid with
``POST /api/sandbox/charges/{id}/pay`` and the time from sending that request to the
PAYMENT_CONFIRMED frame arriving on the charge's socket is recorded (same clock), and so is
commit-to-push: the frame's ``payload.timestamp`` (set by the server right after the commit,
millisecond resolution) to its arrival (wall clock of the same host). The HTTP response time
is recorded beside them.

    python bench/realtime/confirm_latency.py --url http://127.0.0.1:PORT --pid PID \
        --seed seed.json --sockets 1000 --confirmations 200 --out result.json
"""

import argparse
import asyncio
import http.client
import json
import os
import sys
import time
from datetime import datetime

HARNESS = os.environ.get("ANCHOR_HARNESS", "/work/shared/anchor-harness")
sys.path.insert(0, HARNESS)

import procmem  # noqa: E402
import wscommon  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402


def pay(host: str, port: int, key: str, charge_id: str) -> tuple[int, int]:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request(
            "POST",
            f"/api/sandbox/charges/{charge_id}/pay",
            body=b"{}",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        response.read()
        return response.status, time.monotonic_ns()
    finally:
        conn.close()


async def main(a: argparse.Namespace) -> dict:
    seed = json.load(open(a.seed))
    charges = seed["charges"][a.offset : a.offset + a.sockets]
    assert len(charges) == a.sockets, "not enough seeded charges"
    host, port = a.url.split("//", 1)[1].split(":")
    port = int(port)
    ws_base = f"ws://{host}:{port}/ws/payments/"
    arrived: dict[str, int] = {}
    committed_ns: list[int] = []
    waiters: dict[str, asyncio.Future] = {}
    sem = asyncio.Semaphore(200)

    async def open_one(charge: dict) -> object:
        async with sem:
            ws = await connect(
                ws_base + charge["code"] + "/",
                open_timeout=30,
                ping_interval=None,
                compression=None,
                close_timeout=1,
                max_queue=None,
            )
            while json.loads(await ws.recv())["type"] != "PAYMENT_STATUS":
                pass
            return ws

    async def reader(ws: object, charge_id: str) -> None:
        try:
            async for raw in ws:  # type: ignore[attr-defined]
                now = time.monotonic_ns()
                wall = time.time_ns()
                frame = json.loads(raw)
                if frame.get("type") == "PAYMENT_CONFIRMED":
                    arrived[charge_id] = now
                    stamp = datetime.fromisoformat(
                        frame["payload"]["timestamp"].replace("Z", "+00:00")
                    )
                    committed_ns.append(max(0, wall - int(stamp.timestamp() * 1e9)))
                    waiter = waiters.get(charge_id)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(now)
        except Exception:
            pass

    t0 = time.monotonic()
    sockets = await asyncio.gather(*(open_one(c) for c in charges))
    setup_s = time.monotonic() - t0
    readers = [
        asyncio.create_task(reader(ws, c["id"])) for ws, c in zip(sockets, charges, strict=True)
    ]
    await asyncio.sleep(1.0)
    procmem.reset_hwm(a.pid)
    cpu0, wall0 = procmem.cpu_seconds(a.pid), time.monotonic()
    push_ns, response_ns, push_after_response_ns = [], [], []
    statuses: dict[int, int] = {}
    lost = 0
    step = 1.0 / a.rate
    start = time.monotonic()
    for i, charge in enumerate(charges[: a.confirmations]):
        delay = start + i * step - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        waiter = waiters[charge["id"]] = asyncio.get_running_loop().create_future()
        sent = time.monotonic_ns()
        status, responded = await asyncio.to_thread(pay, host, port, seed["api_key"], charge["id"])
        statuses[status] = statuses.get(status, 0) + 1
        try:
            got = await asyncio.wait_for(waiter, 10)
        except TimeoutError:
            lost += 1
            continue
        push_ns.append(got - sent)
        response_ns.append(responded - sent)
        push_after_response_ns.append(got - responded)
    server_cpu = round((procmem.cpu_seconds(a.pid) - cpu0) / (time.monotonic() - wall0), 3)
    mem = procmem.mem_mb(a.pid)
    for task in readers:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)  # type: ignore[attr-defined]
    return {
        "label": a.label,
        "args": vars(a),
        "sockets": len(sockets),
        "confirmations": a.confirmations,
        "http_statuses": statuses,
        "lost": lost,
        "confirm_to_push": wscommon.lat_summary(push_ns),
        "commit_to_push": wscommon.lat_summary(committed_ns),
        "http_response": wscommon.lat_summary(response_ns),
        "push_minus_response": wscommon.lat_summary(push_after_response_ns),
        "setup_s": round(setup_s, 2),
        "server_hwm_mb": mem["hwm_mb"],
        "server_rss_mb": mem["rss_mb"],
        "server_cpu_cores": server_cpu,
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--seed", required=True)
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--sockets", type=int, default=1000)
    ap.add_argument("--confirmations", type=int, default=200)
    ap.add_argument("--rate", type=float, default=10.0)
    ap.add_argument("--label", default="ours_confirm_push")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    wscommon.check_loopback(args.url)
    assert args.confirmations <= args.sockets <= 10000
    wscommon.raise_nofile()
    result = asyncio.run(main(args))
    print(json.dumps(result))
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
