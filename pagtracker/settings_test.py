"""Test settings: the production settings with cheap password hashing and webhooks allowed
to reach the loopback receivers the tests run."""

import os

os.environ.setdefault("PAGTRACKER_FAST_PASSWORD_HASHER", "1")
os.environ.setdefault("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true")

from pagtracker.settings import *  # noqa: F403

# Keep rate-limit counters of one test away from the next when Redis is shared.
if REDIS_URL:  # noqa: F405
    import uuid

    CACHES["default"]["KEY_PREFIX"] = f"pt-test-{uuid.uuid4().hex[:8]}"  # noqa: F405
