"""A short-lived, per-process cache of resolved credentials (API key → key, user, merchant;
JWT user id → user, merchant), so authenticating a request costs no query on a hit.

Bounded staleness is the price: a revocation, deactivation or profile change clears the cache
of the process that made it at once (``auth_cache_clear``, also wired to model saves) and
reaches other processes within ``AUTH_CACHE_SECONDS`` (default 5). Expiry of a key is still
checked on every request. Set ``AUTH_CACHE_SECONDS=0`` to disable."""

import copy
import functools
import threading
import time
from typing import Any

from django.conf import settings
from django.db.models import Model
from django.db.models.base import ModelState

_entries: dict[str, tuple[float, Any]] = {}
_lock = threading.Lock()
_MAX_ENTRIES = 10_000


def auth_cache_get(key: str) -> Any | None:
    entry = _entries.get(key)
    if entry is None:
        return None
    expires, value = entry
    if expires < time.monotonic():
        _entries.pop(key, None)
        return None
    # Each request gets its own instances (views may set attributes on request.user).
    return _model_copy(value)


def auth_cache_set(key: str, value: Any) -> None:
    ttl = settings.AUTH_CACHE_SECONDS
    if ttl <= 0:
        return
    with _lock:
        if len(_entries) >= _MAX_ENTRIES:
            _entries.clear()
        _entries[key] = (time.monotonic() + ttl, _model_copy(value))


def _model_copy(obj: Any) -> Any:
    """A copy of a model instance and the related instances it caches (``select_related``):
    its own ``__dict__`` and ``_state``, mutable field values (JSON) deep-copied. Under half
    of what a pickle round trip costs, and nothing a request does to its copy reaches the
    cache."""
    if not isinstance(obj, Model):
        return copy.deepcopy(obj)
    clone = obj.__class__.__new__(obj.__class__)
    values = obj.__dict__.copy()
    for name in values.keys() - _immutable_attnames(obj.__class__):
        value = values[name]
        if isinstance(value, (dict, list, set)):
            values[name] = copy.deepcopy(value)
    state = ModelState()
    state.db = obj._state.db
    state.adding = obj._state.adding
    state.fields_cache = {
        name: _model_copy(related) for name, related in obj._state.fields_cache.items()
    }
    values["_state"] = state
    clone.__dict__ = values
    return clone


@functools.cache
def _immutable_attnames(model: type[Model]) -> frozenset[str]:
    """The attributes of ``model``'s fields that never hold a mutable container (all but
    JSON and the like), so copying skips them."""
    return frozenset(
        field.attname
        for field in model._meta.concrete_fields
        if field.get_internal_type() in _IMMUTABLE_TYPES
    ) | {"_state"}


_IMMUTABLE_TYPES = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "DateField",
    "DateTimeField",
    "DecimalField",
    "EmailField",
    "FloatField",
    "ForeignKey",
    "IntegerField",
    "OneToOneField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SlugField",
    "SmallIntegerField",
    "TextField",
    "URLField",
    "UUIDField",
}


def auth_cache_clear(**_: Any) -> None:
    with _lock:
        _entries.clear()
