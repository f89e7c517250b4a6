import uuid

from django.db import models
from django.utils import timezone


class IdempotencyRecord(models.Model):
    """The first response to a money-moving POST, replayed for the same ``Idempotency-Key``.

    The unique (merchant, key) row is inserted in the same transaction as the operation, so
    concurrent requests with one key serialise on it and exactly one runs the operation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey("accounts.Merchant", on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "key"], name="idempotency_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
