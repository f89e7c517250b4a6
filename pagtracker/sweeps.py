"""Periodic sweeps: work that must happen even when the task meant to do it was lost.

A charge's expiry is normally a task due at the end of its expiry slot
(``charges.services.expiry._schedule_expiry``); if that task is lost (the worker died while
running it and left it ``RUNNING``, it failed, or the queue is not the database and the enqueue
was lost), the charges of that slot would only expire when some later slot's task ran. Apps
register a sweep here in their ``AppConfig.ready``; the recovery chain of
``webhooks/services/recovery.py``, a task that runs every ``WEBHOOK_RECOVERY_INTERVAL_SECONDS``
(60) and enqueues its next link, runs every registered sweep once per link. A sweep must be
idempotent.

The chain is started by the webhooks app (its ``starter``) when a webhook delivery is created,
by ``manage.py webhooks_recover``, and through ``sweeps_ensure_running`` by any app with work
for a sweep (a charge with an expiry); a process looks at most every 30 s."""

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("pagtracker.sweeps")

_sweeps: dict[str, Callable[[], Any]] = {}
_starter: Callable[[], Any] | None = None


def sweep_register(name: str, sweep: Callable[[], Any]) -> None:
    _sweeps[name] = sweep


def sweeps_run() -> dict[str, Any]:
    """Run every registered sweep; one that fails is logged and does not stop the others.
    Returns each sweep's result (or ``"failed"``) by name."""
    results: dict[str, Any] = {}
    for name, sweep in list(_sweeps.items()):
        try:
            results[name] = sweep()
        except Exception:
            logger.exception("periodic sweep %s failed", name)
            results[name] = "failed"
    return results


def sweeps_starter_set(starter: Callable[[], Any]) -> None:
    """The function that starts the chain running the sweeps if it is not running (cheap
    when it is)."""
    global _starter
    _starter = starter


def sweeps_ensure_running() -> None:
    """Make sure the sweeps will run: call after committing work a sweep is the safety net
    of. Never raises (the work is committed; the chain is checked again later)."""
    if _starter is None:
        return
    try:
        _starter()
    except Exception:
        logger.exception("could not start the periodic sweeps")
