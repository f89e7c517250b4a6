"""Realtime knobs: Django settings (``pagtracker/settings.py`` holds each default, overridable
from the environment variable of the same name), read when used, never at import time."""

from typing import Any

from django.conf import settings


def get(name: str) -> Any:
    return getattr(settings, name)


def redis_url() -> str:
    return str(settings.REDIS_URL or "")
