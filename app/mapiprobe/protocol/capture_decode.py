"""A capture's exchanges decoded as a live run sees them: MAPI/HTTP down to ROPs, NSPI calls and properties.

:class:`CaptureDecoder` takes :class:`~.capture.CapturedExchange` objects in capture order and follows each
MAPI/HTTP session through them, so that what one response alone cannot say is known from earlier requests:

* sessions are told apart by endpoint (scheme, host, path) and Session Context: the GUID part of
  X-RequestId, which a client keeps for the life of a context (MS-OXCMAPIHTTP 2.2.3.3.2); cookie values
  are redacted by the reader and never used. A Connect or Bind starts the session's state afresh;
* RopQueryRows rows whose RopSetColumns went in an earlier Execute are decoded with those columns: the
  session remembers the columns of each table by its *server object handle* (the handle table maps
  each Execute's handle indices to those handles), forgets them when the handle is released or reused,
  and hands them to the ROP decoder per InputHandleIndex (:func:`~.rops.codec.iter_responses`);
* RopGetPropertiesSpecific, RopLogon and the rest of an Execute are paired with their requests in the same
  Execute, as ``mapiprobe decode`` does.

Every exchange is listed; MAPI/HTTP ones are decoded, others only described. Failures are collected in
plain words: the HTTP status, a non-zero X-ResponseCode (also a late one among the additional headers), a
failed body (StatusCode, ErrorCode) and every ROP that returned an error. A body that does not decode
becomes an error object (reason, offset, expected, field) with everything decoded before the fault.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .capture import CapturedExchange
from .emsmdb import ExecuteResponse
from .envelope import describe as describe_response_code
from .envelope import parse_envelope, parse_response_code
from .errorcodes import describe as describe_error
from .errorcodes import is_failure
from .errors import DecodeError, ProtocolError
from .execute import decode_execute_request
from .jsonview import render_tree, to_jsonable
from .registry import DecodeContext, find_body_decoder
from .ropbuffer import RopBuffer
from .rops import RopFailureResponse, RopReleaseRequest, RopSetColumnsRequest, iter_responses
from .rops.base import Rop, RopRequest, describe_rop_id
from .rops.server import SERVER_GENERATED
from .rpcext import iter_ext_buffers
from .wire import Reader

MAPI_CONTENT_TYPE = "application/mapi-http"
CONNECT_TYPES = frozenset({"connect", "bind"})
_REQUEST_ID = re.compile(
    r"\{?([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})\}?"
)
_RESPONSE_ROPBUFFER_OFFSET = 16  # StatusCode, ErrorCode, Flags, RopBufferSize
_RPC_HEADER_EXT_SIZE = 8
_MAX_TEXT = 2000


@dataclass
class DecodedExchange:
    """One exchange with what could be decoded of it (structures, not yet JSON: see :meth:`to_json`)."""

    exchange: CapturedExchange
    kind: str  # "mapihttp", "http" (listed, not decoded) or "tunnel" (CONNECT)
    request_type: str | None = None
    response_code: int | None = None  # X-ResponseCode (a late one wins)
    session: str | None = None
    request: Any = None
    response: Any = None
    request_error: dict[str, Any] | None = None
    response_error: dict[str, Any] | None = None
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    table_columns: list[dict[int, tuple[int, ...]]] = field(default_factory=list)
    """Execute: the columns the session knew per InputHandleIndex, for each output buffer, before it ran.
    :func:`decode_alone` decodes the exchange again with them (a viewer need not keep decoded trees)."""

    @property
    def ok(self) -> bool:
        return not self.failures and self.request_error is None and self.response_error is None

    def to_json(self, *, headers: bool = True) -> dict[str, Any]:
        ex = self.exchange
        out: dict[str, Any] = {
            "index": ex.index,
            "method": ex.method,
            "url": ex.url,
            "kind": self.kind,
            "request_type": self.request_type,
            "status": ex.status,
            "response_code": self.response_code,
            "ok": self.ok,
            "failures": list(self.failures),
            "notes": [*ex.notes, *self.notes],
        }
        if self.session is not None:
            out["session"] = self.session
        if ex.started_at is not None:
            out["started_at"] = ex.started_at
        if ex.timings:
            out["timings"] = dict(ex.timings)
        if headers:
            out["request_headers"] = [list(h) for h in ex.request_headers]
            out["response_headers"] = [list(h) for h in ex.response_headers]
        if self.kind != "mapihttp":
            out["request_bytes"] = len(ex.request_body or b"")
            out["response_bytes"] = len(ex.response_body or b"")
            out["content_type"] = ex.header("Content-Type")
        for key in ("request", "response"):
            error = getattr(self, f"{key}_error")
            if error is not None:
                out[f"{key}_error"] = error
            elif getattr(self, key) is not None:
                out[key] = to_jsonable(getattr(self, key))
        return out


@dataclass
class _Session:
    """What a MAPI/HTTP session taught so far: the columns of each table, by server object handle."""

    columns: dict[int, tuple[int, ...]] = field(default_factory=dict)

    def table_columns(self, handles: Sequence[int]) -> dict[int, tuple[int, ...]]:
        return {i: self.columns[h] for i, h in enumerate(handles) if h in self.columns}

    def learn(
        self,
        requests: Sequence[RopRequest],
        responses: Sequence[Rop],
        request_handles: Sequence[int],
        response_handles: Sequence[int],
    ) -> None:
        def handle(index: int) -> int | None:
            for table in (response_handles, request_handles):
                if 0 <= index < len(table):
                    return table[index]
            return None

        # In request order (the server runs them so): a RopRelease frees its handle at once; every other
        # request takes the next response (server-generated ones answer no request).
        answers = iter([r for r in responses if r.rop_id not in SERVER_GENERATED])
        for request in requests:
            if isinstance(request, RopReleaseRequest):
                if request.input_handle_index < len(request_handles):
                    self.columns.pop(request_handles[request.input_handle_index], None)
                continue
            response = next(answers, None)
            if response is None:
                break
            if isinstance(response, RopFailureResponse):
                continue
            if isinstance(request, RopSetColumnsRequest):
                h = handle(request.input_handle_index)
                if h is not None:
                    self.columns[h] = tuple(int(t) for t in request.property_tags)
            else:
                out_index = getattr(request, "output_handle_index", None)
                h = handle(out_index) if isinstance(out_index, int) else None
                if h is not None:  # a new object under this handle: old columns no longer apply
                    self.columns.pop(h, None)


class CaptureDecoder:
    """Decodes exchanges in capture order, keeping each MAPI/HTTP session's state between them."""

    def __init__(self) -> None:
        self._sessions: dict[tuple[str, str], _Session] = {}

    def decode_all(self, exchanges: Iterable[CapturedExchange]) -> Iterator[DecodedExchange]:
        for ex in exchanges:
            yield self.decode(ex)

    def decode(self, ex: CapturedExchange, *, _session: _Session | None = None) -> DecodedExchange:
        if ex.method.upper() == "CONNECT":
            return DecodedExchange(
                ex, "tunnel", notes=["an HTTPS tunnel (CONNECT): its content is not in it"]
            )
        request_type = ex.request_type
        ctype = (ex.header("Content-Type", response=False) or "").split(";")[0].strip().lower()
        if request_type is None and ctype != MAPI_CONTENT_TYPE:
            out = DecodedExchange(ex, "http")
            self._http_failures(out)
            return out
        out = DecodedExchange(ex, "mapihttp", request_type=request_type)
        if request_type is None:
            out.notes.append("a MAPI/HTTP request without X-RequestType: its body cannot be decoded")
        key = self._session_key(ex)
        out.session = f"{key[0]} {key[1]}".strip()
        if request_type is not None and request_type.lower() in CONNECT_TYPES:
            self._sessions[key] = _Session()
        session = _session or self._sessions.setdefault(key, _Session())
        requests = self._decode_request(out, request_type)
        self._decode_response(out, request_type, session, requests)
        return out

    # -- parts ------------------------------------------------------------------------------------

    @staticmethod
    def _session_key(ex: CapturedExchange) -> tuple[str, str]:
        parts = urlsplit(ex.url)
        endpoint = f"{parts.scheme}://{parts.netloc}{parts.path}".lower()
        rid = ex.header("X-RequestId", response=False) or ex.header("X-RequestId") or ""
        m = _REQUEST_ID.search(rid)
        return endpoint, ("{" + m.group(1).upper() + "}") if m else ""

    @staticmethod
    def _http_failures(out: DecodedExchange) -> None:
        ex = out.exchange
        if ex.status is None:
            out.failures.append("no response")
        elif ex.status >= 400:
            out.failures.append(f"HTTP {ex.status} {ex.reason or ''}".rstrip())

    def _decode_request(
        self, out: DecodedExchange, request_type: str | None
    ) -> list[tuple[list[RopRequest], tuple[int, ...]]]:
        """Decode the request body; for Execute return its ROP lists and handle tables (for the response)."""
        ex = out.exchange
        body = ex.request_body
        if request_type is None:
            return []
        if body is None:
            out.notes.append("the capture holds no request body")
            return []
        if ex.request_body_truncated:
            out.notes.append("the request body was cut off in the capture: it may not decode")
        ctx = DecodeContext(request_type=request_type)
        chains: list[tuple[list[RopRequest], tuple[int, ...]]] = []
        try:
            if request_type.lower() == "execute":
                result = decode_execute_request(body, ctx)
                for entry in result.get("RopBuffer", ()):
                    chains.append((list(entry["RopsList"]), tuple(entry["ServerObjectHandleTable"])))
                out.request = result
            else:
                decoder = find_body_decoder(request_type, "request")
                if decoder is None:
                    out.notes.append(f"no decoder for X-RequestType {request_type!r} requests")
                else:
                    out.request = decoder(body, ctx)
        except ProtocolError as exc:
            out.request_error = _error_object(exc, ctx, lossy=ex.request_body_lossy)
            out.failures.append(f"the request body does not decode: {exc}")
            # The ROP lists decoded before the fault still pair with the response.
            for entry in ctx.partial.get("RopBuffer", ()) or ():
                if isinstance(entry, dict) and "RopsList" in entry:
                    chains.append((list(entry["RopsList"]), tuple(entry.get("ServerObjectHandleTable", ()))))
        return chains

    def _decode_response(
        self,
        out: DecodedExchange,
        request_type: str | None,
        session: _Session,
        chains: list[tuple[list[RopRequest], tuple[int, ...]]],
    ) -> None:
        ex = out.exchange
        if ex.status is None:
            out.failures.append("no response in the capture")
            return
        body = ex.response_body or b""
        code_text = ex.header("X-ResponseCode")
        if code_text is not None:
            try:
                out.response_code = parse_response_code(code_text)
            except DecodeError:
                out.notes.append(f"X-ResponseCode {code_text[:20]!r} is not a number")
        code = out.response_code
        if ex.status != 200:
            out.failures.append(f"HTTP {ex.status} {ex.reason or ''}".rstrip())
            if code:
                out.failures.append(f"X-ResponseCode {describe_response_code(code)}")
            out.response = {"Text": _text(body)}
            return
        if code:
            out.failures.append(f"X-ResponseCode {describe_response_code(code)}")
            out.response = {"XResponseCode": describe_response_code(code), "Text": _text(body)}
            return
        if ex.response_body_truncated:
            out.notes.append("the response body was cut off in the capture: it may not decode")
        ctx = DecodeContext(request_type=request_type)
        try:
            envelope = parse_envelope(body)
        except ProtocolError as exc:
            out.response_error = _error_object(exc, ctx, lossy=ex.response_body_lossy)
            out.failures.append(f"the response is not a MAPI/HTTP response stream: {exc}")
            return
        summary = envelope.__json__()
        del summary["Body"]
        result: dict[str, Any] = {"Envelope": summary}
        out.response = result
        late = envelope.response_code if envelope.header("X-ResponseCode") is not None else None
        if late not in (None, 0):
            assert late is not None
            out.response_code = late
            out.failures.append(f"X-ResponseCode {describe_response_code(late)} (late, in the envelope)")
            result["Text"] = _text(envelope.body)
            return
        if request_type is None:
            return
        ctx.partial["Envelope"] = summary
        try:
            if request_type.lower() == "execute":
                result["Body"] = self._execute_response(envelope.body, ctx, session, chains, out)
            else:
                decoder = find_body_decoder(request_type, "response")
                if decoder is None:
                    out.notes.append(f"no decoder for X-RequestType {request_type!r} responses")
                    return
                result["Body"] = decoder(envelope.body, ctx)
        except ProtocolError as exc:
            if exc.offset is not None:
                exc.at(envelope.body_offset)
            if "columns are unknown" in exc.message:
                exc.annotate("the capture does not hold the RopSetColumns of this table")
            out.response_error = _error_object(exc, ctx, lossy=ex.response_body_lossy)
            out.failures.append(f"the response body does not decode: {exc}")
            out.response = None
            return
        _body_failures(out, result.get("Body"), request_type)

    def _execute_response(
        self,
        body: bytes,
        ctx: DecodeContext,
        session: _Session,
        chains: list[tuple[list[RopRequest], tuple[int, ...]]],
        out: DecodedExchange,
    ) -> dict[str, Any]:
        progress: dict[str, Any] = {}
        ctx.partial["ExecuteResponse"] = progress
        response = ExecuteResponse.decode(body, progress=progress)
        ctx.partial["ExecuteResponse"] = response
        result: dict[str, Any] = {"ExecuteResponse": response}
        rop_buffer: bytes = getattr(response, "rop_buffer", b"")
        if not rop_buffer:
            return result
        decoded: list[dict[str, Any]] = []
        result["RopBuffer"] = ctx.partial["RopBuffer"] = decoded
        buffers = iter_ext_buffers(rop_buffer)
        pos = 0
        index = 0
        while True:
            try:
                ext = next(buffers)
            except StopIteration:
                return result
            except ProtocolError as exc:
                raise exc.at(_RESPONSE_ROPBUFFER_OFFSET) from None
            entry: dict[str, Any] = {"RPC_HEADER_EXT": ext.header}
            decoded.append(entry)
            rops: list[Rop] = []
            requests, handles = _requests_for(chains, index)
            try:
                buf = RopBuffer.decode(ext.payload)
                entry["RopSize"] = buf.rop_size
                entry["RopsList"] = rops
                entry["ServerObjectHandleTable"] = list(buf.server_object_handle_table)
                known = session.table_columns(handles)
                out.table_columns.append(known)
                for rop in iter_responses(Reader(buf.rops, base=2), requests, None, table_columns=known):
                    rops.append(rop)
            except ProtocolError as exc:
                if ext.header.compressed:
                    raise exc.annotate(
                        f"offset counts in the decompressed payload of extended buffer {len(decoded)}"
                    ) from None
                raise exc.at(_RESPONSE_ROPBUFFER_OFFSET + pos + _RPC_HEADER_EXT_SIZE) from None
            finally:
                if requests is not None:
                    session.learn(requests, rops, handles, entry.get("ServerObjectHandleTable", ()))
            pos += _RPC_HEADER_EXT_SIZE + ext.header.size
            index += 1


class _Known(_Session):
    """A session that knows exactly the columns recorded for one Execute, and learns nothing."""

    def __init__(self, known: Sequence[dict[int, tuple[int, ...]]]) -> None:
        super().__init__()
        self._known = iter(known)

    def table_columns(self, handles: Sequence[int]) -> dict[int, tuple[int, ...]]:
        return dict(next(self._known, {}))

    def learn(self, *args: Any) -> None:
        pass


def decode_alone(
    ex: CapturedExchange, table_columns: Sequence[dict[int, tuple[int, ...]]] = ()
) -> DecodedExchange:
    """Decode one exchange again, outside its capture, with the columns its decode recorded
    (:attr:`DecodedExchange.table_columns`): the same result as in order, without the rest of the capture."""
    decoder = CaptureDecoder()
    out = decoder.decode(ex, _session=_Known(table_columns))
    return out


def _requests_for(
    chains: list[tuple[list[RopRequest], tuple[int, ...]]], index: int
) -> tuple[list[RopRequest] | None, tuple[int, ...]]:
    """The request ROPs an output buffer answers: the input buffer of the same position; with one input
    buffer and several output buffers, the first output buffer answers it and the rest stand alone."""
    if index < len(chains):
        return chains[index]
    return None, ()


def _body_failures(out: DecodedExchange, body: Any, request_type: str) -> None:
    if body is None:
        return
    nspi = request_type.lower() not in ("connect", "execute", "disconnect", "notificationwait")
    inner = body.get("ExecuteResponse") if isinstance(body, dict) else body
    status = getattr(inner, "status_code", 0)
    if status:
        out.failures.append(f"{request_type} StatusCode {describe_error(status)}")
    error = getattr(inner, "error_code", 0)
    if isinstance(error, int) and error and is_failure(error, nspi=nspi):
        out.failures.append(f"{request_type} ErrorCode {describe_error(error, nspi=nspi)}")
    if isinstance(body, dict):
        for entry in body.get("RopBuffer", ()):
            for rop in entry.get("RopsList", ()):
                # Any ROP response with a failing ReturnValue (the bare failure form, or a catalogue ROP whose
                # error response carries fields); warnings such as ErrorsReturned are not failures.
                code = getattr(rop, "return_value", 0)
                if isinstance(code, int) and code and is_failure(code):
                    out.failures.append(f"{describe_rop_id(rop.rop_id)} failed: {describe_error(code)}")


def _error_object(exc: ProtocolError, ctx: DecodeContext, *, lossy: bool = False) -> dict[str, Any]:
    error: dict[str, Any] = {
        "reason": exc.message,
        "offset": exc.offset,
        "expected": exc.expected,
        "field": exc.field,
        "error": type(exc).__name__,
        "decoded": to_jsonable(ctx.partial),
    }
    if lossy:
        error["note"] = "the capture stored this body as text, so its bytes may not be the ones sent"
    return error


def _text(body: bytes) -> str:
    text = body[: _MAX_TEXT * 2].decode("utf-8", "replace")
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "…"


def decode_capture(exchanges: Iterable[CapturedExchange]) -> Iterator[DecodedExchange]:
    """Every exchange decoded in order, with one :class:`CaptureDecoder` following the sessions."""
    return CaptureDecoder().decode_all(exchanges)


def summary_line(d: DecodedExchange) -> str:
    """``#3 POST https://... Execute: HTTP 200, X-ResponseCode 0``, or what failed."""
    ex = d.exchange
    what = f"#{ex.index} {ex.method} {ex.url}"
    if d.request_type:
        what += f" [{d.request_type}]"
    if ex.status is None:
        answer = "no response"
    else:
        answer = f"HTTP {ex.status}"
        if d.response_code is not None:
            answer += f", X-ResponseCode {d.response_code}"
    if d.kind == "http":
        ctype = ex.header("Content-Type") or "no Content-Type"
        answer += f", {ctype}, {len(ex.response_body or b'')} bytes (not MAPI/HTTP: not decoded)"
    return f"{what} -> {answer}" + ("" if d.ok else "  FAILED")


def render_text(d: DecodedExchange) -> list[str]:
    """Lines for a terminal: the summary, failures, notes, then the decoded request and response trees."""
    lines = [summary_line(d)]
    lines += [f"  failed: {f}" for f in d.failures]
    lines += [f"  note: {n}" for n in (*d.exchange.notes, *d.notes)]
    for key in ("request", "response"):
        error = getattr(d, f"{key}_error")
        value = getattr(d, key)
        if error is not None:
            lines.append(f"  {key}: does not decode: {error['reason']}")
            if error.get("decoded"):
                lines.append("    decoded before the fault:")
                lines += render_tree(error["decoded"], 3)
        elif value is not None and d.kind == "mapihttp":
            lines.append(f"  {key}:")
            lines += render_tree(to_jsonable(value), 2)
    return lines


__all__ = [
    "CaptureDecoder",
    "DecodedExchange",
    "decode_alone",
    "decode_capture",
    "render_text",
    "summary_line",
]
