import re

from rest_framework import serializers

from .frames import SERVER_EVENTS
from .rooms import ROOM_NAME

EVENT_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]{0,63}$")


class TicketCreateSerializer(serializers.Serializer):
    room = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=128,
        help_text="Optional: the ticket opens only this room (a charge's id or public code, "
        "or a room name of yours).",
    )

    def validate_room(self, value: str) -> str:
        if value and not ROOM_NAME.match(value):
            raise serializers.ValidationError("1-128 of A-Z a-z 0-9 _ . : -")
        return value


class TicketSerializer(serializers.Serializer):
    ticket = serializers.CharField(
        help_text="Single use. Pass it as ?ticket= or as a Sec-WebSocket-Protocol value."
    )
    expires_in = serializers.IntegerField(help_text="Seconds (60).")
    room = serializers.CharField(allow_null=True)


class ServerStatusSerializer(serializers.Serializer):
    status = serializers.CharField()
    uptime = serializers.IntegerField(help_text="Milliseconds since this process started.")
    totalConnections = serializers.IntegerField(help_text="Your merchant's open sockets.")
    totalRooms = serializers.IntegerField(help_text="Your merchant's rooms with members.")
    timestamp = serializers.CharField()
    version = serializers.CharField()


class BroadcastSerializer(serializers.Serializer):
    eventType = serializers.CharField(max_length=64)
    message = serializers.CharField(max_length=4096)
    idSeguro = serializers.CharField(
        max_length=128, required=False, allow_null=True, allow_blank=True, default=None
    )

    def validate_eventType(self, value: str) -> str:
        if not EVENT_TYPE.match(value):
            raise serializers.ValidationError("A letter, then letters, digits, _ . : - (max 64).")
        if value in SERVER_EVENTS:
            raise serializers.ValidationError(f"{value} is sent only by the server.")
        return value


class BroadcastResultSerializer(serializers.Serializer):
    roomId = serializers.CharField()
    eventType = serializers.CharField()
    message = serializers.CharField()
    idSeguro = serializers.CharField(allow_null=True)
    sentToClients = serializers.IntegerField()
    timestamp = serializers.CharField()
