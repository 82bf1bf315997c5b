"""The client's half of a MAPI/HTTP Session Context (MS-OXCMAPIHTTP 3.1.5.1): cookies, X-RequestId,
X-ClientInfo and the idle deadline of X-ExpirationInfo.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import email.utils
import itertools
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

# ---------------------------------------------------------------------------------------------------
# Session Context (client side)
# ---------------------------------------------------------------------------------------------------


class ClientInfo:
    """X-ClientInfo values (2.2.3.3.4): one GUID per client instance, a new counter per Session Context."""

    def __init__(self, guid: uuid.UUID | None = None) -> None:
        self.guid = guid or uuid.uuid4()
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            return f"{{{str(self.guid).upper()}}}:{next(self._counter)}"


_PROCESS_CLIENT_INFO = ClientInfo()


def _format_guid(guid: uuid.UUID) -> str:
    # ⚠ PROTOCOL.md §2.2: the spec page's example has braces, the 2018 spreadsheet has none. We send braces.
    return "{" + str(guid).upper() + "}"


@dataclass
class _Cookie:
    name: str
    value: str


class SessionContext:
    """The client's half of one Session Context: cookies, request ids, idle deadline, one request at a time.

    Thread-safe. Create one per Connect/Bind; after Disconnect/Unbind (or an expiry) make a new one, or use
    :meth:`reconnect` to re-establish it with the old cookies as 3.1.5.7 describes.
    """

    def __init__(
        self, *, label: str = "", request_guid: uuid.UUID | None = None, client_info: str | None = None
    ):
        self.label = label
        self.request_guid = request_guid or uuid.uuid4()
        self.client_info = client_info
        self._counter = 0
        self._jar: dict[str, _Cookie] = {}
        self._carry: tuple[_Cookie, ...] = ()
        self._lock = threading.Lock()  # guards the fields above
        self.request_lock = threading.Lock()  # one request at a time (3.2.5.1)
        self.wait_lock = threading.Lock()  # one NotificationWait at a time (3.1.5.5)
        self.expiration_ms: int | None = None
        self.expires_at: float | None = None  # time.monotonic() when the server will forget the context
        self.pending_period_ms: int | None = None
        self.last_response_at: float | None = None
        self.expired = False  # the server said X-ResponseCode 10
        self.closed = False  # Disconnect/Unbind succeeded

    # -- ids ---------------------------------------------------------------------------------------
    def next_request_id(self) -> str:
        """``{GUID}:n`` with n counting up from 1 (2.2.3.3.2)."""
        with self._lock:
            self._counter += 1
            return f"{_format_guid(self.request_guid)}:{self._counter}"

    @property
    def request_count(self) -> int:
        with self._lock:
            return self._counter

    # -- cookies -----------------------------------------------------------------------------------
    def cookie_names(self) -> tuple[str, ...]:
        """Names of the cookies the next request will carry (names only: values are secrets)."""
        with self._lock:
            return tuple(c.name for c in (self._jar.values() if self._jar else self._carry))

    @property
    def has_cookies(self) -> bool:
        with self._lock:
            return bool(self._jar)

    def cookie_header(self) -> str | None:
        """The Cookie header value the next request carries. It holds secrets: never log it."""
        with self._lock:
            cookies = list(self._jar.values()) if self._jar else list(self._carry)
        if not cookies:
            return None
        return "; ".join(f"{c.name}={c.value}" for c in cookies)

    def update_cookies(self, set_cookie_values: Sequence[str], *, fresh_context: bool = False) -> None:
        """Take the Set-Cookie values of a response. ``fresh_context``: the answer to Connect/Bind, whose
        cookies replace everything (the old cookies were only carried, never mixed in; 3.2.5.6)."""
        parsed = [c for c in (_parse_set_cookie(v) for v in set_cookie_values) if c is not None]
        with self._lock:
            if fresh_context:
                self._jar.clear()
                self._carry = ()
            for cookie, delete in parsed:
                key = cookie.name.lower()
                if delete:
                    self._jar.pop(key, None)
                else:
                    self._jar[key] = cookie

    def clear(self) -> None:
        """Forget every cookie (after Disconnect/Unbind succeeded)."""
        with self._lock:
            self._jar.clear()
            self._carry = ()

    def reconnect(self) -> SessionContext:
        """A new context for re-establishing this one: its first request (a Connect/Bind) carries this
        context's cookies, then only the new ones count (3.1.5.7). Same X-ClientInfo (2.2.3.3.4)."""
        new = SessionContext(label=self.label, client_info=self.client_info)
        with self._lock:
            new._carry = tuple(_Cookie(c.name, c.value) for c in self._jar.values()) or self._carry
        return new

    # -- lifetime ----------------------------------------------------------------------------------
    def note_expiration(self, expiration_ms: int, sent_at: float) -> None:
        """The server will forget the context ``expiration_ms`` after it got the request (2.2.3.3.8)."""
        with self._lock:
            self.expiration_ms = expiration_ms
            self.expires_at = sent_at + expiration_ms / 1000

    def remaining_s(self, now: float | None = None) -> float | None:
        """Seconds until the server times the context out, from the last X-ExpirationInfo; None if unknown."""
        with self._lock:
            if self.expires_at is None:
                return None
            return self.expires_at - (time.monotonic() if now is None else now)

    @property
    def busy(self) -> bool:
        """A request (other than NotificationWait) is running in this context."""
        return self.request_lock.locked()

    def __repr__(self) -> str:
        return (
            f"SessionContext(label={self.label!r}, requests={self.request_count}, "
            f"cookies={list(self.cookie_names())}, expired={self.expired}, closed={self.closed})"
        )


def _parse_set_cookie(value: str) -> tuple[_Cookie, bool] | None:
    """(cookie, delete?) from a Set-Cookie value; attributes other than Max-Age and Expires are ignored."""
    first, *attrs = value.split(";")
    name, sep, val = first.partition("=")
    name = name.strip()
    if not name or not sep:
        return None
    delete = False
    for attr in attrs:
        key, _, arg = attr.partition("=")
        key = key.strip().lower()
        arg = arg.strip()
        if key == "max-age":
            with contextlib.suppress(ValueError):
                delete = int(arg) <= 0
        elif key == "expires" and arg:
            try:
                when = email.utils.parsedate_to_datetime(arg.replace("-", " "))
            except (TypeError, ValueError, IndexError, OverflowError):
                continue
            if when.tzinfo is None:
                when = when.replace(tzinfo=_dt.UTC)
            delete = delete or when <= _dt.datetime.now(_dt.UTC)
    return _Cookie(name, val.strip().strip('"')), delete
