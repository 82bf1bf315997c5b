"""``mapiprobe protocols EMAIL``: MAPI/HTTP against RPC/HTTP on one mailbox, one after the other, each cold.

Not ``autodiscover --compare`` (which compares two Autodiscover answers): this runs what Outlook does when it
starts (Autodiscover, connect, the folder tree, the first GAL page) over MAPI/HTTP and then over RPC/HTTP, and
prints per phase the wall time, HTTP requests, TCP connections, bytes sent and received, and failures
(:mod:`mapiprobe.session.compare`); ``--json`` prints one object.

Exit status: 0 when both protocols completed every phase, 1 when a phase failed (the table says which), 2 for
bad input. The password is read only from standard input (``--password-stdin``) and never printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from typing import Any

from mapiprobe.cli.options import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_SERVER_FAILURE,
    OptionError,
    add_connection_options,
    auth_from,
    print_notes,
    session_setup_from,
)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "protocols",
        help="MAPI/HTTP against RPC/HTTP on one mailbox: time, requests, connections and bytes per phase",
        description="Run Autodiscover, connect, the folder tree and the first GAL page over MAPI/HTTP and "
        "then over RPC/HTTP (Outlook Anywhere), each from a cold start, and compare them phase by phase.",
    )
    p.add_argument("email", metavar="EMAIL", help="the mailbox's SMTP address")
    p.add_argument(
        "--autodiscover-url", metavar="URL", help="skip discovery: POST Autodiscover to this https:// URL"
    )
    p.add_argument(
        "--only",
        choices=("mapi-http", "rpc-http"),
        help="run one protocol only (default: both, MAPI/HTTP first)",
    )
    p.add_argument(
        "--rpc-auth",
        choices=("auto", "ntlm", "negotiate", "none"),
        default="auto",
        help="RPC/HTTP: RPC-level authentication (auto: NTLM with privacy, none if the server refuses it)",
    )
    p.add_argument("--page-size", type=int, default=50, metavar="N", help="rows of the first GAL page (50)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--verbose", "-v", action="store_true", help="one line per phase on stderr as it ends")
    add_connection_options(p)
    p.set_defaults(func=cmd_protocols)


def cmd_protocols(args: argparse.Namespace) -> int:
    from mapiprobe.cli.capture import recorder_from
    from mapiprobe.session.compare import PROTOCOLS, compare_protocols, format_comparison

    prog = "mapiprobe protocols"
    if args.page_size < 1:
        print(f"{prog}: --page-size must be at least 1", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.autodiscover_url and not args.autodiscover_url.lower().startswith("https://"):
        print(f"{prog}: --autodiscover-url must be an https:// URL", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        # the auth flow checks the options once; each session gets its own below
        connection, credentials, _auth, notes = session_setup_from(args, args.email)
    except OptionError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print_notes(notes, connection)
    recorder_from(args)
    from mapiprobe.transport.auth import Credentials

    cancel = threading.Event()

    def progress(line: str) -> None:
        if args.verbose:
            print(line, file=sys.stderr)

    scheme = args.auth if args.auth in ("basic", "ntlm", "negotiate") else None
    try:
        comparison = compare_protocols(
            args.email,
            credentials=credentials or Credentials(),
            connection=connection,
            auth_factory=lambda: auth_from(args, credentials),
            user=args.user or args.email,
            auth_scheme=args.auth,
            autodiscover_url=args.autodiscover_url,
            protocols=(args.only,) if args.only else PROTOCOLS,
            rpc_auth=args.rpc_auth,
            http_scheme=scheme,
            page_size=args.page_size,
            progress=progress,
            cancel=cancel,
        )
    except KeyboardInterrupt:
        cancel.set()
        raise
    ok = all(r.ok for r in comparison.runs)
    if args.json:
        out = {"ok": ok, **comparison.to_json()}
        sys.stdout.write(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    else:
        print("\n".join(format_comparison(comparison)))
    return EXIT_OK if ok else EXIT_SERVER_FAILURE


__all__ = ["cmd_protocols", "register"]
