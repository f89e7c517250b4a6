"""The hardened HTTP client every webhook request goes through (deliveries and tests alike).

- connects only to addresses the SSRF policy allows, checked at connect time
  (``network.GuardedNetworkBackend``);
- never follows redirects: a 3xx is a failed attempt, recorded with its ``Location``;
- 5 s total per request (connect, send, wait, read), whatever the receiver does;
- reads at most the first 2 KB of the answer, for the attempt log;
- no proxies from the environment, no cookies, no retries at this level (retries are the
  delivery schedule's business).

It uses httpcore (httpx's transport layer) directly, because that is where a custom network
backend plugs in; httpx itself would add nothing here but redirect machinery we refuse.
"""

import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore

from .network import BlockedAddressError, GuardedNetworkBackend, set_request_deadline

TIMEOUT_SECONDS = 5.0
RESPONSE_BODY_LIMIT = 2048

_pool: httpcore.ConnectionPool | None = None
_pool_lock = threading.Lock()


def _connection_pool() -> httpcore.ConnectionPool:
    global _pool
    with _pool_lock:
        if _pool is None:
            # The pool is keyed by the URL's origin (scheme, host name, port), so a kept-alive
            # connection is only reused for the same name it was checked and TLS-verified for.
            _pool = httpcore.ConnectionPool(
                network_backend=GuardedNetworkBackend(),
                max_connections=64,
                max_keepalive_connections=32,
                keepalive_expiry=30.0,
                retries=0,
            )
        return _pool


@dataclass(frozen=True)
class SendResult:
    success: bool
    status_code: int | None
    latency_ms: int
    error: str
    response_body: str


def _host_header(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc.rsplit("@", 1)[-1]


def webhook_http_post(*, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
    """POST ``body`` to ``url``; never raises for anything the receiver or the network does."""
    request_headers = [(k.encode(), v.encode()) for k, v in headers.items()]
    request_headers.append((b"Host", _host_header(url).encode()))
    request_headers.append((b"Content-Length", str(len(body)).encode()))
    timeouts = {
        "connect": TIMEOUT_SECONDS,
        "read": TIMEOUT_SECONDS,
        "write": TIMEOUT_SECONDS,
        "pool": TIMEOUT_SECONDS,
    }
    started = time.monotonic()
    set_request_deadline(started + TIMEOUT_SECONDS)
    status_code: int | None = None
    chunks: list[bytes] = []
    error = ""
    try:
        with _connection_pool().stream(
            "POST", url, headers=request_headers, content=body, extensions={"timeout": timeouts}
        ) as response:
            status_code = response.status
            size = 0
            for chunk in response.iter_stream():
                chunks.append(chunk)
                size += len(chunk)
                if size >= RESPONSE_BODY_LIMIT:
                    break
            location = next((v for k, v in response.headers if k.lower() == b"location"), None)
            if 300 <= status_code < 400:
                shown = location.decode("latin-1") if location else "?"
                error = f"redirect not followed (HTTP {status_code} to {shown})"
            elif not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
    except BlockedAddressError as exc:
        error = f"blocked: {exc}"
    except httpcore.TimeoutException as exc:
        error = f"timeout after {TIMEOUT_SECONDS:g} s ({type(exc).__name__}: {exc})"
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    except Exception as exc:  # the attempt log, not the worker, takes whatever else happens
        error = f"{type(exc).__name__}: {exc}"
    finally:
        set_request_deadline(None)
    latency_ms = int((time.monotonic() - started) * 1000)
    text = b"".join(chunks)[:RESPONSE_BODY_LIMIT].decode("utf-8", errors="replace")
    success = status_code is not None and 200 <= status_code < 300 and not error
    return SendResult(
        success=success,
        status_code=status_code,
        latency_ms=latency_ms,
        error=error,
        response_body=text,
    )
