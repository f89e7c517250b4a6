"""Realtime services: socket tickets (the only state this app writes)."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from pagtracker.errors import InvalidInput, NotFound

from . import conf
from .models import SocketTicket
from .rooms import ROOM_NAME, Principal, RoomRefused, room_resolve

TICKET_PREFIX = "rtk_"


def ticket_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedTicket:
    ticket: str
    expires_in: int
    room: str | None


def ticket_issue(*, merchant_id: Any, user_id: Any = None, room: str = "") -> IssuedTicket:
    """Issue a single-use ticket for one WebSocket connection of the merchant, valid
    ``REALTIME_TICKET_TTL_SECONDS`` (60 s). With ``room`` it opens only that room; the room
    is checked now: another merchant's charge, or an unknown charge id, is not found.

    Tickets expired for more than an hour are swept here, so the table stays small."""
    if room:
        if not ROOM_NAME.match(room):
            message = "Room names are 1-128 of A-Z a-z 0-9 _ . : -"
            raise InvalidInput(message, details={"room": [message]})
        try:
            room_resolve(room=room, principal=Principal(merchant_id=merchant_id))
        except RoomRefused:
            raise NotFound("No such room for this merchant.", details={"room": [room]})
    ttl = conf.get("REALTIME_TICKET_TTL_SECONDS")
    now = timezone.now()
    raw = TICKET_PREFIX + secrets.token_urlsafe(24)
    SocketTicket.objects.filter(expires_at__lt=now - timedelta(hours=1)).delete()
    SocketTicket.objects.create(
        merchant_id=merchant_id,
        user_id=user_id,
        token_hash=ticket_hash(raw),
        room=room,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl),
    )
    return IssuedTicket(ticket=raw, expires_in=ttl, room=room or None)


def ticket_consume(*, raw: str) -> SocketTicket | None:
    """Spend a ticket: the ticket if it was unused and unexpired, else None. One conditional
    UPDATE decides, so a ticket opens one socket only, however many race for it."""
    if not raw.startswith(TICKET_PREFIX) or len(raw) > 100:
        return None
    now = timezone.now()
    digest = ticket_hash(raw)
    spent = SocketTicket.objects.filter(
        token_hash=digest, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if spent != 1:
        return None
    return SocketTicket.objects.select_related("merchant").filter(token_hash=digest).first()
