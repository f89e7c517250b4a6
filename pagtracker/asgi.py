"""ASGI entry point: HTTP through Django's WSGI handler on a bounded pool of long-lived threads,
WebSockets through Channels (``realtime``).

Every view and middleware is sync. The ``SERVER_THREADS`` threads live as long as the process,
so database connections outlive requests (a thread keeps its own under ``CONN_MAX_AGE``; on
PostgreSQL Django's pool keeps them), a process never runs more requests at once than it has
threads, and a request that waits on a provider holds one thread, not the process.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pagtracker.settings")

import django

django.setup(set_prefix=False)  # the apps load before the routes below import models

from a2wsgi import WSGIMiddleware  # noqa: E402
from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import StaticFilesHandler  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

from realtime.lifespan import lifespan_app  # noqa: E402
from realtime.routing import websocket_application  # noqa: E402


def http_application(*, threads: int) -> WSGIMiddleware:
    """Django's WSGI handler on a pool of ``threads`` threads. The embedded default serves the
    admin's and Swagger UI's static files itself; behind a reverse proxy set
    ``SERVE_STATIC=false`` and let the proxy serve ``collectstatic``'s output."""
    wsgi_app = get_wsgi_application()
    if settings.SERVE_STATIC:
        wsgi_app = StaticFilesHandler(wsgi_app)
    # Django's stubs type the WSGI response as HttpResponseBase: an iterable of bytes.
    return WSGIMiddleware(wsgi_app, workers=threads)  # type: ignore[arg-type]


application = ProtocolTypeRouter(
    {
        "http": http_application(threads=settings.SERVER_THREADS),
        "websocket": websocket_application,
        "lifespan": lifespan_app,
    }
)
