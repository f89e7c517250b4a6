import uuid

from django.db import models
from django.utils import timezone


class SocketTicket(models.Model):
    """A single-use, short-lived credential for one WebSocket connection (POS, dashboard).

    Only the SHA-256 of the ticket is stored. ``used_at`` is set by one conditional UPDATE, so
    of two sockets presenting the same ticket, at most one gets in, on any number of
    processes. ``room`` (optional) binds the ticket to one room of the merchant."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(
        "accounts.Merchant", on_delete=models.CASCADE, related_name="socket_tickets"
    )
    user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    room = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "ticket de WebSocket"
        verbose_name_plural = "tickets de WebSocket"
        indexes = [models.Index(fields=["expires_at"], name="socket_ticket_expiry")]

    def __str__(self) -> str:
        return f"ticket {self.id} ({'usado' if self.used_at else 'livre'})"
