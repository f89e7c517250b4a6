"""The HTTP/WebSocket server of ``manage.py serve``: uvicorn, and with several worker processes,
connections spread evenly across them.

uvicorn's worker processes share one listening socket, and a worker that wakes up accepts every
connection waiting: whichever worker is idle (or quickest) at that moment takes a burst of
keep-alive connections and its peers get few. With 16 clients and 2 workers the split measured
12/4 to 16/0 about one run in three; the loaded worker queues its share on its one core while
the other idles, which sets p99 (README, Performance).

Here each worker accepts for itself, one connection at a time, and only while it holds no more
open connections than the least loaded of its peers; otherwise it stands back for
``STAND_BACK_SECONDS`` and lets that peer take the connection. The counts live on a small
shared board (a file mapped by every worker: one slot of pid and open connections per worker).
A worker that has stood back for ``STAND_BACK_LIMIT_SECONDS`` accepts anyway, so a stuck or
dead peer never leaves a connection waiting long. Counts a peer reads can only be stale upwards
(a worker publishes its count plus one before it accepts, and its count every
``PUBLISH_SECONDS``), so two workers never both stand back. On a loaded machine a worker whose
peer has not run for 50 ms takes the connection itself: the split is then off by one.

Importable without Django set up: spawned workers unpickle ``Server`` before the app loads.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import mmap
import multiprocessing
import os
import select
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

logger = logging.getLogger("pagtracker.serving")

BOARD_ENV = "PAGTRACKER_ACCEPT_BOARD"
SLOTS = 64
STAND_BACK_SECONDS = 0.002
STAND_BACK_LIMIT_SECONDS = 0.05
PUBLISH_SECONDS = 0.1


class AcceptBoard:
    """``SLOTS`` pairs of 64-bit integers (pid, open connections) in a file every worker maps.
    Each worker writes only its own slot; claiming a slot holds an ``flock`` on the file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR)
        self._map = mmap.mmap(self._fd, SLOTS * 16)
        self._cells = memoryview(self._map).cast("q")
        self.slot = -1

    @classmethod
    def create(cls, path: str) -> None:
        with open(path, "wb") as f:
            f.write(b"\0" * SLOTS * 16)

    def claim(self) -> int:
        """Take the first free slot (never used, or its worker has died)."""
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            for slot in range(SLOTS):
                pid = self._cells[slot * 2]
                if pid == 0 or not _alive(pid):
                    self._cells[slot * 2] = os.getpid()
                    self._cells[slot * 2 + 1] = 0
                    self.slot = slot
                    return slot
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        raise RuntimeError(f"no free slot on the accept board ({SLOTS} workers at most)")

    def release(self) -> None:
        if self.slot >= 0:
            self._cells[self.slot * 2 + 1] = 0
            self._cells[self.slot * 2] = 0
            self.slot = -1

    def publish(self, connections: int) -> None:
        self._cells[self.slot * 2 + 1] = connections

    def counts(self) -> dict[int, int]:
        """pid → open connections of every worker on the board."""
        cells = self._cells
        return {cells[i * 2]: cells[i * 2 + 1] for i in range(SLOTS) if cells[i * 2]}

    def least_of_peers(self) -> int | None:
        """The fewest open connections among the other live workers (None: no peer)."""
        me = os.getpid()
        cells = self._cells
        least: int | None = None
        for i in range(SLOTS):
            pid = cells[i * 2]
            if pid == 0 or pid == me:
                continue
            count = cells[i * 2 + 1]
            if (least is None or count < least) and _alive(pid):
                least = count
        return least


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class BalancedListener:
    """Accepts from a shared listening socket for one worker (see the module docstring).
    Quacks like the ``asyncio.Server`` uvicorn keeps in ``Server.servers``."""

    def __init__(
        self,
        sock: socket.socket,
        protocol_factory: Callable[[], asyncio.Protocol],
        board: AcceptBoard,
        connections: set[Any],
        ssl: Any = None,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._sock = sock
        self._fd = sock.fileno()
        self._factory = protocol_factory
        self._board = board
        self._connections = connections
        self._ssl = ssl
        self._pending = 0  # accepted, protocol not made yet
        self._standing_since: float | None = None
        self._reading = False
        self._closed = False
        self._tasks: set[asyncio.Task[Any]] = set()
        sock.setblocking(False)
        self._read()
        self._publish_soon()

    def _open(self) -> int:
        return len(self._connections) + self._pending

    def _read(self) -> None:
        if not self._reading and not self._closed:
            self._loop.add_reader(self._fd, self._on_readable)
            self._reading = True

    def _stand_back(self, seconds: float) -> None:
        if self._reading:
            self._loop.remove_reader(self._fd)
            self._reading = False
        self._loop.call_later(seconds, self._resume)

    def _resume(self) -> None:
        if self._closed:
            return
        if not select.select([self._fd], [], [], 0)[0]:
            self._standing_since = None  # a peer took the connection: this wait is over
        self._read()

    def _publish_soon(self) -> None:
        if self._closed:
            return
        self._board.publish(self._open())
        self._loop.call_later(PUBLISH_SECONDS, self._publish_soon)

    def _on_readable(self) -> None:
        mine = self._open()
        self._board.publish(mine)
        least = self._board.least_of_peers()
        if least is not None and mine > least:
            now = time.monotonic()
            if self._standing_since is None:
                self._standing_since = now
            if now - self._standing_since < STAND_BACK_LIMIT_SECONDS:
                self._stand_back(STAND_BACK_SECONDS)
                return
        # Count the connection before taking it: a peer reading the board between the two
        # sees one too many here (it then accepts), never one too few.
        self._board.publish(mine + 1)
        try:
            conn, _ = self._sock.accept()
        except (BlockingIOError, InterruptedError):
            self._standing_since = None  # a peer took it
            self._board.publish(mine)
            return
        except OSError as exc:  # out of file descriptors and the like: let a peer have a go
            logger.warning("accept failed: %s", exc)
            self._board.publish(mine)
            self._stand_back(0.1)
            return
        self._standing_since = None
        self._pending += 1
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        task = self._loop.create_task(self._connect(conn))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect(self, conn: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(self._factory, conn, ssl=self._ssl)
        except Exception:
            logger.exception("could not set up an accepted connection")
            conn.close()
        finally:
            self._pending -= 1

    def close(self) -> None:
        self._closed = True
        if self._reading:
            self._loop.remove_reader(self._fd)
            self._reading = False
        self._board.release()

    async def wait_closed(self) -> None:
        return None


class Server(uvicorn.Server):
    """uvicorn's server, with the balanced accept when the board is set (several workers), and
    a graceful shutdown: stop accepting, close every socket with 1001, let the closing
    handshakes finish, then uvicorn's own shutdown (requests in flight finish)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        from realtime import lifespan

        lifespan.SERVER_CLOSES_SOCKETS = True
        board_path = os.environ.get(BOARD_ENV)
        if not sockets or not board_path:
            await super().startup(sockets)
            return
        # uvicorn's startup for passed sockets, with BalancedListener for loop.create_server.
        await self.lifespan.startup()
        if self.lifespan.should_exit:
            raise SystemExit(3)  # uvicorn's STARTUP_FAILURE
        config = self.config
        board = AcceptBoard(board_path)
        board.claim()

        def create_protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state
            )

        listeners = [
            BalancedListener(sock, create_protocol, board, self.server_state.connections)
            for sock in sockets
        ]
        self.servers = listeners  # type: ignore[assignment]
        self.started = True

    async def shutdown(self, sockets: Any = None) -> None:
        from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

        from realtime import lifespan

        for listener in getattr(self, "servers", []):
            listener.close()  # no new connections from here on
        await lifespan.close_sockets_gracefully(1001)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 1.0
        while loop.time() < deadline and any(
            isinstance(c, WebSocketsSansIOProtocol) for c in self.server_state.connections
        ):
            await asyncio.sleep(0.05)
        await super().shutdown(sockets)


def run_workers(
    config: uvicorn.Config, workers: int, *, stop: threading.Event | None = None
) -> None:
    """Bind once, start ``workers`` processes sharing the socket and the accept board, restart
    any that dies, and on SIGINT/SIGTERM stop them all (each finishes its requests)."""
    from uvicorn._subprocess import get_subprocess

    board_dir = tempfile.mkdtemp(prefix="pagtracker-serve-")
    board_path = os.path.join(board_dir, "accept.board")
    AcceptBoard.create(board_path)
    os.environ[BOARD_ENV] = board_path
    sock = config.bind_socket()
    sock.listen(config.backlog)  # bind_socket leaves that to loop.create_server
    stop = stop or threading.Event()
    signals: list[int] = []

    def on_signal(signum: int, frame: Any) -> None:
        signals.append(signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}

    def spawn() -> multiprocessing.process.BaseProcess:
        process = get_subprocess(config, target=Server(config=config).run, sockets=[sock])
        process.start()
        return process

    processes = [spawn() for _ in range(workers)]
    try:
        while not stop.wait(0.5):
            for i, process in enumerate(processes):
                if process.is_alive():
                    continue
                if process.exitcode == 3:  # uvicorn's STARTUP_FAILURE: the next would fail too
                    logger.error("worker %s failed to start; stopping", process.pid)
                    stop.set()
                    break
                logger.warning(
                    "worker %s exited (%s); starting another", process.pid, process.exitcode
                )
                processes[i] = spawn()
    finally:
        for process in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
        sock.close()
        shutil.rmtree(board_dir, ignore_errors=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if signals:
            signal.raise_signal(signals[0])
