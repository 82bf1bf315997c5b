"""to_jsonable: spec field names, self-rendering values, bytes and GUIDs."""

from __future__ import annotations

import dataclasses
import uuid

from mapiprobe.protocol.jsonview import render_tree, spec_name, to_jsonable


class _Tag(int):
    def __json__(self) -> dict[str, str]:
        return {"PropertyTag": f"0x{int(self):08X}"}


@dataclasses.dataclass(frozen=True)
class _Rop:
    rop_id: int
    input_handle_index: int
    property_tags: tuple[_Tag, ...]
    odd: bytes = dataclasses.field(default=b"\x01\xab", metadata={"spec": "RopsList"})


def test_spec_names() -> None:
    assert spec_name("input_handle_index") == "InputHandleIndex"
    assert spec_name("rop_id") == "RopId"


def test_dataclass_and_int_subclass_render() -> None:
    out = to_jsonable(_Rop(0x12, 0, (_Tag(0x3001001F),)))
    assert out == {
        "RopId": 0x12,
        "InputHandleIndex": 0,
        "PropertyTags": [{"PropertyTag": "0x3001001F"}],
        "RopsList": "01AB",
    }


def test_guid_and_tree() -> None:
    g = uuid.UUID("C840A7DC-42C0-1A10-B4B9-08002B2FE182")
    assert to_jsonable(g) == "{C840A7DC-42C0-1A10-B4B9-08002B2FE182}"
    lines = render_tree({"a": 1, "b": {"c": 255}, "d": []})
    assert lines == ["a: 1", "b:", "  c: 255 (0xFF)", "d: []"]
