"""X-ResponseCode (MS-OXCMAPIHTTP 2.2.3.3.3): the spec's table, and words for numbers outside it."""

from __future__ import annotations

import enum

# ---------------------------------------------------------------------------------------------------
# X-ResponseCode (MS-OXCMAPIHTTP 2.2.3.3.3)
# ---------------------------------------------------------------------------------------------------


class ResponseCode(enum.IntEnum):
    """Values of the X-ResponseCode header, MS-OXCMAPIHTTP 2.2.3.3.3.

    Member names are the spec's names in upper case; :attr:`spec_name` gives the spec's exact words.
    Codes 14-18 are quoted from the MS-OXCMAPIHTTP v10 requirement spreadsheet (PROTOCOL.md §2.4).
    """

    SUCCESS = 0
    UNKNOWN_FAILURE = 1
    INVALID_VERB = 2
    INVALID_PATH = 3
    INVALID_HEADER = 4
    INVALID_REQUEST_TYPE = 5
    INVALID_CONTEXT_COOKIE = 6
    MISSING_HEADER = 7
    ANONYMOUS_NOT_ALLOWED = 8
    TOO_LARGE = 9
    CONTEXT_NOT_FOUND = 10
    NO_PRIVILEGE = 11
    INVALID_REQUEST_BODY = 12
    MISSING_COOKIE = 13
    RESERVED = 14
    INVALID_SEQUENCE = 15
    ENDPOINT_DISABLED = 16
    INVALID_RESPONSE = 17
    ENDPOINT_SHUTTING_DOWN = 18

    @property
    def spec_name(self) -> str:
        """The name as the spec's table prints it (``Context Not Found``)."""
        return _SPEC_NAMES[self]


_SPEC_NAMES: dict[ResponseCode, str] = {
    ResponseCode.SUCCESS: "Success",
    ResponseCode.UNKNOWN_FAILURE: "Unknown Failure",
    ResponseCode.INVALID_VERB: "Invalid Verb",
    ResponseCode.INVALID_PATH: "Invalid Path",
    ResponseCode.INVALID_HEADER: "Invalid Header",
    ResponseCode.INVALID_REQUEST_TYPE: "Invalid Request Type",
    ResponseCode.INVALID_CONTEXT_COOKIE: "Invalid Context Cookie",
    ResponseCode.MISSING_HEADER: "Missing Header",
    ResponseCode.ANONYMOUS_NOT_ALLOWED: "Anonymous Not Allowed",
    ResponseCode.TOO_LARGE: "Too Large",
    ResponseCode.CONTEXT_NOT_FOUND: "Context Not Found",
    ResponseCode.NO_PRIVILEGE: "No Privilege",
    ResponseCode.INVALID_REQUEST_BODY: "Invalid Request Body",
    ResponseCode.MISSING_COOKIE: "Missing Cookie",
    ResponseCode.RESERVED: "Reserved",
    ResponseCode.INVALID_SEQUENCE: "Invalid Sequence",
    ResponseCode.ENDPOINT_DISABLED: "Endpoint Disabled",
    ResponseCode.INVALID_RESPONSE: "Invalid Response",
    ResponseCode.ENDPOINT_SHUTTING_DOWN: "Endpoint Shutting Down",
}

_MEANINGS: dict[ResponseCode, str] = {
    ResponseCode.SUCCESS: "the request was accepted; the body is laid out by X-RequestType",
    ResponseCode.INVALID_REQUEST_TYPE: "the X-RequestType header is not a known request type",
    ResponseCode.INVALID_CONTEXT_COOKIE: "the Session Context cookie is malformed",
    ResponseCode.MISSING_HEADER: "a required header (X-RequestId, X-ClientInfo, ...) is missing",
    ResponseCode.ANONYMOUS_NOT_ALLOWED: "the request was not authenticated",
    ResponseCode.TOO_LARGE: "the request body is too large",
    ResponseCode.INVALID_REQUEST_BODY: "the request body could not be parsed",
    ResponseCode.MISSING_COOKIE: "the Session Context cookie is missing",
    ResponseCode.CONTEXT_NOT_FOUND: (
        "the Session Context is unknown or expired, or was created under another identity; reconnect"
    ),
    ResponseCode.NO_PRIVILEGE: "no rights on this Session Context",
    ResponseCode.RESERVED: "reserved; the client MUST ignore it",
    ResponseCode.INVALID_SEQUENCE: "more than one request at a time in one Session Context",
}


def describe(code: int) -> str:
    """One line naming an X-ResponseCode, also for numbers the spec does not define.

    >>> describe(10)
    '10 Context Not Found: the Session Context is unknown or expired, ...'
    """
    try:
        known = ResponseCode(code)
    except ValueError:
        return (
            f"{code}: not an X-ResponseCode of MS-OXCMAPIHTTP 2.2.3.3.3 (which defines 0-18); "
            "the server uses its own numbering"
        )
    meaning = _MEANINGS.get(known)
    text = f"{int(known)} {known.spec_name}"
    if meaning:
        text += f": {meaning}"
    elif known != ResponseCode.SUCCESS:
        text += ": the body is diagnostic text from the server"
    return text
