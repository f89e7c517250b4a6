"""Where webhooks may go: the SSRF policy and the network layer that enforces it.

A merchant's URL must not make us reach our own machine or network: private (RFC 1918, ULA),
loopback, link-local (cloud metadata at 169.254.169.254), unspecified, multicast, reserved and
other non-global addresses are refused unless ``settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS``
(tests, local development). The check runs when a URL is registered and again on every
connection, because DNS can change in between. ``GuardedNetworkBackend`` resolves the host
once, checks every address, and connects to a checked address itself, so a DNS answer that
changes between the check and the connect (rebinding) cannot slip through; TLS still uses the
URL's host name for SNI and certificate checks, and the Host header is the URL's.
"""

import ipaddress
import socket
import threading
import time
from collections.abc import Iterable
from typing import Any

import httpcore
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddressError(Exception):
    """The URL's host is, or resolves to, an address webhooks may not reach."""


class UnresolvableHostError(Exception):
    """DNS gave no address for the URL's host."""


def private_networks_allowed() -> bool:
    # Read on every call: tests flip it, and settings must never be read at import time.
    return bool(settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS or settings.DEBUG)


def address_refusal(address: IPAddress) -> str | None:
    """Why ``address`` is not a public unicast address, or None when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return address_refusal(mapped)
        if address.teredo is not None:
            return "a Teredo tunnel address"
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    )
    for label, hit in checks:
        if hit:
            return f"a {label} address"
    if not address.is_global:
        return "a non-public address"
    return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (an IP literal resolves to itself), in the order
    the resolver prefers them, without duplicates."""
    literal = host.strip("[]")
    try:
        return [ipaddress.ip_address(literal)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(literal, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvableHostError(f"{host} could not be resolved ({exc})") from exc
    seen: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in seen:
            seen.append(address)
    if not seen:
        raise UnresolvableHostError(f"{host} has no address")
    return seen


def check_addresses(host: str, addresses: Iterable[IPAddress]) -> None:
    """Refuse when any address is not public (unless private networks are allowed): a host
    with one public and one private address could be steered to the private one."""
    if private_networks_allowed():
        return
    for address in addresses:
        reason = address_refusal(address)
        if reason is not None:
            if host.strip("[]") == str(address):
                what = f"{host} is {reason}"
            else:
                what = f"{host} resolves to {address}, {reason}"
            raise BlockedAddressError(f"{what}; webhooks only go to public addresses.")


def check_host(host: str, port: int) -> list[IPAddress]:
    """Resolve ``host`` and apply the policy; returns the addresses that may be used."""
    addresses = resolve(host, port)
    check_addresses(host, addresses)
    return addresses


# The deadline of the request this thread is sending: every read and write of the socket is
# bounded by what is left of it, so a receiver that trickles bytes cannot hold a worker longer
# than the total timeout (httpcore's own timeouts apply per operation).
_deadline = threading.local()


def set_request_deadline(deadline: float | None) -> None:
    _deadline.value = deadline


def _remaining(timeout: float | None, error: type[Exception]) -> float | None:
    deadline = getattr(_deadline, "value", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("webhook request deadline exceeded")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _remaining(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _remaining(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._stream.start_tls(
                ssl_context, server_hostname, _remaining(timeout, httpcore.ConnectTimeout)
            )
        )

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class GuardedNetworkBackend(httpcore.NetworkBackend):
    """httpcore's sync backend, except that the host is resolved here, every address is
    checked, and the socket connects to a checked address (never re-resolving the name)."""

    def __init__(self) -> None:
        self._sync = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = check_host(host, port)
        except UnresolvableHostError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        last_error: Exception | None = None
        for address in addresses:
            try:
                stream = self._sync.connect_tcp(
                    str(address),
                    port,
                    timeout=_remaining(timeout, httpcore.ConnectTimeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
                continue
            return _DeadlineStream(stream)
        assert last_error is not None
        raise last_error

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise BlockedAddressError("webhooks never connect to unix sockets")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
