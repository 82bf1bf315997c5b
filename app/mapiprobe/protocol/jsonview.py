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


def spec_name(snake: str) -> str:
    """``input_handle_index`` → ``InputHandleIndex``."""
    return "".join(part[:1].upper() + part[1:] for part in snake.split("_") if part)


def to_jsonable(obj: Any) -> Any:
    # __json__ first: int subclasses such as PropertyTag and FolderId render themselves.
    json_method = getattr(obj, "__json__", None)
    if callable(json_method) and not isinstance(obj, type):
        return to_jsonable(json_method())
    if obj is None or isinstance(obj, bool | int | float | str):
        if isinstance(obj, enum.Enum):
            return obj.name
        return obj
    if isinstance(obj, enum.Enum):
        return obj.name
    if isinstance(obj, bytes | bytearray | memoryview):
        return bytes(obj).hex().upper()
    if isinstance(obj, uuid.UUID):
        return "{" + str(obj).upper() + "}"
    if isinstance(obj, _dt.datetime | _dt.date):
        return obj.isoformat()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(obj):
            if f.metadata.get("json") is False:
                continue
            key = f.metadata.get("spec") or spec_name(f.name)
            out[key] = to_jsonable(getattr(obj, f.name))
        return out
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in obj]
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
