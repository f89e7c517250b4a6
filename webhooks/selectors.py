from typing import Any

from django.db.models import QuerySet

from pagtracker.errors import NotFound

from .models import WebhookEndpoint


def webhook_endpoint_list(*, merchant_id: Any) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(
        merchant_id=merchant_id, deleted_at__isnull=True
    ).order_by("-created_at", "-id")


def webhook_endpoint_get(*, merchant_id: Any, webhook_id: Any) -> WebhookEndpoint:
    endpoint = webhook_endpoint_list(merchant_id=merchant_id).filter(pk=webhook_id).first()
    if endpoint is None:
        raise NotFound("Webhook not found.")
    return endpoint
