"""Command-line options every network command shares: where to connect, whom to trust, who to be.

``add_connection_options(parser)`` adds ``--connect-to`` (repeatable, curl's HOST:PORT:ADDR:PORT),
``--ca-cert FILE`` (repeatable), ``--insecure``, ``--timeout``, ``--dns-server ADDR:PORT``, ``--user`` and
``--password-stdin``; :func:`connection_options_from` turns them into a
:class:`~mapiprobe.transport.client.ConnectionOptions` (raising :class:`OptionError` for bad values) and
:func:`read_password` reads the password from standard input — the only way a password gets in, so that
it never shows in a process list or a shell history.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import IO

from mapiprobe.transport.auth import Secret
from mapiprobe.transport.client import INSECURE_WARNING, ConnectionOptions, parse_connect_to
from mapiprobe.transport.resolve import parse_dns_server

DEFAULT_TIMEOUT = 10.0


class OptionError(ValueError):
    """A command-line value that cannot be used (exit status 2)."""


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--connect-to",
        action="append",
        default=[],
        metavar="HOST:PORT:ADDR:PORT",
        help="connect to ADDR:PORT whenever HOST:PORT is asked for (curl's syntax; repeatable). "
        "TLS names and the Host header keep HOST.",
    )
    group.add_argument(
        "--ca-cert",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="also trust this CA certificate (PEM) for this run (repeatable)",
    )
    group.add_argument(
        "--insecure",
        action="store_true",
        help="do NOT verify TLS certificates (reported loudly; for lab use only)",
    )
    group.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"time limit for each connection, answer and candidate (default {DEFAULT_TIMEOUT:g})",
    )
    group.add_argument(
        "--dns-server",
        metavar="ADDR[:PORT]",
        help="resolve host names and SRV records with this DNS server instead of the system's",
    )
    group.add_argument("--user", metavar="USER", help="user name to log on with (default: the email address)")
    group.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input (the only way to give one)",
    )


def connection_options_from(args: argparse.Namespace) -> ConnectionOptions:
    """Validate the connection options of ``args``; raises OptionError with a message for the user."""
    for rule in args.connect_to:
        try:
            parse_connect_to(rule)
        except ValueError as exc:
            raise OptionError(str(exc)) from None
    for path in args.ca_cert:
        if not Path(path).is_file():
            raise OptionError(f"--ca-cert {path}: no such file")
    if args.dns_server is not None:
        try:
            parse_dns_server(args.dns_server)
        except ValueError as exc:
            raise OptionError(str(exc)) from None
    timeout = float(args.timeout)
    if not timeout > 0:
        raise OptionError("--timeout must be a positive number of seconds")
    return ConnectionOptions(
        connect_to=tuple(args.connect_to),
        ca_certs=tuple(Path(p) for p in args.ca_cert),
        insecure=bool(args.insecure),
        connect_timeout=timeout,
        read_timeout=timeout,
        dns_server=args.dns_server,
    )


def read_password(args: argparse.Namespace, stdin: IO[str] | None = None) -> Secret | None:
    """The password from the first line of standard input when ``--password-stdin`` was given, else None."""
    if not getattr(args, "password_stdin", False):
        return None
    stream = stdin if stdin is not None else sys.stdin
    line = stream.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise OptionError("--password-stdin: standard input held no password")
    return Secret(password)


def insecure_warning() -> str:
    return f"WARNING: {INSECURE_WARNING}"


__all__ = [
    "DEFAULT_TIMEOUT",
    "OptionError",
    "add_connection_options",
    "connection_options_from",
    "insecure_warning",
    "read_password",
]
