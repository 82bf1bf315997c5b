"""Command-line options every network command shares: where to connect, whom to trust, who to be.

``add_connection_options(parser)`` adds ``--connect-to`` (repeatable, curl's HOST:PORT:ADDR:PORT),
``--ca-cert FILE`` (repeatable), ``--insecure``, ``--timeout``, ``--max-pending``, ``--max-time`` (the
limits of transport/limits.py), ``--dns-server ADDR:PORT``, ``--proxy``, and who to be:
``--user``, ``--password-stdin``, ``--auth {auto,basic,ntlm,negotiate,bearer}``, ``--no-basic``,
``--token-file``, ``--save-password`` and ``--forget-password``; and ``--save-har FILE``
(:func:`add_capture_options`).

:func:`add_discovery_options` adds the Autodiscover group every discovering command shares (``--url``,
``--mapi-http-disabled``, ``--allow-redirect``, ``--no-srv``, ``--no-v2``, ``--no-redirect-probe``);
:func:`discovery_options_from` reads it.

:func:`connection_options_from` turns the network half into a
:class:`~mapiprobe.transport.client.ConnectionOptions` (raising :class:`OptionError` for bad values);
:func:`credentials_from` gathers the credentials and :func:`auth_from` turns them into the auth flow through
THE factory, :func:`mapiprobe.transport.auth.make_auth` (how ``auto`` chooses is documented there).
A password gets in only through standard input (:func:`read_password`) or the system keyring (saved earlier
with ``--save-password``), so that it never shows in a process list or a shell history; a bearer token
through standard input with ``--auth bearer``, ``--token-file`` or the ``MAPIPROBE_TOKEN`` variable.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, NamedTuple

import httpx

from mapiprobe.transport.auth import AUTH_CHOICES, AuthConfigError, Credentials, Secret, make_auth
from mapiprobe.transport.client import INSECURE_WARNING, ConnectionOptions, parse_connect_to
from mapiprobe.transport.limits import DEFAULT_MAX_PENDING
from mapiprobe.transport.resolve import parse_dns_server

if TYPE_CHECKING:
    import threading

    from mapiprobe.session.autodiscover import AutodiscoverSession, DiscoveryOptions
    from mapiprobe.transport.trace import Trace

# Exit status of every command: 0 success, 1 a server-side failure, 2 bad input.
EXIT_OK = 0
EXIT_SERVER_FAILURE = 1
EXIT_BAD_INPUT = 2

DEFAULT_TIMEOUT = 10.0
DEFAULT_AUTH = "auto"
TOKEN_ENV = "MAPIPROBE_TOKEN"


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
        help=f"time limit for each connection, answer and candidate (default {DEFAULT_TIMEOUT:g}): connect, "
        "TLS, sending, any silence, and also the whole response head (counted from the request being sent); "
        "a body slower than 1 KiB/s averaged over this many seconds is abandoned",
    )
    group.add_argument(
        "--max-pending",
        type=float,
        default=DEFAULT_MAX_PENDING,
        metavar="SECONDS",
        help=f"end a MAPI/HTTP request that only answers PENDING keep-alives after SECONDS (default "
        f"{DEFAULT_MAX_PENDING:g}; NotificationWait has its own 5.5-minute rule)",
    )
    group.add_argument(
        "--max-time",
        type=float,
        metavar="SECONDS",
        help="time limit for the whole command (as curl's --max-time; default: none)",
    )
    group.add_argument(
        "--dns-server",
        metavar="ADDR[:PORT]",
        help="resolve host names and SRV records with this DNS server instead of the system's",
    )
    group.add_argument(
        "--proxy",
        metavar="URL|none|pac+URL",
        help="send requests through this http:// proxy; 'none' for a direct connection; 'pac+URL' to "
        "evaluate a PAC file (default: the system's settings: https_proxy/http_proxy/no_proxy, and on "
        "Windows the WinINet settings and PAC file Outlook uses)",
    )
    group.add_argument("--user", metavar="USER", help="user name to log on with (default: the email address)")
    group.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input (the only way to give one; "
        "with --auth bearer, the token)",
    )
    group.add_argument(
        "--auth",
        choices=AUTH_CHOICES,
        default=DEFAULT_AUTH,
        help="authentication scheme (default auto: the strongest the server offers of Negotiate, NTLM, "
        "Bearer; Basic only when the server offers nothing stronger that can be used)",
    )
    group.add_argument(
        "--no-basic", action="store_true", help="with --auth auto, never send the password with Basic"
    )
    group.add_argument(
        "--token-file",
        type=Path,
        metavar="FILE",
        help=f"read a bearer token from FILE (or set {TOKEN_ENV})",
    )
    group.add_argument(
        "--save-password",
        action="store_true",
        help="store the --password-stdin password in the system keyring (service 'mapiprobe', one entry "
        "per account) for later runs",
    )
    group.add_argument(
        "--forget-password",
        action="store_true",
        help="delete this account's password from the system keyring",
    )
    add_capture_options(parser)


def add_capture_options(parser: argparse.ArgumentParser) -> None:
    """``--save-har FILE``: the run's exchanges as HAR when the command ends (cli/capture.py RunRecorder)."""
    group = parser.add_argument_group("capture")
    group.add_argument(
        "--save-har",
        type=Path,
        metavar="FILE",
        help="write every HTTP exchange of this run to FILE as HAR 1.2 (bodies base64; credentials and "
        "cookie values redacted), also when the run fails; read it back with 'mapiprobe decode --har'",
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
    proxy = getattr(args, "proxy", None)
    if proxy is not None:
        from mapiprobe.transport.proxy import ProxyError, settings_from_option

        try:
            settings_from_option(proxy)
        except ProxyError as exc:
            raise OptionError(f"--proxy: {exc}") from None
    timeout = float(args.timeout)
    if not timeout > 0:
        raise OptionError("--timeout must be a positive number of seconds")
    max_pending = float(getattr(args, "max_pending", DEFAULT_MAX_PENDING))
    if not max_pending > 0:
        raise OptionError("--max-pending must be a positive number of seconds")
    max_time = getattr(args, "max_time", None)
    if max_time is not None and not float(max_time) > 0:
        raise OptionError("--max-time must be a positive number of seconds")
    started = getattr(args, "started_at", None) or time.monotonic()  # the command's start, when known
    return ConnectionOptions(
        connect_to=tuple(args.connect_to),
        ca_certs=tuple(Path(p) for p in args.ca_cert),
        insecure=bool(args.insecure),
        connect_timeout=timeout,
        read_timeout=timeout,
        dns_server=args.dns_server,
        proxy=proxy,
        max_pending=max_pending,
        max_time=float(max_time) if max_time is not None else None,
        deadline=started + float(max_time) if max_time is not None else None,
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


def _read_token(args: argparse.Namespace) -> Secret | None:
    path = getattr(args, "token_file", None)
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise OptionError(f"--token-file {path}: {exc.strerror or exc}") from None
        if not text:
            raise OptionError(f"--token-file {path}: the file holds no token")
        return Secret(text.splitlines()[0].strip())
    env = os.environ.get(TOKEN_ENV, "").strip()
    return Secret(env) if env else None


def credentials_from(
    args: argparse.Namespace,
    account: str | None = None,
    *,
    stdin: IO[str] | None = None,
    notes: list[str] | None = None,
) -> Credentials | None:
    """Who to be, from the options: the password (standard input, else the keyring), the bearer token, the
    scheme's needs. ``account`` is the address the command works for (the keyring entry's name unless
    ``--user`` is given). Keyring actions and problems are described in ``notes`` (never the secret)."""
    from mapiprobe.transport import credentials as store

    scheme = getattr(args, "auth", DEFAULT_AUTH) or DEFAULT_AUTH
    user = getattr(args, "user", None) or account
    secret = read_password(args, stdin)
    token = _read_token(args)
    if scheme == "bearer" and secret is not None:
        token, secret = secret, None  # --password-stdin with --auth bearer: the line is the token
    say = notes.append if notes is not None else (lambda text: None)
    save = bool(getattr(args, "save_password", False))
    forget = bool(getattr(args, "forget_password", False))
    if save and forget:
        raise OptionError("--save-password and --forget-password exclude each other")
    if save and secret is None:
        raise OptionError("--save-password needs the password on standard input (--password-stdin)")
    if (save or forget) and not user:
        raise OptionError("--save-password/--forget-password need an account (--user or an address)")
    try:
        if forget and user:
            found = store.forget_password(user)
            say(f"keyring: {'deleted the' if found else 'there was no'} saved password for {user.lower()}")
        elif save and user and secret is not None:
            store.save_password(user, secret)
            say(f"keyring: saved the password for {user.lower()} ({store.backend_name()})")
        elif secret is None and token is None and user and scheme != "bearer":
            secret = store.load_password(user)
            if secret is not None:
                say(f"keyring: using the saved password for {user.lower()}")
    except store.CredentialStoreError as exc:
        if save:
            raise OptionError(str(exc)) from None
        say(f"keyring: {exc}")
    creds = Credentials(
        user=user,
        password=secret,
        token=token,
        current_user=secret is None and scheme in ("ntlm", "negotiate"),
        allow_basic=not getattr(args, "no_basic", False),
    )
    return None if creds.is_empty else creds


def auth_from(args: argparse.Namespace, credentials: Credentials | None) -> httpx.Auth | None:
    """The auth flow for ``credentials`` and ``--auth`` (THE factory); OptionError when they do not fit."""
    try:
        return make_auth(credentials, getattr(args, "auth", DEFAULT_AUTH) or DEFAULT_AUTH)
    except AuthConfigError as exc:
        raise OptionError(str(exc)) from None


# -- discovery: one group, the same on every command that runs Autodiscover ------------------------------

DISCOVERY_GROUP = "discovery"


class SessionSetup(NamedTuple):
    """What :func:`session_setup_from` reads from the options."""

    connection: ConnectionOptions
    credentials: Credentials | None
    auth: httpx.Auth | None
    notes: list[str]
    """Keyring actions and problems, to print on standard error (:func:`print_notes`)."""


def session_setup_from(args: argparse.Namespace, account: str | None) -> SessionSetup:
    """The connection options, the credentials for ``account`` and the auth flow they make (so that a scheme
    that cannot work with what was given fails here, as bad input): OptionError for bad input."""
    connection = connection_options_from(args)
    notes: list[str] = []
    credentials = credentials_from(args, account, notes=notes)
    auth = auth_from(args, credentials)
    return SessionSetup(connection, credentials, auth, notes)


def print_notes(notes: list[str], connection: ConnectionOptions | None = None) -> None:
    """``notes`` on standard error, then the insecure warning when ``connection`` skips TLS checks."""
    for note in notes:
        print(note, file=sys.stderr)
    if connection is not None and connection.insecure:
        print(insecure_warning(), file=sys.stderr)


def add_discovery_options(parser: argparse.ArgumentParser) -> None:
    """The Autodiscover options of every command that discovers (autodiscover, folders, contents,
    addresslists, gal, resolve, probe, check): the same names, help and meaning everywhere (a test walks
    every sub-command and compares). ``--dns-server`` (connection options) also steers discovery."""
    group = parser.add_argument_group(
        DISCOVERY_GROUP, "how Autodiscover finds the endpoints (as Outlook does: MS-OXDISCO, MS-OXDSCLI)"
    )
    group.add_argument(
        "--url",
        metavar="URL",
        help="skip the candidate search: POST Autodiscover to this https:// URL (e.g. a lab server whose "
        "domain has no Autodiscover DNS)",
    )
    group.add_argument(
        "--mapi-http-disabled",
        action="store_true",
        help="emulate Outlook's MapiHttpDisabled=1: Autodiscover without X-MapiHttpCapability, so the "
        "server answers with RPC/HTTP settings (a mapiHttp block sent anyway is ignored and reported)",
    )
    group.add_argument(
        "--allow-redirect",
        action="extend",
        nargs="+",
        default=[],
        metavar="HOST",
        help="approve Autodiscover redirects to these hosts (or, for redirectAddr, domains) without asking",
    )
    group.add_argument("--no-srv", action="store_true", help="skip the DNS SRV candidate")
    group.add_argument("--no-v2", action="store_true", help="skip the Autodiscover v2 (JSON) lookup")
    group.add_argument(
        "--no-redirect-probe",
        action="store_true",
        help="skip the plain-HTTP redirect probe (MS-OXDISCO 3.1.5.4)",
    )


def discovery_options_from(args: argparse.Namespace, connection: ConnectionOptions) -> DiscoveryOptions:
    """The :class:`~mapiprobe.session.autodiscover.DiscoveryOptions` of :func:`add_discovery_options`'
    group (OptionError for a --url that is not https://)."""
    from mapiprobe.session.autodiscover import DiscoveryOptions

    url = getattr(args, "url", None)
    if url is not None and not str(url).lower().startswith("https://"):
        raise OptionError(f"--url {url}: an Autodiscover URL must be https:// (credentials go only over TLS)")
    return DiscoveryOptions(
        mapi_http_disabled=bool(getattr(args, "mapi_http_disabled", False)),
        url=url,
        allowed_hosts=frozenset(h.lower() for h in getattr(args, "allow_redirect", ())),
        candidate_timeout=connection.connect_timeout,
        use_srv=not getattr(args, "no_srv", False),
        use_v2=not getattr(args, "no_v2", False),
        use_redirect_probe=not getattr(args, "no_redirect_probe", False),
    )


def autodiscover_session(
    args: argparse.Namespace,
    connection: ConnectionOptions,
    credentials: Credentials | None,
    *,
    cancel: threading.Event,
    trace: Trace,
) -> AutodiscoverSession:
    """Autodiscover for ``args.email`` as ``--user``/``--auth`` and the discovery options say, not yet run:
    OptionError for bad input (a --url that is not https://, options the session refuses)."""
    from mapiprobe.session.autodiscover import AutodiscoverSession, UsageError

    options = discovery_options_from(args, connection)
    try:
        return AutodiscoverSession(
            args.email,
            user=args.user,
            credentials=credentials,
            auth_scheme=args.auth,
            connection=connection,
            options=options,
            cancel=cancel,
            trace=trace,
        )
    except UsageError as exc:
        raise OptionError(str(exc)) from None


__all__ = [
    "DEFAULT_AUTH",
    "DEFAULT_TIMEOUT",
    "DISCOVERY_GROUP",
    "TOKEN_ENV",
    "OptionError",
    "SessionSetup",
    "add_capture_options",
    "add_connection_options",
    "add_discovery_options",
    "auth_from",
    "autodiscover_session",
    "connection_options_from",
    "credentials_from",
    "discovery_options_from",
    "insecure_warning",
    "print_notes",
    "read_password",
    "session_setup_from",
]
