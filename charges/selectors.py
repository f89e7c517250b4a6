from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils.dateparse import parse_date, parse_datetime

from pagtracker.errors import InvalidInput, NotFound

from .models import STATUS_ALIASES, Charge, ChargeStatus


def _parse_when(name: str, raw: str, *, end_of_day: bool = False) -> datetime:
    from datetime import UTC, time

    when = parse_datetime(raw)
    if when is None:
        day = parse_date(raw)
        if day is None:
            raise InvalidInput(
                f"{name} must be an ISO 8601 date or date-time.", details={name: ["invalid date"]}
            )
        when = datetime.combine(day, time.max if end_of_day else time.min)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when


def charge_list(*, merchant_id: Any, filters: dict[str, str]) -> QuerySet[Charge]:
    """A merchant's charges, newest first, filtered by status (Portuguese or English),
    ``created_from``/``created_to`` and ``txid``."""
    queryset = Charge.objects.filter(merchant_id=merchant_id)
    status = filters.get("status")
    if status:
        canonical = STATUS_ALIASES.get(status.lower(), status.lower())
        if canonical not in ChargeStatus.values:
            raise InvalidInput(
                f"Unknown status {status!r}.",
                details={"status": [f"one of {ChargeStatus.values} or {sorted(STATUS_ALIASES)}"]},
            )
        queryset = queryset.filter(status=canonical)
    if filters.get("created_from"):
        queryset = queryset.filter(
            created_at__gte=_parse_when("created_from", filters["created_from"])
        )
    if filters.get("created_to"):
        queryset = queryset.filter(
            created_at__lte=_parse_when("created_to", filters["created_to"], end_of_day=True)
        )
    if filters.get("txid"):
        queryset = queryset.filter(txid=filters["txid"])
    return queryset.order_by("-created_at").defer("qr_code_image", "split_snapshot")


def charge_get(*, merchant_id: Any, charge_id: Any) -> Charge:
    """One charge of the merchant; another merchant's id is simply not found."""
    try:
        return Charge.objects.get(pk=charge_id, merchant_id=merchant_id)
    except Charge.DoesNotExist:
        raise NotFound("Charge not found.") from None


def charge_by_public_code(*, public_code: str) -> Charge | None:
    return Charge.objects.select_related("merchant").filter(public_code=public_code).first()
