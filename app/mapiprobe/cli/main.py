"""The ``mapiprobe`` command line: a thin front end over protocol/, session/ and diagnostics/.

Exit status: 0 success, 1 a server-side failure, 2 bad input (including bytes that do not decode).
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mapiprobe import __version__
from mapiprobe.cli.options import EXIT_BAD_INPUT, EXIT_OK
from mapiprobe.protocol.errors import ProtocolError
from mapiprobe.protocol.jsonview import render_tree, to_jsonable
from mapiprobe.protocol.registry import DecodeContext, kinds

# Other command modules add their sub-commands through ``register(subparsers)``; listing them here keeps
# this file free of their logic. A module that does not exist yet is skipped.
_COMMAND_MODULES = (
    "mapiprobe.cli.autodiscover",
    "mapiprobe.cli.simulator",
    "mapiprobe.cli.mailbox",
    "mapiprobe.cli.addressbook",
    "mapiprobe.cli.probe",
    "mapiprobe.cli.check",
    "mapiprobe.cli.compare",
)

_HEX_JUNK = re.compile(r"0x|[\s:,;\-_]|\\x", re.IGNORECASE)


class UsageError(Exception):
    """Bad command-line input (exit status 2)."""


def parse_hex(text: str) -> bytes:
    """Accept hex as the specs and hex dumps print it: spaces, colons, ``0x`` prefixes, line breaks."""
    # Drop "offset:" prefixes of dumps such as "0000: 08 00 01 00".
    lines = [re.sub(r"^\s*[0-9A-Fa-f]{4,8}:\s", "", line) for line in text.splitlines()]
    cleaned = _HEX_JUNK.sub("", "".join(lines))
    if len(cleaned) % 2:
        raise UsageError(f"hex input has an odd number of digits ({len(cleaned)})")
    try:
        return bytes.fromhex(cleaned)
    except ValueError as exc:
        raise UsageError(f"hex input is not hexadecimal: {exc}") from None


def read_input(hex_text: str | None, path: str | None) -> bytes:
    if hex_text is not None:
        return parse_hex(hex_text)
    assert path is not None
    try:
        raw = Path(path).read_bytes() if path != "-" else sys.stdin.buffer.read()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    # A file that holds hex text (as copied from a spec) is decoded as hex.
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return raw
    # Comment lines ("# MS-OXCTABL 4.5.3.1 ...") as in tests/data are allowed in a hex file.
    body = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    if body.strip() and re.fullmatch(r"[0-9A-Fa-fxX\s:,;\\\-_]*", body):
        return parse_hex(body)
    return raw


def parse_columns(spec: str | None) -> tuple[int, ...] | None:
    if spec is None:
        return None
    tags: list[int] = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        try:
            tags.append(int(item, 0) if item.lower().startswith("0x") else int(item, 16))
            continue
        except ValueError:
            pass
        tag = _tag_by_name(item)
        if tag is None:
            raise UsageError(f"unknown property tag {item!r} (give 0xXXXXXXXX or a PidTag name)")
        tags.append(tag)
    return tuple(tags)


def _tag_by_name(name: str) -> int | None:
    try:
        mod = importlib.import_module("mapiprobe.protocol.properties")
    except ModuleNotFoundError:
        return None
    finder: Callable[[str], int | None] | None = getattr(mod, "tag_by_name", None)
    return finder(name) if finder else None


def _emit(data: Any, as_json: bool, out: Any = None) -> None:
    out = out or sys.stdout
    if as_json:
        out.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        out.write("\n".join(render_tree(data)) + "\n")


def cmd_decode(args: argparse.Namespace) -> int:
    if getattr(args, "saz", None) or getattr(args, "har", None):
        from mapiprobe.cli.capture import cmd_decode_capture

        return cmd_decode_capture(args)
    table = kinds()
    if args.kind is None:
        print("mapiprobe decode: give KIND (see --help), or --saz/--har FILE", file=sys.stderr)
        return EXIT_BAD_INPUT
    kind = table[args.kind]
    try:
        data = read_input(args.hex, args.file)
        columns = parse_columns(args.columns)
    except UsageError as exc:
        print(f"mapiprobe decode: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if kind.needs_columns and columns is None:
        # Not an error for every input (a response without rows needs none); the decoder says so
        # precisely if it reaches rows without columns.
        pass
    ctx = DecodeContext(columns=columns, request_type=args.request_type)
    try:
        result = kind.func(data, ctx)
    except ProtocolError as exc:
        partial = to_jsonable(ctx.partial)
        error = {
            "reason": exc.message,
            "offset": exc.offset,
            "expected": exc.expected,
            "field": exc.field,
            "error": type(exc).__name__,
        }
        if args.json:
            _emit({"kind": args.kind, "ok": False, "decoded": partial, "error": error}, True)
        else:
            if partial:
                print("Decoded before the fault:")
                _emit(partial, False)
            print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    value = to_jsonable(result)
    if args.json:
        _emit({"kind": args.kind, "ok": True, "decoded": value}, True)
    else:
        _emit(value, False)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """Decode the bundled sample capture; with ``--check``, run the desktop demo's flow as text instead."""
    if getattr(args, "check", False):
        return _demo_check(args)
    from mapiprobe.resources import resource_path

    sample = resource_path("samples", "execute-response.hex")
    print(f"Decoding the sample MAPI/HTTP Execute response {sample}\n")
    ns = argparse.Namespace(
        kind="mapihttp-response",
        hex=None,
        file=str(sample),
        columns="0x3001001F,0x67480014,0x36020003,0x36030003,0x360A000B,0x3613001F",
        request_type="Execute",
        json=args.json,
    )
    return cmd_decode(ns)


def _demo_check(args: argparse.Namespace) -> int:
    import io

    from mapiprobe.simulator import SCENARIOS, Simulator

    if args.scenario not in SCENARIOS:
        print(f"unknown scenario {args.scenario!r}; choose one of {', '.join(SCENARIOS)}", file=sys.stderr)
        return 2
    with Simulator(scenario=args.scenario) as sim:
        user = sim.users[0]
        print(
            f"Demo: a simulated Exchange organisation ({sim.domain}, scenario {args.scenario}) runs in this "
            f"process on 127.0.0.1; checking {user.email} as the desktop window would.\n"
        )
        argv = ["check", user.email, "--user", user.user, "--password-stdin"]
        for rule in sim.connect_to:
            argv += ["--connect-to", rule]
        argv += ["--ca-cert", str(sim.ca_cert_path), "--dns-server", f"127.0.0.1:{sim.dns_port}"]
        if args.json:
            argv.append("--json")
        stdin, sys.stdin = sys.stdin, io.StringIO(user.password + "\n")
        try:
            return main(argv)
        finally:
            sys.stdin = stdin


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mapiprobe",
        description="Diagnose Outlook connectivity: Autodiscover, MAPI over HTTP and the address book.",
    )
    parser.add_argument("--version", action="version", version=f"mapiprobe {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    table = kinds()
    dec = sub.add_parser(
        "decode",
        help="turn captured bytes into a readable tree or JSON",
        description="Decode captured MAPI/HTTP bytes (KIND with --hex/--file), or a whole capture "
        "(--saz/--har FILE). Kinds:\n" + "\n".join(f"  {k.name:<22} {k.help}" for k in table.values()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dec.add_argument(
        "kind", nargs="?", choices=sorted(table), metavar="KIND", help="what the bytes are (see above)"
    )
    src = dec.add_mutually_exclusive_group(required=True)
    src.add_argument("--hex", help="the bytes as hex (spaces, colons and 0x prefixes are ignored)")
    src.add_argument("--file", help="a file of raw bytes or of hex text ('-' reads standard input)")
    src.add_argument(
        "--saz",
        metavar="FILE",
        help="a Fiddler session archive: every exchange in order, MAPI/HTTP decoded following each session "
        "(no KIND, no --columns)",
    )
    src.add_argument("--har", metavar="FILE", help="a HAR file (HAR 1.2; '-' reads standard input), as --saz")
    dec.add_argument("--columns", help="property tags of the rows: 0x3001001F,PidTagSubject,...")
    dec.add_argument(
        "--request-type", help="X-RequestType of the body inside a framed response (Connect, Execute, ...)"
    )
    dec.add_argument("--json", action="store_true", help="print JSON with the spec's field names")
    dec.set_defaults(func=cmd_decode)

    demo = sub.add_parser(
        "demo",
        help="decode a bundled sample capture, or (--check) diagnose the simulated organisation as text",
    )
    demo.add_argument("--json", action="store_true")
    demo.add_argument(
        "--check",
        action="store_true",
        help="start the simulated organisation in this process and run 'mapiprobe check' against its demo "
        "account: the desktop demo's flow (Autodiscover, mailbox, address book) as text, for machines "
        "without a display",
    )
    demo.add_argument(
        "--scenario", default="normal", metavar="NAME", help="simulator scenario (with --check)"
    )
    demo.set_defaults(func=cmd_demo)

    for name in _COMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        mod.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.started_at = time.monotonic()  # --max-time counts from here
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if getattr(args, "save_har", None) is not None:
            from mapiprobe.cli.capture import save_recording

            save_recording(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
