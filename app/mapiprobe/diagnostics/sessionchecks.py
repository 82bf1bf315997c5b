"""The sessions of a diagnosis: ``mailbox-connect``, ``logon``, ``folders``, ``ab-bind``, ``resolve``,
``ping``, ``disconnect``, and the known causes read from what a session raised
(:meth:`SessionChecks._judge_error`)."""

from __future__ import annotations

import time
from typing import Any

from mapiprobe.diagnostics.runner import (
    SHORT_CONTEXT_S,
    Checks,
    DiagnosisCancelled,
    _bad,
    _because,
    _ok,
    _Outcome,
)
from mapiprobe.diagnostics.steps import (
    Evidence,
    Status,
    Step,
)
from mapiprobe.transport.auth import auth_outcomes, make_auth
from mapiprobe.transport.errors import (
    AuthenticationFailed,
    ConnectionLost,
    HTTPFailure,
    TransportError,
    redact_url,
)


class SessionChecks(Checks):
    # -- sessions --------------------------------------------------------------------------------------

    def _auth(self) -> Any:
        creds = self.options.credentials
        return make_auth(creds, self.options.auth_scheme)

    def _sessions(
        self,
        mailbox_url: str,
        ab_url: str,
        legacy_dn: str | None,
        *,
        transport: Any = None,
        ab_transport: Any = None,
        blocked: str | None = None,
    ) -> None:
        """The mailbox, address book, ping and disconnect steps; ``transport``/``ab_transport``: RPC/HTTP."""
        from mapiprobe.session.mailbox import MailboxSession

        mbx_target, ab_target = redact_url(mailbox_url), redact_url(ab_url)
        probe_mbx = self._find("probe", mbx_target)
        probe_ab = self._find("probe", ab_target)
        mailbox: MailboxSession | None = None
        if blocked is None and probe_mbx is not None and probe_mbx.status in (Status.FAIL, Status.SKIPPED):
            blocked = _because(probe_mbx, "the mailbox endpoint failed the probe")
        if not legacy_dn:
            blocked = "Autodiscover gave no LegacyDN"
        moved: list[str] = []
        mailbox_auth = self._auth()

        def rediscover(server_dn: str) -> str:
            from mapiprobe.session.autodiscover import AutodiscoverSession

            creds = self.options.credentials
            result = AutodiscoverSession(
                self.email,
                user=creds.user if creds else None,
                credentials=creds,
                auth_scheme=self.options.auth_scheme,
                connection=self.connection,
                cancel=self.cancel,
                trace=self.trace,
            ).run()
            mapi = result.response.mapi_http if result.response else None
            url = (mapi.mailstore_external or mapi.mailstore_internal) if mapi else None
            if not url:
                raise RuntimeError("the new Autodiscover gave no mailbox URL")
            moved.append(f"{server_dn} -> {redact_url(url)}")
            return str(url)

        connected: dict[str, float] = {}

        def progress(event: Any) -> None:
            if event.stage == "connect" and event.message.startswith("connected"):
                connected.setdefault("at", time.perf_counter())

        if blocked is None:
            assert legacy_dn is not None
            mailbox = MailboxSession(
                mailbox_url,
                user_dn=legacy_dn,
                auth=mailbox_auth,
                connection=self.connection,
                trace=self.trace,
                progress=progress,
                cancel=self.cancel,
                resolve_mailbox_url=rediscover,
                keepalive=False,
                transport=transport,
            )
            holder: dict[str, Any] = {}

            def connect() -> _Outcome:
                since = time.time()
                return self._stalled(connect_inner(), since, "mailbox")

            def connect_inner() -> _Outcome:
                started = time.perf_counter()
                try:
                    mailbox.open()
                except Exception as exc:  # sorted out below: connect or logon
                    holder["error"] = exc
                    holder["connected"] = "at" in connected
                    if "at" in connected:
                        return _ok(
                            f"connected in {(connected['at'] - started) * 1000:.0f} ms",
                            *self._auth_evidence(mailbox_auth),
                        )
                    return self._judge_error(exc, "mailbox", started)
                holder["connected"] = True
                self.facts["display_name"] = mailbox.display_name
                self.facts["server_application"] = mailbox.server_application
                self.facts["mailbox_expiration_ms"] = mailbox.context_expiration_ms
                return _ok(
                    f"Connect accepted: {mailbox.display_name or '-'}", *self._auth_evidence(mailbox_auth)
                )

            step = self._run_step("mailbox-connect", mbx_target, connect)
            self.facts["mailbox_auth"] = self._auth_scheme_used(mailbox_auth)
            if step.status == Status.FAIL:
                blocked = "Connect failed"

            def logon() -> _Outcome:
                error = holder.get("error")
                if error is not None:
                    return self._judge_error(error, "mailbox", time.perf_counter())
                assert mailbox is not None
                ids = mailbox.folder_ids
                ev = [
                    Evidence(
                        "logon", f"{mailbox.display_name or '-'}; server {mailbox.server_application or '-'}"
                    )
                ]
                if moved or mailbox.stats.redirects:
                    return _bad(
                        Status.WARN,
                        "mailbox-moved",
                        "the mailbox moved (followed)",
                        *ev,
                        detail="; ".join(moved) or "a new mailbox URL",
                    )
                return _ok(f"logged on{' (special folders known)' if ids is not None else ''}", *ev)

            if blocked is None:
                step = self._run_step("logon", mbx_target, logon)
                if step.status == Status.FAIL:
                    blocked = "logon failed"
            else:
                self._skip("logon", mbx_target, blocked)

            def folders() -> _Outcome:
                since = time.time()
                return self._stalled(folders_inner(), since, "mailbox")

            def folders_inner() -> _Outcome:
                assert mailbox is not None
                started = time.perf_counter()
                try:
                    found = mailbox.folders()
                except Exception as exc:
                    return self._judge_error(exc, "mailbox", started)
                names = ", ".join(f.display_name for f in found[:8])
                return _ok(f"{len(found)} folders", Evidence("folders", names))

            if blocked is None:
                step = self._run_step("folders", mbx_target, folders)
                if step.status == Status.FAIL:
                    blocked = "reading folders failed"
            else:
                self._skip("folders", mbx_target, blocked)
        else:
            for step_id in ("mailbox-connect", "logon", "folders"):
                self._skip(step_id, mbx_target, blocked)
        if ab_transport is not None:
            rpc_blocked = blocked if blocked and "RPC" in blocked else None
            self._address_book(ab_url, ab_target, None, transport=ab_transport, blocked=rpc_blocked)
        else:
            self._address_book(ab_url, ab_target, probe_ab)
        self._ping_and_disconnect(mailbox, mbx_target, blocked)

    def _address_book(
        self,
        ab_url: str,
        ab_target: str,
        probe_ab: Step | None,
        *,
        transport: Any = None,
        blocked: str | None = None,
    ) -> None:
        from mapiprobe.session.addressbook import AddressBookSession

        if blocked is not None:
            self._skip("ab-bind", ab_target, blocked)
            self._skip("resolve", self.email, "no address book session")
            return
        if probe_ab is not None and probe_ab.status in (Status.FAIL, Status.SKIPPED):
            self._skip("ab-bind", ab_target, _because(probe_ab, "the address book endpoint failed the probe"))
            self._skip("resolve", self.email, "no address book session")
            return
        auth = self._auth()
        session = AddressBookSession(
            ab_url,
            auth=auth,
            connection=self.connection,
            trace=self.trace,
            cancel=self.cancel,
            keepalive=False,
            reconnect=False,
            transport=transport,
        )
        try:

            def bind() -> _Outcome:
                started = time.perf_counter()
                try:
                    info = session.bind()
                except Exception as exc:
                    return self._judge_error(exc, "address book", started)
                self.facts["ab_expiration_ms"] = info.expiration_ms
                return _ok(
                    f"bound ({info.server_application or 'server'}, GUID {info.server_guid})",
                    *self._auth_evidence(auth),
                )

            step = self._run_step("ab-bind", ab_target, bind)
            self.facts["ab_auth"] = self._auth_scheme_used(auth)
            if step.status == Status.FAIL:
                self._skip("resolve", self.email, "the address book Bind failed")
                return

            def resolve() -> _Outcome:
                started = time.perf_counter()
                try:
                    found = session.resolve([self.email])
                except Exception as exc:
                    return self._judge_error(exc, "address book", started)
                r = found[0] if found else None
                if r is None or r.status.upper() != "RESOLVED" or r.entry is None:
                    status = r.status if r is not None else "no answer"
                    return _bad(Status.FAIL, "not-resolved", status, email=self.email, detail=status)
                return _ok(
                    f"{self.email} is {r.entry.display_name}",
                    Evidence("entry", f"{r.entry.display_name} <{r.entry.smtp_address or '-'}>"),
                )

            self._run_step("resolve", self.email, resolve)
        finally:
            self._ab_session = session

    def _ping_and_disconnect(self, mailbox: Any, target: str, blocked: str | None) -> None:
        from mapiprobe.transport.mapihttp import ContextExpired

        ab = getattr(self, "_ab_session", None)
        if mailbox is None or blocked is not None:
            self._skip("ping", target, blocked or "no mailbox session")
        else:

            def ping() -> _Outcome:
                announced_ms = mailbox.context_expiration_ms
                announced = f"{announced_ms / 1000:.0f} s" if announced_ms is not None else "nothing"
                idle = self.options.idle_check_s
                if idle > 0 and self.cancel.wait(idle):
                    raise DiagnosisCancelled()
                started = time.perf_counter()
                quiet = mailbox.context_idle_s  # how long the context really went without a request
                quiet = idle if quiet is None else quiet
                try:
                    result = mailbox.ping_now()
                except ContextExpired as exc:
                    ev = Evidence("PING", f"after {quiet:.1f} s without a request: {exc.message}")
                    if announced_ms is None or quiet < announced_ms / 1000 * 0.9:
                        return _bad(
                            Status.FAIL,
                            "context-expires-early",
                            "the context expired early",
                            ev,
                            idle=quiet,
                            announced=announced,
                        )
                    # Gone after as long as the server said it would keep it: no fault of the server, but a
                    # lifetime so short that any pause loses the session.
                    return _bad(
                        Status.WARN,
                        "context-short",
                        f"the context expired after {quiet:.1f} s without a request, as announced",
                        ev,
                        seconds=announced_ms / 1000,
                    )
                except Exception as exc:
                    return self._judge_error(exc, "mailbox", started)
                ev = Evidence("PING", f"after {idle:.1f} s idle: X-ExpirationInfo {result.expiration_ms} ms")
                lifetime_ms = result.expiration_ms if result.expiration_ms is not None else announced_ms
                if lifetime_ms is not None and lifetime_ms / 1000 < SHORT_CONTEXT_S:
                    return _bad(
                        Status.WARN,
                        "context-short",
                        f"contexts live {lifetime_ms / 1000:.1f} s",
                        ev,
                        seconds=lifetime_ms / 1000,
                    )
                return _ok(f"context kept alive (server keeps it {announced})", ev)

            self._run_step("ping", target, ping)

        self._snapshot_sessions(mailbox, ab)

        def disconnect() -> _Outcome:
            errors = []
            started = time.perf_counter()
            if mailbox is not None:
                mailbox.close()
                if mailbox.close_error is not None:
                    errors.append(f"mailbox: {mailbox.close_error}")
                self.facts["mailbox_requests"] = mailbox.stats.requests
            if ab is not None:
                try:
                    ab.close()
                except Exception as exc:
                    errors.append(f"address book: {exc}")
            ms = (time.perf_counter() - started) * 1000
            if errors:
                return _bad(Status.WARN, "disconnect-failed", "; ".join(errors), detail="; ".join(errors))
            return _ok(f"sessions closed in {ms:.0f} ms")

        if mailbox is None and ab is None:
            self._skip("disconnect", target, "no session was opened")
        else:
            self._run_step("disconnect", target, disconnect)

    def _snapshot_sessions(self, mailbox: Any, ab: Any) -> None:
        """The sessions as the Connection Status pane shows them, taken before Disconnect (session/status.py,
        which the window's pane uses too; until it is there the report computes its own rows)."""
        try:
            from mapiprobe.session import status
        except ImportError:  # session/status.py arrives with the GUI's Connection Status work
            return
        sessions = []
        if mailbox is not None:
            sessions.append(status.describe_mailbox(mailbox, smtp_address=self.email))
        if ab is not None and getattr(ab, "bind_info", None) is not None:
            name = str(self.facts.get("display_name") or "")
            sessions.append(status.describe_address_book(ab, smtp_address=self.email, display_name=name))
        self.status_sessions = sessions

    # -- judging errors --------------------------------------------------------------------------------

    def _judge_error(self, exc: BaseException, role: str, started: float) -> _Outcome:
        from mapiprobe.session.mailbox import MailboxError, MailboxMoved
        from mapiprobe.transport.mapihttp import ContextExpired, MapiHttpError

        seconds = time.perf_counter() - started
        detail = getattr(exc, "message", None) or str(exc)
        ev = Evidence("error", f"{type(exc).__name__}: {detail}")
        judged = self._transport_error(exc, role, ev)
        if judged is not None:
            return judged
        if isinstance(exc, AuthenticationFailed):
            other = self._find_status("mailbox-connect") if role == "address book" else None
            if other == Status.PASS:
                return _bad(Status.FAIL, "auth-refused-one-endpoint", detail, ev, detail=detail)
            return _bad(Status.FAIL, "auth-refused", detail, ev, role=role, detail=detail)
        if isinstance(exc, ConnectionLost) or (
            isinstance(exc, TransportError) and exc.kind == "connection-lost"
        ):
            last = self._last_record()
            pending = (last.pending_count if last is not None else None) or "PENDING" in detail
            if pending:
                return _bad(Status.FAIL, "lb-cut", f"cut after {seconds:.1f} s", ev, seconds=seconds)
            return _bad(Status.FAIL, "connection-lost", detail, ev, role=role, detail=detail)
        if isinstance(exc, ContextExpired):
            return _bad(Status.FAIL, "context-expires-early", detail, ev, idle=seconds, announced="?")
        if isinstance(exc, HTTPFailure):
            if exc.status in (502, 503, 504):
                return _bad(
                    Status.FAIL,
                    "front-end-unavailable",
                    detail,
                    ev,
                    role=role,
                    http_status=exc.status,
                    detail=detail,
                )
            return _bad(Status.FAIL, "front-end-html", detail, ev, role=role, http_status=exc.status)
        if isinstance(exc, MapiHttpError):
            return _bad(
                Status.FAIL,
                "mapihttp-error",
                detail,
                ev,
                role=role,
                detail=f"{exc.response_code} ({exc.name}): {exc.server_text or ''}",
            )
        if isinstance(exc, MailboxMoved):
            return _bad(Status.FAIL, "mailbox-moved", detail, ev, detail=detail)
        if isinstance(exc, MailboxError | TransportError):
            return _bad(Status.FAIL, "request-failed", detail, ev, role=role, detail=detail)
        return _bad(Status.FAIL, "request-failed", detail, ev, role=role, detail=detail)

    def _stalled(self, outcome: _Outcome, since: float, what: str) -> _Outcome:
        """A passing outcome becomes a warning when a request of it (since ``since``, wall clock) was slow."""
        if outcome.status != Status.PASS:
            return outcome
        slow = [
            r
            for r in self.trace.records
            if r.started_at >= since
            and r.total_ms is not None
            and r.total_ms / 1000 > self.options.slow_request_s
        ]
        if not slow:
            return outcome
        worst = max(slow, key=lambda r: r.total_ms or 0)
        seconds = (worst.total_ms or 0) / 1000
        name = worst.request_type or worst.method
        return _bad(
            Status.WARN,
            "server-stalls",
            f"{outcome.summary}; but {name} took {seconds:.1f} s",
            *outcome.evidence,
            Evidence(
                "slowest request", f"{name} {worst.url}: {seconds:.1f} s, {worst.pending_count or 0} PENDING"
            ),
            what=f"the {what} request {name}",
            seconds=seconds,
        )

    @staticmethod
    def _auth_evidence(auth: Any) -> list[Evidence]:
        return [
            Evidence(
                "authentication",
                f"{o.scheme}{' (' + o.mechanism + ')' if o.mechanism else ''}: "
                f"{'accepted' if o.ok else 'refused'} after {o.legs} leg(s)",
            )
            for o in auth_outcomes(auth).values()
        ]

    @staticmethod
    def _auth_scheme_used(auth: Any) -> str | None:
        outcomes = list(auth_outcomes(auth).values())
        if not outcomes:
            return None
        o = outcomes[-1]
        return f"{o.scheme}{' (' + o.mechanism + ')' if o.mechanism else ''}"


__all__ = ["SessionChecks"]
