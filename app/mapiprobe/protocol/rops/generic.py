"""ROP classes built from the declarative table (:mod:`.catalog`): one request and one response class per
ROP, created from its :class:`RopSpec` and registered by RopId like the hand-written ones.

A generic ROP holds its fields in ``values``, a dict keyed by the spec's field names in wire order
(``{"LogonId": 0, "InputHandleIndex": 1, "OutputHandleIndex": 2, "CodePageId": 4095, ...}``), so
``RopOpenMessageRequest(values={...})`` and ``rop["FolderId"]`` read like the spec. The response header
(handle index and ReturnValue) sits in its own attributes; ``values`` holds what follows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..errors import ProtocolError
from ..wire import Reader, Writer
from .base import (
    _OUTPUT_HANDLE_ROPS,
    HANDLE_FIELD_NAMES,
    ResponseContext,
    RopFailureResponse,
    RopRequest,
    RopResponse,
    request_codec,
    response_codec,
    rop_id_json,
)
from .layout import Layout, Scope, Values, read_fields, write_fields


@dataclass(frozen=True)
class RopSpec:
    """One ROP of MS-OXCROPS 2.2 as data.

    * ``request`` — the fields after RopId (``None``: the ROP has no request, e.g. RopNotify);
    * ``response`` — the fields after the response header on success (``None``: no response, RopRelease);
    * ``handle`` — the name of the response's handle index field (InputHandleIndex, OutputHandleIndex,
      SourceHandleIndex, ResponseHandleIndex);
    * ``errors`` — fields that follow a non-zero ReturnValue: by value, and under ``None`` for every other
      non-zero value (ROPs whose one response buffer carries e.g. PartialCompletion whatever the result).
      A non-zero ReturnValue with no entry is the plain failure response, :class:`RopFailureResponse`;
    * ``header`` — ``False`` for a server-generated response without handle index and ReturnValue;
    * ``section`` — the MS-OXCROPS section that defines the ROP.
    """

    rop_id: int
    name: str
    section: str
    request: Layout | None
    response: Layout | None
    handle: str = "InputHandleIndex"
    errors: Mapping[int | None, Layout] = field(default_factory=dict)
    header: bool = True

    def error_layout(self, return_value: int) -> Layout | None:
        if return_value in self.errors:
            return self.errors[return_value]
        return self.errors.get(None)


def _scope(values: Values, ctx: ResponseContext | None = None, private_logon: bool = True) -> Scope:
    return Scope(values, ctx.columns if ctx is not None else None, private_logon)


@dataclass(frozen=True, eq=True)
class GenericRopRequest(RopRequest):
    """A ROP request described by a :class:`RopSpec`."""

    SPEC: ClassVar[RopSpec]

    values: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def logon_id(self) -> int:
        return int(self.values.get("LogonId", 0))

    @property
    def input_handle_index(self) -> int | None:
        v = self.values.get("InputHandleIndex", self.values.get("SourceHandleIndex"))
        return None if v is None else int(v)

    @property
    def output_handle_index(self) -> int | None:
        v = self.values.get("OutputHandleIndex")
        return None if v is None else int(v)

    @classmethod
    def decode_body(cls, r: Reader, private_logon: bool = True) -> RopRequest:
        values: Values = {}
        try:
            read_fields(r, cls.SPEC.request or (), _scope(values, private_logon=private_logon))
        except ProtocolError as exc:
            exc.partial_rop = cls(dict(values))  # type: ignore[attr-defined]
            raise
        return cls(values)

    def _encode_body(self, w: Writer) -> None:
        write_fields(w, self.SPEC.request or (), _scope(dict(self.values)))

    def __json__(self) -> dict[str, Any]:
        return {"RopId": rop_id_json(self.rop_id), **self.values}


@dataclass(frozen=True, eq=True)
class GenericRopResponse(RopResponse):
    """A ROP response described by a :class:`RopSpec`: handle index, ReturnValue and the fields after them."""

    SPEC: ClassVar[RopSpec]

    handle_index: int = 0
    return_value: int = 0
    values: dict[str, Any] = field(default_factory=dict)
    columns: tuple[int, ...] | None = field(default=None, compare=False, repr=False)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def input_handle_index(self) -> int:
        return self.handle_index

    @property
    def output_handle_index(self) -> int:
        return self.handle_index

    def _layout(self) -> Layout:
        if self.return_value == 0:
            return self.SPEC.response or ()
        return self.SPEC.error_layout(self.return_value) or ()

    @classmethod
    def decode_body(cls, r: Reader, ctx: ResponseContext) -> RopResponse:
        spec = cls.SPEC
        values: Values = {}
        handle = rv = 0
        try:
            if spec.header:
                handle = r.u8(spec.handle)
                rv = r.u32("ReturnValue")
                values["ReturnValue"] = rv  # visible to conditions; removed below
            layout: Layout | None = (spec.response or ()) if rv == 0 else spec.error_layout(rv)
            if layout is None or (rv != 0 and layout and r.at_end()):
                # ⚠ A failure that ends the RopsList right after ReturnValue is the bare failure form even
                # where the spec's one response buffer carries more (gromox sends e.g. RopSetReadFlags'
                # PartialCompletion only on success [I]).
                return RopFailureResponse(spec.rop_id, handle, rv)
            read_fields(r, layout, _scope(values, ctx))
        except ProtocolError as exc:
            values.pop("ReturnValue", None)
            exc.partial_rop = cls(handle, rv, dict(values), ctx.columns)  # type: ignore[attr-defined]
            raise
        values.pop("ReturnValue", None)
        return cls(handle, rv, values, ctx.columns)

    def _encode_body(self, w: Writer) -> None:
        if self.SPEC.header:
            w.u8(self.handle_index).u32(self.return_value)
        values = dict(self.values)
        values["ReturnValue"] = self.return_value
        write_fields(w, self._layout(), Scope(values, self.columns))

    def __json__(self) -> dict[str, Any]:
        out: dict[str, Any] = {"RopId": rop_id_json(self.rop_id)}
        if self.SPEC.header:
            out[self.SPEC.handle] = self.handle_index
            out["ReturnValue"] = self.return_value
        out.update(self.values)
        return out


def build(spec: RopSpec) -> tuple[type[GenericRopRequest] | None, type[GenericRopResponse] | None]:
    """Create and register the request and response classes of ``spec`` (named ``<Rop>Request`` and
    ``<Rop>Response``)."""
    req: type[GenericRopRequest] | None = None
    resp: type[GenericRopResponse] | None = None
    if spec.request is not None:
        req = type(
            f"{spec.name}Request",
            (GenericRopRequest,),
            {
                "ROP_ID": spec.rop_id,
                "SPEC": spec,
                "__doc__": f"{spec.name} request, MS-OXCROPS {spec.section}.",
            },
        )
        req = dataclass(frozen=True)(req)
        request_codec(req)
    if spec.response is not None:
        resp = type(
            f"{spec.name}Response",
            (GenericRopResponse,),
            {
                "ROP_ID": spec.rop_id,
                "SPEC": spec,
                "__doc__": f"{spec.name} response, MS-OXCROPS {spec.section}.",
            },
        )
        resp = dataclass(frozen=True)(resp)
        response_codec(resp)
        if spec.handle == "OutputHandleIndex":
            _OUTPUT_HANDLE_ROPS.add(spec.rop_id)
        HANDLE_FIELD_NAMES[spec.rop_id] = spec.handle
    return req, resp


__all__ = ["GenericRopRequest", "GenericRopResponse", "RopSpec", "build"]
