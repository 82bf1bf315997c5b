"""Time limits that a slow or stuck server cannot stretch: every command ends in bounded time.

httpx's timeouts bound each *gap* (connect, TLS, send, any silence between two reads). A server that
trickles a byte every few seconds never opens such a gap, and one that answers a MAPI/HTTP request with
PENDING keep-alives forever never stops sending. So, below httpx, each network stream carries a
:class:`StreamGuard` (client.py's ``_Stream`` asks it before and after every read and write) that adds:

* **headers in time**: a response's headers must be complete within ``header_timeout`` (``--timeout``) of
  the request being sent; otherwise :class:`~mapiprobe.transport.errors.TooSlow` ("sent 37 bytes of
  headers in 10 s and never finished");
* **a minimum body pace**, as curl's ``--speed-limit``/``--speed-time``: once a body has run for
  ``rate_window`` seconds (``--timeout``), fewer than ``min_rate`` bytes per second (1 KiB/s) over the last
  ``rate_window`` seconds ends it. A MAPI/HTTP envelope (read inside ``deadline_scope(..., envelope=True)``)
  is exempt while it streams its PROCESSING/PENDING meta-tags (their gaps follow X-PendingPeriod, and the
  PENDING rule below judges them); the pace applies again from ``DONE`` on;
* **--max-time**: an absolute deadline for everything (connect, TLS, send, read) of one command;
* **scoped deadlines** (:func:`deadline_scope`): the MAPI/HTTP layer bounds a request that only ever
  answers PENDING by ``--max-pending`` seconds (NotificationWait keeps its own rule there). The scope is
  per thread (a context variable), so it bounds only the reads of the request that set it.

Every limit raises a :class:`~mapiprobe.transport.errors.TransportError` whose message names the host,
what it was doing and what to try; the stream is then closed by httpcore (nothing keeps running).
Blocking reads are cut into slices so a limit fires on time even while no byte arrives.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from mapiprobe.transport.errors import MaxTimeExceeded, TooSlow, TransportError

MIN_BODY_RATE = 1024
"""Bytes per second a body must keep up, averaged over the rate window (curl's --speed-limit)."""
DEFAULT_MAX_PENDING = 60.0
"""Seconds a MAPI/HTTP request may answer only PENDING before it is ended (``--max-pending``)."""
_SLICE = 0.5  # longest single wait while a pace or deadline check is due
_HEADER_KEEP = 65536  # bytes of a response head kept while looking for its end
_DONE = b"DONE\r\n"


def _s(seconds: float) -> str:
    return f"{seconds:.3g} s" if seconds < 10 else f"{seconds:.0f} s"


def _bytes(n: int) -> str:
    return f"{n} byte{'s' if n != 1 else ''}"


@dataclass(frozen=True)
class Pace:
    """The limits of one client (from ConnectionOptions)."""

    header_timeout: float | None = None
    """Seconds from the request sent to the last byte of the response head (None: no limit)."""
    min_rate: float = MIN_BODY_RATE
    rate_window: float | None = None
    """Seconds over which the body rate is averaged (None: no pace check)."""
    deadline: float | None = None
    """``time.monotonic()`` value after which nothing more is waited for (--max-time)."""
    max_time: float | None = None
    """The --max-time value itself, for messages."""


@dataclass(frozen=True)
class _Scope:
    at: float | None
    error: Callable[[], TransportError] | None
    envelope: bool


_SCOPE: ContextVar[_Scope | None] = ContextVar("mapiprobe_deadline_scope", default=None)


@contextlib.contextmanager
def deadline_scope(
    at: float | None, error: Callable[[], TransportError] | None = None, *, envelope: bool = False
) -> Iterator[None]:
    """Reads in this block (this thread) end with ``error()`` once ``time.monotonic()`` passes ``at``
    (None: no deadline). ``envelope``: the body read here is a MAPI/HTTP envelope whose PROCESSING/PENDING
    meta-tags are judged by this deadline, not by the body pace (which applies again from ``DONE`` on)."""
    token = _SCOPE.set(_Scope(at, error, envelope))
    try:
        yield
    finally:
        _SCOPE.reset(token)


def max_time_error(pace: Pace, host: str, doing: str) -> MaxTimeExceeded:
    limit = _s(pace.max_time) if pace.max_time is not None else "the time limit"
    return MaxTimeExceeded(
        f"stopped after --max-time {limit} while {doing} {host}; the whole command may take no longer. "
        f"Try a larger --max-time, or look at why {host} is slow (--trace shows each step)",
        phase="max-time",
    )


class StreamGuard:
    """The per-connection book-keeping of the limits above (one per network stream, used by one thread
    at a time, as httpcore does)."""

    def __init__(self, pace: Pace, host: str) -> None:
        self.pace = pace
        self.host = host
        self._phase = "idle"  # idle -> sent -> head -> body -> sent (the next request) ...
        self._sent_at = 0.0
        self._head = bytearray()
        self._head_bytes = 0
        self._body_start = 0.0
        self._done_at: float | None = None
        self._tail = b""
        self._reads: deque[tuple[float, int]] = deque()
        self._returned_at: float | None = None  # when the last read of a body returned to the caller

    # -- what client.py calls ----------------------------------------------------------------------

    def cap(self, timeout: float | None, doing: str) -> float | None:
        """``timeout`` capped by the --max-time deadline; raises when the deadline has passed."""
        deadline = self.pace.deadline
        if deadline is None:
            return timeout
        left = deadline - time.monotonic()
        if left <= 0:
            raise max_time_error(self.pace, self.host, doing)
        return left if timeout is None else min(timeout, left)

    def expired(self, doing: str) -> None:
        """After a wait that :meth:`cap` shortened timed out: raise the --max-time error if that was why."""
        deadline = self.pace.deadline
        if deadline is not None and time.monotonic() >= deadline - 0.05:
            raise max_time_error(self.pace, self.host, doing)

    def wrote(self) -> None:
        """A request (or a piece of it) went out."""
        if self._phase != "sent":
            self._phase = "sent"
            self._returned_at = None
            self._head.clear()
            self._head_bytes = 0
            self._done_at = None
            self._tail = b""
            self._reads.clear()
        self._sent_at = time.monotonic()

    def read(self, do_read: Callable[[float | None], bytes], timeout: float | None) -> bytes:
        """One read of the stream: ``do_read(slice)`` waits at most ``slice`` seconds (raising httpcore's
        timeout exceptions); ``timeout`` is the caller's limit for the gap before the next bytes."""
        started = time.monotonic()
        self._skip_caller_time(started)
        while True:
            now = time.monotonic()
            self.check(now)
            gap_left = None if timeout is None else started + timeout - now
            wait = self._next_check(now)
            if wait is None:
                slice_ = gap_left
            else:
                slice_ = wait if gap_left is None else min(wait, gap_left)
            try:
                data = do_read(None if slice_ is None else max(slice_, 0.001))
            except Exception as exc:
                if not _is_timeout(exc):
                    raise
                now = time.monotonic()
                self.check(now)
                if timeout is not None and now - started >= timeout:
                    raise
                continue
            now = time.monotonic()
            self._received(data, now)
            self._returned_at = now if self._phase == "body" else None
            return data

    def _skip_caller_time(self, now: float) -> None:
        """The body pace counts only time spent waiting for the server: time the caller spent between two
        reads (httpx's auth flow computes the next token, maybe asking a KDC, before it reads a 401's
        body) moves the pace's clock on."""
        if self._phase != "body" or self._returned_at is None:
            return
        idle = now - self._returned_at
        if idle <= 0:
            return
        self._body_start += idle
        if self._done_at is not None:
            self._done_at += idle
        self._reads = deque((t + idle, n) for t, n in self._reads)

    # -- the rules ---------------------------------------------------------------------------------

    def _scope(self) -> _Scope | None:
        """The thread's deadline scope, if it still applies (an envelope's ends with its DONE)."""
        scope = _SCOPE.get()
        if scope is not None and scope.envelope and self._done_at is not None:
            return None
        return scope

    def _pace_start(self) -> float | None:
        """When the body pace started to count (None: not counting now)."""
        if self._phase != "body" or self.pace.rate_window is None:
            return None
        scope = _SCOPE.get()
        if scope is not None and scope.envelope:
            return self._done_at  # PENDING meta-tags are the scope's business; DONE starts the pace
        return self._body_start

    def _next_check(self, now: float) -> float | None:
        """Seconds until the next limit could fire with no byte arriving (None: no limit pending)."""
        due: list[float] = []
        if self.pace.deadline is not None:
            due.append(self.pace.deadline - now)
        scope = self._scope()
        if scope is not None and scope.at is not None:
            due.append(scope.at - now)
        if self._phase in ("sent", "head") and self.pace.header_timeout is not None:
            due.append(self._sent_at + self.pace.header_timeout - now)
        pace_start = self._pace_start()
        if pace_start is not None and self.pace.rate_window is not None:
            first = pace_start + self.pace.rate_window - now
            due.append(first if first > 0 else _SLICE)  # then every slice while the body runs
        return max(0.0, min(due)) if due else None

    def check(self, now: float) -> None:
        """Raise the error of the first limit that has run out."""
        pace = self.pace
        if pace.deadline is not None and now >= pace.deadline:
            raise max_time_error(pace, self.host, self._doing())
        scope = self._scope()
        if scope is not None and scope.at is not None and now >= scope.at and scope.error is not None:
            raise scope.error()
        head_due = self._phase in ("sent", "head") and pace.header_timeout is not None
        if head_due and now - self._sent_at >= pace.header_timeout:  # type: ignore[operator]
            raise self._head_error()
        pace_start = self._pace_start()
        if pace_start is not None and pace.rate_window is not None and now - pace_start >= pace.rate_window:
            while self._reads and self._reads[0][0] <= now - pace.rate_window:
                self._reads.popleft()
            got = sum(n for _, n in self._reads)
            if got < pace.min_rate * pace.rate_window:
                raise self._pace_error(got)

    def _doing(self) -> str:
        if self._phase == "sent":
            return "waiting for the answer of"
        if self._phase in ("head", "body"):
            return "reading the answer of"
        return "talking to"

    def _head_error(self) -> TooSlow:
        limit = _s(self.pace.header_timeout or 0)
        if self._head_bytes:
            what = (
                f"{self.host} sent {_bytes(self._head_bytes)} of response headers in {limit} and never "
                "finished them"
            )
        else:
            what = f"{self.host} accepted the request but sent no response headers in {limit}"
        return TooSlow(
            f"{what} (--timeout {limit}, counted from the request being sent). The server, or a proxy or "
            f"load balancer in front of it, is stuck or overloaded: try again later, check what sits in "
            f"front of {self.host}, or raise --timeout",
            phase="headers",
        )

    def _pace_error(self, got: int) -> TooSlow:
        window = self.pace.rate_window or 0
        rate = self.pace.min_rate
        minimum = f"{rate / 1024:g} KiB/s" if rate >= 1024 else f"{rate:g} B/s"
        return TooSlow(
            f"{self.host} sent only {_bytes(got)} of the response body in the last {_s(window)} "
            f"({got / window:.0f} B/s, under the minimum of {minimum} averaged over --timeout "
            f"{_s(window)}), so the answer was abandoned. The server or the network path to it is "
            f"stalling: try again later, check the network path and any proxy in front of {self.host}, "
            f"or raise --timeout",
            phase="body",
        )

    def _received(self, data: bytes, now: float) -> None:
        if not data:
            return
        if self._phase in ("idle", "sent", "head"):
            self._phase = "head"
            start = len(self._head)
            self._head += data
            self._head_bytes += len(data)
            end = self._head.find(b"\r\n\r\n", max(0, start - 3))
            if end < 0:
                if len(self._head) > _HEADER_KEEP:
                    del self._head[: len(self._head) - 3]
                return
            head, rest = bytes(self._head[: end + 4]), bytes(self._head[end + 4 :])
            self._head.clear()
            if head[9:10] == b"1":  # "HTTP/1.1 100 Continue" and such: the real head follows
                if rest:
                    self._received(rest, now)
                return
            self._phase = "body"
            self._body_start = now
            self._returned_at = now
            data = rest
            if not data:
                return
        if self._phase != "body":
            return
        if self._done_at is None:
            seen = self._tail + data
            at = seen.find(_DONE)
            if at < 0:
                self._tail = seen[-(len(_DONE) - 1) :]
            else:
                self._done_at = now
                data = seen[at + len(_DONE) :]
        if data:
            self._reads.append((now, len(data)))


def _is_timeout(exc: BaseException) -> bool:
    import httpcore

    return isinstance(exc, httpcore.TimeoutException | TimeoutError)


__all__ = [
    "DEFAULT_MAX_PENDING",
    "MIN_BODY_RATE",
    "Pace",
    "StreamGuard",
    "deadline_scope",
    "max_time_error",
]
