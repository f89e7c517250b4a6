"""Serve HTTP and WebSockets with uvicorn, and run the database task worker beside it.

- Embedded default (in-memory channel layer): the task worker runs as a thread of this same
  process. Socket pushes of the events it raises (a charge expiring) reach the sockets
  through the process's own hub; an in-memory layer can't carry them across processes.
- Redis configured: the worker is a separate ``db_worker`` process; its pushes reach this one
  through the Redis channel layer.
- ``--workers N`` (or ``WEB_CONCURRENCY``): N server processes on one socket, connections
  spread evenly across them (``pagtracker/api/serving.py``); this process supervises them and
  runs the task worker as above. Pushes cross processes only through Redis.

WebSockets: uvicorn's sans-I/O websockets protocol, pinging every 20 s and dropping a peer
that has not answered within 20 s more (``REALTIME_WS_PING_INTERVAL``/``_TIMEOUT``; that is
how dead peers go: no app-level heartbeat);
frames over 64 KiB are refused by the protocol (the application answers smaller ones over
16 KiB with an ERROR frame); no per-message compression.

Ctrl-C (SIGINT) or SIGTERM: stop accepting connections, close every socket with 1001, finish
the requests in flight, stop the worker, exit. If the worker dies, the server stops too.
"""

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError

WS_MAX_SIZE = 64 * 1024


def uvicorn_config(*, host: str, port: int, access_log: bool, workers: int = 1) -> Any:
    import uvicorn

    from realtime import conf

    return uvicorn.Config(
        "pagtracker.asgi:application",
        host=host,
        port=port,
        workers=workers,
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
            "--workers",
            type=int,
            default=int(os.environ.get("WEB_CONCURRENCY", "1")),
            help="server processes (default WEB_CONCURRENCY or 1); with more than one, "
            "connections are spread evenly across them (pagtracker/api/serving.py)",
        )
        parser.add_argument("--no-worker", action="store_true")
        parser.add_argument("--no-access-log", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings

        from realtime.hub import cross_process_layer

        if options["workers"] < 1:
            raise CommandError("--workers must be at least 1")
        if "ASGI_SYNC_LANES" not in os.environ and options["workers"] == 1:
            # One process serves everything here: a second lane keeps one slow request (a
            # webhook test send) from holding up the rest (settings.py, ASGI_SYNC_LANES).
            settings.ASGI_SYNC_LANES = max(settings.ASGI_SYNC_LANES, 2)

        from pagtracker.api.serving import Server, run_workers

        workers = options["workers"]
        config = uvicorn_config(
            host=options["host"],
            port=options["port"],
            access_log=not options["no_access_log"],
            workers=workers,
        )
        server = Server(config)
        stop_workers = threading.Event()

        def stop_serving() -> None:
            server.should_exit = True
            stop_workers.set()

        # uvicorn handles SIGINT/SIGTERM while it runs and re-raises them when done; this
        # handler takes the re-raised one so the worker is stopped before we exit.
        signals: list[int] = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda signum, frame: signals.append(signum))

        stop_worker = lambda: None  # noqa: E731
        if not options["no_worker"]:
            if cross_process_layer() is None:
                stop_worker = self._worker_thread(stop_serving)
            else:
                stop_worker = self._worker_process(stop_serving)
        self.stdout.write(
            f"PagTracker on http://{options['host']}:{options['port']}/ "
            f"(API /api/, docs /api/docs/, admin /admin/, sockets /ws/"
            f"{f'; {workers} processes' if workers > 1 else ''}); Ctrl-C stops."
        )
        self.stdout.flush()
        try:
            if workers > 1:
                run_workers(config, workers, stop=stop_workers)
            else:
                server.run()
        finally:
            stop_worker()

    def _worker_thread(self, stop_serving: Callable[[], None]) -> Any:
        from django.utils.crypto import get_random_string
        from django_tasks_db.management.commands.db_worker import Worker

        worker = Worker(
            queue_names=["default"],
            interval=0.2,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )

        def run() -> None:
            try:
                worker.run()
            finally:
                if worker.running:  # it died on its own: take the server down with it
                    stop_serving()

        thread = threading.Thread(target=run, name="db-worker", daemon=True)
        thread.start()

        def stop() -> None:
            worker.running = False
            thread.join(timeout=10)

        return stop

    def _worker_process(self, stop_serving: Callable[[], None]) -> Any:
        child = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.2"]
        )
        stopping = threading.Event()

        def watch() -> None:
            child.wait()
            if not stopping.is_set():
                stop_serving()

        threading.Thread(target=watch, name="db-worker-watch", daemon=True).start()

        def stop() -> None:
            stopping.set()
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()

        return stop
