"""WebSocket routes. Anything else is refused at the handshake (HTTP 403)."""

from typing import Any

from channels.routing import URLRouter
from django.urls import re_path

from .consumers import MerchantConsumer, PaymentsConsumer


async def refuse_unknown_path(scope: dict[str, Any], receive: Any, send: Any) -> None:
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.close"})


websocket_urlpatterns = [
    re_path(r"^ws/payments/(?P<room>[^/]+)/?$", PaymentsConsumer.as_asgi()),
    re_path(r"^ws/payments/?$", PaymentsConsumer.as_asgi()),
    re_path(r"^ws/merchant/?$", MerchantConsumer.as_asgi()),
    re_path(r"", refuse_unknown_path),  # type: ignore[arg-type]
]

websocket_application = URLRouter(websocket_urlpatterns)
