"""What one MAPI/HTTP exchange produced (:class:`MapiHttpResult`) and the progress it reports on the way."""

from __future__ import annotations

from dataclasses import dataclass

from mapiprobe.protocol.envelope import (
    ResponseCode,
)

# ---------------------------------------------------------------------------------------------------
# Results and progress
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressEvent:
    """What is happening to one request; delivered in the thread that runs it.

    ``phase``: ``sending`` (before the request goes out), ``headers`` (the HTTP head arrived),
    ``processing``, ``pending`` (a keep-alive; ``pending_count`` counts them), ``done`` (DONE arrived),
    ``body`` (more body bytes, ``bytes_received`` so far) and ``complete``.
    """

    request_type: str
    request_id: str
    phase: str
    pending_count: int = 0
    bytes_received: int = 0
    elapsed_ms: float = 0.0
    http_status: int | None = None


@dataclass(frozen=True)
class MapiHttpResult:
    """One MAPI/HTTP answer. Header values are as the server sent them; cookie values are never kept."""

    http_status: int
    response_code: int
    response_code_name: str
    server_text: str | None  # the server's explanation when response_code is not 0
    body: bytes
    pending_count: int
    meta_tags: tuple[str, ...]
    additional_headers: tuple[tuple[str, str], ...]
    server_application: str | None
    expiration_ms: int | None
    pending_period_ms: int | None
    elapsed_time: str | None  # X-ElapsedTime as sent (ms per the spec; gromox sends seconds)
    start_time: str | None
    request_id: str
    trace_id: int | None
    request_type: str = ""
    elapsed_ms: float = 0.0  # measured by the client, from sending to the end of the body
    notes: tuple[str, ...] = ()  # departures from the spec noticed on the way (tolerated)

    @property
    def ok(self) -> bool:
        return self.response_code == 0


def response_code_name(code: int) -> str:
    """The spec's name of an X-ResponseCode (``Context Not Found``), or a note that it has none."""
    try:
        return ResponseCode(code).spec_name
    except ValueError:
        return "not defined by MS-OXCMAPIHTTP"
