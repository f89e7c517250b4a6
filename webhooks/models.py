"""Outgoing webhooks, Saleor-style: an endpoint per merchant URL, an append-only event per
domain event, one delivery per (event, endpoint), one attempt row per HTTP request.

The delivery row carries the whole delivery state (status, attempt counts, the next attempt's
time, the lease of the worker that holds it), so the task queue only has to wake a worker up:
any backend can carry the tasks, and a lost task loses nothing (``services.deliveries``)."""

import uuid

from django.db import models
from django.utils import timezone

from pagtracker.events import EVENT_NAMES

EVENT_CHOICES = [(name, name) for name in EVENT_NAMES]


class WebhookEndpoint(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(
        "accounts.Merchant", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.CharField(max_length=2048)
    events = models.JSONField(default=list, help_text="Subscribed event names (eventos).")
    secret_encrypted = models.TextField(help_text="The segredo, Fernet-encrypted at rest.")
    active = models.BooleanField(default=True)
    descricao = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Deleting through the API keeps the row (and its delivery history) but hides it.
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "webhook"
        verbose_name_plural = "webhooks"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["merchant", "-created_at"], name="webhook_merchant_created"),
        ]

    def __str__(self) -> str:
        return self.url

    def subscribes_to(self, event_name: str) -> bool:
        return event_name in (self.events or [])


class WebhookEvent(models.Model):
    """A domain event as merchants receive it. ``payload`` is the exact JSON body sent, so
    every attempt of every delivery sends the same bytes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed by webhook_event_merchant (merchant, -created_at), which serves it alone too.
    merchant = models.ForeignKey(
        "accounts.Merchant",
        on_delete=models.CASCADE,
        related_name="webhook_events",
        db_index=False,
    )
    name = models.CharField(max_length=40, choices=EVENT_CHOICES)
    payload = models.TextField()
    is_test = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "evento de webhook"
        verbose_name_plural = "eventos de webhook"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["merchant", "-created_at"], name="webhook_event_merchant"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pendente"
    SUCCEEDED = "succeeded", "Entregue"
    FAILED = "failed", "Falhou"


class WebhookDelivery(models.Model):
    """One event to one endpoint. ``pending`` until a 2xx (``succeeded``) or until the retry
    schedule is exhausted (``failed``).

    A worker claims a due delivery by setting ``claimed_by`` and ``locked_until`` (its lease)
    in one conditional UPDATE; a delivery whose lease has expired is due again, so a worker
    that dies mid-request delays the delivery, never loses it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    merchant = models.ForeignKey(
        "accounts.Merchant", on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0, help_text="Attempts ever made.")
    cycle_attempts = models.PositiveIntegerField(
        default=0, help_text="Attempts since creation or the last manual redelivery."
    )
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "entrega de webhook"
        verbose_name_plural = "entregas de webhook"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_once"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["claimed_by"], name="webhook_delivery_claim"),
            models.Index(fields=["merchant", "-created_at"], name="webhook_delivery_merchant"),
        ]

    def __str__(self) -> str:
        return f"{self.event.name} → {self.endpoint.url} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery. Written when the request starts (``finished_at`` empty)
    and completed with its outcome, so a request whose worker died is still on record."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_set"
    )
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    success = models.BooleanField(default=False)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    response_body = models.TextField(blank=True, help_text="The first 2 KB of the answer.")
    claimed_by = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = "tentativa de entrega"
        verbose_name_plural = "tentativas de entrega"
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_once"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.status_code or self.error[:40]}"


class WebhookWakeup(models.Model):
    """A few slots (``WEBHOOK_WAKEUP_SLOTS``, 4) bounding how many "send what is due" tasks
    are pending at once. A commit that creates deliveries enqueues a task only if it can take
    a free slot. A task holds its slot while it sends and frees it just before its last look
    at the deliveries, so whoever finds every slot taken can rely on their holders to see its
    deliveries: the queue holds a handful of wake-ups instead of one task per delivery."""

    id = models.PositiveSmallIntegerField(primary_key=True)
    busy_until = models.DateTimeField(null=True, blank=True)
    token = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name = "despertador de entregas"
        verbose_name_plural = "despertadores de entregas"

    def __str__(self) -> str:
        return f"slot {self.id}"
