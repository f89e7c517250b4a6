"""WebSocket consumers: ``/ws/payments/<room>/``, ``/ws/payments/`` and ``/ws/merchant/``.

They are plain ASGI applications (``as_asgi()`` like Channels' consumers) rather than
Channels' generic consumers: a socket here owns no channel-layer channel and no task of its
own besides the one the server runs it in, and takes its frames straight from the hub's
fan-out (see ``hub``). That is what keeps an idle socket small and a room's fan-out one loop.

A socket's life: the handshake is authorised before it is accepted (``auth``); a refusal is
an accept followed at once by a close with 4401/4403/4404, so the client can read the code.
Then CONNECTION_ESTABLISHED, and for a charge's room PAYMENT_STATUS; then frames until either
side closes. Bad frames get ERROR {message, code} and the socket stays open; a flood past the
rate limit closes it with 1008. Client events never change a charge.
"""

import asyncio
import json
import logging
from typing import Any

from charges.models import Charge

from . import frames
from .auth import Refused, authorize, offered_ticket, origin_allowed, session_key
from .db import in_db
from .hub import HUB
from .rooms import (
    ALL_MERCHANTS_GROUP,
    Principal,
    RoomRefused,
    RoomTarget,
    merchant_channel_group,
    merchant_key,
    room_resolve,
)

logger = logging.getLogger("pagtracker.realtime")

# Sends that could not complete at once (a socket whose buffer is full); held so they are
# not garbage-collected while they wait.
_IN_FLIGHT: set[asyncio.Task[None]] = set()

CLOSE_GOING_AWAY = 1001
CLOSE_POLICY_VIOLATION = 1008
CLOSE_INTERNAL_ERROR = 1011


def charge_status_frame(charge_id: Any) -> str | None:
    """PAYMENT_STATUS with the charge's state as committed now."""
    from charges.services import charge_event_data

    charge = (
        Charge.objects.defer("qr_code_image", "split_snapshot", "qr_code")
        .filter(pk=charge_id)
        .first()
    )
    if charge is None:
        return None
    return frames.frame(
        "PAYMENT_STATUS", frames.charge_payload(charge_event_data(charge), public=True)
    )


class RealtimeSocket:
    __slots__ = (
        "aliases",
        "client_id",
        "closed",
        "device_id",
        "early",
        "group",
        "locked",
        "merchant_key",
        "pending",
        "principal",
        "refused",
        "room_id",
        "send",
        "stamp",
        "tokens",
    )

    supported_events: list[str] = frames.SUPPORTED_EVENTS

    def __init__(self) -> None:
        self.client_id = ""
        self.principal = Principal()
        self.merchant_key: str | None = None
        self.group: str | None = None
        self.room_id: str | None = None
        self.aliases: tuple[str, ...] = ()
        self.device_id: str | None = None
        self.locked = False
        self.closed = False
        self.early: list[dict[str, Any]] | None = None
        self.pending = 0
        self.refused = 0
        self.tokens = 0.0
        self.stamp = 0.0

    @classmethod
    def as_asgi(cls) -> Any:
        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            await cls().run(scope, receive, send)

        app.consumer_class = cls  # type: ignore[attr-defined]
        return app

    # -- the connection --------------------------------------------------------------------

    async def run(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        await HUB.ensure_started()
        self.send = send
        if HUB.closing:
            await send({"type": "websocket.close", "code": CLOSE_GOING_AWAY})
            return
        ticket, subprotocol = offered_ticket(scope)
        accept: dict[str, Any] = {"type": "websocket.accept"}
        if subprotocol:
            accept["subprotocol"] = subprotocol
        try:
            if not origin_allowed(scope):
                raise Refused(4403, "origin_not_allowed")
            target = await self.authenticate(scope, ticket)
        except Refused as refusal:
            await send(accept)
            await send(
                {"type": "websocket.close", "code": refusal.close_code, "reason": refusal.reason}
            )
            return
        except Exception:
            logger.exception("socket authorisation failed")
            await send(accept)
            await send({"type": "websocket.close", "code": CLOSE_INTERNAL_ERROR})
            return
        await send(accept)
        if HUB.closing:  # the server began shutting down while we were authorising
            await send({"type": "websocket.close", "code": CLOSE_GOING_AWAY})
            return
        self.client_id = frames.new_client_id()
        self.tokens = HUB.limits.burst
        self.stamp = asyncio.get_running_loop().time()
        HUB.connect(self)
        try:
            await self.opened(target)
            while not self.closed:
                message = await receive()
                kind = message["type"]
                if kind == "websocket.receive":
                    await self.received(message.get("text"))
                elif kind == "websocket.disconnect":
                    break
        finally:
            self.closed = True
            self.early = None
            HUB.disconnect(self, self.group)

    async def authenticate(self, scope: dict[str, Any], ticket: str | None) -> RoomTarget | None:
        raise NotImplementedError

    async def opened(self, target: RoomTarget | None) -> None:
        await self.send_text(self.established())

    def established(self) -> str:
        return frames.connection_established(self.client_id, supported=self.supported_events)

    async def send_text(self, text: str) -> None:
        try:
            await self.send({"type": "websocket.send", "text": text})
        except Exception:
            self.closed = True

    # -- what the hub calls ----------------------------------------------------------------

    def push(self, message: dict[str, Any]) -> None:
        """Hand a frame to the socket without waiting: it goes out now when the socket can
        take it, else in order once it can. A socket that stops reading is dropped."""
        if self.closed:
            return
        if self.early is not None:
            self.early.append(message)
            return
        if self.pending >= HUB.limits.max_pending_sends:
            self.close_now(CLOSE_POLICY_VIOLATION)
            return
        self._start_send(message)

    def _start_send(self, message: dict[str, Any]) -> None:
        task = asyncio.Task(self._send_quietly(message), loop=HUB.loop, eager_start=True)  # type: ignore[call-arg]
        if not task.done():
            self.pending += 1
            _IN_FLIGHT.add(task)
            task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self.pending -= 1
        _IN_FLIGHT.discard(task)

    async def _send_quietly(self, message: dict[str, Any]) -> None:
        try:
            await self.send(message)
        except Exception:  # the peer is gone; the receive side cleans up
            self.closed = True

    def close_now(self, code: int) -> None:
        if self.closed:
            return
        self.closed = True
        self.early = None
        HUB.disconnect(self, self.group)
        self._start_send({"type": "websocket.close", "code": code})

    # -- frames from the client ------------------------------------------------------------

    def error(self, code: str, message: str) -> None:
        self.push({"type": "websocket.send", "text": frames.error(code, message)})

    def take_token(self) -> bool:
        limits = HUB.limits
        now = asyncio.get_running_loop().time()
        self.tokens = min(limits.burst, self.tokens + (now - self.stamp) * limits.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            self.refused = 0
            return True
        self.refused += 1
        if self.refused >= limits.flood_close_after:
            self.close_now(CLOSE_POLICY_VIOLATION)
        elif self.refused == 1:
            self.error(
                frames.RATE_LIMIT_EXCEEDED,
                f"Too many messages: at most {limits.rate:g}/s; this one was dropped.",
            )
        return False

    async def received(self, text: str | None) -> None:
        if not self.take_token():
            return
        if text is None:
            self.error(frames.BINARY_NOT_SUPPORTED, "Send JSON text frames, not binary.")
            return
        limit = HUB.limits.max_frame_bytes
        if len(text) > limit or (len(text) * 4 > limit and len(text.encode()) > limit):
            self.error(frames.FRAME_TOO_LARGE, f"Frames are at most {limit} bytes.")
            return
        try:
            event = json.loads(text)
        except ValueError:
            self.error(frames.INVALID_JSON, "The frame is not valid JSON.")
            return
        kind = event.get("type") if isinstance(event, dict) else None
        payload = event.get("payload") if isinstance(event, dict) else None
        if not isinstance(kind, str) or not isinstance(payload, dict):
            self.error(frames.INVALID_EVENT, 'A frame is {"type": string, "payload": object}.')
            return
        await self.handle(kind, payload, text)

    async def handle(self, kind: str, payload: dict[str, Any], text: str) -> None:
        raise NotImplementedError


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
