"""The Autodiscover session: probes every candidate at once, decides by priority, follows redirects."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import cast
from urllib.parse import quote, urljoin

import httpx

from mapiprobe.session.autodiscover.candidates import (
    AUTODISCOVER_PATH,
    GRACE_FACTOR,
    GRACE_MIN,
    SECONDARY_DELAY,
    V2_PATH,
    Source,
    UsageError,
    candidate_urls,
    host_of,
    split_address,
    srv_name,
)
from mapiprobe.session.autodiscover.results import (
    Attempt,
    ConsentRequest,
    DiscoveryResult,
    Finding,
    Outcome,
    Problem,
    Redirect,
    _no_answer_problem,
)
from mapiprobe.session.autodiscover.work import (
    CandidateWork,
    _Answer,
    _http_redirect,
    _ms,
    _Slot,
    _SlotResult,
)
from mapiprobe.transport.client import make_client
from mapiprobe.transport.errors import (
    redact_url,
)


class AutodiscoverSession(CandidateWork):
    """One Autodiscover run for one address. Call :meth:`run` (blocking) from any thread but the GUI's."""

    # -- the discovery ----------------------------------------------------------------------------------

    def _slots(self, domain: str, email: str) -> tuple[list[_Slot], list[str]]:
        timeout = self.options.candidate_timeout
        grace = 0.25
        slots: list[_Slot] = []
        for source, url in candidate_urls(domain):
            slots.append(_Slot(len(slots), source, url, timeout + grace))
        taken = [s.url for s in slots]
        if self.options.use_srv:
            slots.append(_Slot(len(slots), Source.SRV, srv_name(domain), 2 * timeout + grace))
        if self.options.use_v2:
            v2 = f"https://autodiscover.{domain}{V2_PATH}{quote(email, safe='@')}?Protocol=AutodiscoverV1"
            slots.append(_Slot(len(slots), Source.AUTODISCOVER_V2, v2, 2 * timeout + grace))
        if self.options.use_redirect_probe:
            probe = f"http://autodiscover.{domain}{AUTODISCOVER_PATH}"
            slots.append(_Slot(len(slots), Source.REDIRECT_PROBE, probe, timeout + grace))
        return slots, taken

    def _start(self, slots: list[_Slot], email: str, taken: list[str]) -> None:
        """Start a thread per slot, all released at the same moment: a thread started alone would run its
        request's set-up before the next one is even created, and delay it by as much."""
        gate = threading.Event()
        for slot in slots:
            self._start_one(slot, email, taken, gate)
        now = time.perf_counter()
        for slot in slots:
            slot.started = now
        gate.set()

    def _start_one(self, slot: _Slot, email: str, taken: list[str], gate: threading.Event) -> None:
        work: Callable[[], _SlotResult]
        if slot.source is Source.SRV:
            work = lambda: self._work_srv(slot, email, taken)  # noqa: E731
        elif slot.source is Source.AUTODISCOVER_V2:
            work = lambda: self._work_v2(slot, email, taken)  # noqa: E731
        elif slot.source is Source.REDIRECT_PROBE:
            work = lambda: self._work_probe(slot, email, taken)  # noqa: E731
        else:
            work = lambda: self._work_post(slot, email)  # noqa: E731
        events = self._events

        def run() -> None:
            gate.wait()
            try:
                result = work()
            except Exception as exc:  # a bug must not hang the coordinator
                result = _SlotResult(
                    [Attempt(slot.url, slot.source, "-", Outcome.CONNECT_FAILED, f"internal error: {exc!r}")]
                )
            slot.finished = time.perf_counter()
            events.put(("done", (slot, result)))

        slot.started = time.perf_counter()  # set again when the gate opens
        slot.thread = threading.Thread(target=run, name=f"autodiscover-{slot.source.value}", daemon=True)
        self._threads.append(slot.thread)
        slot.thread.start()

    def _discover(self, domain: str, email: str) -> tuple[_Answer | None, bool]:
        """Probe every candidate of ``domain`` concurrently. Returns (answer, any document rejected)."""
        slots, taken = self._slots(domain, email)
        try:
            return self._decide(slots, taken, domain, email)
        finally:
            # Workers still running start nothing new (no POST after a lookup) once the answer is known.
            for slot in slots:
                slot.stop.set()

    def _decide(
        self, slots: list[_Slot], taken: list[str], domain: str, email: str
    ) -> tuple[_Answer | None, bool]:
        self._emit("candidates", f"{len(slots)} candidates for {domain}: " + ", ".join(s.url for s in slots))
        self._events = queue.Queue()
        primary = [s for s in slots if s.source in (Source.ROOT_DOMAIN, Source.AUTODISCOVER_DOMAIN)]
        secondary = [s for s in slots if s not in primary]
        self._start(primary, email, taken)
        began = time.perf_counter()
        rejected = False
        error_answer: _Answer | None = None
        handled: set[int] = set()

        while True:
            if self.cancel.is_set():
                self._supersede(slots, handled, cancelled=True)
                return None, rejected
            now = time.perf_counter()
            # The lookups (SRV, v2, redirect probe) start a moment later, or as soon as both URLs built from
            # the domain have failed: they are rarely needed, and would only compete for the CPU meanwhile.
            # Never once a URL built from the domain has answered (a lookup could not win over it).
            if (
                secondary
                and not any(_usable(s.result) for s in primary)
                and (now - began >= SECONDARY_DELAY or all(s.result is not None for s in primary))
            ):
                self._start(secondary, email, taken)
                secondary = []
            # Candidates out of time are failed here (the thread itself ends within its own time limits).
            for slot in slots:
                if slot.result is None and slot.thread is not None and now - slot.started > slot.budget:
                    slot.result = _SlotResult(
                        [
                            Attempt(
                                slot.url,
                                slot.source,
                                "-",
                                Outcome.TIMEOUT,
                                f"no answer within {slot.budget:.1f} s",
                                elapsed_ms=_ms(slot.started),
                            )
                        ]
                    )
            # Decide, in priority order.
            decided = True
            for slot in slots:
                res = slot.result
                if res is None:
                    decided = False
                    break
                if slot.priority not in handled:
                    handled.add(slot.priority)
                    for att in res.attempts:
                        self._record(att)
                    rejected = rejected or res.rejected
                if res.answer is not None:
                    if res.answer.response.action == "error":
                        error_answer = error_answer or res.answer
                        continue
                    self._supersede(slots, handled)
                    return res.answer, rejected
                if res.consent is not None:
                    request, res.consent = res.consent, None
                    answer, rej = self._consented_post(
                        request, res.consent_source or slot.source, email, hop=0
                    )
                    rejected = rejected or rej
                    if answer is not None:
                        if answer.response.action == "error":
                            error_answer = error_answer or answer
                            continue
                        self._supersede(slots, handled)
                        return answer, rejected
            if decided:
                return error_answer, rejected
            if self._abandon(slots, time.perf_counter()):
                continue  # a pending candidate was given up: decide again at once
            try:
                kind, payload = self._events.get(timeout=0.05)
            except queue.Empty:
                continue
            if kind == "done":
                done_slot, done_result = cast(tuple[_Slot, _SlotResult], payload)
                if done_slot.result is None:
                    done_slot.result = done_result

    def _abandon(self, slots: list[_Slot], now: float) -> bool:
        """Give up pending higher-priority candidates once a lower-priority one has a usable answer: at once
        if their connection is not ready (no TLS handshake: a black hole, a host still connecting), else at
        the end of their grace period. Returns whether any was given up (its result is then set)."""
        pending: list[_Slot] = []
        winner: _Slot | None = None
        for slot in slots:
            res = slot.result
            if res is None:
                pending.append(slot)
            elif pending and _usable(res):
                winner = slot
                break
        if winner is None or winner.result is None or winner.result.answer is None:
            return False
        took = (winner.finished or now) - winner.started
        grace = max(GRACE_MIN, GRACE_FACTOR * took)
        who = f"{redact_url(winner.result.answer.url)} answered in {took * 1000:.0f} ms"
        gave_up = False
        for slot in pending:
            live = slot.live
            waited = (now - slot.started) * 1000
            handshake = "connection" if slot.url.startswith("http://") else "TLS handshake"
            if slot.grace_until is None and live.ready_at is not None:
                # Its own time limit still applies (see _decide): whichever comes first.
                slot.grace, slot.grace_until = grace, now + grace
                continue
            if slot.grace_until is None:
                how = "no TCP connection yet"
                if live.connected_at is not None:
                    how = f"TCP connected to {live.peer or '?'}"
                detail = f"no {handshake} after {waited:.0f} ms ({how}) while {who}"
            elif now >= slot.grace_until:
                detail = (
                    f"{handshake} done, but no answer after {waited:.0f} ms "
                    f"(grace period {slot.grace:.1f} s) while {who}"
                )
            else:
                continue
            slot.result = _SlotResult(
                [
                    Attempt(
                        slot.url,
                        slot.source,
                        _METHOD.get(slot.source, "POST"),
                        Outcome.ABANDONED,
                        detail,
                        resolved_address=live.peer,
                        elapsed_ms=round(waited, 1),
                    )
                ]
            )
            gave_up = True
        return gave_up

    def _supersede(self, slots: list[_Slot], handled: set[int], *, cancelled: bool = False) -> None:
        """Close the slots not handled yet: finished ones report what they did (nothing more is done for
        them), unfinished ones are reported as superseded (or cancelled)."""
        for slot in slots:
            if slot.priority in handled:
                continue
            handled.add(slot.priority)
            if slot.result is not None and not cancelled:
                for att in slot.result.attempts:
                    self._record(att)
                continue
            outcome = Outcome.CANCELLED if cancelled else Outcome.SUPERSEDED
            if slot.thread is None:
                detail = "cancelled before it started" if cancelled else "not needed: an answer came first"
                self._record(Attempt(slot.url, slot.source, "-", outcome, detail))
                continue
            detail = "cancelled" if cancelled else "not waited for: a higher-priority candidate answered"
            self._record(Attempt(slot.url, slot.source, "-", outcome, detail, elapsed_ms=_ms(slot.started)))

    def _consented_post(
        self, request: ConsentRequest, source: Source, email: str, *, hop: int
    ) -> tuple[_Answer | None, bool]:
        how = self._ask(request)
        if how is None:
            self._record(
                Attempt(
                    redact_url(request.target),
                    source,
                    "-",
                    Outcome.CONSENT_REFUSED,
                    f"not approved: {request.reason} (use --allow-redirect {request.host})",
                    hop=hop,
                )
            )
            return None, False
        if self.cancel.is_set():
            return None, False
        ex = self._post(request.target, email, source, hop=hop)
        self._record(ex.attempt)
        return ex.answer, ex.rejected

    # -- redirects --------------------------------------------------------------------------------------

    def _follow(self, answer: _Answer) -> tuple[_Answer, Problem | None]:
        """Follow redirectAddr / redirectUrl / HTTP 302 answers from ``answer`` (MS-OXDSCLI 3.1.5)."""
        seen = {(answer.url.lower(), answer.email.lower())}
        hops = 0
        current = answer
        while True:
            resp = current.response
            if resp.action not in ("redirectAddr", "redirectUrl"):
                return current, None
            if hops >= self.options.max_redirects:
                return current, Problem(
                    "too-many-redirects",
                    f"stopped after {hops} redirects (limit {self.options.max_redirects})",
                )
            if self.cancel.is_set():
                return current, Problem("cancelled", "cancelled")
            hops += 1
            if resp.action == "redirectUrl":
                target = resp.redirect_url or ""
                kind = "http-302" if current.http_redirect else "redirectUrl"
                nxt, problem = self._redirect_url(current, target, kind, hops, seen)
            else:
                nxt, problem = self._redirect_addr(current, resp.redirect_addr or "", hops, seen)
            if problem is not None or nxt is None:
                return current, problem or Problem("redirect-failed", "the redirect target gave no answer")
            current = nxt

    def _check_loop(self, url: str, email: str, seen: set[tuple[str, str]]) -> Problem | None:
        key = (url.lower(), email.lower())
        if key in seen:
            return Problem("redirect-loop", f"redirect loop: {redact_url(url)} for {email} was asked before")
        seen.add(key)
        return None

    def _redirect_url(
        self, current: _Answer, target: str, kind: str, hop: int, seen: set[tuple[str, str]]
    ) -> tuple[_Answer | None, Problem | None]:
        target = urljoin(current.url, target)
        if not target.lower().startswith("https://"):
            self._record(
                Attempt(
                    redact_url(target),
                    Source(kind),
                    "-",
                    Outcome.UNSAFE,
                    "redirect to a non-HTTPS URL",
                    hop=hop,
                )
            )
            return None, Problem(
                "unsafe-redirect", f"{kind} to {redact_url(target)} is not HTTPS; not followed"
            )
        loop = self._check_loop(target, current.email, seen)
        if loop is not None:
            return None, loop
        host = host_of(target)
        approved_by: str | None = None
        trust = self._trust(host)
        if host != host_of(current.url) and trust in ("allow-list", "user"):
            approved_by = trust
        elif host != host_of(current.url) and trust is None:
            approved_by = self._ask(
                ConsentRequest(
                    kind, host, target, f"{host_of(current.url)} redirects ({kind}) to {redact_url(target)}"
                )
            )
            if approved_by is None:
                self._record(
                    Attempt(
                        redact_url(target),
                        Source(kind),
                        "-",
                        Outcome.CONSENT_REFUSED,
                        f"redirect to {host} not approved (use --allow-redirect {host})",
                        hop=hop,
                    )
                )
                return None, Problem(
                    "consent-refused",
                    f"{kind} to {host} was not approved; rerun with --allow-redirect {host}",
                )
        self._redirects.append(Redirect(kind, redact_url(current.url), redact_url(target), approved_by))
        self._emit("redirect", f"{kind}: {redact_url(current.url)} -> {redact_url(target)}")
        source = Source.HTTP_302 if kind == "http-302" else Source.REDIRECT_URL
        ex = self._post(target, current.email, source, hop=hop)
        self._record(ex.attempt)
        if ex.location is not None:
            # A 302 answer to the POST (MS-OXDSCLI 3.2.5) is one more hop.
            return self._redirect_url(
                _http_redirect(target, current.email, ex.location, ex.attempt),
                ex.location,
                "http-302",
                hop,
                seen,
            )
        if ex.answer is None:
            if ex.rejected:
                return None, Problem("rejected-document", f"{redact_url(target)}: {ex.attempt.detail}")
            return None, Problem(ex.attempt.outcome.value, f"{redact_url(target)}: {ex.attempt.detail}")
        return ex.answer, None

    def _redirect_addr(
        self, current: _Answer, address: str, hop: int, seen: set[tuple[str, str]]
    ) -> tuple[_Answer | None, Problem | None]:
        try:
            _, new_domain = split_address(address)
        except UsageError:
            return None, Problem("bad-redirect", f"RedirectAddr {address!r} is not an email address")
        old_domain = current.email.rpartition("@")[2].lower()
        if new_domain == old_domain:
            # Same domain: ask the same server again for the new address.
            loop = self._check_loop(current.url, address, seen)
            if loop is not None:
                return None, loop
            self._redirects.append(Redirect("redirectAddr", redact_url(current.url), address, None))
            self._emit("redirect", f"redirectAddr: {current.email} -> {address}")
            ex = self._post(current.url, address, Source.REDIRECT_ADDR, hop=hop)
            self._record(ex.attempt)
            if ex.answer is None:
                return None, Problem(
                    ex.attempt.outcome.value, f"{redact_url(current.url)}: {ex.attempt.detail}"
                )
            return ex.answer, None
        # Another domain: the user must agree before credentials go to its servers; then discovery starts
        # again for the new address (MS-OXDSCLI 3.1.5).
        approved_by = self._ask(
            ConsentRequest(
                Source.REDIRECT_ADDR.value,
                new_domain,
                address,
                f"{host_of(current.url)} redirects {current.email} to {address} (domain {new_domain})",
            )
        )
        if approved_by is None:
            self._record(
                Attempt(
                    address,
                    Source.REDIRECT_ADDR,
                    "-",
                    Outcome.CONSENT_REFUSED,
                    f"redirect to domain {new_domain} not approved (use --allow-redirect {new_domain})",
                    hop=hop,
                )
            )
            return None, Problem(
                "consent-refused",
                f"redirectAddr to {address} was not approved; rerun with --allow-redirect {new_domain}",
            )
        with self._lock:
            self._approved.update({new_domain, f"autodiscover.{new_domain}"})
        self._redirects.append(Redirect("redirectAddr", redact_url(current.url), address, approved_by))
        self._emit("redirect", f"redirectAddr: {current.email} -> {address}; discovery for {new_domain}")
        answer, rejected = self._discover(new_domain, address)
        if answer is None:
            code = "rejected-document" if rejected else "no-autodiscover"
            return None, Problem(code, f"no Autodiscover answer for {address} in {new_domain}")
        loop = self._check_loop(answer.url, answer.email, seen)
        if loop is not None:
            return None, loop
        return answer, None

    # -- entry point ------------------------------------------------------------------------------------

    def run(self) -> DiscoveryResult:
        """Discover (or ask ``options.url``), follow redirects, and return what was found."""
        self._emit("start", f"Autodiscover for {self.email}")
        client = self._client = make_client(self.connection, trace=self.trace)
        try:
            return self._run()
        finally:
            self._close_later(client)

    def _close_later(self, client: httpx.Client) -> None:
        """Close the client once no candidate thread uses it any more, without waiting here: a superseded
        candidate may still be in flight (it ends within its own time limit)."""
        live = [t for t in self._threads if t.is_alive()]
        if not live:
            client.close()
            return

        def close_when_idle() -> None:
            for thread in live:
                thread.join()
            client.close()

        threading.Thread(target=close_when_idle, name="autodiscover-closer", daemon=True).start()

    def _run(self) -> DiscoveryResult:
        rejected = False
        if self.options.url:
            url = self.options.url
            ex = self._post(url, self.email, Source.GIVEN_URL)
            self._record(ex.attempt)
            answer, rejected = ex.answer, ex.rejected
            if ex.location is not None:  # an HTTP 302 to the POST: follow it like a redirectUrl
                answer = _http_redirect(url, self.email, ex.location, ex.attempt)
        else:
            answer, rejected = self._discover(self.domain, self.email)
        if self.cancel.is_set():
            return self._result(answer, Problem("cancelled", "cancelled by the user"), cancelled=True)
        if answer is None:
            if rejected:
                return self._result(
                    None,
                    Problem(
                        "rejected-document", "a server answered with a document that is not Autodiscover XML"
                    ),
                )
            return self._result(None, _no_answer_problem(self._attempts))
        final, problem = self._follow(answer)
        if self.cancel.is_set():
            return self._result(final, Problem("cancelled", "cancelled by the user"), cancelled=True)
        return self._result(final, problem)

    def _result(
        self, answer: _Answer | None, problem: Problem | None, *, cancelled: bool = False
    ) -> DiscoveryResult:
        raw = answer.response if answer is not None and not answer.http_redirect else None
        used = raw
        if raw is not None and self.options.mapi_http_disabled and raw.mapi_http is not None:
            # Outlook with MapiHttpDisabled never reads the block; report that the server sent it anyway.
            used = replace(raw, mapi_http=None)
            self._findings.append(
                Finding(
                    "server-ignores-mapihttp-capability",
                    "warning",
                    "server ignores X-MapiHttpCapability: it sent a mapiHttp Protocol block although the "
                    "request did not carry the header (MS-OXDSCLI 3.1.4); the block was ignored",
                )
            )
        if raw is not None and raw.action == "error" and problem is None and raw.error is not None:
            problem = Problem(f"autodiscover-{raw.error.code}", raw.error.message or raw.error.meaning or "")
        if self.connection.insecure:
            self._findings.append(
                Finding("insecure", "warning", "TLS certificate verification was off (--insecure)")
            )
        self._emit("done", "done")
        return DiscoveryResult(
            email=self.email,
            final_email=answer.email if answer is not None else self.email,
            response=used,
            raw_response=raw,
            url=redact_url(answer.url) if answer is not None else None,
            attempts=tuple(self._attempts),
            redirects=tuple(self._redirects),
            findings=tuple(self._findings),
            problem=problem,
            mapi_http_disabled=self.options.mapi_http_disabled,
            cancelled=cancelled,
            source="url" if self.options.url else "discovery",
        )


_METHOD = {Source.SRV: "SRV", Source.AUTODISCOVER_V2: "GET", Source.REDIRECT_PROBE: "GET"}  # else POST


def _usable(result: _SlotResult | None) -> bool:
    """A candidate's answer that would be taken (an error answer is kept only as a last resort)."""
    return result is not None and result.answer is not None and result.answer.response.action != "error"


def discover(email: str, **kwargs: object) -> DiscoveryResult:
    """Shortcut: ``AutodiscoverSession(email, **kwargs).run()``."""
    return AutodiscoverSession(email, **kwargs).run()  # type: ignore[arg-type]
