"""Who may open a socket.

- A browser's ``Origin``, when sent, must be one of the site's own hosts (the request's Host,
  ``ALLOWED_HOSTS`` except a bare ``*``, ``PUBLIC_BASE_URL``, ``CSRF_TRUSTED_ORIGINS``);
  clients that send none (POS terminals, servers) go on to the credential check. → 4403.
- Credentials, first found wins:
  1. a ticket from ``POST /api/realtime/tickets``, as ``?ticket=`` or as a
     ``Sec-WebSocket-Protocol`` value (accepted with that subprotocol echoed); single use,
     60 s. Unknown, used or expired → 4401;
  2. the admin's session cookie of an active staff user: a merchant's staff act for their
     merchant, back-office staff reach every charge room and every merchant's pushes;
  3. nothing: the payer, whose credential is the charge's public code (the room name).
"""

from importlib import import_module
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host

from .rooms import Principal, RoomRefused, RoomTarget, room_resolve
from .services import TICKET_PREFIX, ticket_consume


class Refused(Exception):
    def __init__(self, close_code: int, reason: str) -> None:
        self.close_code = close_code
        self.reason = reason
        super().__init__(reason)


def header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def origin_allowed(scope: dict[str, Any]) -> bool:
    origin = header(scope, b"origin")
    if origin is None:
        return True
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https", "ws", "wss") or not parts.hostname:
        return False  # "null" (sandboxed frames, file://) and garbage
    host = header(scope, b"host")
    if host and parts.netloc.lower() == host.strip().lower():
        return True
    allowed = [h for h in settings.ALLOWED_HOSTS if h != "*"]
    domain, _port = split_domain_port(parts.netloc)
    if domain and validate_host(domain, allowed):
        return True
    public = settings.PUBLIC_BASE_URL
    if public and urlsplit(public).netloc.lower() == parts.netloc.lower():
        return True
    trusted = {o.rstrip("/").lower() for o in settings.CSRF_TRUSTED_ORIGINS}
    return f"{parts.scheme}://{parts.netloc}".lower() in trusted


def offered_ticket(scope: dict[str, Any]) -> tuple[str | None, str | None]:
    """(ticket, subprotocol to echo). A ticket in the query string wins."""
    query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
    from_query = query.get("ticket", [None])[0]
    from_protocol = next(
        (p for p in scope.get("subprotocols", ()) if p.startswith(TICKET_PREFIX)), None
    )
    return (from_query or from_protocol), from_protocol


def session_key(scope: dict[str, Any]) -> str | None:
    cookies = header(scope, b"cookie")
    if not cookies:
        return None
    return parse_cookie(cookies).get(settings.SESSION_COOKIE_NAME) or None


def session_principal(key: str) -> Principal | None:
    from django.contrib.auth import get_user

    engine = import_module(settings.SESSION_ENGINE)
    user: Any = get_user(SimpleNamespace(session=engine.SessionStore(key)))  # type: ignore[arg-type]
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return None
    if user.is_back_office:
        return Principal(back_office=True, via="session")
    return Principal(merchant_id=user.merchant_id, via="session")


def principal_for(*, ticket: str | None, session: str | None) -> Principal:
    """Sync (DB). Raises ``Refused`` for a bad ticket."""
    if ticket:
        spent = ticket_consume(raw=ticket)
        if spent is None:
            raise Refused(4401, "invalid_ticket")
        bound = ""
        if spent.room:
            try:
                bound = room_resolve(
                    room=spent.room, principal=Principal(merchant_id=spent.merchant_id)
                ).group
            except RoomRefused as exc:
                raise Refused(exc.close_code, exc.code)
        return Principal(merchant_id=spent.merchant_id, bound_room=bound, via="ticket")
    if session:
        principal = session_principal(session)
        if principal is not None:
            return principal
    return Principal()


def authorize(
    *, ticket: str | None, session: str | None, room: str | None
) -> tuple[Principal, RoomTarget | None]:
    """Sync (DB): the principal and, for a room in the URL, its room; or ``Refused``."""
    principal = principal_for(ticket=ticket, session=session)
    if room is None:
        return principal, None
    try:
        return principal, room_resolve(room=room, principal=principal)
    except RoomRefused as exc:
        raise Refused(exc.close_code, exc.code)
