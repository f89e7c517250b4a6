#!/usr/bin/env python3
"""Seed the bench database: one merchant (with a sandbox API key) and N pending charges,
inserted in bulk (same rows charge_create writes, without rendering N QR images). Prints
{"api_key", "merchant_id", "charges": [{"id", "code"}...]} as JSON.

Run from the repo root with the bench server's environment (DATABASE_URL, ...)."""

import argparse
import json
import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pagtracker.settings")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--charges", type=int, default=1000)
    ap.add_argument("--email", default=f"bench-{secrets.token_hex(4)}@example.com")
    a = ap.parse_args()

    import django

    django.setup()
    from django.utils import timezone

    from charges.models import Charge, ChargeEvent, ChargeEventType
    from pagtracker.accounts import services
    from pagtracker.pix.ids import new_txid

    user = services.merchant_create(
        email=a.email,
        password=secrets.token_urlsafe(16),
        nome="Bench",
        empresa="Bench LTDA",
        chave_pix="123e4567-e12b-12d1-a456-426655440000",
        cidade="Sao Paulo",
        plano="empresarial",
    )
    key = services.api_key_create(user=user, descricao="bench").raw_key
    now = timezone.now()
    rows = [
        Charge(
            merchant_id=user.merchant_id,
            txid=new_txid(),
            public_code=secrets.token_urlsafe(16),
            amount_cents=1990,
            descricao="bench",
            qr_code="bench",
            qr_code_image="data:image/png;base64,",
            created_at=now,
            expires_at=now + timedelta(hours=6),
        )
        for _ in range(a.charges)
    ]
    for start in range(0, len(rows), 500):
        Charge.objects.bulk_create(rows[start : start + 500])
    ChargeEvent.objects.bulk_create(
        [ChargeEvent(charge=c, type=ChargeEventType.CREATED, created_at=now) for c in rows],
        batch_size=500,
    )
    print(
        json.dumps(
            {
                "api_key": key,
                "merchant_id": str(user.merchant_id),
                "charges": [{"id": str(c.id), "code": c.public_code} for c in rows],
            }
        )
    )


if __name__ == "__main__":
    main()
