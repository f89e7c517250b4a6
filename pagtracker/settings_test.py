"""Test settings: the production settings with cheap password hashing and webhooks allowed
to reach the loopback receivers the tests run."""

import os
import uuid

os.environ.setdefault("PAGTRACKER_FAST_PASSWORD_HASHER", "1")
os.environ.setdefault("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true")
# One Redis key prefix per test run, set in the environment so the server and worker
# processes the tests start (they inherit it) share the run's counters and no other run's.
os.environ.setdefault("CACHE_KEY_PREFIX", f"pt-test-{uuid.uuid4().hex[:8]}")

from pagtracker.settings import *  # noqa: F403
