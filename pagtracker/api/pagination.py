import threading
import time
from collections.abc import Hashable
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from rest_framework.request import Request

from pagtracker.errors import InvalidInput

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100


def _positive_int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise InvalidInput(f"{name} must be a positive integer.", details={name: ["must be ≥ 1"]})
    return value


_totals: dict[Hashable, tuple[float, int]] = {}
_totals_lock = threading.Lock()


def paginate(
    request: Request, queryset: QuerySet[Any], *, total_key: Hashable | None = None
) -> tuple[list[Any], dict[str, int]]:
    """Page a queryset: ``page`` (1-based) and ``per_page`` (default 20, at most 100).

    ``meta.total`` costs no COUNT when the page is the last one (it is then exact: what came
    before plus what is on it). Otherwise it is a COUNT, which grows with the rows matched;
    with ``total_key`` (the merchant and the filters) it is kept in the process for
    ``LIST_TOTAL_CACHE_SECONDS`` (default 2), so paging through a large list does not count
    it again on every page. Such a total can lag other processes' writes by that long."""
    page = _positive_int(request, "page", 1)
    per_page = min(_positive_int(request, "per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE)
    start = (page - 1) * per_page
    items = list(queryset[start : start + per_page])
    if len(items) < per_page and (items or page == 1):
        total = start + len(items)
    else:
        total = _total(queryset, total_key)
        if items:
            total = max(total, start + len(items))
    return items, {"page": page, "per_page": per_page, "total": total}


def _total(queryset: QuerySet[Any], key: Hashable | None) -> int:
    ttl = settings.LIST_TOTAL_CACHE_SECONDS
    if key is None or ttl <= 0:
        return queryset.count()
    now = time.monotonic()
    cached = _totals.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    total = queryset.count()
    with _totals_lock:
        if len(_totals) >= 10_000:
            _totals.clear()
        _totals[key] = (now + ttl, total)
    return total
