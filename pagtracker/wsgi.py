"""WSGI entry point: Django's own handler. The ASGI application (pagtracker/asgi.py) runs it on
its thread pool for HTTP."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pagtracker.settings")
application = get_wsgi_application()
