from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request


class IsMerchant(BasePermission):
    """Authenticated as a merchant's user. Back-office users have no merchant API scope."""

    message = "This endpoint needs a merchant's credentials."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if user is None:
            return False
        return getattr(user, "merchant_id", None) is not None
