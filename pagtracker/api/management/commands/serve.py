"""Serve HTTP and WebSockets on one port with uvicorn, and run the task worker beside it.

- Embedded default (in-memory channel layer): the task worker runs as a thread of this same
  process, so the socket pushes of the events it raises (a charge expiring) reach the sockets
  through this process's hub; an in-memory layer can't carry them across processes.
- Redis configured: the worker is a child process (``manage.py worker``); its pushes reach
  this one through the Redis channel layer.
- ``--no-worker``: the server alone, one process of a production layout (docs/deploy.md),
  where a process manager runs several of them and the worker separately.

WebSockets: uvicorn's sans-I/O websockets protocol, pinging every 20 s and dropping a peer
that has not answered within 20 s more (``REALTIME_WS_PING_INTERVAL``/``_TIMEOUT``: that is
how dead peers go, no app-level heartbeat); frames over 64 KiB are refused by the protocol
(the application answers smaller ones over 16 KiB with an ERROR frame); no per-message
compression.

SIGINT or SIGTERM: close every socket with 1001 (realtime/lifespan.py), stop accepting, finish
the requests in flight, stop the worker, exit 0. If the worker dies, the server stops too
(exit 1).
"""

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

import uvicorn
from django.core.management.base import BaseCommand, CommandError

WS_MAX_SIZE = 64 * 1024


def uvicorn_config(*, host: str, port: int, access_log: bool) -> uvicorn.Config:
    from realtime import conf

    return uvicorn.Config(
        "pagtracker.asgi:application",
        host=host,
        port=port,
        ws="websockets-sansio",
        ws_ping_interval=conf.get("REALTIME_WS_PING_INTERVAL"),
        ws_ping_timeout=conf.get("REALTIME_WS_PING_TIMEOUT"),
        ws_max_size=WS_MAX_SIZE,
        # Frames are small JSON: compression would cost a zlib context per socket (tens of
        # KB) and CPU for next to nothing.
        ws_per_message_deflate=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
        access_log=access_log,
        log_level=os.environ.get("UVICORN_LOG_LEVEL", "info"),
    )


class Command(BaseCommand):
    help = "Run uvicorn (HTTP + WebSockets) and the task worker together."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="serve only; the task worker runs elsewhere (manage.py worker)",
        )
        parser.add_argument("--no-access-log", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        from realtime.hub import cross_process_layer

        server = uvicorn.Server(
            uvicorn_config(
                host=options["host"],
                port=options["port"],
                access_log=not options["no_access_log"],
            )
        )

        worker_died = threading.Event()

        def stop_serving() -> None:
            worker_died.set()
            server.should_exit = True

        # uvicorn handles SIGINT/SIGTERM while it runs and raises the signal again once it has
        # stopped; these handlers take that second one, so the worker is stopped and the
        # process exits normally instead of dying on the default action.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda signum, frame: None)

        stop_worker: Callable[[], None] = lambda: None  # noqa: E731
        if not options["no_worker"]:
            if cross_process_layer() is None:
                from pagtracker.worker import worker_start_thread

                stop_worker = worker_start_thread(on_death=stop_serving)
            else:
                stop_worker = worker_start_process(on_death=stop_serving)
        self.stdout.write(
            f"PagTracker on http://{options['host']}:{options['port']}/ "
            "(API /api/, docs /api/docs/, admin /admin/, sockets /ws/); Ctrl-C stops."
        )
        self.stdout.flush()
        try:
            server.run()
        finally:
            stop_worker()
        if worker_died.is_set():
            raise CommandError("the worker stopped by itself; the server stopped with it")


def worker_start_process(*, on_death: Callable[[], None]) -> Callable[[], None]:
    """Run the worker (``manage.py worker``: tasks and recurring jobs) as a child process;
    ``on_death`` is called if it exits by itself.
    Returns the function that stops it (SIGTERM, then SIGKILL after 10 s)."""
    child = subprocess.Popen([sys.executable, "manage.py", "worker"])
    stopping = threading.Event()

    def watch() -> None:
        child.wait()
        if not stopping.is_set():
            on_death()

    threading.Thread(target=watch, name="pagtracker-worker-watch", daemon=True).start()

    def stop() -> None:
        stopping.set()
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

    return stop
