"""ASGI entry point: HTTP through Django, WebSockets through Channels (``realtime``)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pagtracker.settings")

from pagtracker.api.lanes import lane_asgi_application

django_asgi_app = lane_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from realtime.lifespan import lifespan_app  # noqa: E402
from realtime.routing import websocket_application  # noqa: E402

# The embedded default serves the admin's and Swagger UI's static files itself; behind a
# reverse proxy set SERVE_STATIC=false and serve `collectstatic`'s output there.
http_app = ASGIStaticFilesHandler(django_asgi_app) if settings.SERVE_STATIC else django_asgi_app

application = ProtocolTypeRouter(
    {"http": http_app, "websocket": websocket_application, "lifespan": lifespan_app}
)
