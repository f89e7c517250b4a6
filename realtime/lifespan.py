"""ASGI lifespan: start the hub with the server, and close sockets with 1001 on SIGTERM.

``manage.py serve`` runs the shutdown itself (it stops accepting first, then asks the hub to
close the sockets). Under another server that speaks lifespan (``uvicorn`` on the command
line) the hub wraps the server's SIGTERM/SIGINT handler: sockets get their 1001 close first,
then the server's own handler runs and the server stops as usual."""

import asyncio
import gc
import logging
import os
import signal
import threading
from typing import Any

from . import conf
from .hub import HUB

logger = logging.getLogger("pagtracker.realtime")

# Set by ``manage.py serve``, whose server closes the sockets itself on shutdown.
SERVER_CLOSES_SOCKETS = False


async def close_sockets_gracefully(code: int = 1001) -> None:
    """Close every open socket with ``code`` and wait (a little) until they are gone."""
    await HUB.shutdown(code)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + float(conf.get("REALTIME_SHUTDOWN_GRACE_SECONDS"))
    while HUB.sockets and loop.time() < deadline:
        await asyncio.sleep(0.05)


def _install_signal_chain(loop: asyncio.AbstractEventLoop) -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)
        if not callable(previous):
            continue

        def on_signal(sig: int = sig, previous: Any = previous) -> None:
            loop.remove_signal_handler(sig)
            signal.signal(sig, previous)

            async def close_then_stop() -> None:
                try:
                    await close_sockets_gracefully()
                finally:
                    previous(sig, None)

            loop.create_task(close_then_stop())

        try:
            loop.add_signal_handler(sig, on_signal)
        except (NotImplementedError, RuntimeError, ValueError):
            return


async def lifespan_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                if os.environ.get("REALTIME_GC_FREEZE", "1") != "0":
                    # Django, the apps and the URL maps are loaded and will live as long as
                    # the process: keep the collector from walking them on every full
                    # collection (those walks are the pauses a socket's frames would wait on).
                    gc.collect()
                    gc.freeze()
                await HUB.ensure_started()
                if not SERVER_CLOSES_SOCKETS:
                    _install_signal_chain(asyncio.get_running_loop())
            except Exception as exc:
                logger.exception("realtime start-up failed")
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await HUB.stop()
            await send({"type": "lifespan.shutdown.complete"})
            return
