"""Address book benchmark against a 100,000-entry simulated GAL on loopback (HTTPS, Basic, MAPI/HTTP).

Figures, with the targets of issue 5:

* **Bind to first page**: a fresh session's Bind + GetSpecialTable-free first QueryRows of 50 rows
  (median of several runs; target <= 150 ms).
* **Entries per second over the whole list**: every row of the GAL through QueryRows pages, decoded into
  :class:`~mapiprobe.session.addressbook.AbEntry` objects, end to end (client + loopback + server) and
  client decoding alone (the captured response bodies decoded again; target >= 50,000/s).
* **Peak RSS growth with all rows held**: the client process's high-water mark while it holds every
  AbEntry of the GAL, over its RSS before the listing (target <= 100 MB).

The simulator runs in its own process (``mapiprobe simulator --gal-size N --json``) so that its memory and
CPU are not counted as the client's. The first Bind generates the directory (seconds for 100,000 entries)
and the first listing fills the server's row cache; both happen in a warm-up before anything is timed.

Run: ``python benchmarks/addressbook.py [--gal-size N] [--page-size N] [--runs N]``
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from mapiprobe.protocol.nspi import QueryRowsResponse
from mapiprobe.session.addressbook import ENTRY_COLUMNS, AbEntry, AddressBookSession, entries_from_rows
from mapiprobe.transport.client import ConnectionOptions

TARGET_FIRST_PAGE_MS = 150.0
TARGET_ENTRIES_PER_S = 50_000.0
TARGET_RSS_MB = 100.0


def _status_kb(field: str) -> int:
    """VmRSS / VmHWM of this process in KiB (Linux); 0 elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to /proc/self/clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def start_simulator(gal_size: int) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen(
        # basic-only: Basic, one leg per request, as the figures were first measured
        [
            sys.executable,
            "-m",
            "mapiprobe",
            "simulator",
            "--json",
            "--gal-size",
            str(gal_size),
            "--scenario",
            "basic-only",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise SystemExit("the simulator did not start")
    return proc, json.loads(line)


def session_for(info: dict[str, Any]) -> AddressBookSession:
    user = info["users"][0]
    options = ConnectionOptions(
        connect_to=tuple(info["connect_to"]),
        ca_certs=(Path(info["ca_cert"]),),
        connect_timeout=30,
        read_timeout=120,
    )
    guid_url = f"https://mail.{info['domain']}/mapi/nspi/?MailboxId="
    return AddressBookSession(
        guid_url + _mailbox_id(info, user["email"]),
        user=user["user"],
        password=user["password"],
        connection=options,
        keepalive=False,
    )


def _mailbox_id(info: dict[str, Any], email: str) -> str:
    from mapiprobe.simulator.org import load_organisation

    org = load_organisation()
    user = org.find_user(email)
    assert user is not None
    return f"{user.mailbox_guid}@{info['domain']}"


def list_all(
    session: AddressBookSession, page_size: int, bodies: list[bytes] | None = None, *, keep: bool = True
) -> list[AbEntry]:
    """Every row of the GAL; ``keep=False`` drops each page once read (the warm-up must not raise this
    process's memory high-water mark before it is measured)."""
    entries: list[AbEntry] = []
    for page in session.iter_pages(page_size=page_size):
        if keep:
            entries.extend(page.entries)
        if bodies is not None and session.last_result is not None:
            bodies.append(session.last_result.body)
    return entries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--gal-size", type=int, default=100_000)
    parser.add_argument(
        "--page-size", type=int, default=1000, help="rows per QueryRows when listing everything"
    )
    parser.add_argument(
        "--runs", type=int, default=7, help="Bind-to-first-page runs (the median is reported)"
    )
    args = parser.parse_args(argv)

    proc, info = start_simulator(args.gal_size)
    try:
        print(f"simulator: {args.gal_size} entries, HTTPS 127.0.0.1:{info['https_port']} (own process)")
        started = time.perf_counter()
        with session_for(info) as warm:
            list_all(warm, args.page_size, keep=False)  # directory generation + server row cache
        print(f"warm-up (directory generation, first listing): {time.perf_counter() - started:.1f} s")

        # 1. Bind to the first page of 50 rows, fresh session (TCP + TLS + Bind + QueryRows) each time.
        times = []
        for _ in range(args.runs):
            session = session_for(info)
            t0 = time.perf_counter()
            session.bind()
            page = session.page(count=50)
            times.append((time.perf_counter() - t0) * 1000)
            assert len(page.entries) == 50
            session.close()
        first_page = statistics.median(times)

        # 2 + 3. The whole list, every AbEntry held; RSS growth of this process.
        gc.collect()
        with session_for(info) as session:
            session.page(count=1)  # connection and context up before measuring
            gc.collect()
            peak_reset = _reset_peak()
            rss_before = _status_kb("VmRSS")
            t0 = time.perf_counter()
            entries = list_all(session, args.page_size)
            elapsed = time.perf_counter() - t0
            rss_peak = _status_kb("VmHWM") if peak_reset else _status_kb("VmRSS")
            held = len(entries)
            assert held == args.gal_size, (held, args.gal_size)
            end_to_end = held / elapsed
            growth_mb = (rss_peak - rss_before) / 1024
            del entries
            gc.collect()

            # Client decoding alone: the same bodies decoded again (QueryRowsResponse + AbEntry).
            bodies: list[bytes] = []
            list_all(session, args.page_size, bodies)
        t0 = time.perf_counter()
        decoded = 0
        for body in bodies:
            response = QueryRowsResponse.decode(body)
            decoded += len(entries_from_rows(response.row_data, response.columns or ENTRY_COLUMNS))
        decode_rate = decoded / (time.perf_counter() - t0)
        del bodies
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    print(
        f"Bind to first page of 50 rows: median {first_page:.1f} ms over {args.runs} runs "
        f"(min {min(times):.1f}, max {max(times):.1f}; target <= {TARGET_FIRST_PAGE_MS:.0f} ms: "
        f"{verdict(first_page <= TARGET_FIRST_PAGE_MS)})"
    )
    print(
        f"whole list, end to end: {held} entries in {elapsed:.2f} s = {end_to_end:,.0f} entries/s "
        f"(pages of {args.page_size})"
    )
    print(
        f"client decoding alone: {decode_rate:,.0f} entries/s "
        f"(target >= {TARGET_ENTRIES_PER_S:,.0f}/s: {verdict(decode_rate >= TARGET_ENTRIES_PER_S)})"
    )
    print(
        f"peak RSS growth holding all {held} rows: {growth_mb:.1f} MB "
        f"(target <= {TARGET_RSS_MB:.0f} MB: {verdict(growth_mb <= TARGET_RSS_MB)})"
        f"{'' if _status_kb('VmRSS') else ' [no /proc: not measured]'}"
    )
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
