"""PagTracker settings: everything comes from the environment.

The embedded default (no environment at all) is SQLite, an in-memory channel layer, a local
memory cache and the database task queue. ``DATABASE_URL`` switches the database and
``REDIS_URL`` backs the channel layer, the cache and so the rate limits with Redis.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
PRODUCTION = env_bool("PRODUCTION", False)
if not SECRET_KEY:
    if PRODUCTION:
        raise RuntimeError("SECRET_KEY must be set when PRODUCTION=true")
    # A fixed development key; production sets SECRET_KEY (see README, "Production").
    SECRET_KEY = "dev-insecure-pagtracker-key-change-me-0123456789abcdefghijklmnop"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_tasks_db",
    "pagtracker.accounts",
    "pagtracker.api",
    "pagtracker.scheduling",
    "pagtracker.ledger",
    "charges",
    "payouts",
    "splits",
    "webhooks",
    "realtime",
]

MIDDLEWARE = [
    "pagtracker.api.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "pagtracker.api.middleware.ApiConventionsMiddleware",
]

ROOT_URLCONF = "pagtracker.urls"
WSGI_APPLICATION = "pagtracker.wsgi.application"
ASGI_APPLICATION = "pagtracker.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
_IS_SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
if _IS_SQLITE:
    DATABASES["default"]["CONN_MAX_AGE"] = 600
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE transactions take the write lock at BEGIN, so concurrent writers wait on
        # the busy timeout (seconds) instead of failing with "database is locked" when a read
        # lock cannot be upgraded. The write-ahead log lets readers run beside the writer.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file (not :memory:) so server and worker processes started by tests share it; one per
    # test run so concurrent runs don't collide.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's connection pool (psycopg_pool), one per process: a request borrows a
    # connection and gives it back when it ends, so CONN_MAX_AGE must stay 0. A thread that
    # finds every connection in use waits up to the pool's timeout (seconds). Each process
    # (web or worker) may open up to max_size connections: PostgreSQL's max_connections must
    # cover them all.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("DATABASE_POOL_MIN_SIZE", "2")),
        "max_size": int(os.environ.get("DATABASE_POOL_MAX_SIZE", "20")),
        "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "10")),
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Threads per server process that run Django's sync views (pagtracker/asgi.py); they live as
# long as the process, so database connections outlive requests. A provider call holds its
# thread for 100-500 ms while using no CPU: 48 threads keep about 32 such calls in flight per
# process and leave room for the fast requests beside them.
SERVER_THREADS = int(os.environ.get("SERVER_THREADS", "48"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "pt"),
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": os.environ.get("CHANNEL_PREFIX", "pt")},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if env_bool("PAGTRACKER_FAST_PASSWORD_HASHER", False):
    # Tests only: hashing cost is not what they exercise.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "pt-br"
TIME_ZONE = "America/Sao_Paulo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
SERVE_STATIC = env_bool("SERVE_STATIC", True)
# bench/ compares the API against /bench/bare, a view with no auth, envelope or throttling.
BENCH_BARE_VIEW = env_bool("BENCH_BARE_VIEW", False)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "pagtracker.accounts.authentication.ApiKeyAuthentication",
        "pagtracker.accounts.authentication.AccessTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["pagtracker.accounts.permissions.IsMerchant"],
    "DEFAULT_THROTTLE_CLASSES": ["pagtracker.api.throttling.PlanRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "pagtracker.api.negotiation.JsonOnlyNegotiation",
    "DEFAULT_PAGINATION_CLASS": None,
    "EXCEPTION_HANDLER": "pagtracker.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "pagtracker.api.schema.EnvelopeAutoSchema",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": False,
}

ACCESS_TOKEN_LIFETIME_SECONDS = int(os.environ.get("ACCESS_TOKEN_LIFETIME_SECONDS", "3600"))
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=ACCESS_TOKEN_LIFETIME_SECONDS),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=int(os.environ.get("REFRESH_TOKEN_DAYS", "30"))),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "SIGNING_KEY": os.environ.get("JWT_SIGNING_KEY", SECRET_KEY),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "PagTracker API",
    "DESCRIPTION": "Self-hosted PIX payment gateway. Every success is `{data, meta}`; every "
    "failure is `{error: {code, message, details}}`.",
    "VERSION": "v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "pagtracker.api.schema.error_responses_hook",
    ],
}

# Rate limits per merchant plan, requests per minute (CONTRACT §2).
RATE_LIMITS_PER_MINUTE = {"basico": 60, "profissional": 300, "empresarial": 1000}
# Operators (and the benchmarks) may override: RATE_LIMITS="empresarial=5000,basico=100".
for _item in env_list("RATE_LIMITS"):
    _plan, _, _limit = _item.partition("=")
    RATE_LIMITS_PER_MINUTE[_plan.strip()] = int(_limit)
# Limits from this many hits per window up are counted in per-process leases under Redis
# (pagtracker/api/throttling.py); smaller ones cost one INCR per hit and are exact.
RATE_LIMIT_LEASE_FROM = int(os.environ.get("RATE_LIMIT_LEASE_FROM", "1000"))
# How long a list's meta.total (a COUNT) is reused by a process (pagtracker/api/pagination.py).
LIST_TOTAL_CACHE_SECONDS = float(os.environ.get("LIST_TOTAL_CACHE_SECONDS", "2"))
ANONYMOUS_RATE_LIMIT_PER_MINUTE = int(os.environ.get("ANONYMOUS_RATE_LIMIT_PER_MINUTE", "60"))
LOGIN_ATTEMPTS_PER_WINDOW = int(os.environ.get("LOGIN_ATTEMPTS_PER_WINDOW", "10"))
LOGIN_WINDOW_SECONDS = int(os.environ.get("LOGIN_WINDOW_SECONDS", "300"))
IDEMPOTENCY_TTL_HOURS = 24
# Per-process cache of resolved credentials (see pagtracker/accounts/authcache.py).
AUTH_CACHE_SECONDS = float(os.environ.get("AUTH_CACHE_SECONDS", "5"))

# Fernet keys for secrets stored at rest (PSP credentials, webhook secrets). The first key
# encrypts; all of them decrypt, so a key is rotated by putting a new one first.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")

# Benchmarks only: every call to the sandbox provider (charge creation, cancel, refund) sleeps
# this many milliseconds first, as a real PSP's round trip would. Never set it in production.
SANDBOX_PROVIDER_DELAY_MS = int(os.environ.get("SANDBOX_PROVIDER_DELAY_MS", "0"))

WEBHOOK_ALLOW_PRIVATE_NETWORKS = env_bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", DEBUG)
WEBHOOK_RETRY_SCHEDULE = os.environ.get("WEBHOOK_RETRY_SCHEDULE", "300,900,1800,3600,10800,21600")
# Recurring jobs (pagtracker/schedule.py), run by the worker once per period across processes:
# charges expire at most this long after their time; the webhook recovery sweep runs this often
# and re-enqueues deliveries overdue by more than the grace (their task was lost).
CHARGE_EXPIRY_INTERVAL_SECONDS = float(os.environ.get("CHARGE_EXPIRY_INTERVAL_SECONDS", "1"))
WEBHOOK_RECOVERY_INTERVAL_SECONDS = float(os.environ.get("WEBHOOK_RECOVERY_INTERVAL_SECONDS", "60"))
WEBHOOK_RECOVERY_GRACE_SECONDS = float(os.environ.get("WEBHOOK_RECOVERY_GRACE_SECONDS", "30"))
# Delivery tuning (webhooks/services/wakeups.py): how long a sending task keeps draining due
# deliveries, how long it lingers for new ones, and how many wake-up tasks may be queued.
WEBHOOK_DRAIN_SECONDS = float(os.environ.get("WEBHOOK_DRAIN_SECONDS", "5"))
WEBHOOK_LINGER_SECONDS = float(os.environ.get("WEBHOOK_LINGER_SECONDS", "0.25"))
WEBHOOK_WAKEUP_SLOTS = int(os.environ.get("WEBHOOK_WAKEUP_SLOTS", "4"))

# Realtime (realtime/): the largest text frame a client may send (larger: ERROR
# frame_too_large); the per-socket token bucket (messages per second and the burst above it);
# refused messages in a row before the socket is closed with 1008; sends queued to a socket
# that does not read before it is dropped (1008); a ticket's lifetime.
REALTIME_MAX_FRAME_BYTES = int(os.environ.get("REALTIME_MAX_FRAME_BYTES", str(16 * 1024)))
REALTIME_MESSAGES_PER_SECOND = float(os.environ.get("REALTIME_MESSAGES_PER_SECOND", "20"))
REALTIME_MESSAGE_BURST = int(os.environ.get("REALTIME_MESSAGE_BURST", "40"))
REALTIME_FLOOD_CLOSE_AFTER = int(os.environ.get("REALTIME_FLOOD_CLOSE_AFTER", "20"))
REALTIME_MAX_PENDING_SENDS = int(os.environ.get("REALTIME_MAX_PENDING_SENDS", "256"))
REALTIME_TICKET_TTL_SECONDS = int(os.environ.get("REALTIME_TICKET_TTL_SECONDS", "60"))
# Presence under Redis: each process refreshes its entries every HEARTBEAT seconds; they expire
# TTL seconds after the last refresh, so a dead process vanishes from the counts.
REALTIME_PRESENCE_HEARTBEAT_SECONDS = float(
    os.environ.get("REALTIME_PRESENCE_HEARTBEAT_SECONDS", "5")
)
REALTIME_PRESENCE_TTL_SECONDS = int(os.environ.get("REALTIME_PRESENCE_TTL_SECONDS", "15"))
# WebSocket keepalive: a ping every INTERVAL seconds; a peer that has not answered within
# TIMEOUT more is dropped. On SIGTERM, open sockets get GRACE seconds to finish closing (1001).
REALTIME_WS_PING_INTERVAL = float(os.environ.get("REALTIME_WS_PING_INTERVAL", "20"))
REALTIME_WS_PING_TIMEOUT = float(os.environ.get("REALTIME_WS_PING_TIMEOUT", "20"))
REALTIME_SHUTDOWN_GRACE_SECONDS = float(os.environ.get("REALTIME_SHUTDOWN_GRACE_SECONDS", "2"))

SESSION_COOKIE_HTTPONLY = True
# The admin's messages live in its session. The default (a signed cookie first) builds a
# cookie signer on every request, the API's included (~9 µs, ~1.5% of a bare request).
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {
        "pagtracker": {"level": os.environ.get("LOG_LEVEL", "INFO")},
        "django.request": {"level": "ERROR"},
    },
}
