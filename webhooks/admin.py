"""Webhooks in the admin: endpoints (never their secret), events, deliveries with their
attempts, and a redeliver action. Merchant staff see only their merchant's rows."""

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from pagtracker.accounts.scoping import MerchantScopedAdmin, ReadOnlyInline
from pagtracker.errors import DomainError

from . import services
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent


class AttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = readonly_fields = (
        "number",
        "started_at",
        "status_code",
        "latency_ms",
        "success",
        "error",
        "response_body",
    )


class DeliveryInline(ReadOnlyInline):
    model = WebhookDelivery
    fk_name = "event"
    fields = readonly_fields = (
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "delivered_at",
    )
    show_change_link = True


class ReadOnlyAdmin(MerchantScopedAdmin):
    """Webhook rows change only through services (the API, the workers, actions)."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in self.model._meta.fields if f.name not in (self.exclude or ())]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["url", "eventos", "active", "descricao", "created_at", "deleted_at"]
    list_filter = ["active", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["url", "descricao", "id"]
    exclude = ["secret_encrypted"]

    @admin.display(description="eventos")
    def eventos(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.events or [])


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["name", "id", "is_test", "created_at"]
    list_filter = ["name", "is_test"]
    search_fields = ["id", "payload"]
    date_hierarchy = "created_at"
    inlines = [DeliveryInline]
    exclude = ["payload"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*super().get_readonly_fields(request, obj), "body"]

    @admin.display(description="body")
    def body(self, event: WebhookEvent) -> str:
        try:
            return json.dumps(json.loads(event.payload), indent=2, ensure_ascii=False)
        except ValueError:
            return event.payload


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    merchant_staff_can = frozenset({"view", "change"})
    list_display = [
        "event_name",
        "endpoint_url",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["status", "event__name", "event__is_test"]
    search_fields = ["id", "event__id", "endpoint__url"]
    date_hierarchy = "created_at"
    list_select_related = ["event", "endpoint"]
    inlines = [AttemptInline]
    actions = ["redeliver"]

    @admin.display(description="evento", ordering="event__name")
    def event_name(self, delivery: WebhookDelivery) -> str:
        return delivery.event.name

    @admin.display(description="url", ordering="endpoint__url")
    def endpoint_url(self, delivery: WebhookDelivery) -> str:
        return delivery.endpoint.url

    @admin.action(description="Reenviar as entregas selecionadas", permissions=["change"])
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        done = 0
        for delivery in queryset:
            try:
                services.webhook_delivery_redeliver(
                    delivery_id=delivery.pk, merchant_id=delivery.merchant_id
                )
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{delivery.pk}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} entrega(s) reenfileirada(s).", messages.SUCCESS)
