"""Field types shared by every REST serializer: money in reais at the edge, centavos inside."""

from datetime import UTC
from decimal import Decimal, InvalidOperation
from typing import Any

from rest_framework import serializers


class ReaisField(serializers.Field):
    """A JSON number of reais with at most 2 decimals, parsed exactly into integer centavos.

    The JSON parser hands us a float for ``100.50``; ``repr`` of a float is the shortest
    string that round-trips, so ``Decimal(repr(x))`` recovers exactly what the client wrote
    without binary artefacts."""

    default_error_messages = {
        "invalid": "Must be a number of reais, e.g. 100.50.",
        "precision": "At most 2 decimal places.",
        "min": "Must be at least {min}.",
        "max": "Must be at most {max}.",
    }

    def __init__(self, *, min_cents: int = 1, max_cents: int = 99_999_999_999, **kwargs: Any):
        self.min_cents = min_cents
        self.max_cents = max_cents
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, (int, float, str)):
            self.fail("invalid")
        try:
            value = Decimal(repr(data)) if isinstance(data, float) else Decimal(str(data).strip())
        except InvalidOperation:
            self.fail("invalid")
        if not value.is_finite():
            self.fail("invalid")
        cents = value * 100
        if cents != cents.to_integral_value():
            self.fail("precision")
        result = int(cents)
        if result < self.min_cents:
            self.fail("min", min=f"{self.min_cents / 100:.2f}")
        if result > self.max_cents:
            self.fail("max", max=f"{self.max_cents / 100:.2f}")
        return result

    def to_representation(self, value: int) -> float:
        # JSON numbers: 10050 -> 100.5, which JSON readers take as 100.50 exactly enough for
        # display; clients that need exactness read the integer *_cents fields.
        return float(Decimal(value) / 100)


def iso_utc(value: Any) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not UTC:  # the database hands back UTC already
        value = value.astimezone(UTC)
    return f"{value.isoformat()[:-6]}Z"


class UtcDateTimeField(serializers.DateTimeField):
    def to_representation(self, value: Any) -> str | None:
        return iso_utc(value)
