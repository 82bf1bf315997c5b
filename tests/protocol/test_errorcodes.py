"""Status code names (protocol/errorcodes.py), MS-OXCDATA 2.4 and MS-OXNSPI 2.2.1.2."""

from __future__ import annotations

import pytest

from mapiprobe.protocol.errorcodes import ALTERNATE_NAMES, ERROR_CODES, describe, error_name, is_failure


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (0x00000000, "Success"),
        (0x80004005, "GeneralFailure"),
        (0x8007000E, "OutOfMemory"),
        (0x80070057, "InvalidParameter"),
        (0x80070005, "AccessDenied"),
        (0x80040102, "NotSupported"),
        (0x80040108, "InvalidObject"),
        (0x8004010E, "OutOfResources"),
        (0x8004010F, "NotFound"),
        (0x80040111, "LogonFailed"),
        (0x80040117, "TooComplex"),
        (0x8004011E, "InvalidCodepage"),
        (0x8004011F, "InvalidLocale"),
        (0x80040403, "TableTooBig"),
        (0x80040405, "InvalidBookmark"),
        (0x80040700, "AmbiguousRecipient"),
        (0x00040380, "ErrorsReturned"),
        (0x000003EB, "UnknownUser"),
        (0x00000478, "WrongServer"),
        (0x0000047D, "BufferTooSmall"),
        (0x000004B6, "RpcFormat"),
        (0x000004B9, "NullObject"),
        (0x000007D8, "ProtocolDisabled"),
        (0x80040305, "TooBig"),
    ],
)
def test_names(code: int, name: str) -> None:
    assert error_name(code) == name
    assert describe(code) == f"0x{code:08X} ({name})"


def test_nspi_only_values() -> None:
    # MS-OXNSPI 2.2.1.2: UnbindSuccess and UnbindFailure are NSPI return values, not store codes.
    assert error_name(1) is None and error_name(2) is None
    assert error_name(1, nspi=True) == "UnbindSuccess"
    assert error_name(2, nspi=True) == "UnbindFailure"
    assert describe(1, nspi=True) == "0x00000001 (UnbindSuccess)"
    assert not is_failure(1, nspi=True)
    assert is_failure(2, nspi=True)


def test_unknown_and_negative() -> None:
    assert error_name(0x12345678) is None
    assert describe(0x12345678) == "0x12345678"
    assert error_name(-0x7FFBFEF1) == "NotFound"  # the same 32 bits read as a signed integer


def test_is_failure() -> None:
    assert not is_failure(0)
    assert not is_failure(0x00040380)  # a warning
    assert is_failure(0x8004010F)
    assert is_failure(0x00000478)


def test_tables_are_consistent() -> None:
    assert len(set(ERROR_CODES.values())) == len(ERROR_CODES)
    for name in ALTERNATE_NAMES:
        assert name in ERROR_CODES.values(), name
