"""MAPI/HTTP failures in the transport error family (MS-OXCMAPIHTTP 2.2.3.3.3, 3.2.5.2): see
:mod:`mapiprobe.transport.mapihttp` for the tree.
"""

from __future__ import annotations

from mapiprobe.transport.errors import (
    HTTPFailure,
    TransportError,
)
from mapiprobe.transport.mapihttp_results import MapiHttpResult, response_code_name

# ---------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------


class MapiHttpError(TransportError):
    """The server answered with a non-zero X-ResponseCode (MS-OXCMAPIHTTP 2.2.3.3.3).

    ``response_code`` is the number, :attr:`name` the spec's name for it (numbers outside the spec's
    table are named as such), ``server_text`` the server's explanation (tags removed, bounded),
    ``http_status`` the HTTP status, ``result`` everything else known about the answer.
    """

    def __init__(
        self,
        message: str,
        *,
        response_code: int,
        server_text: str | None = None,
        http_status: int | None = None,
        url: str | None = None,
        result: MapiHttpResult | None = None,
    ) -> None:
        self.response_code = response_code
        self.server_text = server_text
        self.http_status = http_status
        self.result = result
        super().__init__(message, url=url)

    @property
    def name(self) -> str:
        return response_code_name(self.response_code)

    @property
    def kind(self) -> str:
        return "mapihttp-response-code"


class ContextExpired(MapiHttpError):
    """X-ResponseCode 10 (Context Not Found): unknown, expired, or another identity's context (3.2.5.6)."""

    @property
    def kind(self) -> str:
        return "context-expired"


class BadMapiHttpResponse(HTTPFailure):
    """An answer that is not MAPI/HTTP at all (an HTML page, a broken envelope...); the message says why."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        url: str | None = None,
        server_text: str | None = None,
    ) -> None:
        self.server_text = server_text
        super().__init__(message, status=status, url=url)

    @property
    def kind(self) -> str:
        return "bad-mapihttp-response"


class RequestCancelled(TransportError):
    """The caller cancelled the request (its ``cancel`` event was set)."""

    @property
    def kind(self) -> str:
        return "cancelled"
