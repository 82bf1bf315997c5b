"""The machinery every check of a diagnosis shares: options, the outcome of a check, the step runner.

:class:`Checks` holds one run's state (the address, the options, the trace, the steps so far, what is known
of each host) and runs each check as a step (:meth:`Checks._run_step`: events, timing, cause words, never a
crash). The checks themselves are mixins: diagnostics/hostchecks.py (dns, tcp, tls, proxy),
diagnostics/discovery.py (autodiscover, mapi-http, reachability, probe) and diagnostics/sessionchecks.py
(mailbox, address book, ping, disconnect); diagnostics/pipeline.py puts them together in running order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mapiprobe.diagnostics.steps import (
    EventCallback,
    Evidence,
    Status,
    Step,
    StepEvent,
    cause_words,
)
from mapiprobe.transport.auth import Credentials
from mapiprobe.transport.client import ConnectionOptions, MappedBackend, parse_connect_to, proxy_selector
from mapiprobe.transport.resolve import make_resolver
from mapiprobe.transport.trace import Trace, TraceRecord

SLOW_REQUEST_S = 1.0  # one answer slower than this is a stalling server (Exchange answers in milliseconds)
SHORT_CONTEXT_S = 60.0  # an announced context lifetime below this is worth a warning
HOST_STEPS = ("dns", "tcp", "tls", "proxy")


class DiagnosisCancelled(Exception):
    pass


@dataclass(frozen=True)
class DiagnosisOptions:
    """What the front end chose (the connection, who to be, discovery switches)."""

    connection: ConnectionOptions = field(default_factory=ConnectionOptions)
    credentials: Credentials | None = None
    auth_scheme: str = "auto"
    mapi_http_disabled: bool = False
    url: str | None = None  # --url: ask this Autodiscover URL instead of discovering
    allowed_hosts: frozenset[str] = frozenset()
    candidate_timeout: float | None = None  # None: the connection's connect timeout
    use_srv: bool = True
    use_v2: bool = True
    use_redirect_probe: bool = True
    idle_check_s: float = 0.0  # stay silent this long before the PING (0: PING at once)
    slow_request_s: float = SLOW_REQUEST_S


@dataclass
class _Outcome:
    status: Status
    summary: str
    cause_code: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)


def _ok(summary: str, *evidence: Evidence) -> _Outcome:
    return _Outcome(Status.PASS, summary, evidence=list(evidence))


def _bad(status: Status, code: str, summary: str, *evidence: Evidence, **facts: Any) -> _Outcome:
    return _Outcome(status, summary, code, dict(facts), list(evidence))


@dataclass
class _HostFacts:
    host: str
    port: int
    dns_ok: bool = False
    tcp_ok: bool = False
    tls_ok: bool = False
    tls: Any = None  # TLSReport
    proxy: str | None = None
    failed_step: str | None = None


class Checks:
    """One run's state and the step runner (see the module docstring)."""

    def _transport_error(self, exc: BaseException, role: str, ev: Evidence) -> _Outcome | None:
        """A session error the other transport's checks know the cause of (None: not theirs)."""
        return None

    def __init__(
        self,
        email: str,
        options: DiagnosisOptions | None = None,
        *,
        on_event: EventCallback | None = None,
        cancel: threading.Event | None = None,
        trace: Trace | None = None,
        consent: Callable[[Any], bool] | None = None,
    ) -> None:
        from mapiprobe.session.autodiscover import split_address

        self.email = email.strip()
        self.local, self.domain = split_address(self.email)  # UsageError for a bad address
        self.options = options or DiagnosisOptions()
        self.connection = self.options.connection
        self.on_event = on_event
        self.cancel = cancel or threading.Event()
        self.trace = trace if trace is not None else Trace()
        self.consent = consent
        self._steps: list[Step] = []
        self.status_sessions: list[Any] = []  # session/status.py EndpointSessions, taken before Disconnect
        self._lock = threading.Lock()
        self._hosts: dict[tuple[str, int], _HostFacts] = {}
        self.facts: dict[str, Any] = {"email": self.email}
        self._selector = proxy_selector(self.connection)
        rules = tuple(parse_connect_to(r) for r in self.connection.connect_to)
        self._backend = MappedBackend(rules)
        self._resolver = (
            make_resolver(self.connection.dns_server, timeout=self.connection.connect_timeout)
            if self.connection.dns_server
            else None
        )

    # -- plumbing --------------------------------------------------------------------------------------

    def _emit(self, kind: str, step: Step) -> None:
        if self.on_event is not None:
            self.on_event(StepEvent(kind, step))

    def _run_step(self, step_id: str, target: str, work: Callable[[], _Outcome]) -> Step:
        if self.cancel.is_set():
            raise DiagnosisCancelled()
        wall, started = time.time(), time.perf_counter()
        first_seq = len(self.trace.records)
        self._emit("started", Step(step_id, target, Status.RUNNING, started_at=wall))
        try:
            outcome = work()
        except DiagnosisCancelled:
            raise
        except Exception as exc:  # a check that breaks is a failed step with the reason, never a crash
            outcome = _bad(Status.FAIL, "request-failed", f"the check broke: {exc}", role=step_id, detail=exc)
        elapsed = (time.perf_counter() - started) * 1000
        seqs = tuple(r.seq for r in self.trace.records[first_seq:] if r.started_at >= wall - 0.001)
        cause = remedy = None
        if outcome.cause_code is not None and outcome.status in (Status.WARN, Status.FAIL):
            cause, remedy = cause_words(outcome.cause_code, **outcome.facts)
        step = Step(
            step_id,
            target,
            outcome.status,
            outcome.summary,
            elapsed,
            cause,
            remedy,
            outcome.cause_code if cause else None,
            tuple(outcome.evidence),
            wall,
            seqs,
        )
        with self._lock:
            self._steps.append(step)
        self._emit("finished", step)
        return step

    def _skip(self, step_id: str, target: str, reason: str) -> Step:
        step = Step(step_id, target, Status.SKIPPED, f"skipped: {reason}", started_at=time.time())
        with self._lock:
            self._steps.append(step)
        self._emit("finished", step)
        return step

    def _find(self, step_id: str, target: str) -> Step | None:
        with self._lock:
            return next((s for s in self._steps if s.id == step_id and s.target == target), None)

    def _find_status(self, step_id: str) -> Status | None:
        with self._lock:
            found = next((s for s in self._steps if s.id == step_id), None)
        return found.status if found is not None else None

    def _last_record(self) -> TraceRecord | None:
        records = [r for r in self.trace.records if r.outcome != "ok"]
        return records[-1] if records else None


def _because(step: Step, failed: str) -> str:
    """Why a dependent step is skipped: the same reason as ``step`` when it was skipped itself."""
    if step.status == Status.SKIPPED:
        return step.summary.removeprefix("skipped: ")
    return failed


def _word(ok: bool | None) -> str:
    return {True: "reachable", False: "not reachable", None: "not checked"}[ok]


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    if "timed out" in text.lower() or "timeout" in type(exc).__name__.lower():
        return f"timed out ({text})" if "timed out" not in text.lower() else text
    return text


__all__ = ["Checks", "DiagnosisCancelled", "DiagnosisOptions"]
