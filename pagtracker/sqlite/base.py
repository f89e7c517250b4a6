"""Django's SQLite backend, with writers queued on a lock file instead of SQLite's busy handler.

SQLite has one writer at a time. A transaction that finds the write lock taken waits in
SQLite's busy handler, which sleeps 1, 2, 5 ... then 100 ms between tries: under load a
waiter keeps sleeping long after the lock was released, the server idles while requests queue,
and p99 grows to hundreds of ms (bench/README.md, "charges"). Here every transaction first
takes an exclusive ``flock`` on ``<database>-writer.lock`` (each connection has its own file
description, so threads of one process queue too), trying again every 0.05-0.5 ms, and releases
it on commit, rollback or close. ``BEGIN IMMEDIATE`` then finds the database free. Writes in
autocommit mode (outside ``transaction.atomic``) still use SQLite's own lock and timeout.

Checkpoints (copying the write-ahead log back into the database file, with an fsync) are
moved out of the writers' way as well: by default SQLite runs one inside the COMMIT that makes
the log pass 1,000 pages, so every few hundred payments one writer holds the lock for ~20 ms
while all the others wait. Here a thread per process checkpoints (``PASSIVE``: it never blocks
readers or writers) every 50 ms, copying back whatever the log holds; with nothing to copy it
returns at once, without an fsync. The commit-time checkpoint stays as a safety net at 10,000
pages. Small and frequent is what keeps writers quick: each checkpoint's fsync stalls the
writers' own log appends for a while, and under load a checkpoint every 250 ms put the
confirmation p99 at ~90 ms, one a second at ~110 ms, one every 50 ms at ~67 ms
(bench/README.md). (The log's backlog is not read from ``-shm`` first: opening and closing
that file from Python would drop this process's POSIX locks on it, which SQLite holds.)

Selected by ``pagtracker/settings.py`` for every ``sqlite:`` ``DATABASE_URL`` but in-memory
ones."""

import fcntl
import logging
import os
import sqlite3
import threading
import time
from typing import Any

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError

from .creation import DatabaseCreation

_FIRST_WAIT = 0.00005
_LONGEST_WAIT = 0.0005
_CHECKPOINT_POLL_SECONDS = 0.05
_checkpointers: set[str] = set()
_checkpointers_lock = threading.Lock()
logger = logging.getLogger("pagtracker.sqlite")


def _checkpoint_loop(path: str) -> None:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    while True:
        time.sleep(_CHECKPOINT_POLL_SECONDS)
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:
            logger.exception("background checkpoint of %s failed", path)


def _checkpointer_ensure(path: str) -> None:
    if path in _checkpointers:
        return
    with _checkpointers_lock:
        if path in _checkpointers:
            return
        _checkpointers.add(path)
        threading.Thread(
            target=_checkpoint_loop, args=(path,), name="sqlite-checkpoint", daemon=True
        ).start()


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._writer_fd: int | None = None
        self._writer_locked = False

    def get_new_connection(self, conn_params: Any) -> Any:
        conn = super().get_new_connection(conn_params)
        if not self.is_in_memory_db():
            conn.execute("PRAGMA wal_autocheckpoint=10000")
            _checkpointer_ensure(str(self.settings_dict["NAME"]))
        return conn

    def _writer_lock_path(self) -> str | None:
        if self.is_in_memory_db():
            return None
        return f"{self.settings_dict['NAME']}-writer.lock"

    def _writer_lock_acquire(self) -> None:
        if self._writer_locked:
            return
        if self._writer_fd is None:
            path = self._writer_lock_path()
            if path is None:
                return
            self._writer_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        deadline = time.monotonic() + timeout
        wait = _FIRST_WAIT
        while True:
            try:
                fcntl.flock(self._writer_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._writer_locked = True
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OperationalError("database is locked (writer queue)") from None
                time.sleep(wait)
                wait = min(wait * 2, _LONGEST_WAIT)

    def _writer_lock_release(self) -> None:
        if self._writer_locked and self._writer_fd is not None:
            fcntl.flock(self._writer_fd, fcntl.LOCK_UN)
        self._writer_locked = False

    def _start_transaction_under_autocommit(self) -> None:
        self._writer_lock_acquire()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._writer_lock_release()
            raise

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]
        finally:
            self._writer_lock_release()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]
        finally:
            self._writer_lock_release()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._writer_lock_release()
            if self._writer_fd is not None:
                os.close(self._writer_fd)
                self._writer_fd = None
