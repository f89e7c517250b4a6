"""SQLite as configured in settings: Django's stock backend with a write-ahead log, IMMEDIATE
transactions and a busy timeout, so concurrent writers wait for each other instead of failing
with "database is locked"."""

import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest
from django.db import connection, transaction

from pagtracker.accounts.models import Merchant
from tests.conftest import ROOT, database_url_for_subprocesses, run_concurrently

pytestmark = [
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite backend (CI's first run)"),
    pytest.mark.django_db(transaction=True),
]

INCREMENTS = 25


def increment(merchant_id: object) -> None:
    """A read-modify-write in one transaction: under DEFERRED transactions two of these
    collide on the read lock's upgrade ("database is locked") or lose an update."""
    with transaction.atomic():
        current = Merchant.objects.get(pk=merchant_id)
        current.nome = str(int(current.nome) + 1)
        current.save(update_fields=["nome"])


def test_a_connection_runs_in_wal_mode_with_immediate_transactions_and_a_busy_timeout():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 1  # NORMAL
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000
    with transaction.atomic():
        # Nothing written yet, and still the write lock is taken: BEGIN IMMEDIATE.
        other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0)
        try:
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()


def test_concurrent_writer_threads_all_commit(make_merchant):
    merchant = make_merchant(nome="0").merchant

    def work(_: int) -> int:
        for _ in range(INCREMENTS):
            increment(merchant.pk)
        return 0

    results = run_concurrently(6, work)
    assert results == [0] * 6
    assert Merchant.objects.get(pk=merchant.pk).nome == str(6 * INCREMENTS)


WRITER = textwrap.dedent(
    """
    import sys
    import django
    django.setup()
    from tests.platform.test_sqlite_backend import INCREMENTS, increment
    for _ in range(INCREMENTS):
        increment(sys.argv[1])
    """
)


def test_concurrent_writer_processes_all_commit(make_merchant):
    merchant = make_merchant(nome="0").merchant
    env = dict(
        os.environ,
        DATABASE_URL=database_url_for_subprocesses(),
        DJANGO_SETTINGS_MODULE="pagtracker.settings_test",
    )
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(merchant.pk)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(4)
    ]
    outputs = [writer.communicate(timeout=120)[0].decode() for writer in writers]
    assert [writer.returncode for writer in writers] == [0] * 4, "\n".join(outputs)
    assert Merchant.objects.get(pk=merchant.pk).nome == str(4 * INCREMENTS)
