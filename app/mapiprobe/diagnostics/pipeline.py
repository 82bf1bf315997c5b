"""The one-click diagnosis: ordered checks of one address, each with a status, evidence, cause and remedy.

:class:`Diagnosis` runs (blocking; call :meth:`Diagnosis.run` from a worker thread in a GUI):

1. for each Autodiscover candidate host (``<domain>`` and ``autodiscover.<domain>``, or the ``--url`` host),
   side by side: ``dns``, ``tcp`` (the URL's port, through the proxy when one applies), ``tls`` (the
   certificate report of transport/tls.py: chain, names, expiry, missing intermediate) and ``proxy`` (which
   proxy, and whether it intercepts TLS: the certificate through the proxy against the one seen directly);
2. ``autodiscover`` (session/autodiscover.py: every method tried, the winner) and ``mapi-http`` (offered or
   not, and why);
3. for each endpoint host Autodiscover named that step 1 did not check: ``dns``/``tcp``/``tls``/``proxy``;
   then ``reachability`` (internal vs external URL from here) and ``probe`` (one anonymous request per
   endpoint: the schemes offered, what the front end answers);
4. the mailbox (``mailbox-connect``, ``logon``, ``folders``), the address book (``ab-bind``, ``resolve``),
   ``ping`` (optionally after ``idle_check_s`` of silence, to catch a context that expires early) and
   ``disconnect``.

Without MAPI/HTTP settings (switched off in the organisation, or the MapiHttpDisabled emulation) steps 3 and 4
go over RPC/HTTP as Outlook would (diagnostics/rpchttp.py), the address book excepted.

A step that fails makes the steps that depend on it ``skipped``, with the reason. Progress goes to the
``on_event`` callback as :class:`~mapiprobe.diagnostics.steps.StepEvent` (``started``/``finished``; host
checks run in worker threads, so a GUI must hand them to its own thread). ``cancel`` stops the run between
steps and inside the sessions. Nothing is printed; there is no global state.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from mapiprobe.diagnostics.discovery import DiscoveryChecks
from mapiprobe.diagnostics.hostchecks import HostChecks
from mapiprobe.diagnostics.rpchttp import RpcHttpChecks
from mapiprobe.diagnostics.runner import (
    SHORT_CONTEXT_S,
    SLOW_REQUEST_S,
    DiagnosisCancelled,
    DiagnosisOptions,
)
from mapiprobe.diagnostics.sessionchecks import SessionChecks
from mapiprobe.diagnostics.steps import (
    Status,
    Step,
)
from mapiprobe.transport.trace import TraceRecord


@dataclass(frozen=True)
class DiagnosisResult:
    email: str
    started_at: float
    finished_at: float
    steps: tuple[Step, ...]
    trace: tuple[TraceRecord, ...]
    facts: dict[str, Any]
    cancelled: bool = False
    status_columns: tuple[str, ...] = ()  # the Connection Status pane's columns (session/status.py)
    status_table: tuple[tuple[str, ...], ...] = ()  # its rows as text, one per endpoint session

    @property
    def result(self) -> str:
        """``fail`` if a step failed, ``warn`` if one warned, else ``pass``."""
        statuses = {s.status for s in self.steps}
        if Status.FAIL in statuses or self.cancelled:
            return "fail"
        if Status.WARN in statuses:
            return "warn"
        return "pass"

    @property
    def first_failure(self) -> Step | None:
        return next((s for s in self.steps if s.status == Status.FAIL), None) or next(
            (s for s in self.steps if s.status == Status.WARN), None
        )

    @property
    def elapsed_ms(self) -> float:
        return (self.finished_at - self.started_at) * 1000

    def step(self, step_id: str, target: str | None = None) -> Step | None:
        return next(
            (s for s in self.steps if s.id == step_id and (target is None or s.target == target)), None
        )


class Diagnosis(HostChecks, DiscoveryChecks, RpcHttpChecks, SessionChecks):
    """One run for one address; see the module docstring. Call :meth:`run` (blocking) from a worker thread."""

    # -- the run ---------------------------------------------------------------------------------------

    def run(self) -> DiagnosisResult:
        started = time.time()
        cancelled = False
        try:
            self._run()
        except DiagnosisCancelled:
            cancelled = True
        columns, table = self._status_table()
        return DiagnosisResult(
            email=self.email,
            started_at=started,
            finished_at=time.time(),
            steps=tuple(self._steps),
            trace=self.trace.records,
            facts=dict(self.facts),
            cancelled=cancelled,
            status_columns=columns,
            status_table=table,
        )

    def _status_table(self) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
        if not self.status_sessions:
            return (), ()
        from mapiprobe.session import status

        rows = status.status_rows(self.status_sessions, self.trace.records)
        return tuple(status.COLUMNS), tuple(tuple(row.values()) for row in rows)

    def _run(self) -> None:
        if self.options.url:
            parts = urlsplit(self.options.url)
            candidates = [((parts.hostname or "").lower(), parts.port or 443)]
        else:
            candidates = [(self.domain, 443), (f"autodiscover.{self.domain}", 443)]
        self.facts["proxy_settings"] = self._selector.settings.describe
        self._check_hosts(candidates, candidate=True)
        discovery = self._autodiscover_steps()
        settings = discovery.response.mapi_http if discovery is not None and discovery.response else None
        after = "Autodiscover gave no MAPI/HTTP settings"
        if discovery is None or not discovery.ok:
            after = "Autodiscover failed"
        elif settings is None and self._rpc_http_path(discovery):
            return
        if settings is None:
            for step_id, target in (
                ("reachability", "mailbox"),
                ("probe", "mailbox"),
                ("mailbox-connect", "mailbox"),
                ("logon", "mailbox"),
                ("folders", "mailbox"),
                ("ab-bind", "address book"),
                ("resolve", self.email),
                ("ping", "mailbox"),
                ("disconnect", "mailbox"),
            ):
                self._skip(step_id, target, after)
            return
        assert discovery is not None and discovery.response is not None
        endpoint_hosts: list[tuple[str, int]] = []
        for url in (
            settings.mailstore_external,
            settings.mailstore_internal,
            settings.addressbook_external,
            settings.addressbook_internal,
        ):
            if url:
                parts = urlsplit(url)
                where = ((parts.hostname or "").lower(), parts.port or 443)
                if where not in endpoint_hosts and where not in self._hosts:
                    endpoint_hosts.append(where)
        self._check_hosts(endpoint_hosts, candidate=False, urls=settings)
        mailbox_url = self._reachability("mailbox", settings.mailstore_external, settings.mailstore_internal)
        ab_url = self._reachability(
            "address book", settings.addressbook_external, settings.addressbook_internal
        )
        self._probe_steps([("mailbox", mailbox_url), ("address book", ab_url)])
        legacy_dn = discovery.response.user.legacy_dn if discovery.response.user else None
        self._sessions(mailbox_url, ab_url, legacy_dn)


def diagnose(email: str, options: DiagnosisOptions | None = None, **kwargs: Any) -> DiagnosisResult:
    """Run a :class:`Diagnosis` (same arguments)."""
    return Diagnosis(email, options, **kwargs).run()


__all__ = [
    "SHORT_CONTEXT_S",
    "SLOW_REQUEST_S",
    "Diagnosis",
    "DiagnosisCancelled",
    "DiagnosisOptions",
    "DiagnosisResult",
    "diagnose",
]
