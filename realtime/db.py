"""Database calls from the sockets' event loop."""

from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connections


def _close_stale_connections() -> None:
    # What Django does around each request (and Channels' database_sync_to_async around each
    # call), except inside a transaction someone else opened: the test runner's, whose
    # connection must stay open for the test's data to be visible.
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


def _with_fresh_connections[T](func: Callable[..., T]) -> Callable[..., T]:
    def call(*args: Any, **kwargs: Any) -> T:
        _close_stale_connections()
        try:
            return func(*args, **kwargs)
        finally:
            _close_stale_connections()

    return call


async def in_db[T](func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``func`` on Django's thread for sync code (the one HTTP views use)."""
    return await sync_to_async(_with_fresh_connections(func), thread_sensitive=True)(
        *args, **kwargs
    )
