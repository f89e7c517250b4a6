"""Data set-up and in-process timings for bench/charges.py, run with the server's environment
(``Server.script``: same DATABASE_URL/REDIS_URL/settings as the running server). Prints one
JSON line last.

  seed.py template --email E                 create one charge through charges.services
  seed.py pool --email E --n N --out F [--kind pay|get] [--due] [--tag T] [--purge-tag]
        bulk-insert N pending charges copying a real charge's qr_code/qr_code_image (unique
        txid/public_code) and write one path per line to F (pay: /api/sandbox/charges/<id>/pay,
        get: /api/charges/<id>). --due: expires_at in the past. --purge-tag first deletes the
        still-pending charges of an earlier pool with the same tag (keeps the table from
        growing with unused pool rows; paid ones stay, they have ledger rows).
  seed.py ids --email E --n N --out F        sample N existing charge ids -> GET paths
  seed.py count --email E                    charges of the merchant
  seed.py expire-inproc                      time charges.services.charges_expire_due()
  seed.py expire-worker --tag T [--lead S] [--timeout S]
        the pending charges tagged T fall due S seconds from now (2); the time from then until
        none is pending; needs a running worker (manage.py worker)
  seed.py due                                pending charges that are due, and unfinished tasks
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import string
import sys
import time
from datetime import timedelta
from pathlib import Path

# bench/ holds platform.py, which would shadow the stdlib's platform: keep bench/ off sys.path.
_BENCH = Path(__file__).resolve().parent
sys.path[:] = [str(_BENCH.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _BENCH]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pagtracker.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from charges import services  # noqa: E402
from charges.models import Charge, ChargeStatus  # noqa: E402
from pagtracker.accounts.models import Merchant, User  # noqa: E402

ALNUM = string.ascii_letters + string.digits
BATCH = 1000


def emit(obj: dict) -> None:
    print(json.dumps(obj, default=str), flush=True)


def merchant_of(email: str) -> Merchant:
    return User.objects.select_related("merchant").get(email=email.lower()).merchant


def template_charge(merchant: Merchant) -> Charge:
    charge = (
        Charge.objects.filter(merchant=merchant)
        .exclude(qr_code_image="")
        .order_by("created_at")
        .first()
    )
    if charge is None:
        charge = services.charge_create(
            merchant=merchant, amount_cents=10050, descricao="bench-template"
        )
    return charge


def txid() -> str:
    return "".join(random.choices(ALNUM, k=25))


def bulk_charges(
    merchant: Merchant,
    n: int,
    *,
    due: bool = False,
    tag: str = "",
    spread_days: int = 0,
    status: str = ChargeStatus.PENDENTE,
    paid_share: float = 0.0,
) -> list[str]:
    """Insert n charges copying the template's BR Code and PNG; returns their ids. A share
    ``paid_share`` of them is paid instead, each with its ledger credit (balance included)."""
    from pagtracker.ledger.models import EntryKind, LedgerEntry
    from pagtracker.ledger.services import ledger_book_bulk

    tpl = template_charge(merchant)
    now = timezone.now()
    ids: list[str] = []
    rows: list[Charge] = []
    entries: list[LedgerEntry] = []

    def flush() -> None:
        with transaction.atomic():
            Charge.objects.bulk_create(rows, batch_size=BATCH)
            if entries:
                ledger_book_bulk(entries)
        rows.clear()
        entries.clear()

    for _ in range(n):
        created = (
            now - timedelta(seconds=random.randint(0, spread_days * 86400))
            if spread_days
            else now - timedelta(minutes=2 if due else 0)
        )
        expires = created + timedelta(minutes=1) if due else created + timedelta(hours=1)
        if status == ChargeStatus.EXPIRADO:
            expires = created + timedelta(hours=1)
        c = Charge(
            merchant=merchant,
            provider=tpl.provider,
            txid=txid(),
            public_code=secrets.token_urlsafe(16),
            status=status,
            amount_cents=tpl.amount_cents,
            descricao=tag,
            metadata={},
            qr_code=tpl.qr_code,
            qr_code_image=tpl.qr_code_image,
            created_at=created,
            expires_at=expires,
            expired_at=expires if status == ChargeStatus.EXPIRADO else None,
        )
        if paid_share and random.random() < paid_share:
            c.status = ChargeStatus.PAGO
            c.expired_at = None
            c.paid_at = created + timedelta(seconds=30)
            c.paid_amount_cents = c.amount_cents
            c.end_to_end_id = f"E00000000{secrets.token_hex(11)}"[:32]
            entries.append(
                LedgerEntry(
                    merchant=merchant,
                    kind=EntryKind.PAYMENT_IN,
                    amount_cents=c.amount_cents,
                    reference_id=c.id,
                    charge_id=c.id,
                    created_at=c.paid_at,
                )
            )
        rows.append(c)
        ids.append(str(c.id))
        if len(rows) >= BATCH * 5:
            flush()
    if rows:
        flush()
    return ids


def write_paths(ids: list[str], out: str, kind: str) -> None:
    fmt = "/api/sandbox/charges/{}/pay" if kind == "pay" else "/api/charges/{}"
    with open(out, "w") as f:
        for i in ids:
            f.write(fmt.format(i) + "\n")


def wal_settle() -> None:
    """On SQLite, fold the seeding's write-ahead log back into the database before the
    measured run, so the server's background checkpointer does not spend the run copying
    tens of MB the seeding wrote (the anchor's pool script writes its database directly)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def cmd_template(a: argparse.Namespace) -> None:
    c = template_charge(merchant_of(a.email))
    emit({"id": str(c.id), "qr_code_len": len(c.qr_code), "image_len": len(c.qr_code_image)})


def cmd_pool(a: argparse.Namespace) -> None:
    merchant = merchant_of(a.email)
    t0 = time.perf_counter()
    purged = 0
    if a.purge_tag and a.tag:
        purged, _ = Charge.objects.filter(
            merchant=merchant, descricao=a.tag, status=ChargeStatus.PENDENTE
        ).delete()
    ids = bulk_charges(merchant, a.n, due=a.due, tag=a.tag)
    random.shuffle(ids) if a.kind == "get" else None
    write_paths(ids, a.out, a.kind)
    wal_settle()
    emit({"seeded": len(ids), "purged_rows": purged, "seconds": round(time.perf_counter() - t0, 2)})


def cmd_bulk(a: argparse.Namespace) -> None:
    """Bring the merchant's charge count up to --total (expired history over --days)."""
    merchant = merchant_of(a.email)
    t0 = time.perf_counter()
    have = Charge.objects.filter(merchant=merchant).count()
    n = max(a.total - have, 0)
    bulk_charges(
        merchant,
        n,
        tag=a.tag,
        spread_days=a.days,
        status=ChargeStatus.EXPIRADO,
        paid_share=a.paid_share,
    )
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("PRAGMA optimize")
    wal_settle()
    emit(
        {
            "inserted": n,
            "total": Charge.objects.filter(merchant=merchant).count(),
            "seconds": round(time.perf_counter() - t0, 2),
        }
    )


def cmd_ids(a: argparse.Namespace) -> None:
    merchant = merchant_of(a.email)
    ids = [str(i) for i in Charge.objects.filter(merchant=merchant).values_list("id", flat=True)]
    random.shuffle(ids)
    ids = ids[: a.n]
    write_paths(ids, a.out, "get")
    emit({"ids": len(ids)})


def cmd_count(a: argparse.Namespace) -> None:
    emit({"charges": Charge.objects.filter(merchant=merchant_of(a.email)).count()})


def due_counts() -> dict:
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    pending = Charge.objects.filter(status=ChargeStatus.PENDENTE, expires_at__lte=now).count()
    unfinished = (
        DBTaskResult.objects.filter(status__in=["READY", "RUNNING"], run_after__lte=now).count()
        if hasattr(DBTaskResult, "run_after")
        else None
    )
    return {"due_pending": pending, "due_tasks_unfinished": unfinished}


def cmd_due(a: argparse.Namespace) -> None:
    emit(due_counts())


def cmd_expire_inproc(a: argparse.Namespace) -> None:
    before = due_counts()["due_pending"]
    t0 = time.perf_counter()
    n = services.charges_expire_due()
    dt = time.perf_counter() - t0
    emit(
        {
            "due_before": before,
            "expired": n,
            "seconds": round(dt, 3),
            "per_s": round(n / dt, 1) if dt else None,
        }
    )


def cmd_expire_worker(a: argparse.Namespace) -> None:
    """The pending charges tagged ``--tag`` all fall due ``--lead`` seconds from now, while the
    worker runs; the time from that moment until none of them is pending."""
    due_at = timezone.now() + timedelta(seconds=a.lead)
    moved = Charge.objects.filter(status=ChargeStatus.PENDENTE, descricao=a.tag).update(
        expires_at=due_at
    )
    if not moved:
        emit({"error": f"no pending charge tagged {a.tag!r}"})
        return
    time.sleep(max((due_at - timezone.now()).total_seconds(), 0))
    t0 = time.perf_counter()
    deadline = t0 + a.timeout
    left = moved
    polls = 0
    while time.perf_counter() < deadline and polls < 100000:
        polls += 1
        left = Charge.objects.filter(status=ChargeStatus.PENDENTE, descricao=a.tag).count()
        if left == 0:
            break
        time.sleep(0.02)
    took = time.perf_counter() - t0
    emit(
        {
            "due": moved,
            "until_none_pending_s": round(took, 3) if left == 0 else None,
            "left_pending": left,
            "timed_out": left != 0,
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("template")
    p.add_argument("--email", required=True)
    p = sub.add_parser("pool")
    p.add_argument("--email", required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--kind", choices=["pay", "get"], default="pay")
    p.add_argument("--due", action="store_true")
    p.add_argument("--tag", default="")
    p.add_argument("--purge-tag", action="store_true")
    p = sub.add_parser("bulk")
    p.add_argument("--email", required=True)
    p.add_argument("--total", type=int, required=True)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--tag", default="bench-history")
    p.add_argument("--paid-share", type=float, default=0.0)
    p = sub.add_parser("ids")
    p.add_argument("--email", required=True)
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--out", required=True)
    p = sub.add_parser("count")
    p.add_argument("--email", required=True)
    sub.add_parser("due")
    sub.add_parser("expire-inproc")
    p = sub.add_parser("expire-worker")
    p.add_argument("--tag", required=True)
    p.add_argument("--lead", type=float, default=2.0)
    p.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()
    assert getattr(a, "n", 0) <= 200000 and getattr(a, "total", 0) <= 200000
    {
        "template": cmd_template,
        "pool": cmd_pool,
        "bulk": cmd_bulk,
        "ids": cmd_ids,
        "count": cmd_count,
        "due": cmd_due,
        "expire-inproc": cmd_expire_inproc,
        "expire-worker": cmd_expire_worker,
    }[a.cmd](a)


if __name__ == "__main__":
    main()
