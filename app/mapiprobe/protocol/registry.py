"""Registry of ``mapiprobe decode`` kinds.

Each codec module registers the kinds it can decode with :func:`decode_kind`. A decoder receives the
raw bytes and a :class:`DecodeContext`; it returns the decoded structure (anything
:func:`~mapiprobe.protocol.jsonview.to_jsonable` understands) and, as it goes, stores every completed
stage in ``ctx.partial`` so that a fault deep inside a capture still shows everything decoded before it.
The CLI is a thin front end over this table; it knows no wire format itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class DecodeContext:
    """Options of one ``decode`` run and the partial result collected so far."""

    columns: tuple[int, ...] | None = None
    """Property tags of the rows that follow (``--columns``), when the structure needs them."""
    request_type: str | None = None
    """X-RequestType of a framed MAPI/HTTP body (``--request-type``)."""
    partial: dict[str, Any] = field(default_factory=dict)
    """Stages completed so far, in order; shown when a later stage fails."""


Decoder = Callable[[bytes, DecodeContext], Any]


@dataclass(frozen=True)
class DecodeKind:
    name: str
    help: str
    func: Decoder
    needs_columns: bool = False


_KINDS: dict[str, DecodeKind] = {}


def decode_kind(name: str, help: str, *, needs_columns: bool = False) -> Callable[[Decoder], Decoder]:
    """Decorator: register ``func`` as the decoder for ``mapiprobe decode NAME``."""

    def wrap(func: Decoder) -> Decoder:
        _KINDS[name] = DecodeKind(name, help, func, needs_columns)
        return func

    return wrap


BodyDecoder = Callable[[bytes, DecodeContext], Any]
_BODIES: dict[tuple[str, str], BodyDecoder] = {}


def body_decoder(request_type: str, direction: str) -> Callable[[BodyDecoder], BodyDecoder]:
    """Decorator: register the decoder of one MAPI/HTTP body.

    ``request_type`` is the X-RequestType (``Connect``, ``Execute``, ``Bind``, ``QueryRows``...), compared
    without regard to case; ``direction`` is ``"request"`` or ``"response"``. ``decode mapihttp-response
    --request-type T`` looks the body decoder up here after it has removed the envelope.
    """
    if direction not in ("request", "response"):
        raise ValueError(direction)

    def wrap(func: BodyDecoder) -> BodyDecoder:
        _BODIES[(request_type.lower(), direction)] = func
        return func

    return wrap


def find_body_decoder(request_type: str, direction: str) -> BodyDecoder | None:
    found = _BODIES.get((request_type.lower(), direction))
    if found is None:  # the codec modules may not all have registered yet: import them, then look again
        _register_all()
        found = _BODIES.get((request_type.lower(), direction))
    return found


def body_request_types(direction: str) -> list[str]:
    kinds()
    return sorted(rt for rt, d in _BODIES if d == direction)


def _register_all() -> None:
    from . import kinds as _all  # noqa: F401 - imported for its registrations


def kinds() -> dict[str, DecodeKind]:
    """All registered kinds, after importing every codec module that registers some."""
    _register_all()
    return dict(sorted(_KINDS.items()))


__all__ = [
    "DecodeContext",
    "DecodeKind",
    "body_decoder",
    "body_request_types",
    "decode_kind",
    "find_body_decoder",
    "kinds",
]
