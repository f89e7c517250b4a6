"""The rate-limit counter's Redis connection: one plain socket per thread speaking just
``INCRBY`` and ``EXPIRE``.

Counting is on every API request, and redis-py's general client costs ~85 µs of CPU per
command here (pool checkout, command packing, the RESP3 parser) against ~14 µs for writing the
command and reading one integer line (bench/README.md, "platform"). Everything else keeps using
redis-py; TLS (``rediss://``) and unix-socket URLs use it for the counter too."""

import socket
import threading
from typing import Any

from redis.connection import SSLConnection, UnixDomainSocketConnection, parse_url


class RedisReplyError(Exception):
    """Redis answered with an error line (``-ERR ...``)."""


def _command(*parts: bytes) -> bytes:
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        out.append(b"$%d\r\n%s\r\n" % (len(part), part))
    return b"".join(out)


class RespCounter:
    """``incr(key, ttl, amount)``: atomic increment, and the expiry set when the increment
    created the key."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        params = parse_url(url)
        self.host: str = params.get("host", "127.0.0.1")
        self.port: int = int(params.get("port", 6379))
        self.db = int(params.get("db", 0))
        self.username: str | None = params.get("username")
        self.password: str | None = params.get("password")
        self.timeout = timeout
        self._local = threading.local()

    @staticmethod
    def supports(url: str) -> bool:
        cls = parse_url(url).get("connection_class")
        return cls not in (SSLConnection, UnixDomainSocketConnection)

    def incr(self, key: str, *, ttl: int, amount: int = 1) -> int:
        raw = key.encode()
        command = _command(b"INCRBY", raw, str(amount).encode())
        try:
            count = self._call(command)
        except OSError:
            # A connection Redis or the network closed since its last use: one fresh try.
            self._drop()
            count = self._call(command)
        if count == amount:
            self._call(_command(b"EXPIRE", raw, str(ttl).encode()))
        return count

    def _call(self, command: bytes) -> int:
        sock = self._socket()
        try:
            sock.sendall(command)
            return self._read_integer(sock)
        except BaseException:
            self._drop()
            raise

    def _read_integer(self, sock: socket.socket) -> int:
        buf = b""
        while not buf.endswith(b"\r\n"):
            chunk = sock.recv(128)
            if not chunk:
                raise ConnectionError("Redis closed the connection")
            buf += chunk
        kind, value = buf[:1], buf[1:-2]
        if kind == b":":
            return int(value)
        if kind == b"+":  # AUTH / SELECT answer "+OK"
            return 0
        if kind == b"-":
            raise RedisReplyError(value.decode(errors="replace"))
        raise ConnectionError(f"unexpected Redis reply {buf[:40]!r}")

    def _socket(self) -> socket.socket:
        sock: socket.socket | None = getattr(self._local, "sock", None)
        if sock is not None:
            return sock
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._local.sock = sock
        try:
            if self.password is not None:
                auth = [b"AUTH"]
                if self.username:
                    auth.append(self.username.encode())
                auth.append(self.password.encode())
                sock.sendall(_command(*auth))
                self._read_integer(sock)
            if self.db:
                sock.sendall(_command(b"SELECT", str(self.db).encode()))
                self._read_integer(sock)
        except BaseException:
            self._drop()
            raise
        return sock

    def _drop(self) -> None:
        sock: Any = getattr(self._local, "sock", None)
        self._local.sock = None
        if sock is not None:
            sock.close()
