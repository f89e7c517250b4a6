"""Rooms: which room a name means for whom, and the group that carries it.

A room name is one of
- a charge's public code (the hosted page's link) or its id: the charge's room, one room
  whichever of the two names it;
- any other name ``[A-Za-z0-9_.:-]{1,128}``: a room of the caller's merchant. Merchant A's
  ``payment_123`` and merchant B's are different rooms.

Group names (one per room, the unit of fan-out in a process and across processes through the
channel layer) follow Channels' rules: ASCII letters, digits, ``-_.``, fewer than 100 chars.
Names that don't fit are hashed.
"""

import hashlib
import re
import uuid
from dataclasses import dataclass
from typing import Any

from charges.models import Charge

ROOM_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_GROUP_SAFE = re.compile(r"^[A-Za-z0-9_.-]{1,59}$")
ALL_MERCHANTS_GROUP = "rt.mc.all"


class RoomRefused(Exception):
    """A socket may not be in that room. ``close_code`` for a refused handshake, ``code`` for
    the ERROR frame when the refusal answers a JOIN_ROOM."""

    def __init__(self, close_code: int, code: str, message: str) -> None:
        self.close_code = close_code
        self.code = code
        self.message = message
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is behind a socket. ``merchant_id`` None and ``back_office`` False: anonymous, the
    payer, whose only credential is a charge's public code."""

    merchant_id: uuid.UUID | None = None
    back_office: bool = False
    bound_room: str = ""  # a ticket issued for one room
    via: str = "none"  # "ticket", "session" or "none"

    @property
    def anonymous(self) -> bool:
        return self.merchant_id is None and not self.back_office


@dataclass(frozen=True, slots=True)
class RoomTarget:
    group: str
    merchant_key: str
    charge: Charge | None = None


def merchant_key(merchant_id: Any) -> str:
    return uuid.UUID(str(merchant_id)).hex


def charge_group(*, merchant_id: Any, charge_id: Any) -> str:
    return f"rt.c.{merchant_key(merchant_id)}.{uuid.UUID(str(charge_id)).hex}"


def merchant_room_group(*, merchant_id: Any, room: str) -> str:
    if _GROUP_SAFE.match(room):
        return f"rt.m.{merchant_key(merchant_id)}.r.{room}"
    digest = hashlib.sha256(room.encode()).hexdigest()[:40]
    return f"rt.m.{merchant_key(merchant_id)}.h.{digest}"


def merchant_channel_group(merchant_id: Any) -> str:
    return f"rt.mc.{merchant_key(merchant_id)}"


def _as_uuid(value: str) -> uuid.UUID | None:
    if len(value) not in (32, 36):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def charge_for_room(room: str) -> tuple[Charge | None, bool]:
    """The charge a room name names, and whether the name was a charge id (a UUID)."""
    queryset = Charge.objects.defer("qr_code_image", "split_snapshot", "qr_code")
    charge_id = _as_uuid(room)
    if charge_id is not None:
        return queryset.filter(pk=charge_id).first(), True
    if len(room) > 32:
        return None, False
    return queryset.filter(public_code=room).first(), False


def room_resolve(*, room: str, principal: Principal) -> RoomTarget:
    """The room ``room`` names for ``principal``, or ``RoomRefused``.

    - invalid name → 4404;
    - anonymous: only a charge's public code (the hosted page's credential) → else 4401;
    - a merchant (ticket or staff session): its charges by code or id, another merchant's
      charge → 4403, an unknown charge id → 4404, any other name → its own named room;
    - back-office staff: any charge's room; named rooms belong to merchants → 4403;
    - a ticket bound to a room reaches only that room → 4403."""
    if not ROOM_NAME.match(room):
        raise RoomRefused(4404, "room_not_found", "Room names are 1-128 of A-Z a-z 0-9 _ . : -")
    charge, by_id = charge_for_room(room)
    if principal.anonymous:
        if charge is None or by_id:
            raise RoomRefused(
                4401,
                "authentication_required",
                "This room needs a ticket (POST /api/realtime/tickets) or a staff session.",
            )
        target = RoomTarget(
            charge_group(merchant_id=charge.merchant_id, charge_id=charge.pk),
            merchant_key(charge.merchant_id),
            charge,
        )
    elif charge is not None:
        if not principal.back_office and charge.merchant_id != principal.merchant_id:
            raise RoomRefused(4403, "permission_denied", "This charge belongs to another merchant.")
        target = RoomTarget(
            charge_group(merchant_id=charge.merchant_id, charge_id=charge.pk),
            merchant_key(charge.merchant_id),
            charge,
        )
    elif by_id:
        raise RoomRefused(4404, "room_not_found", "No charge has this id.")
    elif principal.back_office:
        raise RoomRefused(
            4403, "permission_denied", "Back-office staff reach charge rooms, not merchant rooms."
        )
    else:
        target = RoomTarget(
            merchant_room_group(merchant_id=principal.merchant_id, room=room),
            merchant_key(principal.merchant_id),
        )
    if principal.bound_room and target.group != principal.bound_room:
        raise RoomRefused(4403, "permission_denied", "This ticket was issued for another room.")
    return target
