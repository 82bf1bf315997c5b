"""``mapiprobe probe EMAIL|URL``: what the endpoints show before logging on, and their certificates.

For an address: the two Autodiscover candidates of its domain and, when a password (or a token) is given so
that Autodiscover can run, the mailbox and address book endpoints (internal and external). For a URL: that
URL. Each gets one request without credentials (status, offered schemes, front-end headers); each host gets
a certificate report (session/probe.py). With ``--insecure`` every line of output says so.

Exit status: 0 every endpoint answered and every certificate passed; 1 a certificate problem, an
unreachable endpoint or an endpoint that answered without credentials; 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from mapiprobe.cli.options import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_SERVER_FAILURE,
    OptionError,
    add_connection_options,
    add_discovery_options,
    connection_options_from,
    credentials_from,
    discovery_options_from,
    insecure_warning,
)

INSECURE_MARK = "[--insecure]"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "probe",
        help="anonymous probe of the endpoints (status, offered schemes, front end) and their certificates",
        description="Send one request WITHOUT credentials to each endpoint of EMAIL (its Autodiscover "
        "candidates; with --password-stdin also the mailbox and address book endpoints Autodiscover names) "
        "or to URL, and report the HTTP status, the authentication schemes offered, the front-end headers "
        "and, per host, the TLS certificate (names, validity, key, chain as sent, verdict). Where Negotiate "
        "is offered it also says whether Kerberos can work (a missing SPN is named) and, with credentials, "
        "which mechanism Negotiate used.\n\nExit status: 0 all good; 1 a problem found; 2 bad input.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("target", metavar="EMAIL|URL", help="a mailbox address or an https:// endpoint URL")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="show progress on standard error")
    add_discovery_options(parser)  # its --url is the Autodiscover URL (the positional URL is an endpoint)
    add_connection_options(parser)
    parser.set_defaults(func=cmd_probe)


def _cert_json(cert: Any) -> dict[str, Any] | None:
    if cert is None:
        return None
    return {
        "subject": cert.subject,
        "issuer": cert.issuer,
        "subject_alt_names": list(cert.subject_alt_names),
        "not_before": cert.not_before.isoformat(),
        "not_after": cert.not_after.isoformat(),
        "serial_number": cert.serial_number,
        "sha256_fingerprint": cert.sha256_fingerprint,
        "key_type": cert.key_type,
        "key_size": cert.key_size,
        "curve": cert.curve,
        "signature_algorithm": cert.signature_algorithm,
        "self_signed": cert.self_signed,
        "is_ca": cert.is_ca,
    }


def report_json(report: Any) -> dict[str, Any]:
    """The JSON form of a :class:`~mapiprobe.session.probe.ProbeReport`."""
    endpoints = []
    for e in report.endpoints:
        item: dict[str, Any] = {
            "role": e.role,
            "url": e.url,
            "status": e.status,
            "offered_schemes": list(e.offered),
            "realm": e.realm,
            "front_end": dict(e.front_end),
            "anonymous_allowed": e.anonymous_allowed,
            "elapsed_ms": e.elapsed_ms,
            "error": e.error,
            "error_kind": e.error_kind,
            "negotiate": None,
        }
        if e.negotiate is not None:
            k = e.negotiate.kerberos
            item["negotiate"] = {
                "kerberos": None
                if k is None
                else {
                    "spn": k.spn,
                    "ok": k.ok,
                    "reason": k.reason,
                    "missing_spn": k.missing_spn,
                    "available": k.available,
                },
                "mechanism": e.negotiate.mechanism,
                "authenticated": e.negotiate.authenticated,
                "detail": e.negotiate.detail,
            }
        endpoints.append(item)
    certificates = [
        {
            "host": c.host,
            "port": c.port,
            "ok": c.ok,
            "verified": c.verified,
            "problems": list(c.problems),
            "reason": c.reason,
            "verify_error": c.verify_error,
            "verify_code": c.verify_code,
            "tls_version": c.tls_version,
            "cipher": c.cipher,
            "cipher_bits": c.cipher_bits,
            "name_matches": c.name_matches,
            "days_to_expiry": c.days_to_expiry,
            "certificate": _cert_json(c.certificate),
            "chain": [_cert_json(x) for x in c.chain],
            "chain_source": c.chain_source,
            "error": c.error,
            "insecure": c.insecure,
        }
        for c in report.certificates
    ]
    out: dict[str, Any] = {
        "target": report.target,
        "insecure": report.insecure,
        "discovery": report.discovery,
        "endpoints": endpoints,
        "certificates": certificates,
        "notes": list(report.notes),
    }
    if report.insecure:
        out["warning"] = insecure_warning()
    return out


def report_lines(report: Any) -> list[str]:
    """The human form; with --insecure every line carries the mark."""
    lines = [f"Probe of {report.target} (requests without credentials)"]
    if report.discovery:
        lines.append(f"MAPI/HTTP endpoints: {report.discovery}")
    lines += ["", "Endpoints"]
    for e in report.endpoints:
        lines.append(f"  {e.role}: {e.url}")
        if e.error:
            lines.append(f"    unreachable: {e.error}")
            continue
        offered = ", ".join(e.offered) or "none"
        realm = f" (realm {e.realm})" if e.realm else ""
        lines.append(f"    HTTP {e.status}; schemes offered: {offered}{realm}; {e.elapsed_ms} ms")
        if e.anonymous_allowed:
            lines.append("    NOTE: answered without asking for credentials")
        for name, value in e.front_end:
            lines.append(f"    {name}: {value}")
        if e.negotiate is not None:
            k = e.negotiate.kerberos
            if k is not None:
                verdict = "a ticket can be had" if k.ok else (k.reason or "no ticket")
                lines.append(f"    Kerberos for {k.spn}: {verdict}")
            if e.negotiate.mechanism:
                lines.append(f"    Negotiate used: {e.negotiate.mechanism}")
            if e.negotiate.detail:
                lines.append(f"    {e.negotiate.detail}")
    lines += ["", "Certificates"]
    for c in report.certificates:
        head = f"  {c.host}:{c.port}"
        if c.error:
            lines.append(f"{head}: no TLS: {c.error}")
            continue
        verdict = "OK" if c.ok else f"PROBLEM: {c.reason or c.verify_error or ', '.join(c.problems)}"
        lines.append(f"{head}: {verdict}")
        cert = c.certificate
        if cert is not None:
            lines.append(f"    subject {cert.subject}; issuer {cert.issuer}")
            lines.append(f"    names: {', '.join(cert.subject_alt_names) or 'none'}")
            left = f"{c.days_to_expiry} days left" if (c.days_to_expiry or 0) >= 0 else "EXPIRED"
            lines.append(f"    valid {cert.not_before:%Y-%m-%d} to {cert.not_after:%Y-%m-%d} ({left})")
            key = f"{cert.key_type or '?'} {cert.key_size or ''}".strip()
            if cert.curve:
                key += f" ({cert.curve})"
            lines.append(f"    key {key}; signature {cert.signature_algorithm or '?'}")
        lines.append(f"    {c.tls_version or '?'} {c.cipher or ''}".rstrip())
        lines.append(f"    chain as sent ({c.chain_source}): {len(c.chain)} certificate(s)")
        for extra in c.chain[1:]:
            lines.append(f"      + {extra.subject} (issued by {extra.issuer})")
        if c.problems and c.verify_error:
            lines.append(f"    verification: {c.verify_error}")
    for note in report.notes:
        lines.append(f"note: {note}")
    if report.insecure:
        lines = [insecure_warning(), *(f"{INSECURE_MARK} {line}" if line else line for line in lines)]
    return lines


def exit_status(report: Any) -> int:
    bad = any(e.error or e.anonymous_allowed for e in report.endpoints if "autodiscover (" not in e.role)
    bad = bad or any(not c.ok for c in report.certificates if not c.error)
    bad = bad or not report.endpoints or all(e.error for e in report.endpoints) or report.rpc_http_only
    return EXIT_SERVER_FAILURE if bad else EXIT_OK


def cmd_probe(args: argparse.Namespace) -> int:
    from mapiprobe.cli.capture import recorder_from
    from mapiprobe.session.probe import Prober, ProbeUsageError

    prog = "mapiprobe probe"
    try:
        connection = connection_options_from(args)
        notes: list[str] = []
        account = args.target if "@" in args.target and "://" not in args.target else None
        credentials = credentials_from(args, account, notes=notes)
        discovery = discovery_options_from(args, connection)
    except OptionError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for note in notes:
        print(note, file=sys.stderr)

    def progress(text: str) -> None:
        if args.verbose:
            print(f"{INSECURE_MARK + ' ' if connection.insecure else ''}[probe] {text}", file=sys.stderr)

    try:
        prober = Prober(
            args.target,
            connection=connection,
            credentials=credentials,
            auth_scheme=args.auth,
            trace=recorder_from(args).trace(),
            progress=progress,
            discovery=discovery,
        )
    except ProbeUsageError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    report = prober.run()
    if args.json:
        print(json.dumps(report_json(report), indent=2, ensure_ascii=False))
    else:
        print("\n".join(report_lines(report)))
    return exit_status(report)


__all__ = ["cmd_probe", "exit_status", "register", "report_json", "report_lines"]
