"""The socket every consumer is: a plain ASGI WebSocket application fed by the hub.

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

from . import frames
from .auth import Refused, offered_ticket, origin_allowed
from .hub import HUB
from .rooms import Principal, RoomTarget

logger = logging.getLogger("pagtracker.realtime")

# Sends that could not complete at once (a socket whose buffer is full); held so they are
# not garbage-collected while they wait.
_IN_FLIGHT: set[asyncio.Task[None]] = set()

CLOSE_GOING_AWAY = 1001
CLOSE_POLICY_VIOLATION = 1008
CLOSE_INTERNAL_ERROR = 1011


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
