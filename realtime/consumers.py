"""WebSocket consumers: ``/ws/payments/<room>/``, ``/ws/payments/`` and ``/ws/merchant/``.

They are plain ASGI applications (``as_asgi()`` like Channels' consumers) rather than
Channels' generic consumers: a socket here owns no channel-layer channel and no task of its
own besides the one the server runs it in, and takes its frames straight from the hub's
fan-out (see ``hub``). That is what keeps an idle socket small and a room's fan-out one loop.

What every socket does (handshake, sends, frame checks, rate limit) is ``sockets``.
"""

from typing import Any

from charges.models import Charge

from . import frames
from .auth import Refused, authorize, session_key
from .db import in_db
from .hub import HUB
from .rooms import (
    ALL_MERCHANTS_GROUP,
    RoomRefused,
    RoomTarget,
    merchant_channel_group,
    merchant_key,
    room_resolve,
)
from .sockets import RealtimeSocket


def charge_status_frame(charge_id: Any) -> str | None:
    """PAYMENT_STATUS with the charge's state as committed now."""
    charge = (
        Charge.objects.defer("qr_code_image", "split_snapshot", "qr_code")
        .filter(pk=charge_id)
        .first()
    )
    if charge is None:
        return None
    return frames.frame("PAYMENT_STATUS", frames.charge_payload(charge, public=True))


class PaymentsConsumer(RealtimeSocket):
    """Seed 003's rooms: JOIN_ROOM, the seven device events relayed to the other members,
    and the server's pushes of the charge whose room it is."""

    __slots__ = ()

    async def authenticate(self, scope: dict[str, Any], ticket: str | None) -> RoomTarget | None:
        room = scope.get("url_route", {}).get("kwargs", {}).get("room")
        session = session_key(scope)
        if ticket is None and session is None and room is None:
            return None  # an anonymous socket that will JOIN_ROOM with a public code
        principal, target = await in_db(authorize, ticket=ticket, session=session, room=room)
        self.principal = principal
        self.merchant_key = merchant_key(principal.merchant_id) if principal.merchant_id else None
        if target is not None:
            self.room_id = room
            self.locked = True  # a room in the URL is the socket's only room
        return target

    async def opened(self, target: RoomTarget | None) -> None:
        if target is None:
            await self.send_text(self.established())
            return
        await self.enter(target, self.room_id or "", announce=False, established=True)

    async def enter(
        self, target: RoomTarget, room: str, *, announce: bool, established: bool = False
    ) -> None:
        """Join ``target``; send (CONNECTION_ESTABLISHED,) (ROOM_JOINED,) PAYMENT_STATUS.

        Frames pushed to the room meanwhile wait in ``early`` and follow them, and the status
        is read after joining, so a payment confirmed at any moment is never missed."""
        if self.group is not None and self.group != target.group:
            HUB.leave(self, self.group)
        self.early = []
        self.group = target.group
        self.room_id = room
        charge = target.charge
        self.aliases = (charge.public_code, str(charge.pk), charge.pk.hex) if charge else ()
        if self.principal.anonymous:
            HUB.attribute(self, target.merchant_key)
            self.locked = True  # the public code opens that one room
        HUB.join(self, target.group, target.merchant_key)
        await HUB.subscribed(target.group)
        status = None
        if charge is not None:
            status = await in_db(charge_status_frame, charge.pk)
        if self.closed:
            return
        if established:
            await self.send_text(self.established())
        if announce:
            await self.send_text(
                frames.room_joined(room_id=room, device_id=self.device_id, client_id=self.client_id)
            )
        if status is not None:
            await self.send_text(status)
        early, self.early = self.early, None
        for message in early or ():
            self.push(message)

    def names_current_room(self, room: str) -> bool:
        return room == self.room_id or room in self.aliases

    async def handle(self, kind: str, payload: dict[str, Any], text: str) -> None:
        if kind == frames.JOIN_ROOM:
            await self.join_room(payload)
        elif kind in frames.DEVICE_EVENTS:
            await self.device_event(payload, text)
        else:
            self.error(
                frames.UNKNOWN_EVENT,
                f"Unknown event type {kind[:64]!r}; supported: {', '.join(self.supported_events)}.",
            )

    async def join_room(self, payload: dict[str, Any]) -> None:
        room = payload.get("roomId")
        device = payload.get("deviceId")
        if not isinstance(room, str) or not room:
            self.error(frames.INVALID_EVENT, "JOIN_ROOM needs payload.roomId, a string.")
            return
        if device is not None and not (isinstance(device, str) and len(device) <= 128):
            self.error(frames.INVALID_EVENT, "payload.deviceId is a string of up to 128 chars.")
            return
        self.device_id = device
        if self.group is not None and self.names_current_room(room):
            await self.send_text(
                frames.room_joined(room_id=room, device_id=device, client_id=self.client_id)
            )
            return
        if self.locked:
            self.error("permission_denied", f"This socket may only be in room {self.room_id}.")
            return
        await self.join_named(room, announce=True)

    async def join_named(self, room: str, *, announce: bool) -> bool:
        try:
            target = await in_db(room_resolve, room=room, principal=self.principal)
        except RoomRefused as refusal:
            self.error(refusal.code, refusal.message)
            return False
        if self.closed:
            return False
        await self.enter(target, room, announce=announce)
        return True

    async def device_event(self, payload: dict[str, Any], text: str) -> None:
        room = payload.get("roomId")
        if room is not None and not isinstance(room, str):
            self.error(frames.INVALID_EVENT, "payload.roomId is a string.")
            return
        if self.group is None:
            # Seed 003's second device joins with its first event.
            if not room:
                self.error(frames.NOT_IN_ROOM, "Join a room first: JOIN_ROOM {roomId, deviceId}.")
                return
            device = payload.get("deviceId")
            self.device_id = device if isinstance(device, str) and len(device) <= 128 else None
            if not await self.join_named(room, announce=False):
                return
        elif room is not None and not self.names_current_room(room):
            self.error(
                frames.ROOM_MISMATCH, f"This socket is in room {self.room_id}, not {room[:128]}."
            )
            return
        assert self.group is not None
        await HUB.publish(self.group, text, exclude=self)


class MerchantConsumer(RealtimeSocket):
    """``/ws/merchant/``: every push of the merchant's charges (back-office: of every
    merchant). It takes no events from the client."""

    __slots__ = ()

    supported_events: list[str] = []

    async def authenticate(self, scope: dict[str, Any], ticket: str | None) -> RoomTarget | None:
        session = session_key(scope)
        principal, _ = await in_db(authorize, ticket=ticket, session=session, room=None)
        if principal.anonymous:
            raise Refused(4401, "authentication_required")
        if principal.bound_room:
            raise Refused(4403, "ticket_bound_to_room")
        self.principal = principal
        if principal.back_office:
            return RoomTarget(ALL_MERCHANTS_GROUP, "")
        self.merchant_key = merchant_key(principal.merchant_id)
        return RoomTarget(merchant_channel_group(principal.merchant_id), self.merchant_key)

    async def opened(self, target: RoomTarget | None) -> None:
        assert target is not None
        self.early = []  # pushes that beat CONNECTION_ESTABLISHED wait for it
        self.group = target.group
        HUB.join(self, target.group, target.merchant_key)
        await HUB.subscribed(target.group)
        if self.closed:
            return
        await self.send_text(self.established())
        early, self.early = self.early, None
        for message in early or ():
            self.push(message)

    async def handle(self, kind: str, payload: dict[str, Any], text: str) -> None:
        self.error(frames.UNKNOWN_EVENT, "The merchant channel only sends; it takes no events.")
