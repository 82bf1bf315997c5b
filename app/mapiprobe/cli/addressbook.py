"""``mapiprobe addresslists``, ``gal`` and ``resolve``: the address book (NSPI) from the command line.

Each command finds the address book endpoint with Autodiscover (or takes ``--addressbook-url``), binds
(MS-OXCMAPIHTTP 2.2.5.1), does its work through :class:`~mapiprobe.session.addressbook.AddressBookSession`
and unbinds:

* ``addresslists EMAIL``: the hierarchy table (GetSpecialTable): GAL and address lists, with their MIds.
* ``gal EMAIL [--list NAME] [--start N] [--limit N]``: rows of a list, from row ``--start`` on, without
  reading the rows before it (STAT positioning, MS-OXNSPI 3.1.4.5).
* ``resolve EMAIL NAME...``: "check names": resolved, ambiguous (with the candidates) or unresolved.

Exit status: 0 success (a name that does not resolve is a result, not a failure), 1 a server-side or
network failure (including Autodiscover finding no address book), 2 bad input. The password is read only
from standard input (``--password-stdin``) and never printed.
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
    add_discovery_options,
    autodiscover_session,
    print_notes,
    session_setup_from,
)
from mapiprobe.session.addressbook_transport import PROTOCOL_CHOICES, choose_addressbook_protocol


class _Failure(Exception):
    """A failure the command reports on stderr (or in JSON) and exits with ``code``."""

    def __init__(self, message: str, code: int = EXIT_SERVER_FAILURE, kind: str = "failure") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.kind = kind


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "email", metavar="EMAIL", help="the mailbox's SMTP address (for Autodiscover and logon)"
    )
    parser.add_argument(
        "--addressbook-url",
        metavar="URL",
        help="skip Autodiscover: the address book endpoint URL (https://.../mapi/nspi/?MailboxId=...)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--protocol",
        choices=PROTOCOL_CHOICES,
        default="auto",
        help="auto (default): MAPI/HTTP when Autodiscover offers an address book URL, else RPC/HTTP",
    )
    parser.add_argument("--rpc-proxy", metavar="HOST[:PORT]", help="RPC/HTTP: the RPC proxy")
    parser.add_argument("--rpc-server", metavar="NAME", help="RPC/HTTP: the RPC server behind the proxy")
    parser.add_argument(
        "--rpc-auth",
        choices=("auto", "ntlm", "negotiate", "none"),
        default="auto",
        help="RPC/HTTP: RPC-level authentication (auto: NTLM with privacy, none if the server refuses it)",
    )
    parser.add_argument(
        "--legacy-dn", metavar="DN", help="RPC/HTTP: the user's legacy DN for RFR (default: Autodiscover's)"
    )
    add_discovery_options(parser)
    add_connection_options(parser)


def register(subparsers: Any) -> None:
    lists = subparsers.add_parser(
        "addresslists",
        help="list the address lists of the address book (GAL, All Users, ...)",
        description="Bind to the address book endpoint and show its hierarchy table (GetSpecialTable): "
        "the GAL and the address lists, each with the container MId a STAT names it by.",
    )
    _common(lists)
    lists.set_defaults(func=cmd_addresslists)

    gal = subparsers.add_parser(
        "gal",
        help="show rows of the GAL or another address list",
        description="Show rows of an address list (default: the Global Address List) from row --start on, "
        "positioned by the server (STAT Delta) without reading the rows before it.",
    )
    _common(gal)
    gal.add_argument("--list", metavar="NAME", help="the address list to read (default: the GAL)")
    gal.add_argument("--start", type=int, default=0, metavar="N", help="first row to show (0-based)")
    gal.add_argument(
        "--limit",
        type=int,
        default=50,
        metavar="N",
        help="rows to show (default 50; 0: every row to the end)",
    )
    gal.add_argument("--page-size", type=int, default=50, metavar="N", help="rows per QueryRows (default 50)")
    gal.set_defaults(func=cmd_gal)

    resolve = subparsers.add_parser(
        "resolve",
        help="check names against the address book (resolved / ambiguous / unresolved)",
        description="Resolve names as Outlook's Check Names does (ResolveNames); an ambiguous name is "
        "listed with its candidates (GetMatches with an ANR restriction).",
    )
    _common(resolve)
    resolve.add_argument("names", nargs="+", metavar="NAME", help="names, aliases or addresses to resolve")
    resolve.add_argument(
        "--candidates", type=int, default=50, metavar="N", help="most candidates listed per ambiguous name"
    )
    resolve.set_defaults(func=cmd_resolve)


# -- connecting ---------------------------------------------------------------------------------------


def _autodiscover(
    args: argparse.Namespace, connection: Any, credentials: Any, cancel: threading.Event
) -> Any:
    from mapiprobe.cli.capture import recorder_from

    try:
        discovery = autodiscover_session(
            args, connection, credentials, cancel=cancel, trace=recorder_from(args).trace()
        )
    except OptionError as exc:
        raise _Failure(str(exc), EXIT_BAD_INPUT, "usage") from None
    result = discovery.run()
    if result.response is None:
        why = result.problem.message if result.problem is not None else "no answer"
        raise _Failure(f"Autodiscover found no address book endpoint: {why}", kind="autodiscover")
    return result.response


def _endpoint(
    args: argparse.Namespace, connection: Any, credentials: Any, trace: Any, cancel: threading.Event
) -> tuple[str, Any]:
    """The address book URL and, for RPC/HTTP, the transport (None for MAPI/HTTP)."""
    if args.protocol == "mapi-http" and args.mapi_http_disabled:
        raise _Failure(
            "--protocol mapi-http contradicts --mapi-http-disabled (Outlook would not use MAPI/HTTP)",
            EXIT_BAD_INPUT,
            "usage",
        )
    if args.addressbook_url:
        if args.protocol == "rpc-http":
            raise _Failure(
                "--addressbook-url is a MAPI/HTTP URL; with --protocol rpc-http give --rpc-proxy",
                EXIT_BAD_INPUT,
                "usage",
            )
        if not args.addressbook_url.lower().startswith("https://"):
            raise _Failure("--addressbook-url must be an https:// URL", EXIT_BAD_INPUT, "usage")
        return str(args.addressbook_url), None
    skip = args.protocol == "rpc-http" and args.rpc_proxy and args.legacy_dn
    response = None if skip else _autodiscover(args, connection, credentials, cancel)
    if (
        choose_addressbook_protocol(args.protocol, response, rpc_proxy_given=bool(args.rpc_proxy))
        == "mapi-http"
    ):
        mapi = response.mapi_http if response is not None else None
        url = (mapi.addressbook_external or mapi.addressbook_internal) if mapi is not None else None
        if not url:
            hint = ""
            if response is not None and (response.protocol("EXHTTP") or response.protocol("EXPR")):
                hint = "; it offers RPC/HTTP (use --protocol auto or rpc-http)"
            raise _Failure(
                "Autodiscover found no address book endpoint: the answer has no mapiHttp AddressBook URL"
                + hint,
                kind="autodiscover",
            )
        return str(url), None
    return _rpc_http(args, response, connection, credentials, trace)


def _rpc_http(
    args: argparse.Namespace, response: Any, connection: Any, credentials: Any, trace: Any
) -> tuple[str, Any]:
    from mapiprobe.session.addressbook_transport import rpc_http_addressbook_transport
    from mapiprobe.session.rpch_settings import settings_from_autodiscover, settings_from_options
    from mapiprobe.transport.auth import Credentials

    settings = None
    if response is not None:
        settings = settings_from_autodiscover(response, proxy=args.rpc_proxy, server=args.rpc_server)
    elif args.rpc_proxy:
        settings = settings_from_options(args.rpc_proxy, args.rpc_server)
    if settings is None:
        raise _Failure(
            f"Autodiscover for {args.email} offered no RPC/HTTP settings (no EXHTTP or EXPR block): "
            "give --rpc-proxy HOST[:PORT]",
            kind="autodiscover",
        )
    legacy_dn = args.legacy_dn
    if legacy_dn is None and response is not None and response.user is not None:
        legacy_dn = response.user.legacy_dn
    scheme = args.auth if args.auth in ("basic", "ntlm", "negotiate") else None
    transport = rpc_http_addressbook_transport(
        settings,
        credentials or Credentials(),
        connection,
        user_dn=legacy_dn,
        trace=trace,
        http_scheme=scheme,
        rpc_auth=args.rpc_auth,
    )
    return transport.url, transport


def _run(args: argparse.Namespace, work: Any) -> int:
    from mapiprobe.cli.capture import recorder_from
    from mapiprobe.protocol.jsonview import to_jsonable
    from mapiprobe.session.addressbook import AddressBookError, AddressBookSession, BadAddressBookResponse
    from mapiprobe.transport.errors import TransportError

    prog = f"mapiprobe {args.command}"
    try:
        connection, credentials, auth, notes = session_setup_from(args, args.email)
    except OptionError as exc:
        return _report_failure(args, prog, _Failure(str(exc), EXIT_BAD_INPUT, "usage"))
    print_notes(notes, connection)

    cancel = threading.Event()
    trace = recorder_from(args).trace()
    try:
        url, transport = _endpoint(args, connection, credentials, trace, cancel)
        with AddressBookSession(
            url,
            user=args.user or args.email,
            auth=auth,
            connection=connection,
            cancel=cancel,
            trace=trace,
            transport=transport,
        ) as session:
            output = work(session)
            output["url"] = session.endpoint.url
            output["protocol"] = session.protocol
            output["server_application"] = session.bind_info.server_application if session.bind_info else None
        if transport is not None:
            output["rpc_http"] = {
                "nspi_server": transport.nspi_server,
                "http_auth": transport.connections[-1].stats.http_scheme if transport.connections else None,
                "rpc_auth": transport.connections[-1].stats.rpc_auth if transport.connections else None,
                "notes": transport.notes,
                **transport.stats,
            }
            rpch = output["rpc_http"]
            output.setdefault("_lines", []).append(
                f"over RPC/HTTP (NSPI server {rpch['nspi_server']}): "
                f"HTTP authentication {rpch['http_auth']}, RPC-level {rpch['rpc_auth']}; "
                f"{rpch['http_requests']} HTTP requests on "
                f"{rpch['tcp_connections']} TCP connections, {rpch['rpc_calls']} RPC calls"
            )
    except _Failure as failure:
        return _report_failure(args, prog, failure)
    except BadAddressBookResponse as exc:
        bad = _Failure(str(exc), kind="bad-response")
        return _report_failure(args, prog, bad, decoded=to_jsonable(exc.partial))
    except AddressBookError as exc:
        return _report_failure(args, prog, _Failure(exc.message, kind="nspi-error"))
    except TransportError as exc:
        return _report_failure(args, prog, _Failure(str(exc), kind=exc.kind))
    except KeyboardInterrupt:
        cancel.set()
        raise
    lines = output.pop("_lines", [])
    if args.json:
        sys.stdout.write(json.dumps(output, indent=2, ensure_ascii=False) + "\n")
    else:
        print("\n".join(lines))
    return EXIT_OK


def _report_failure(args: argparse.Namespace, prog: str, failure: _Failure, decoded: Any = None) -> int:
    if args.json:
        error: dict[str, Any] = {"kind": failure.kind, "message": failure.message}
        if decoded is not None:
            error["decoded"] = decoded
        sys.stdout.write(json.dumps({"ok": False, "error": error}, indent=2, ensure_ascii=False) + "\n")
    print(f"{prog}: {failure.message}", file=sys.stderr)
    return failure.code


# -- the commands -------------------------------------------------------------------------------------


def cmd_addresslists(args: argparse.Namespace) -> int:
    def work(session: Any) -> dict[str, Any]:
        lists = session.address_lists()
        lines = [f"Address lists at {session.endpoint.url}:"]
        for a in lists:
            kind = "" if a.has_recipients else "  (container of lists)"
            lines.append(f"  {'  ' * a.depth}{a.name or '(no name)'}  [MId 0x{a.container_id:X}]{kind}")
        return {"ok": True, "address_lists": [a.to_json() for a in lists], "_lines": lines}

    return _run(args, work)


def cmd_gal(args: argparse.Namespace) -> int:
    if args.start < 0 or args.limit < 0 or args.page_size <= 0:
        print(f"mapiprobe {args.command}: --start and --limit must be >= 0, --page-size > 0", file=sys.stderr)
        return EXIT_BAD_INPUT

    def work(session: Any) -> dict[str, Any]:
        container_id, name = 0, "Global Address List"
        if args.list:
            found = session.find_list(args.list)
            if found is None:
                raise _Failure(
                    f"no address list called {args.list!r} (see mapiprobe addresslists)", EXIT_BAD_INPUT
                )
            container_id, name = found.container_id, found.name
        rows: list[Any] = []
        total = 0
        for page in session.iter_pages(
            container_id, start=args.start, page_size=args.page_size, limit=args.limit or None
        ):
            rows.extend(page.entries)
            total = page.total
        if not rows:
            total = session.count(container_id)
        lines = [
            f"{name}: rows {args.start}..{args.start + len(rows) - 1 if rows else args.start} of {total}"
        ]
        for i, e in enumerate(rows, start=args.start):
            kind = (e.display_type_name or "").removeprefix("DT_").lower()
            lines.append(
                f"  {i:>6}  {e.display_name or '-':<32} {e.smtp_address or '-':<40} {e.title or '-':<28} "
                f"{e.department or '-':<22} {e.office or '-':<22} {e.phone or '-':<18} {kind}"
            )
        return {
            "ok": True,
            "list": name,
            "container_id": container_id,
            "total": total,
            "start": args.start,
            "rows": [_row_json(e) for e in rows],
            "_lines": lines,
        }

    return _run(args, work)


def _row_json(e: Any) -> dict[str, Any]:
    return {
        "display_name": e.display_name,
        "smtp_address": e.smtp_address,
        "title": e.title,
        "department": e.department,
        "office": e.office,
        "phone": e.phone,
        "display_type": e.display_type,
        "mid": e.mid,
    }


def cmd_resolve(args: argparse.Namespace) -> int:
    if args.candidates <= 0:
        print(f"mapiprobe {args.command}: --candidates must be > 0", file=sys.stderr)
        return EXIT_BAD_INPUT

    def work(session: Any) -> dict[str, Any]:
        results = session.resolve(args.names, candidate_limit=args.candidates)
        lines: list[str] = []
        for r in results:
            if r.status == "resolved" and r.entry is not None:
                lines.append(f"{r.name}: resolved to {r.entry.display_name} <{r.entry.smtp_address}>")
            elif r.status == "ambiguous":
                more = "" if r.candidates_complete else " (not all listed)"
                lines.append(f"{r.name}: ambiguous, {len(r.candidates)} candidates{more}")
                for c in r.candidates:
                    lines.append(
                        f"    {c.display_name} <{c.smtp_address}>  {c.title or ''}  {c.office or ''}".rstrip()
                    )
            else:
                lines.append(f"{r.name}: unresolved (no match)")
            if r.note:
                lines.append(f"    note: {r.note}")
        return {"ok": True, "results": [_resolution_json(r) for r in results], "_lines": lines}

    return _run(args, work)


def _resolution_json(r: Any) -> dict[str, Any]:
    return {
        "name": r.name,
        "status": r.status,
        "entry": _row_json(r.entry) if r.entry is not None else None,
        "candidates": [_row_json(c) for c in r.candidates],
        "candidates_complete": r.candidates_complete,
        "note": r.note,
    }


__all__ = ["cmd_addresslists", "cmd_gal", "cmd_resolve", "register"]
