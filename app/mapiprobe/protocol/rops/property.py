"""Property ROPs for browsing: RopGetPropertiesSpecific (0x07) and RopGetPropertyIdsFromNames (0x56) —
MS-OXCROPS 2.2.8.3 and 2.2.8.1, field semantics in MS-OXCPRPT 2.2.2 and 2.2.12.

RopGetPropertiesSpecific answers with one PropertyRow (MS-OXCDATA 2.8.1) whose values follow the order of
the request's PropertyTags, so its response decoder needs those tags (:class:`~.base.ResponseContext`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..errors import DecodeError
from ..properties import Context, PropertyName, PropertyRow, PropertyTag, read_tag_array, write_tag_array
from ..wire import Reader, Writer
from .base import (
    HIDDEN,
    ResponseContext,
    RopId,
    RopRequest,
    RopResponse,
    StandardResponse,
    prefixed,
    request_codec,
    response_codec,
)

GET_PROPERTY_IDS_CREATE = 0x02
EC_WARN_WITH_ERRORS = 0x00040380
"""ReturnValue of a RopGetPropertyIdsFromNames that mapped only some names (MS-OXCDATA 2.4.1)."""
"""RopGetPropertyIdsFromNames Flags: register names that are not mapped yet (MS-OXCPRPT 2.2.12.1)."""


@request_codec
@dataclass(frozen=True)
class RopGetPropertiesSpecificRequest(RopRequest):
    """MS-OXCROPS 2.2.8.3.1 (MS-OXCPRPT 2.2.2.1). PropertySizeLimit 0 means "limited only by the response
    buffer"; WantUnicode non-zero asks for PtypUnspecified strings in Unicode."""

    ROP_ID: ClassVar[int] = RopId.RopGetPropertiesSpecific

    logon_id: int
    input_handle_index: int
    property_size_limit: int
    want_unicode: int
    property_tags: tuple[PropertyTag, ...] = field(metadata=prefixed("PropertyTagCount"))

    def __post_init__(self) -> None:
        object.__setattr__(self, "property_tags", tuple(PropertyTag(t) for t in self.property_tags))

    @classmethod
    def decode_body(cls, r: Reader) -> RopGetPropertiesSpecificRequest:
        logon_id, inp = r.u8("LogonId"), r.u8("InputHandleIndex")
        limit, unicode = r.u16("PropertySizeLimit"), r.u16("WantUnicode")
        return cls(logon_id, inp, limit, unicode, read_tag_array(r, 2))

    def _encode_body(self, w: Writer) -> None:
        w.u8(self.logon_id).u8(self.input_handle_index).u16(self.property_size_limit).u16(self.want_unicode)
        write_tag_array(w, self.property_tags, 2)


@response_codec
@dataclass(frozen=True)
class RopGetPropertiesSpecificResponse(StandardResponse):
    """MS-OXCROPS 2.2.8.3.2: RowData, one PropertyRow with the values in request order. ``property_tags``
    (the request's tags; hidden from the JSON view) is what the row was decoded with."""

    ROP_ID: ClassVar[int] = RopId.RopGetPropertiesSpecific

    input_handle_index: int
    row_data: PropertyRow
    property_tags: tuple[int, ...] = field(default=(), metadata=HIDDEN)

    def __post_init__(self) -> None:
        object.__setattr__(self, "property_tags", tuple(int(t) for t in self.property_tags))

    @classmethod
    def decode_success(cls, r: Reader, ctx: ResponseContext, handle: int) -> RopResponse:
        tags = ctx.columns
        if isinstance(ctx.request, RopGetPropertiesSpecificRequest):
            tags = tuple(ctx.request.property_tags)
        if tags is None:
            raise DecodeError(
                "a RopGetPropertiesSpecific response row cannot be read without the request's PropertyTags: "
                "give --columns or decode it with its request buffer",
                offset=r.offset,
                field="RowData",
                expected="the PropertyTags of the RopGetPropertiesSpecific request",
            )
        return cls(handle, PropertyRow.decode_many(r, tags, 1, Context.ROP)[0], tags)

    def _encode_success(self, w: Writer) -> None:
        self.row_data.encode(w, self.property_tags, Context.ROP)


@request_codec
@dataclass(frozen=True)
class RopGetPropertyIdsFromNamesRequest(RopRequest):
    """MS-OXCROPS 2.2.8.1.1 (MS-OXCPRPT 2.2.12.1): map named properties (MS-OXCDATA 2.6.1) to property
    IDs. PropertyNameCount 0 asks for every registered named property."""

    ROP_ID: ClassVar[int] = RopId.RopGetPropertyIdsFromNames

    logon_id: int
    input_handle_index: int
    flags: int
    property_names: tuple[PropertyName, ...] = field(metadata=prefixed("PropertyNameCount"))

    def __post_init__(self) -> None:
        object.__setattr__(self, "property_names", tuple(self.property_names))

    @classmethod
    def decode_body(cls, r: Reader) -> RopGetPropertyIdsFromNamesRequest:
        logon_id, inp, flags = r.u8("LogonId"), r.u8("InputHandleIndex"), r.u8("Flags")
        count = r.count(2, "PropertyNameCount", item_size=1)
        return cls(logon_id, inp, flags, tuple(PropertyName.decode(r) for _ in range(count)))

    def _encode_body(self, w: Writer) -> None:
        w.u8(self.logon_id).u8(self.input_handle_index).u8(self.flags).u16(len(self.property_names))
        for name in self.property_names:
            name.encode(w)


@response_codec
@dataclass(frozen=True)
class RopGetPropertyIdsFromNamesResponse(StandardResponse):
    """MS-OXCROPS 2.2.8.1.2: one u16 property ID per requested name, 0x0000 for a name that could not be
    mapped (MS-OXCPRPT 2.2.12.2). PropertyIdCount is derived."""

    ROP_ID: ClassVar[int] = RopId.RopGetPropertyIdsFromNames

    input_handle_index: int
    property_ids: tuple[int, ...] = field(metadata=prefixed("PropertyIdCount"))
    names: tuple[PropertyName, ...] = field(default=(), metadata=HIDDEN, compare=False)
    """The request's PropertyNames, when the response was decoded with its request: the JSON view then
    shows which named property each ID stands for in this session."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "property_ids", tuple(self.property_ids))

    @classmethod
    def decode_success(cls, r: Reader, ctx: ResponseContext, handle: int) -> RopResponse:
        count = r.count(2, "PropertyIdCount", item_size=2)
        ids = tuple(r.u16("PropertyIds") for _ in range(count))
        request = ctx.request
        names = request.property_names if isinstance(request, RopGetPropertyIdsFromNamesRequest) else ()
        return cls(handle, ids, tuple(names) if len(names) == len(ids) else ())

    @classmethod
    def decode_special(
        cls, r: Reader, ctx: ResponseContext, handle: int, return_value: int
    ) -> RopResponse | None:
        """ecWarnWithErrors (0x00040380): some names could not be mapped; the IDs still follow (their 0x0000
        entries are the failures, MS-OXCPRPT 3.2.5.8) [I gromox]."""
        if return_value != EC_WARN_WITH_ERRORS:
            return None
        ok = cls.decode_success(r, ctx, handle)
        assert isinstance(ok, RopGetPropertyIdsFromNamesResponse)
        return RopGetPropertyIdsFromNamesWarning(handle, ok.property_ids, ok.names, warning=return_value)

    def __json__(self) -> dict[str, Any]:
        out = super().__json__()
        if self.names:
            out["Resolved"] = [
                {"PropertyId": f"0x{pid:04X}", **name.__json__()}
                for pid, name in zip(self.property_ids, self.names, strict=True)
            ]
        return out

    def _encode_success(self, w: Writer) -> None:
        w.u16(len(self.property_ids))
        for pid in self.property_ids:
            w.u16(pid)


@dataclass(frozen=True)
class RopGetPropertyIdsFromNamesWarning(RopGetPropertyIdsFromNamesResponse):
    """A RopGetPropertyIdsFromNames response with the warning ReturnValue 0x00040380 (ecWarnWithErrors):
    the success layout, some IDs 0x0000."""

    warning: int = EC_WARN_WITH_ERRORS

    @property
    def return_value(self) -> int:
        return self.warning

    def _encode_body(self, w: Writer) -> None:
        w.u8(self.input_handle_index).u32(self.warning)
        self._encode_success(w)

    def __json__(self) -> dict[str, Any]:
        out = super().__json__()
        out.pop("Warning", None)
        return out


__all__ = [
    "EC_WARN_WITH_ERRORS",
    "GET_PROPERTY_IDS_CREATE",
    "RopGetPropertiesSpecificRequest",
    "RopGetPropertiesSpecificResponse",
    "RopGetPropertyIdsFromNamesRequest",
    "RopGetPropertyIdsFromNamesResponse",
    "RopGetPropertyIdsFromNamesWarning",
]
