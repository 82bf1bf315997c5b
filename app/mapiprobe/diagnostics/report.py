"""The report of a diagnosis, for the ticket: one self-contained HTML file, and the same content as JSON.

HTML (:func:`render_html`): the verdict and the first failing step first, then the step list (status, target,
time, cause, remedy), the Connection Status table (the rows of the window's pane: :func:`status_rows`), the
request waterfall as inline SVG, and the raw evidence and the request list folded away in ``<details>``.
No script, no external asset (a Content-Security-Policy says so), so it opens offline in any browser.

JSON (:func:`report_json`): ``result`` (pass / warn / fail), ``steps`` (``id``, ``target``, ``status``,
``elapsed_ms``, ``cause``, ``remedy``, ``evidence``...), ``connection_status``, ``requests``.

Nothing secret is in either: steps carry redacted evidence only, and requests come from the redacted
trace (no Authorization value, no NTLM/Negotiate blob, no cookie value); tests scan both.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from mapiprobe import __version__
from mapiprobe.diagnostics.pipeline import DiagnosisResult
from mapiprobe.diagnostics.steps import Status, Step
from mapiprobe.session.status import COLUMNS
from mapiprobe.transport.trace import TraceRecord

STATUS_COLUMNS = COLUMNS  # the window's Connection Status columns (session/status.py)
VERDICT_WORDS = {
    "pass": "Outlook should connect: every check passed",
    "warn": "Outlook should connect, with warnings",
    "fail": "Outlook cannot connect",
}
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
STATUS_MARK = {"pass": "✔", "warn": "⚠", "fail": "✖", "skipped": "–", "running": "…"}


# -- the Connection Status rows ------------------------------------------------------------------------


def status_columns(result: DiagnosisResult) -> tuple[str, ...]:
    return result.status_columns or STATUS_COLUMNS


def status_rows(result: DiagnosisResult) -> list[dict[str, str]]:
    """The Connection Status rows (one per endpoint session), keyed by :func:`status_columns`: the rows
    session/status.py computed for the run's sessions before Disconnect, the same as the window's pane. None
    when the run opened no session."""
    columns = status_columns(result)
    return [dict(zip(columns, row, strict=True)) for row in result.status_table]


# -- JSON ------------------------------------------------------------------------------------------------


def _record_json(r: TraceRecord, t0: float) -> dict[str, Any]:
    return {
        "seq": r.seq,
        "label": r.label,
        "method": r.method,
        "url": r.url,
        "start_ms": round((r.started_at - t0) * 1000, 1),
        "status": r.status,
        "outcome": r.outcome,
        "error": r.error,
        "request_type": r.request_type,
        "response_code": r.response_code,
        "connect_ms": r.connect_ms,
        "tls_ms": r.tls_ms,
        "first_byte_ms": r.first_byte_ms,
        "total_ms": r.total_ms,
        "reused_connection": r.reused_connection,
        "peer_address": r.peer_address,
        "proxy": getattr(r, "proxy", None),
        "tls_version": r.tls_version,
        "request_headers": [list(h) for h in r.request_headers],
        "response_headers": [list(h) for h in r.response_headers],
        "pending_count": r.pending_count,
    }


def report_json(result: DiagnosisResult) -> dict[str, Any]:
    first = result.first_failure
    return {
        "tool": f"mapiprobe {__version__}",
        "email": result.email,
        "result": result.result,
        "verdict": VERDICT_WORDS[result.result] + (" (cancelled)" if result.cancelled else ""),
        "started_at": _iso(result.started_at),
        "elapsed_ms": round(result.elapsed_ms, 1),
        "cancelled": result.cancelled,
        "first_problem": first.to_json() if first is not None else None,
        "steps": [
            {**s.to_json(), "start_ms": round((s.started_at - result.started_at) * 1000, 1)}
            for s in result.steps
        ],
        "connection_status": status_rows(result),
        "facts": {k: v for k, v in result.facts.items() if isinstance(v, str | int | float | bool | None)},
        "requests": [_record_json(r, result.started_at) for r in result.trace],
    }


def render_json(result: DiagnosisResult) -> str:
    return json.dumps(report_json(result), indent=2, ensure_ascii=False, default=str)


def _iso(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.UTC).isoformat(timespec="seconds")


# -- HTML ------------------------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d1d1f;max-width:1200px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.verdict{padding:14px 16px;border-radius:6px;margin:12px 0;font-size:16px}
.v-pass{background:#e6f4ea;border:1px solid #34a853}.v-warn{background:#fff4e5;border:1px solid #f29900}
.v-fail{background:#fce8e6;border:1px solid #d93025}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border:1px solid #ddd;padding:4px 6px;
text-align:left;vertical-align:top}th{background:#f5f5f7}
td.t{word-break:break-all;max-width:360px}.s-pass{color:#188038}.s-warn{color:#b06000}.s-fail{color:#c5221f}
.s-skipped{color:#777}td.ms{white-space:nowrap}.mark{font-weight:bold;white-space:nowrap}
.cause{margin:2px 0}.remedy{margin:2px 0;color:#174ea6}details{margin:6px 0}summary{cursor:pointer}
pre{white-space:pre-wrap;word-break:break-all;background:#f5f5f7;padding:6px;font-size:12px}.muted{color:#666}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _step_row(index: int, step: Step) -> str:
    status = str(step.status)
    detail = f"<div>{_e(step.summary)}</div>"
    if step.cause:
        detail += f'<div class="cause"><b>Cause:</b> {_e(step.cause)}</div>'
    if step.remedy:
        detail += f'<div class="remedy"><b>Remedy:</b> {_e(step.remedy)}</div>'
    return (
        f'<tr id="step-{index}" data-step="{_e(step.id)}" data-status="{status}">'
        f'<td class="mark s-{status}">{STATUS_MARK.get(status, "")} {_e(status)}</td>'
        f"<td>{_e(step.title)}<br><code>{_e(step.id)}</code></td>"
        f'<td class="t">{_e(step.target)}</td><td class="ms">{step.elapsed_ms:.0f} ms</td>'
        f"<td>{detail}</td></tr>"
    )


def waterfall_svg(records: Sequence[TraceRecord], t0: float, *, width: int = 1100) -> str:
    """Each request as a bar from its start to its end (connect, TLS, waiting, body), on one time axis."""
    if not records:
        return '<p class="muted">No HTTP request was made.</p>'
    row_h, label_w, pad = 18, 330, 4
    ends = [(r.started_at - t0) * 1000 + (r.total_ms or 0) for r in records]
    span = max(*ends, 1.0)
    chart_w = width - label_w - 10
    scale = chart_w / span
    height = (len(records) + 1) * row_h + pad * 2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="request waterfall" '
        'font-family="system-ui,sans-serif" font-size="11">'
    ]
    for i, r in enumerate(records):
        y = pad + i * row_h
        start = (r.started_at - t0) * 1000
        x = label_w + start * scale
        label = r.label or f"{r.method} {urlsplit(r.url).hostname}{urlsplit(r.url).path}"
        label = label if len(label) <= 52 else label[:51] + "…"
        ok = r.outcome == "ok" and (r.status or 0) < 500
        colour = "#1a73e8" if ok else "#d93025"
        parts.append(f'<text x="2" y="{y + 13}">{_e(f"{r.seq}. {label}")}</text>')
        segs: list[tuple[float, str, str]] = []
        if r.connect_ms:
            segs.append((r.connect_ms, "#9aa0a6", "TCP connect"))
        if r.tls_ms:
            segs.append((r.tls_ms, "#f29900", "TLS handshake"))
        used = sum(s[0] for s in segs)
        wait = max((r.first_byte_ms or r.total_ms or 0) - used, 0)
        segs.append((wait, colour, "waiting for the answer"))
        if r.total_ms and r.first_byte_ms:
            segs.append((max(r.total_ms - r.first_byte_ms, 0), "#34a853", "body"))
        cx = x
        for ms, fill, what in segs:
            w = max(ms * scale, 1.0)
            parts.append(
                f'<rect x="{cx:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="{fill}">'
                f"<title>{_e(f'{r.seq}. {what}: {ms:.0f} ms')}</title></rect>"
            )
            cx += w
        total = f"{r.total_ms:.0f} ms" if r.total_ms is not None else "?"
        outcome = f"{r.status}" if r.status is not None else r.outcome
        parts.append(
            f'<text x="{min(cx + 4, width - 90):.1f}" y="{y + 13}">{_e(f"{outcome} {total}")}</text>'
        )
    y = pad + len(records) * row_h + 12
    for k in range(5):
        ms = span * k / 4
        x = label_w + ms * scale
        parts.append(f'<line x1="{x:.1f}" y1="{pad}" x2="{x:.1f}" y2="{y - 10}" stroke="#eee"/>')
        parts.append(f'<text x="{min(x, width - 60):.1f}" y="{y}">{ms:.0f} ms</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(result: DiagnosisResult) -> str:
    verdict = result.result
    first = result.first_failure
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>mapiprobe diagnosis: {_e(result.email)}: {_e(verdict)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Outlook connectivity diagnosis for {_e(result.email)}</h1>",
        f'<div class="muted">mapiprobe {_e(__version__)} · {_e(_iso(result.started_at))} · '
        f"{result.elapsed_ms / 1000:.1f} s · {len(result.trace)} HTTP requests</div>",
        f'<div class="verdict v-{verdict}" id="verdict" data-result="{verdict}">'
        f"<b>{_e(verdict.upper())}</b>: {_e(VERDICT_WORDS[verdict])}"
        + (" (the run was cancelled)" if result.cancelled else ""),
    ]
    if first is not None:
        out.append(
            f'<div id="first-problem"><p><b>First {"failing" if first.status == Status.FAIL else "warning"} '
            f"step:</b> {_e(first.title)} (<code>{_e(first.id)}</code>) for {_e(first.target)}</p>"
            f"<p><b>Cause:</b> {_e(first.cause or first.summary)}</p>"
            f"<p><b>Remedy:</b> {_e(first.remedy or '-')}</p></div>"
        )
    out.append("</div>")
    out.append(
        '<h2>Steps</h2><table id="steps"><tr><th>Status</th><th>Step</th><th>Target</th><th>Time</th>'
        "<th>Result</th></tr>"
    )
    out += [_step_row(i, s) for i, s in enumerate(result.steps, 1)]
    out.append("</table>")
    rows, columns = status_rows(result), status_columns(result)
    out.append('<h2>Connection Status</h2><table id="connection-status"><tr>')
    out += [f"<th>{_e(c)}</th>" for c in columns]
    out.append("</tr>")
    if not rows:
        out.append(f'<tr><td colspan="{len(columns)}" class="muted">no MAPI/HTTP connection</td></tr>')
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{_e(row.get(c, '-'))}</td>" for c in columns) + "</tr>")
    out.append("</table>")
    out.append('<h2>Requests</h2><div id="waterfall">')
    out.append(waterfall_svg(result.trace, result.started_at))
    out.append(
        '</div><p class="muted">Grey: TCP connect · orange: TLS handshake · blue: waiting for the answer '
        "(red: failed) · green: body.</p>"
    )
    out.append('<h2>Evidence</h2><div id="evidence">')
    for step in result.steps:
        if not step.evidence:
            continue
        lines = "\n".join(f"{e.label}: {e.text}" for e in step.evidence)
        out.append(
            f"<details><summary>{_e(STATUS_MARK.get(str(step.status), ''))} {_e(step.title)} · "
            f"{_e(step.target)}</summary><pre>{_e(lines)}</pre></details>"
        )
    out.append("<details><summary>Every HTTP request (headers redacted)</summary>")
    for r in result.trace:
        head = "\n".join(f"> {k}: {v}" for k, v in r.request_headers)
        tail = "\n".join(f"< {k}: {v}" for k, v in r.response_headers)
        via = f" via {r.proxy}" if getattr(r, "proxy", None) else ""
        first = f"#{r.seq} {r.method} {r.url}{via} -> {r.status or r.outcome} ({r.total_ms or 0:.0f} ms)"
        error = f"\nerror: {r.error}" if r.error else ""
        out.append(f"<pre>{_e(first)}\n{_e(head)}\n{_e(tail)}{_e(error)}</pre>")
    out.append("</details></div>")
    out.append("</body></html>")
    return "\n".join(out)


def summary_text(result: DiagnosisResult) -> str:
    """A few lines for a ticket or a terminal: the verdict, the first problem, the counts."""
    counts = {s: sum(1 for x in result.steps if x.status == s) for s in ("pass", "warn", "fail", "skipped")}
    lines = [
        f"{result.email}: {result.result.upper()}: {VERDICT_WORDS[result.result]}"
        + (" (cancelled)" if result.cancelled else ""),
        f"{len(result.steps)} steps: {counts['pass']} pass, {counts['warn']} warn, {counts['fail']} fail, "
        f"{counts['skipped']} skipped; {len(result.trace)} HTTP requests in {result.elapsed_ms / 1000:.1f} s",
    ]
    first = result.first_failure
    if first is not None:
        lines.append(f"first problem: {first.id} {first.target}: {first.cause or first.summary}")
        if first.remedy:
            lines.append(f"remedy: {first.remedy}")
    return "\n".join(lines)


__all__ = [
    "STATUS_COLUMNS",
    "render_html",
    "render_json",
    "report_json",
    "status_rows",
    "summary_text",
    "waterfall_svg",
]
