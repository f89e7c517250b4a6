"""The SQLite backend (pagtracker/sqlite/base.py): writers queue on the lock file, and a
background thread checkpoints the write-ahead log."""

import fcntl
import os
import subprocess
import sys
import time

import pytest
from django.db import OperationalError, connection, transaction

from pagtracker.accounts.models import Merchant
from tests.conftest import run_concurrently

pytestmark = [
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite backend (CI's first run)"),
    pytest.mark.django_db(transaction=True),
]


def lock_path() -> str:
    return f"{connection.settings_dict['NAME']}-writer.lock"


def test_concurrent_write_transactions_queue_instead_of_failing(make_merchant):
    merchant = make_merchant().merchant

    def rename(i: int) -> int:
        for n in range(20):
            with transaction.atomic():
                current = Merchant.objects.get(pk=merchant.pk)
                current.nome = f"{i}-{n}"
                current.save(update_fields=["nome"])
        return i

    results = run_concurrently(6, rename)
    assert results == list(range(6))


def test_the_lock_is_released_on_rollback_and_held_inside_a_transaction(make_merchant):
    merchant = make_merchant().merchant
    with pytest.raises(RuntimeError), transaction.atomic():
        Merchant.objects.filter(pk=merchant.pk).update(nome="rolled back")
        fd = os.open(lock_path(), os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):  # another description: held by the transaction
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        raise RuntimeError("roll back")
    fd = os.open(lock_path(), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    assert Merchant.objects.get(pk=merchant.pk).nome != "rolled back"


def test_a_writer_that_cannot_get_the_lock_fails_after_the_timeout(make_merchant):
    merchant = make_merchant().merchant
    options = connection.settings_dict.setdefault("OPTIONS", {})
    saved = options.get("timeout")
    options["timeout"] = 0.2
    fd = os.open(lock_path(), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(OperationalError, match="database is locked"), transaction.atomic():
            Merchant.objects.filter(pk=merchant.pk).update(nome="never")
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        if saved is None:
            options.pop("timeout")
        else:
            options["timeout"] = saved
    assert Merchant.objects.get(pk=merchant.pk).nome != "never"


# Read from another process: opening and closing -shm here would drop this process's POSIX
# locks on it, which SQLite holds.
_BACKLOG = """
import struct, sys
with open(sys.argv[1] + "-shm", "rb") as shm:
    header = shm.read(100)
print(struct.unpack_from("=I", header, 16)[0] - struct.unpack_from("=I", header, 96)[0])
"""


def wal_backlog() -> int:
    """Log pages not yet copied back: the wal-index header's mxFrame minus nBackfill."""
    out = subprocess.run(
        [sys.executable, "-c", _BACKLOG, connection.settings_dict["NAME"]],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout)


def test_the_background_checkpointer_copies_the_log_back_within_moments(make_merchant):
    merchant = make_merchant().merchant
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == 10000  # commits leave it to the background thread
    for n in range(30):
        with transaction.atomic():
            Merchant.objects.filter(pk=merchant.pk).update(nome=f"n{n}")
    deadline = time.monotonic() + 5
    backlog = wal_backlog()
    while backlog and time.monotonic() < deadline:
        time.sleep(0.05)
        backlog = wal_backlog()
    assert backlog == 0
