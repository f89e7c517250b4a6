"""txids, EndToEndIds and return ids (pix.md section 1.5)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pagtracker.pix import (
    TxidInvalid,
    new_end_to_end_id,
    new_return_id,
    new_static_txid,
    new_txid,
    validate_txid,
)

END_TO_END_ID = re.compile(r"E[0-9A-Z]{8}\d{12}[a-zA-Z0-9]{11}")
RETURN_ID = re.compile(r"D[0-9A-Z]{8}\d{12}[a-zA-Z0-9]{11}")


def test_new_txid_defaults_to_32_alphanumerics_fit_for_put_cob() -> None:
    txids = {new_txid() for _ in range(200)}

    assert len(txids) == 200
    for txid in txids:
        assert re.fullmatch(r"[A-Za-z0-9]{32}", txid)
        assert validate_txid(txid, context="cob") == txid


@pytest.mark.parametrize("length", [1, 25, 26, 35])
def test_new_txid_length(length: int) -> None:
    assert len(new_txid(length)) == length


@pytest.mark.parametrize("length", [0, 36])
def test_new_txid_refuses_lengths_no_context_accepts(length: int) -> None:
    with pytest.raises(ValueError):
        new_txid(length)


def test_new_static_txid_is_25_alphanumerics() -> None:
    txid = new_static_txid()

    assert re.fullmatch(r"[A-Za-z0-9]{25}", txid)
    assert validate_txid(txid, context="static") == txid


@pytest.mark.parametrize(
    ("txid", "context", "valid"),
    [
        ("***", "static", True),
        ("***", "received", False),
        ("A", "static", True),
        ("a" * 25, "static", True),
        ("a" * 26, "static", False),
        ("RP12345678-2019", "static", False),
        ("a" * 25, "cob", False),
        ("a" * 26, "cob", True),
        ("a" * 35, "cob", True),
        ("a" * 36, "cob", False),
        ("a", "received", True),
        ("a" * 35, "received", True),
        ("a" * 36, "received", False),
        ("", "received", False),
        ("abc\n", "static", False),
        ("ábc", "static", False),
    ],
)
def test_validate_txid_per_context(txid: str, context: str, valid: bool) -> None:
    if valid:
        assert validate_txid(txid, context=context) == txid  # type: ignore[arg-type]
    else:
        with pytest.raises(TxidInvalid) as raised:
            validate_txid(txid, context=context)  # type: ignore[arg-type]
        assert raised.value.code == "txid_invalid"


def test_end_to_end_id_shape_and_utc_timestamp() -> None:
    when = datetime(2024, 6, 20, 9, 21, 59, tzinfo=timezone(timedelta(hours=-3)))

    e2e = new_end_to_end_id(ispb="12345678", when=when)

    assert END_TO_END_ID.fullmatch(e2e)
    assert len(e2e) == 32
    assert e2e[:21] == "E12345678202406201221"


def test_end_to_end_id_defaults_to_now_and_is_random() -> None:
    before = datetime.now(UTC).replace(second=0, microsecond=0)
    ids = {new_end_to_end_id() for _ in range(100)}
    after = datetime.now(UTC)

    assert len(ids) == 100
    for e2e in ids:
        assert END_TO_END_ID.fullmatch(e2e)
        stamp = datetime.strptime(e2e[9:21], "%Y%m%d%H%M").replace(tzinfo=UTC)
        assert before <= stamp <= after


def test_return_id_starts_with_d() -> None:
    rtr_id = new_return_id(ispb="00000000", when=datetime(2020, 9, 9, 10, 0, tzinfo=UTC))

    assert RETURN_ID.fullmatch(rtr_id)
    assert rtr_id.startswith("D00000000202009091000")


def test_ids_refuse_naive_datetimes_and_bad_ispb() -> None:
    with pytest.raises(ValueError, match="timezone"):
        new_end_to_end_id(when=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="ISPB"):
        new_end_to_end_id(ispb="1234")
