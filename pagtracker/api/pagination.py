from typing import Any

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


def paginate(request: Request, queryset: QuerySet[Any]) -> tuple[list[Any], dict[str, int]]:
    """Page a queryset: ``page`` (1-based) and ``per_page`` (default 20, at most 100)."""
    page = _positive_int(request, "page", 1)
    per_page = min(_positive_int(request, "per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE)
    total = queryset.count()
    start = (page - 1) * per_page
    items = list(queryset[start : start + per_page])
    return items, {"page": page, "per_page": per_page, "total": total}
