"""Capture benchmark: decode a 50 MB SAZ and a 50 MB HAR of a mailbox sync made from the simulator.

The sync is recorded once against an in-process simulator, through the real client: Connect, logon, the
folder tree, then the contents table of every folder paged 50 rows at a time (each later page a RopQueryRows
in an Execute of its own, decoded with the columns the session set earlier), the address book bound, its
lists and the first GAL pages, Disconnect/Unbind. The recorded exchanges are then written again and again,
each copy as a session of its own (a fresh X-RequestId GUID), until the file holds ``--mb`` megabytes, once
as SAZ (:func:`write_saz`) and once as HAR (:func:`write_har`).

Each file is then decoded in a fresh process (``--decode FILE``), exchange by exchange as ``mapiprobe
decode --saz/--har`` does: read (zip member by member / ijson entry by entry), parse the HTTP messages,
follow the sessions, decode every request and response down to ROP rows and NSPI rows. Figures: MB of
capture file per second of wall time (and per CPU second: the machine may be shared), and the
process's RSS growth while decoding over its RSS before reading (sampled every 64 exchanges from
/proc/self/statm, and the growth of ``getrusage``'s peak RSS, whichever is larger). ``--json-output``
also renders every exchange as ``--json`` would.

Targets: at least 20 MB/s, RSS growth at most 3x the file size.

The two files hold the same run, but not the same number of exchanges per MB: a SAZ's members are deflated
(about 2.3:1 here) while a HAR stores bodies as base64 inside verbose JSON, so a MB of SAZ holds about three
times the exchanges of a MB of HAR. The cost is per exchange (reading, then decoding ROPs and rows), so the
figures also give exchanges per MB and CPU microseconds per exchange.

Run: ``python benchmarks/capture.py [--mb 50] [--json-output]``
"""

from __future__ import annotations

import argparse
import io
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

TARGET_MB_S = 20.0
TARGET_RSS_FACTOR = 3.0


def _rss_mb() -> float:
    """Peak RSS of this process so far (Linux: ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mb() -> float:
    """RSS now (/proc/self/statm; the peak where /proc is missing)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return _rss_mb()
    return pages * resource.getpagesize() / (1024 * 1024)


def record_sync() -> list:  # type: ignore[type-arg]
    from mapiprobe.session.addressbook import AddressBookSession
    from mapiprobe.session.mailbox import MailboxSession
    from mapiprobe.simulator import Simulator
    from mapiprobe.transport.auth import Credentials, Secret, make_auth
    from mapiprobe.transport.client import ConnectionOptions
    from mapiprobe.transport.trace import Trace

    trace = Trace()
    with Simulator() as sim:
        user = sim.users[0]
        options = ConnectionOptions(
            connect_to=tuple(sim.connect_to),
            ca_certs=(sim.ca_cert_path,),
            dns_server=f"127.0.0.1:{sim.dns_port}",
            connect_timeout=10,
            read_timeout=30,
        )
        base = f"https://mail.contoso.test/mapi/%s/?MailboxId={user.mailbox_guid}@{sim.domain}"
        # As the CLI's --auth auto: NTLM here (the simulator's /mapi/ offers no Basic, like Exchange 2019).
        auth = make_auth(Credentials(user=user.user, password=Secret(user.password)), "auto")
        with MailboxSession(
            base % "emsmdb",
            user_dn=user.legacy_dn,
            user=user.user,
            auth=auth,
            connection=options,
            trace=trace,
            keepalive=False,
            page_size=50,
        ) as mailbox:
            for folder in mailbox.folders():
                if folder.content_count:
                    mailbox.contents(folder)
        book = AddressBookSession(
            base % "nspi",
            user=user.user,
            auth=auth,
            connection=options,
            trace=trace,
            keepalive=False,
        )
        try:
            book.bind()
            book.address_lists()
            for _page in book.iter_pages(0, page_size=50, limit=300):
                pass
        finally:
            book.close()
    return list(trace.records)


_GUID = re.compile(r"\{[0-9A-Fa-f-]{36}\}")


def copies(records: list, target_bytes: int):  # type: ignore[no-untyped-def, type-arg]
    """The recorded exchanges again and again, each copy a session of its own, about ``target_bytes``."""
    size = sum(len(r.request_body or b"") + len(r.response_body or b"") + 600 for r in records)
    n = max(1, target_bytes // size + 1)
    seq = 0
    for _ in range(n):
        guid = "{" + str(uuid.uuid4()).upper() + "}"
        for rec in records:
            seq += 1
            headers = tuple(
                (k, _GUID.sub(guid, v) if k.lower() == "x-requestid" else v) for k, v in rec.request_headers
            )
            yield replace(rec, seq=seq, request_headers=headers)


def build(directory: Path, mb: float) -> tuple[Path, Path, int]:
    from mapiprobe.transport.capturefile import write_har, write_saz

    records = record_sync()
    target = int(mb * 1024 * 1024)
    # Compressed SAZ members are smaller than the HAR's base64: aim each file at the size asked for.
    saz, har = directory / "sync.saz", directory / "sync.har"
    probe = io.BytesIO()
    write_saz(records, probe)
    raw = sum(len(r.request_body or b"") + len(r.response_body or b"") + 600 for r in records)
    with saz.open("wb") as out:
        write_saz(copies(records, int(target * raw / max(1, probe.tell()))), out)
    probe_har = io.StringIO()
    write_har(records, probe_har)
    with har.open("w", encoding="utf-8") as out:
        write_har(copies(records, int(target * raw / max(1, len(probe_har.getvalue())))), out)
    return saz, har, len(records)


def decode_file(path: Path, json_output: bool) -> dict[str, float]:
    from mapiprobe.protocol.capture import open_capture
    from mapiprobe.protocol.capture_decode import decode_capture

    before = _current_rss_mb()
    peak_before = _rss_mb()
    highest = before
    started = time.perf_counter()
    cpu = time.process_time()
    exchanges = rows = failed = undecoded = 0
    with path.open("rb") as stream:
        capture = open_capture(stream, path.name)
        for d in decode_capture(capture):
            exchanges += 1
            failed += not d.ok  # as in the capture: the NTLM handshakes' 401 legs count here
            undecoded += d.request_error is not None or d.response_error is not None
            if json_output:
                rows += len(json.dumps(d.to_json()))
            if exchanges % 64 == 0:
                highest = max(highest, _current_rss_mb())
        notes = len(capture.notes)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    highest = max(highest, _current_rss_mb())
    size_mb = path.stat().st_size / (1024 * 1024)
    return {
        "file_mb": size_mb,
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "mb_per_s": size_mb / elapsed,
        "mb_per_cpu_s": size_mb / cpu,
        "rss_before_mb": before,
        "rss_peak_mb": max(highest, _rss_mb() if _rss_mb() > peak_before else 0),
        "rss_growth_mb": max(highest - before, _rss_mb() - peak_before),
        "exchanges": exchanges,
        "failed": failed,
        "undecoded": undecoded,
        "notes": notes,
        "json_chars": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=50)
    parser.add_argument("--json-output", action="store_true", help="also render every exchange as JSON")
    parser.add_argument("--decode", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.decode is not None:
        # Import what decoding needs before the baseline, so it measures the capture, not the code.
        import mapiprobe.protocol.capture_decode  # noqa: F401
        from mapiprobe.protocol.registry import kinds

        kinds()
        print(json.dumps(decode_file(args.decode, args.json_output)))
        return 0
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        saz, har, per_sync = build(Path(tmp), args.mb)
        print(
            f"recorded a sync of {per_sync} exchanges and wrote the files in {time.perf_counter() - t0:.1f} s"
        )
        for path in (saz, har):
            cmd = [sys.executable, __file__, "--decode", str(path)] + (
                ["--json-output"] if args.json_output else []
            )
            result = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            factor = result["rss_growth_mb"] / result["file_mb"]
            verdict = (
                result["mb_per_s"] >= TARGET_MB_S and factor <= TARGET_RSS_FACTOR and not result["undecoded"]
            )
            ok &= verdict
            print(
                f"{path.suffix[1:].upper()}: {result['file_mb']:.1f} MB, {result['exchanges']} exchanges "
                f"({result['failed']} failed in the capture, {result['undecoded']} not decodable) "
                f"in {result['seconds']:.2f} s = {result['mb_per_s']:.1f} MB/s "
                f"(target >= {TARGET_MB_S:.0f}; {result['mb_per_cpu_s']:.1f} MB per CPU second; "
                f"{result['exchanges'] / result['file_mb']:.0f} exchanges per MB, "
                f"{result['cpu_seconds'] / max(1, result['exchanges']) * 1e6:.0f} us CPU per exchange); "
                f"RSS {result['rss_before_mb']:.0f} MB before, {result['rss_peak_mb']:.0f} MB at most, "
                "growth "
                f"{result['rss_growth_mb']:.1f} MB = {factor:.2f}x the file "
                f"(target <= {TARGET_RSS_FACTOR:.0f}x) -> {'OK' if verdict else 'MISSED'}"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
