"""ASGI lifespan: start the hub with the server, and close sockets with 1001 on SIGTERM.

uvicorn (``manage.py serve``, the ``uvicorn`` command, each process of a process manager)
installs its SIGTERM/SIGINT handler before the application starts. At start-up the hub puts
its own handler in front: on the signal the sockets get their 1001 close first, then the
server's handler runs and the server stops as usual. Left to itself the server would close
them with 1012 (service restart)."""

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


async def close_sockets_gracefully(code: int = 1001) -> None:
    """Close every open socket with ``code`` and wait (a little) until they are gone."""
    await HUB.shutdown(code)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + float(conf.get("REALTIME_SHUTDOWN_GRACE_SECONDS"))
    while HUB.sockets and loop.time() < deadline:
        await asyncio.sleep(0.05)


def install_signal_chain(loop: asyncio.AbstractEventLoop) -> None:
    """Put the 1001 close in front of the server's own SIGTERM/SIGINT handler."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)
        if not callable(previous):
            continue

        def on_signal(sig: int = sig, previous: Any = previous) -> None:
            loop.remove_signal_handler(sig)
            signal.signal(sig, previous)  # a second signal goes straight to the server

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
                install_signal_chain(asyncio.get_running_loop())
            except Exception as exc:
                logger.exception("realtime start-up failed")
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await HUB.stop()
            await send({"type": "lifespan.shutdown.complete"})
            return
