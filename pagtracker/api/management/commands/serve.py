"""Serve HTTP and WebSockets with daphne and run the database task worker beside it.

Ctrl-C (SIGINT) or SIGTERM stops both; if either exits, the other is stopped too."""

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run daphne (HTTP + WebSockets) and the task worker together."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-worker", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        python = sys.executable
        commands = [
            [
                python,
                "-m",
                "daphne",
                "-b",
                options["host"],
                "-p",
                str(options["port"]),
                "pagtracker.asgi:application",
            ]
        ]
        if not options["no_worker"]:
            commands.append([python, "manage.py", "db_worker", "--no-reload", "--interval", "0.2"])
        children = [subprocess.Popen(cmd) for cmd in commands]
        self.stdout.write(
            f"PagTracker on http://{options['host']}:{options['port']}/ "
            f"(API /api/, docs /api/docs/, admin /admin/); Ctrl-C stops."
        )
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.2)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.time() + 10
        for child in children:
            try:
                child.wait(timeout=max(deadline - time.time(), 0.1))
            except subprocess.TimeoutExpired:
                child.kill()
