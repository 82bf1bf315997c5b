"""``mapiprobe check EMAIL``: the one-click diagnosis on the command line.

Runs :class:`~mapiprobe.diagnostics.pipeline.Diagnosis` (every step, live on standard error), prints a summary
(or ``--json``: the report's JSON on standard output), and with ``--report FILE.html`` writes the
self-contained HTML report for the ticket.
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
    print_notes,
    session_setup_from,
)

EXIT_WARNINGS = 3
SLOW_REQUEST_S = 1.0  # diagnostics.runner.SLOW_REQUEST_S (not imported here: --help stays cheap)
EXIT_HELP = (
    "Exit status: 0 every step passed; 1 a step failed; 2 bad input (options, address, an unwritable "
    "report); "
    "3 every step passed or was skipped, with warnings."
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="diagnose why Outlook cannot connect: ordered checks with causes and remedies, and a report",
        description="Check everything Outlook needs for EMAIL, in order: for each Autodiscover candidate "
        "and endpoint host DNS, TCP, TLS (certificate names, expiry, chain) and proxy; Autodiscover and "
        "whether MAPI over HTTP is offered; whether the endpoint URLs are reachable from here and what they "
        "offer without credentials; then the mailbox (Connect, logon, folders), the address book (Bind, "
        "resolving the user's own address), a PING and Disconnect. Each step passes, warns, fails or is "
        "skipped (with the reason); a warning or failure names its cause and a remedy.\n\n" + EXIT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("email", metavar="EMAIL", help="the mailbox's SMTP address")
    parser.add_argument("--report", type=Path, metavar="FILE.html", help="write the HTML report to FILE")
    parser.add_argument("--json", action="store_true", help="print the report as JSON on standard output")
    parser.add_argument("-q", "--quiet", action="store_true", help="no live progress on standard error")
    add_discovery_options(parser)
    parser.add_argument(
        "--idle-check",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="stay silent this long before the PING, to catch a session context that expires earlier "
        "than the server announces (default 0: PING at once)",
    )
    parser.add_argument(
        "--slow-after",
        type=float,
        default=SLOW_REQUEST_S,
        metavar="SECONDS",
        help=f"an answer slower than this is reported as a stalling server (default {SLOW_REQUEST_S:g})",
    )
    add_connection_options(parser)
    parser.set_defaults(func=cmd_check)


_PRINT_LOCK = threading.Lock()


def _progress(event: Any) -> None:
    """One step's line (and its cause) on standard error; host checks finish on several threads at once."""
    step = event.step
    if event.kind == "started":
        return
    line = f"[{step.status:>7}] {step.id:<15} {step.target}  ({step.elapsed_ms:.0f} ms)"
    if step.status in ("warn", "fail"):
        line += f"\n          {step.cause or step.summary}"
    elif step.status == "skipped":
        line += f"\n          {step.summary}"
    with _PRINT_LOCK:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


def cmd_check(args: argparse.Namespace) -> int:
    from mapiprobe.cli.capture import recorder_from
    from mapiprobe.diagnostics.pipeline import Diagnosis, DiagnosisOptions
    from mapiprobe.diagnostics.report import render_html, report_json, summary_text
    from mapiprobe.session.autodiscover import UsageError

    try:
        connection, credentials, _auth, notes = session_setup_from(args, args.email)
        if args.idle_check < 0:
            raise OptionError("--idle-check must not be negative")
        if not args.slow_after > 0:
            raise OptionError("--slow-after must be a positive number of seconds")
        if args.url and not args.url.lower().startswith("https://"):
            raise OptionError(f"--url must be an https:// URL, not {args.url!r}")
    except OptionError as exc:
        print(f"mapiprobe check: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print_notes(notes, connection)
    if args.report is not None and not args.report.parent.is_dir():
        print(f"mapiprobe check: --report {args.report}: no such directory", file=sys.stderr)
        return EXIT_BAD_INPUT
    options = DiagnosisOptions(
        connection=connection,
        credentials=credentials,
        auth_scheme=args.auth,
        mapi_http_disabled=args.mapi_http_disabled,
        url=args.url,
        allowed_hosts=frozenset(h.lower() for h in args.allow_redirect),
        use_srv=not args.no_srv,
        use_v2=not args.no_v2,
        use_redirect_probe=not args.no_redirect_probe,
        idle_check_s=args.idle_check,
        slow_request_s=args.slow_after,
    )

    cancel = threading.Event()
    try:
        diagnosis = Diagnosis(
            args.email,
            options,
            on_event=None if args.quiet else _progress,
            cancel=cancel,
            trace=recorder_from(args).trace(),  # --save-har keeps every exchange of the run
        )
    except UsageError as exc:
        print(f"mapiprobe check: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        result = diagnosis.run()
    except KeyboardInterrupt:
        cancel.set()
        print("mapiprobe check: interrupted", file=sys.stderr)
        return EXIT_SERVER_FAILURE
    if args.report is not None:
        try:
            args.report.write_text(render_html(result), encoding="utf-8")
        except OSError as exc:
            print(f"mapiprobe check: cannot write {args.report}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(report_json(result), indent=2, ensure_ascii=False, default=str))
    else:
        print(summary_text(result))
        if args.report is not None:
            print(f"report: {args.report}")
    return {"pass": EXIT_OK, "warn": EXIT_WARNINGS, "fail": EXIT_SERVER_FAILURE}[result.result]


__all__ = ["EXIT_WARNINGS", "cmd_check", "register"]
