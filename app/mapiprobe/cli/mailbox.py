"""``mapiprobe folders`` and ``mapiprobe contents``: browse a mailbox over MAPI/HTTP or RPC/HTTP, as Outlook.

Both commands find the mailbox endpoint and the user's legacy DN with Autodiscover (or take them from
``--mailbox-url`` and ``--legacy-dn``), then run :class:`~mapiprobe.session.mailbox.MailboxSession`:
Connect, RopLogon, the folder tree (``folders``) or one folder's contents table (``contents``), RopRelease,
Disconnect. A mailbox that has moved (RopLogon ecWrongServer) is followed once by running Autodiscover again.

``--protocol auto`` (the default) chooses as Outlook does: MAPI/HTTP when Autodiscover offers it, RPC/HTTP
(Outlook Anywhere) otherwise — so ``--mapi-http-disabled`` (Outlook's MapiHttpDisabled=1) browses the same
folders over RPC/HTTP. The RPC proxy and server come from Autodiscover's EXHTTP/EXPR and EXCH blocks, or from
``--rpc-proxy HOST[:PORT]`` and ``--rpc-server NAME``; ``--rpc-auth`` sets the RPC-level authentication
(``auto``: NTLM with privacy, none when the server refuses that bind).

Exit status: 0 success; 1 a server-side or network failure (Autodiscover, MAPI/HTTP, a ROP); 2 bad input
(options, an unknown folder path). The password is read only from standard input (``--password-stdin``).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Callable
from typing import Any

from mapiprobe.cli.options import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_SERVER_FAILURE,
    OptionError,
    add_connection_options,
    add_discovery_options,
    autodiscover_session,
    insecure_warning,
    print_notes,
    session_setup_from,
)


def register(subparsers: Any) -> None:
    folders = subparsers.add_parser(
        "folders",
        help="list a mailbox's folder tree with item counts (MAPI/HTTP)",
        description="Connect to the mailbox over MAPI/HTTP (Autodiscover first, unless --mailbox-url) and "
        "list every folder below Top of Information Store with its item and unread counts.\n\n"
        "Exit status: 0 success; 1 server-side or network failure; 2 bad input.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(folders)
    folders.set_defaults(func=cmd_folders)

    contents = subparsers.add_parser(
        "contents",
        help="list the items of one mailbox folder (MAPI/HTTP)",
        description="List the items of one folder (subject, sender, received time, size, message class), "
        "newest first, reading the contents table a page at a time.\n\n"
        "Exit status: 0 success; 1 server-side or network failure; 2 bad input (e.g. no such folder).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(contents)
    contents.add_argument(
        "--folder", required=True, metavar="PATH", help="the folder, e.g. Inbox or Inbox/Projects"
    )
    contents.add_argument("--limit", type=int, metavar="N", help="at most N items (default: all)")
    contents.set_defaults(func=cmd_contents)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("email", metavar="EMAIL", help="the mailbox's SMTP address")
    parser.add_argument(
        "--mailbox-url",
        metavar="URL",
        help="skip Autodiscover: the mailbox endpoint URL (https://.../mapi/emsmdb/?MailboxId=...); "
        "needs --legacy-dn",
    )
    parser.add_argument(
        "--legacy-dn",
        metavar="DN",
        help="the user's legacy DN (Autodiscover's User/LegacyDN), with --mailbox-url",
    )
    parser.add_argument(
        "--compression",
        action="store_true",
        help="let the server compress and obfuscate its answers (Execute Flags 0 instead of 0x3)",
    )
    parser.add_argument("--page-size", type=int, default=100, metavar="N", help="rows per RopQueryRows")
    parser.add_argument(
        "--protocol",
        choices=("auto", "mapi-http", "rpc-http"),
        default="auto",
        help="auto (default): MAPI/HTTP when Autodiscover offers it, else RPC/HTTP (Outlook Anywhere)",
    )
    parser.add_argument(
        "--rpc-proxy", metavar="HOST[:PORT]", help="RPC/HTTP: the RPC proxy (instead of EXHTTP/EXPR's Server)"
    )
    parser.add_argument(
        "--rpc-server",
        metavar="NAME",
        help="RPC/HTTP: the RPC server behind the proxy (instead of EXCH's Server)",
    )
    parser.add_argument(
        "--rpc-auth",
        choices=("auto", "ntlm", "negotiate", "none"),
        default="auto",
        help="RPC/HTTP: RPC-level authentication (auto: NTLM with privacy, none if the server refuses it)",
    )
    parser.add_argument("--trace", action="store_true", help="also list every HTTP exchange")
    parser.add_argument("-v", "--verbose", action="store_true", help="show progress on standard error")
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_discovery_options(parser)
    add_connection_options(parser)


# -- running a session -------------------------------------------------------------------------------


class _Failure(Exception):
    def __init__(self, message: str, code: int = EXIT_SERVER_FAILURE, kind: str = "error") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.kind = kind


def _discover(args: argparse.Namespace, connection: Any, credentials: Any, trace: Any, cancel: Any) -> Any:
    response = _autodiscover(args, connection, credentials, trace, cancel)
    return _mapi_http_endpoint(args, response)


def _autodiscover(
    args: argparse.Namespace, connection: Any, credentials: Any, trace: Any, cancel: Any
) -> Any:
    try:
        session = autodiscover_session(args, connection, credentials, cancel=cancel, trace=trace)
    except OptionError as exc:
        raise _Failure(str(exc), EXIT_BAD_INPUT, "usage") from None
    result = session.run()
    if not result.ok or result.response is None:
        problem = result.problem.message if result.problem is not None else result.action
        raise _Failure(f"Autodiscover for {args.email} failed: {problem}", kind="autodiscover")
    return result.response


def _mapi_http_endpoint(args: argparse.Namespace, response: Any) -> tuple[str, str]:
    from mapiprobe.session.mailbox_transport import RouteError, mailbox_route

    try:
        route = mailbox_route(response, protocol="mapi-http")
    except RouteError as exc:
        raise _Failure(f"Autodiscover for {args.email}: {exc}", kind="autodiscover") from None
    return route.url, route.legacy_dn


def _run(
    args: argparse.Namespace, work: Callable[[Any], dict[str, Any]]
) -> tuple[dict[str, Any] | None, Any]:
    """Set up, run ``work(session)``, tear down; returns (result, trace) or raises _Failure."""
    from mapiprobe.cli.capture import recorder_from
    from mapiprobe.session.mailbox import MailboxError, MailboxSession
    from mapiprobe.transport.auth import Credentials
    from mapiprobe.transport.errors import TransportError

    try:
        connection, credentials, auth, notes = session_setup_from(args, args.email)
    except OptionError as exc:
        raise _Failure(str(exc), EXIT_BAD_INPUT, "usage") from None
    print_notes(notes)
    if args.mailbox_url and not args.legacy_dn:
        raise _Failure(
            "--mailbox-url needs --legacy-dn (Autodiscover's User/LegacyDN)", EXIT_BAD_INPUT, "usage"
        )
    if args.page_size < 1:
        raise _Failure("--page-size must be at least 1", EXIT_BAD_INPUT, "usage")
    if args.protocol == "mapi-http" and args.mapi_http_disabled:
        raise _Failure(
            "--protocol mapi-http contradicts --mapi-http-disabled (Outlook would not use MAPI/HTTP)",
            EXIT_BAD_INPUT,
            "usage",
        )
    if args.mailbox_url and args.protocol == "rpc-http":
        raise _Failure(
            "--mailbox-url is a MAPI/HTTP URL; with --protocol rpc-http give --rpc-proxy",
            EXIT_BAD_INPUT,
            "usage",
        )
    if connection.insecure:
        print(insecure_warning(), file=sys.stderr)
    trace = recorder_from(args).trace()
    cancel = threading.Event()

    def progress(event: Any) -> None:
        if args.verbose:
            print(f"[{event.stage}] {event.message}", file=sys.stderr)

    def resolve(server_dn: str) -> str:
        progress(_Note("redirect", f"running Autodiscover again for {args.email}"))
        url, _dn = _discover(args, connection, credentials, trace, cancel)
        return str(url)

    try:
        transport = None
        if args.mailbox_url:
            url, legacy_dn = args.mailbox_url, args.legacy_dn
        else:
            skip = args.protocol == "rpc-http" and args.rpc_proxy and args.legacy_dn
            response = None if skip else _autodiscover(args, connection, credentials, trace, cancel)
            route = _route(args, response)
            url, legacy_dn = route.url, route.legacy_dn
            if route.rpc_http is not None:
                progress(_Note("rpc-http", route.rpc_http.describe()))
                scheme = args.auth if args.auth in ("basic", "ntlm", "negotiate") else None
                transport = route.transport(
                    credentials or Credentials(),
                    connection,
                    trace=trace,
                    http_scheme=scheme,
                    rpc_auth=args.rpc_auth,
                )
        session = MailboxSession(
            url,
            user_dn=legacy_dn,
            user=args.user or args.email,
            auth=auth,
            connection=connection,
            compression=args.compression,
            progress=progress,
            trace=trace,
            resolve_mailbox_url=resolve,
            page_size=args.page_size,
            transport=transport,
        )
        with session:
            result = work(session)
            result["mailbox"] = {
                "url": url,
                "legacy_dn": legacy_dn,
                "display_name": session.display_name,
                "server_application": session.server_application,
                "compression": args.compression,
                "requests": session.stats.requests,
                "reconnects": session.stats.reconnects,
                "redirects": session.stats.redirects,
                "url_after_redirect": session.url if session.url != url else None,
                "protocol": session.protocol,
            }
            if transport is not None:
                result["mailbox"]["rpc_http"] = {
                    "http_auth": transport.connections[-1].stats.http_scheme
                    if transport.connections
                    else None,
                    "rpc_auth": transport.connections[-1].stats.rpc_auth if transport.connections else None,
                    **transport.stats,
                }
        return result, trace
    except KeyboardInterrupt:
        cancel.set()
        raise
    except _Failure:
        raise
    except MailboxError as exc:
        code = EXIT_BAD_INPUT if exc.stage == "folders" and exc.code is None else EXIT_SERVER_FAILURE
        raise _Failure(exc.message, code, f"mailbox-{exc.stage}") from None
    except TransportError as exc:
        raise _Failure(exc.message, EXIT_SERVER_FAILURE, exc.kind) from None


def _route(args: argparse.Namespace, response: Any) -> Any:
    from mapiprobe.session.mailbox_transport import RouteError, mailbox_route

    try:
        return mailbox_route(
            response,
            protocol=args.protocol,
            rpc_proxy=args.rpc_proxy,
            rpc_server=args.rpc_server,
            legacy_dn=args.legacy_dn,
        )
    except RouteError as exc:
        raise _Failure(f"{args.email}: {exc}", kind="autodiscover") from None


class _Note:
    def __init__(self, stage: str, message: str) -> None:
        self.stage = stage
        self.message = message


def _fail(args: argparse.Namespace, prog: str, failure: _Failure, trace: Any = None) -> int:
    if args.json:
        sys.stdout.write(
            json.dumps({"error": {"kind": failure.kind, "message": failure.message}}, indent=2) + "\n"
        )
    print(f"mapiprobe {prog}: {failure.message}", file=sys.stderr)
    return failure.code


# -- folders --------------------------------------------------------------------------------------------


def cmd_folders(args: argparse.Namespace) -> int:
    def work(session: Any) -> dict[str, Any]:
        tree = session.folder_tree()
        return {"tree": tree}

    try:
        result, trace = _run(args, work)
    except _Failure as failure:
        return _fail(args, "folders", failure)
    assert result is not None
    tree = result["tree"]
    if args.json:
        sys.stdout.write(
            json.dumps([c.to_json() for c in tree.children], indent=2, ensure_ascii=False) + "\n"
        )
        return EXIT_OK
    lines: list[str] = []
    info = result["mailbox"]
    count = sum(1 for _ in tree.walk()) - 1
    over = f"over {info['protocol']}, " if info.get("protocol") != "MAPI/HTTP" else ""
    lines.append(f"Mailbox of {info['display_name'] or args.email} — {count} folders ({over}{info['url']})")
    width = max((len("  " * f.depth + f.display_name) for f in tree.walk() if f.depth >= 0), default=10)
    width = min(max(width, 10), 60)
    for folder in tree.walk():
        if folder.depth < 0:
            continue
        name = ("  " * folder.depth + folder.display_name)[:width]
        items = "-" if folder.content_count is None else str(folder.content_count)
        unread = "-" if folder.unread_count is None else str(folder.unread_count)
        lines.append(
            f"  {name:<{width}}  {items:>6} items  {unread:>5} unread  {folder.container_class or ''}"
        )
    _notes(info, lines)
    if args.trace:
        _trace_lines(trace, lines)
    print("\n".join(lines))
    return EXIT_OK


# -- contents -------------------------------------------------------------------------------------------


def cmd_contents(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        print("mapiprobe contents: --limit must be at least 1", file=sys.stderr)
        return EXIT_BAD_INPUT

    def work(session: Any) -> dict[str, Any]:
        folder = session.find_folder(args.folder)
        items, total = session.contents(folder, limit=args.limit)
        return {"folder": folder, "items": items, "total": total}

    try:
        result, trace = _run(args, work)
    except _Failure as failure:
        return _fail(args, "contents", failure)
    assert result is not None
    folder, items, total = result["folder"], result["items"], result["total"]
    if args.json:
        out = {
            "folder": folder.path,
            "folder_id": str(folder.folder_id),
            "total": total,
            "items": [i.to_json() for i in items],
        }
        sys.stdout.write(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    lines = [f"{folder.path}: {len(items)} of {total} item(s), newest first"]
    for item in items:
        when = item.received.strftime("%Y-%m-%d %H:%M") if item.received else "-"
        size = f"{item.size:,}" if item.size is not None else "-"
        flag = " " if item.read else "*"
        lines.append(
            f" {flag} {when}  {(item.sender or '-')[:24]:<24}  {(item.subject or '')[:50]:<50}  {size:>10}  "
            f"{item.message_class or ''}"
        )
    _notes(result["mailbox"], lines)
    if args.trace:
        _trace_lines(trace, lines)
    print("\n".join(lines))
    return EXIT_OK


# -- shared rendering -----------------------------------------------------------------------------------


def _notes(info: dict[str, Any], lines: list[str]) -> None:
    rpch = info.get("rpc_http")
    if rpch:
        lines.append(
            f"RPC/HTTP: HTTP authentication {rpch['http_auth']}, RPC-level {rpch['rpc_auth']}; "
            f"{rpch['http_requests']} HTTP requests on {rpch['tcp_connections']} TCP connections, "
            f"{rpch['rpc_calls']} RPC calls"
        )
    if info["reconnects"]:
        lines.append(f"Note: the Session Context expired and was re-established {info['reconnects']} time(s)")
    if info["redirects"]:
        where = info["url_after_redirect"] or "the same URL"
        lines.append(f"Note: the mailbox had moved (ecWrongServer); followed to {where}")


def _trace_lines(trace: Any, lines: list[str]) -> None:
    lines.append("HTTP exchanges:")
    for r in trace.records:
        what = r.request_type or r.label or r.method
        code = f" X-ResponseCode {r.response_code}" if r.response_code is not None else ""
        status = r.status if r.status is not None else r.outcome
        total = f"{r.total_ms:.0f} ms" if r.total_ms is not None else ""
        lines.append(
            f"  #{r.seq} {what:<16} {status}{code}  {r.request_bytes}/{r.response_bytes} bytes  {total}"
        )


__all__ = ["cmd_contents", "cmd_folders", "register"]
