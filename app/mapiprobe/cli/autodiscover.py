"""``mapiprobe autodiscover``: find the MAPI/HTTP endpoints of a mailbox the way Outlook does, and show how.

Modes: discovery (default), ``--url URL`` (ask one server), ``--parse FILE`` (a saved answer; a redirect in
it is reported, not followed), ``--cache-dir DIR`` (Outlook's cached answers; the default folder on
Windows with ``--cache``), ``--mapi-http-disabled`` (emulate Outlook's MapiHttpDisabled=1) and
``--compare`` (both, with the differences).

Exit status: 0 when the answer is settings, 1 for a server-side failure (including an Autodiscover error
document, a redirect that was not followed, nothing reachable), 2 for bad input or a rejected document.
The password is read only from standard input (``--password-stdin``) and never printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path
from typing import Any

from mapiprobe.cli.options import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_SERVER_FAILURE,
    OptionError,
    add_connection_options,
    add_discovery_options,
    discovery_options_from,
    insecure_warning,
    print_notes,
    session_setup_from,
)

PROG = "mapiprobe autodiscover"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "autodiscover",
        help="find a mailbox's MAPI/HTTP endpoints (Autodiscover), showing every attempt",
        description="Run Autodiscover for EMAIL as Outlook does (MS-OXDISCO, MS-OXDSCLI) and show the "
        "endpoint URLs, every candidate tried, redirects and findings.\n\n"
        "Exit status: 0 settings found; 1 server-side failure; 2 bad input or a rejected document.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("email", nargs="?", metavar="EMAIL", help="the mailbox's SMTP address")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="ask with and without X-MapiHttpCapability; diff (not with --mapi-http-disabled)",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--parse", type=Path, metavar="FILE", help="parse a saved Autodiscover answer instead of asking"
    )
    source.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="list and parse Outlook's cached Autodiscover files in DIR",
    )
    source.add_argument(
        "--cache",
        action="store_true",
        help="list and parse Outlook's cached Autodiscover files "
        "(Windows: %%LOCALAPPDATA%%\\Microsoft\\Outlook)",
    )
    add_discovery_options(parser)  # --url, --mapi-http-disabled, --allow-redirect, --no-srv, ...
    parser.add_argument(
        "--trace", action="store_true", help="also show every HTTP exchange (headers redacted)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_connection_options(parser)
    parser.set_defaults(func=cmd_autodiscover)


# -- rendering ------------------------------------------------------------------------------------------


def _user_json(resp: Any) -> dict[str, Any] | None:
    if resp is None or resp.user is None:
        return None
    u = resp.user
    return {
        "display_name": u.display_name,
        "legacy_dn": u.legacy_dn,
        "autodiscover_smtp_address": u.autodiscover_smtp_address,
        "deployment_id": u.deployment_id,
    }


def _mapi_json(resp: Any) -> dict[str, Any] | None:
    if resp is None or resp.mapi_http is None:
        return None
    m = resp.mapi_http
    return {
        "version": m.version,
        "mailstore": {"internal": m.mailstore_internal, "external": m.mailstore_external},
        "addressbook": {"internal": m.addressbook_internal, "external": m.addressbook_external},
    }


def _legacy_json(resp: Any) -> list[dict[str, Any]]:
    if resp is None:
        return []
    out = []
    for p in resp.legacy:
        out.append(
            {
                "type": p.type,
                "server": p.server,
                "server_dn": p.server_dn,
                "server_version": p.server_version,
                "mdb_dn": p.mdb_dn,
                "auth_package": p.auth_package,
                "ssl": p.ssl,
                "cert_principal_name": p.cert_principal_name,
                "settings": dict(p.settings),
            }
        )
    return out


def _error_json(result: Any) -> dict[str, Any] | None:
    resp = result.response
    if resp is not None and resp.error is not None:
        return {"code": resp.error.code, "message": resp.error.message or resp.error.meaning}
    if result.problem is not None:
        return {"code": result.problem.code, "message": result.problem.message}
    return None


def result_json(result: Any) -> dict[str, Any]:
    """The JSON object of one run (keys documented in ``mapiprobe autodiscover --help``)."""
    resp = result.response
    return {
        "email": result.email,
        "final_email": result.final_email,
        "source": result.source,
        "action": resp.action if resp is not None else "error",
        "protocol": result.protocol,
        "url": result.url,
        "mapi_http": _mapi_json(resp),
        "rpc_http": _legacy_json(resp),
        "user": _user_json(resp),
        "redirect_addr": resp.redirect_addr if resp is not None else None,
        "redirect_url": resp.redirect_url if resp is not None else None,
        "redirects": [
            {"kind": r.kind, "from": r.source_url, "to": r.target, "approved_by": r.approved_by}
            for r in result.redirects
        ],
        "attempts": [
            {
                "url": a.url,
                "source": a.source.value,
                "method": a.method,
                "email": a.email,
                "resolved_address": a.resolved_address,
                "tls": a.tls,
                "http_status": a.http_status,
                "elapsed_ms": a.elapsed_ms,
                "outcome": a.outcome.value,
                "detail": a.detail,
                "hop": a.hop,
            }
            for a in result.attempts
        ],
        "findings": [{"code": f.code, "severity": f.severity, "message": f.message} for f in result.findings],
        "error": _error_json(result),
        "mapi_http_disabled": result.mapi_http_disabled,
        "cancelled": result.cancelled,
    }


def _trace_json(trace: Any) -> list[dict[str, Any]]:
    out = []
    for r in trace.records:
        out.append(
            {
                "seq": r.seq,
                "method": r.method,
                "url": r.url,
                "status": r.status,
                "outcome": r.outcome,
                "error": r.error,
                "peer_address": r.peer_address,
                "tls_version": r.tls_version,
                "tls_cipher": r.tls_cipher,
                "connect_ms": _round(r.connect_ms),
                "tls_ms": _round(r.tls_ms),
                "first_byte_ms": _round(r.first_byte_ms),
                "total_ms": _round(r.total_ms),
                "request_bytes": r.request_bytes,
                "response_bytes": r.response_bytes,
                "request_headers": [list(h) for h in r.request_headers],
                "response_headers": [list(h) for h in r.response_headers],
            }
        )
    return out


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def _human(result: Any, out: list[str]) -> None:
    resp = result.response
    where = f" from {result.url}" if result.url else ""
    if result.source and result.source.startswith("file:"):
        where = f" from {result.source[5:]}"
    action = resp.action if resp is not None else "no answer"
    out.append(f"Autodiscover for {result.email}: {action}{where}")
    if result.final_email and result.final_email != result.email:
        out.append(f"  (answer for {result.final_email})")
    if resp is not None and resp.mapi_http is not None:
        m = resp.mapi_http
        out.append(f"MAPI over HTTP (version {m.version})")
        out.append(f"  Mailbox       external {m.mailstore_external or '-'}")
        out.append(f"                internal {m.mailstore_internal or '-'}")
        out.append(f"  Address book  external {m.addressbook_external or '-'}")
        out.append(f"                internal {m.addressbook_internal or '-'}")
    elif resp is not None and resp.action == "settings":
        out.append(
            "MAPI over HTTP: not offered"
            + (" (not asked: MapiHttpDisabled)" if result.mapi_http_disabled else "")
        )
    for p in resp.legacy if resp is not None else ():
        bits = [f"{p.type:<7}"]
        if p.server:
            bits.append(f"server {p.server}")
        if p.ssl:
            bits.append(f"SSL {p.ssl}")
        if p.auth_package:
            bits.append(f"auth {p.auth_package}")
        if p.ews_url:
            bits.append(f"EWS {p.ews_url}")
        if len(bits) == 1:  # e.g. WEB: show its URLs
            bits += [f"{k} {v}" for k, v in p.settings if v.lower().startswith("https://")][:2]
        out.append("  " + "  ".join(bits).rstrip())
    if resp is not None and resp.user is not None:
        u = resp.user
        out.append(f"User: {u.display_name or '-'}  <{u.autodiscover_smtp_address or '-'}>")
        out.append(f"  LegacyDN {u.legacy_dn or '-'}")
    if resp is not None and resp.redirect_addr:
        out.append(f"RedirectAddr: {resp.redirect_addr}")
    if resp is not None and resp.redirect_url:
        out.append(f"RedirectUrl: {resp.redirect_url}")
    for r in result.redirects:
        how = f" (approved: {r.approved_by})" if r.approved_by else ""
        out.append(f"Redirect {r.kind}: {r.source_url} -> {r.target}{how}")
    error = _error_json(result)
    if error is not None:
        out.append(f"Error {error['code']}: {error['message']}")
    for f in result.findings:
        out.append(f"Finding ({f.severity}): {f.message}")
    if result.attempts:
        out.append("Attempts:")
        for a in result.attempts:
            ms = f"{a.elapsed_ms:.0f} ms" if a.elapsed_ms is not None else ""
            status = f"HTTP {a.http_status}" if a.http_status is not None else ""
            parts = [f"  {a.method:<4} {a.url}", f"[{a.source.value}]", a.outcome.value]
            parts += [p for p in (status, a.resolved_address or "", a.tls or "", ms) if p]
            out.append("  ".join(parts))
            if a.detail:
                out.append(f"         {a.detail}")


def _human_trace(trace: Any, out: list[str]) -> None:
    out.append("HTTP exchanges:")
    for r in trace.records:
        status = r.status if r.status is not None else r.outcome
        out.append(
            f"  #{r.seq} {r.method} {r.url} -> {status}  {_round(r.total_ms)} ms  {r.peer_address or ''}"
        )
        for k, v in r.request_headers:
            out.append(f"      > {k}: {v}")
        for k, v in r.response_headers:
            out.append(f"      < {k}: {v}")


# -- the command ----------------------------------------------------------------------------------------


def _exit_code(result: Any) -> int:
    if result.ok:
        return EXIT_OK
    if result.problem is not None and result.problem.code == "rejected-document":
        return EXIT_BAD_INPUT
    return EXIT_SERVER_FAILURE


def _interactive_consent(request: Any) -> bool:
    sys.stderr.write(
        f"\n{request.reason}.\nAllow mapiprobe to send your credentials to {request.host}? [y/N] "
    )
    sys.stderr.flush()
    try:
        answer = input()
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def _fail(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def cmd_autodiscover(args: argparse.Namespace) -> int:
    from mapiprobe.cli.capture import recorder_from
    from mapiprobe.protocol.errors import AutodiscoverError
    from mapiprobe.session.autodiscover import AutodiscoverSession, UsageError
    from mapiprobe.session.mapihttp_disabled import compare, registry_setting
    from mapiprobe.session.saved_answers import SavedAnswerError, outlook_cache_dir, parse_saved, read_cached

    # The shared discovery group cannot sit in this command's mutually exclusive groups: checked here.
    offline = next((o for o, v in (("--parse", args.parse), ("--cache-dir", args.cache_dir)) if v), None)
    offline = offline or ("--cache" if args.cache else None)
    if args.url and offline:
        return _fail(f"--url and {offline} exclude each other")
    if args.compare and args.mapi_http_disabled:
        return _fail("--compare and --mapi-http-disabled exclude each other (--compare asks both ways)")

    # -- offline modes ------------------------------------------------------------------------------
    if args.parse is not None:
        try:
            result = parse_saved(args.parse, email=args.email)
        except SavedAnswerError as exc:
            return _fail(str(exc))
        except AutodiscoverError as exc:
            if args.json:
                _print_json(
                    {
                        "source": f"file:{args.parse}",
                        "action": "error",
                        "error": {"code": "rejected-document", "message": str(exc)},
                    }
                )
            return _fail(f"{args.parse}: not an Autodiscover answer: {exc}")
        return _report(args, result, None, None)
    if args.cache or args.cache_dir is not None:
        directory = args.cache_dir or outlook_cache_dir()
        if directory is None:
            return _fail("not Windows: there is no Outlook cache folder here; give --cache-dir DIR")
        cached = read_cached(directory)
        if args.json:
            _print_json(
                {
                    "directory": str(directory),
                    "files": [
                        {
                            "path": str(c.path),
                            "error": c.error,
                            "answer": result_json(c.result) if c.result is not None else None,
                        }
                        for c in cached
                    ],
                }
            )
        else:
            lines = [f"Outlook's cached Autodiscover files in {directory}: {len(cached)}"]
            for c in cached:
                lines.append("")
                if c.result is None:
                    lines.append(f"{c.path}: not usable: {c.error}")
                else:
                    _human(c.result, lines)
            print("\n".join(lines))
        return EXIT_OK if cached else EXIT_SERVER_FAILURE

    # -- live modes ---------------------------------------------------------------------------------
    if not args.email:
        return _fail("EMAIL is required (or give --parse FILE / --cache-dir DIR)")
    try:
        connection, credentials, _auth, notes = session_setup_from(args, args.email)
        options = discovery_options_from(args, connection)
    except OptionError as exc:
        return _fail(str(exc))
    print_notes(notes, connection)
    interactive = sys.stdin.isatty() and sys.stderr.isatty() and not args.password_stdin and not args.json
    consent = _interactive_consent if interactive else None
    trace = recorder_from(args).trace()
    cancel = threading.Event()
    try:
        if args.compare:
            comparison = compare(
                args.email,
                user=args.user,
                credentials=credentials,
                auth_scheme=args.auth,
                connection=connection,
                options=options,
                consent=consent,
                cancel=cancel,
                trace=trace,
            )
            return _report(args, comparison.with_header, comparison, trace, registry=registry_setting())
        session = AutodiscoverSession(
            args.email,
            user=args.user,
            credentials=credentials,
            auth_scheme=args.auth,
            connection=connection,
            options=options,
            consent=consent,
            cancel=cancel,
            trace=trace,
        )
    except UsageError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        cancel.set()
        raise
    try:
        result = session.run()
    except KeyboardInterrupt:
        cancel.set()
        raise
    registry = registry_setting() if args.mapi_http_disabled else None
    return _report(args, result, None, trace, registry=registry)


def _print_json(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def _report(
    args: argparse.Namespace, result: Any, comparison: Any, trace: Any, *, registry: Any = None
) -> int:
    insecure = bool(getattr(args, "insecure", False))
    if args.json:
        obj = result_json(result)
        if comparison is not None:
            obj["compare"] = {
                "without_header": result_json(comparison.without_header),
                "differences": [
                    {"field": d.field, "with_header": d.with_header, "without_header": d.without_header}
                    for d in comparison.differences
                ],
                "findings": [
                    {"code": f.code, "severity": f.severity, "message": f.message}
                    for f in comparison.findings
                ],
            }
        if registry is not None:
            obj["registry"] = {
                "available": registry.available,
                "present": registry.present,
                "value": registry.value,
                "message": registry.message,
            }
        obj["insecure"] = insecure
        if insecure:
            obj["warning"] = insecure_warning()
        if trace is not None and args.trace:
            obj["trace"] = _trace_json(trace)
        _print_json(obj)
    else:
        lines: list[str] = []
        if insecure:
            lines.append(insecure_warning())
        _human(result, lines)
        if comparison is not None:
            lines.append("")
            lines.append("Without X-MapiHttpCapability (as Outlook with MapiHttpDisabled=1):")
            _human(comparison.without_header, lines)
            lines.append("")
            if comparison.differences:
                lines.append("Differences (with header | without):")
                for d in comparison.differences:
                    lines.append(f"  {d.field}: {d.with_header or '-'} | {d.without_header or '-'}")
            else:
                lines.append("No differences: the server gives the same answer with and without the header.")
            for f in comparison.findings:
                lines.append(f"Finding ({f.severity}): {f.message}")
        if registry is not None:
            lines.append(f"Registry: {registry.message}")
        if trace is not None and args.trace:
            _human_trace(trace, lines)
        print("\n".join(lines))
    return _exit_code(result)


__all__ = ["cmd_autodiscover", "register", "result_json"]
