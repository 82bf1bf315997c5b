"""Captures on the command line: ``mapiprobe decode --saz FILE`` / ``--har FILE``, and ``--save-har FILE``.

``decode --saz/--har`` reads a Fiddler session archive or a HAR file exchange by exchange and prints each
one as it is decoded (protocol/capture.py, protocol/capture_decode.py): text by default, or with ``--json``
one object ``{"exchanges": [...], "notes": [...]}`` written as it goes, so a large capture never sits in
memory whole. Exit status: 0 when the capture was read and every MAPI/HTTP body decoded (failed requests in
the capture are shown, not counted against it: a 401 is the first leg of every NTLM handshake), 2 when the
file cannot be read, is damaged, or holds a body that does not decode.

``--save-har FILE`` (every network command; :func:`mapiprobe.cli.options.add_capture_options`) writes the
run's exchanges as HAR when the command ends, also when it failed: a command takes its traces from
``recorder_from(args).trace()``, and cli/main.py calls :func:`save_recording` after the command. Records
are redacted when they are made, so the file holds no password, token, NTLM message or cookie value.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import IO, Any

from mapiprobe.cli.options import EXIT_BAD_INPUT, EXIT_OK
from mapiprobe.transport.trace import Trace, TraceRecord


class RunRecorder:
    """Keeps every record of the traces it made or was given, and writes them to ``--save-har`` at the end."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.records: list[TraceRecord] = []

    def trace(self) -> Trace:
        """A new trace whose records are kept."""
        return self.attach(Trace())

    def attach(self, trace: Trace) -> Trace:
        if self.path is not None:
            trace.add_listener(self.records.append)
        return trace

    def save(self, prog: str = "mapiprobe") -> bool:
        """Write the HAR (records in the order they started); False (and a message) if it cannot."""
        if self.path is None:
            return True
        from mapiprobe.transport.capturefile import write_har

        records = sorted(self.records, key=lambda r: (r.started_at, r.seq))
        try:
            with self.path.open("w", encoding="utf-8") as out:
                count = write_har(records, out, comment=f"{prog} run")
        except OSError as exc:
            print(f"{prog}: --save-har {self.path}: {exc.strerror or exc}", file=sys.stderr)
            return False
        print(
            f"{prog}: saved {count} exchange(s) to {self.path} (HAR, credentials redacted)", file=sys.stderr
        )
        return True


def recorder_from(args: argparse.Namespace) -> RunRecorder:
    """The run's recorder (one per command run, kept on ``args``; cli/main.py saves it when the command
    returns or raises)."""
    recorder = getattr(args, "_recorder", None)
    if not isinstance(recorder, RunRecorder):
        recorder = RunRecorder(getattr(args, "save_har", None))
        args._recorder = recorder
    return recorder


def save_recording(args: argparse.Namespace) -> None:
    """Write ``--save-har`` if the command made a recorder (called by cli/main.py, also after a failure)."""
    recorder = getattr(args, "_recorder", None)
    if isinstance(recorder, RunRecorder):
        recorder.save(f"mapiprobe {getattr(args, 'command', '')}".strip())


def cmd_decode_capture(args: argparse.Namespace) -> int:
    """``decode --saz FILE`` / ``decode --har FILE`` (see the module docstring)."""
    from mapiprobe.protocol.capture import read_har, read_saz
    from mapiprobe.protocol.capture_decode import CaptureDecoder, render_text

    path = Path(args.saz or args.har)
    if args.kind is not None or args.columns is not None or args.request_type is not None:
        print("mapiprobe decode: --saz/--har take no KIND, --columns or --request-type", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        stream: IO[bytes] = sys.stdin.buffer if str(path) == "-" else path.open("rb")
    except OSError as exc:
        print(f"mapiprobe decode: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    bad = False
    with stream:
        if args.saz and not stream.seekable():
            print("mapiprobe decode: --saz needs a file (a zip is read from its end)", file=sys.stderr)
            return EXIT_BAD_INPUT
        capture = read_saz(stream) if args.saz else read_har(stream)
        decoder = CaptureDecoder()
        out = sys.stdout
        count = 0
        if args.json:
            out.write('{"exchanges": [')
        for exchange in capture:
            decoded = decoder.decode(exchange)
            bad = bad or decoded.request_error is not None or decoded.response_error is not None
            if args.json:
                out.write(("," if count else "") + "\n" + _indented(decoded.to_json()))
            else:
                out.write(("\n" if count else "") + "\n".join(render_text(decoded)) + "\n")
            count += 1
        notes = list(capture.notes)
    if args.json:
        out.write(("\n" if count else "") + '],\n"notes": ' + json.dumps(notes, ensure_ascii=False) + "}\n")
    else:
        kind = "SAZ" if args.saz else "HAR"
        print(f"\n{count} exchange(s) in {path} ({kind})")
        for note in notes:
            print(f"note: {note}")
    if notes and not count:
        print(f"mapiprobe decode: {path}: {notes[0]}", file=sys.stderr)
    return EXIT_BAD_INPUT if bad or notes else EXIT_OK


def _indented(obj: Any) -> str:
    return "\n".join("  " + line for line in json.dumps(obj, indent=2, ensure_ascii=False).splitlines())


__all__ = ["RunRecorder", "cmd_decode_capture", "recorder_from", "save_recording"]
