"""Turn decoded structures into plain JSON-able data whose keys are the spec's field names.

Codec dataclasses use snake_case attribute names that are the spec's field names
(``rop_id`` ↔ ``RopId``, ``input_handle_index`` ↔ ``InputHandleIndex``). :func:`to_jsonable` converts
them back to the spec's PascalCase, so an Exchange engineer can hold the output against the spec.
A field whose spec name does not follow that rule declares it with ``field(metadata={"spec": "..."})``.
A value with a ``__json__()`` method renders itself (property tags print as ``0xXXXXXXXX`` with their
``PidTag...`` name beside). ``bytes`` render as upper-case hex, enums by name, GUIDs in registry form.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import uuid
from collections.abc import Mapping
from typing import Any

_ACRONYMS = {"Guid": "Guid", "Dn": "Dn", "Id": "Id"}


_SPEC_NAMES: dict[str, str] = {}


def spec_name(snake: str) -> str:
    """``input_handle_index`` → ``InputHandleIndex`` (remembered: decoders ask for the same few names with
    every ROP and field they read)."""
    name = _SPEC_NAMES.get(snake)
    if name is None:
        name = "".join(part[:1].upper() + part[1:] for part in snake.split("_") if part)
        if len(_SPEC_NAMES) < 4096:  # field names are a fixed set; a bound in case a caller passes data
            _SPEC_NAMES[snake] = name
    return name


_PLAIN = frozenset({str, int, float, bool, type(None)})
_FIELDS: dict[type, tuple[tuple[str, str], ...]] = {}


def _json_fields(cls: type) -> tuple[tuple[str, str], ...]:
    """(attribute, JSON key) of a dataclass's shown fields, worked out once per class."""
    found = _FIELDS.get(cls)
    if found is None:
        found = tuple(
            (f.name, f.metadata.get("spec") or spec_name(f.name))
            for f in dataclasses.fields(cls)
            if f.metadata.get("json") is not False
        )
        _FIELDS[cls] = found
    return found


_SELF, _JSON, _NAME, _HEX, _GUID, _ISO, _DATACLASS, _MAPPING, _LIST, _REPR = range(10)
_KIND_OF: dict[type, int] = {t: _SELF for t in _PLAIN}


def _kind_of(cls: type) -> int:
    """How values of ``cls`` render (the checks of :func:`to_jsonable` in order), decided once per type."""
    if issubclass(cls, type):  # a class itself: no __json__, no fields
        return _REPR
    if callable(getattr(cls, "__json__", None)):  # int subclasses such as PropertyTag render themselves
        return _JSON
    if issubclass(cls, enum.Enum):
        return _NAME
    if issubclass(cls, bool | int | float | str):
        return _SELF
    if issubclass(cls, bytes | bytearray | memoryview):
        return _HEX
    if issubclass(cls, uuid.UUID):
        return _GUID
    if issubclass(cls, _dt.datetime | _dt.date):
        return _ISO
    if dataclasses.is_dataclass(cls):
        return _DATACLASS
    if issubclass(cls, Mapping):
        return _MAPPING
    if issubclass(cls, list | tuple | set | frozenset):
        return _LIST
    return _REPR


def to_jsonable(obj: Any) -> Any:
    cls = type(obj)
    kind = _KIND_OF.get(cls)
    if kind is None:
        kind = _KIND_OF[cls] = _kind_of(cls)
    if kind == _SELF:
        return obj
    if kind == _DATACLASS:
        return {key: to_jsonable(getattr(obj, name)) for name, key in _json_fields(cls)}
    if kind == _JSON:
        return to_jsonable(obj.__json__())
    if kind == _LIST:
        return [to_jsonable(v) for v in obj]
    if kind == _MAPPING:
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if kind == _NAME:
        return obj.name
    if kind == _HEX:
        return bytes(obj).hex().upper()
    if kind == _GUID:
        return "{" + str(obj).upper() + "}"
    if kind == _ISO:
        return obj.isoformat()
    return repr(obj)


def render_tree(value: Any, indent: int = 0) -> list[str]:
    """Render JSON-able data as an indented, human-readable tree (one line per scalar)."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, dict | list) and v:
                lines.append(f"{pad}{k}:")
                lines.extend(render_tree(v, indent + 1))
            else:
                lines.append(f"{pad}{k}: {_scalar(v)}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if isinstance(v, dict | list) and v:
                lines.append(f"{pad}[{i}]")
                lines.extend(render_tree(v, indent + 1))
            else:
                lines.append(f"{pad}[{i}] {_scalar(v)}")
    else:
        lines.append(f"{pad}{_scalar(value)}")
    return lines


def _scalar(v: Any) -> str:
    if isinstance(v, dict):
        return "{}"
    if isinstance(v, list):
        return "[]"
    if isinstance(v, bool) or v is None:
        return str(v).lower() if v is not None else "null"
    if isinstance(v, int):
        return f"{v} (0x{v:X})" if v >= 10 else str(v)
    return str(v)


__all__ = ["render_tree", "spec_name", "to_jsonable"]
