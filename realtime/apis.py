"""Realtime HTTP endpoints: socket tickets, server status and room broadcast (seed 003's
field names inside our envelope). A merchant sees and reaches only its own rooms."""

import time

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pagtracker.api.responses import ok
from pagtracker.api.schema import enveloped
from pagtracker.errors import NotFound

from . import frames, presence, services
from .hub import HUB, PROCESS_STARTED_AT, cross_process_layer
from .rooms import Principal, RoomRefused, merchant_key, room_resolve
from .serializers import (
    BroadcastResultSerializer,
    BroadcastSerializer,
    ServerStatusSerializer,
    TicketCreateSerializer,
    TicketSerializer,
)


class TicketCreateView(APIView):
    @extend_schema(
        request=TicketCreateSerializer,
        responses={201: enveloped(TicketSerializer)},
        tags=["realtime"],
        summary="A single-use, 60-second ticket to open one WebSocket",
    )
    def post(self, request: Request) -> Response:
        serializer = TicketCreateSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        issued = services.ticket_issue(
            merchant_id=request.user.merchant_id,
            user_id=request.user.pk,
            room=serializer.validated_data.get("room", ""),
        )
        return ok(
            {"ticket": issued.ticket, "expires_in": issued.expires_in, "room": issued.room},
            status=201,
        )


class ServerStatusView(APIView):
    @extend_schema(
        responses=enveloped(ServerStatusSerializer),
        tags=["realtime"],
        summary="Sockets and rooms of your merchant, across every server process",
    )
    def get(self, request: Request) -> Response:
        key = merchant_key(request.user.merchant_id)
        counts = presence.merchant_counts(key)
        if counts is None:
            counts = HUB.call_soon_wait(HUB.local_counts, key)
        connections, rooms = counts
        return ok(
            {
                "status": "running",
                "uptime": int((time.time() - PROCESS_STARTED_AT) * 1000),
                "totalConnections": connections,
                "totalRooms": rooms,
                "timestamp": frames.now_iso(),
                "version": "v1",
            }
        )


class RoomBroadcastView(APIView):
    @extend_schema(
        request=BroadcastSerializer,
        responses=enveloped(BroadcastResultSerializer),
        tags=["realtime"],
        summary="Send {type: eventType, payload: {message, idSeguro, timestamp, source}} "
        "to everyone in one of your rooms",
    )
    def post(self, request: Request, room_id: str) -> Response:
        serializer = BroadcastSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        try:
            target = room_resolve(
                room=room_id, principal=Principal(merchant_id=request.user.merchant_id)
            )
        except RoomRefused:
            raise NotFound(f"Room {room_id} not found.", details={"roomId": [room_id]})
        timestamp = frames.now_iso()
        text = frames.broadcast(
            event_type=values["eventType"],
            message=values["message"],
            id_seguro=values["idSeguro"],
            timestamp=timestamp,
        )
        if cross_process_layer() is None:
            # One process holds every socket: count and deliver in one step on its loop.
            sent = HUB.call_soon_wait(HUB.deliver_local, target.group, text)
        else:
            sent = presence.room_members(group=target.group, merchant=target.merchant_key) or 0
            if sent:
                HUB.publish_from_sync([(target.group, text)])
        if not sent:
            raise NotFound(f"Nobody is in room {room_id}.", details={"roomId": [room_id]})
        return ok(
            {
                "roomId": room_id,
                "eventType": values["eventType"],
                "message": values["message"],
                "idSeguro": values["idSeguro"],
                "sentToClients": sent,
                "timestamp": timestamp,
            }
        )
