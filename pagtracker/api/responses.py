from typing import Any

from rest_framework.response import Response


def ok(
    data: Any,
    *,
    status: int = 200,
    meta: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The success envelope ``{"data": …, "meta": {…}}``."""
    return Response({"data": data, "meta": meta or {}}, status=status, headers=headers)
