"""Names of the 32-bit status codes a MAPI server returns (MS-OXCDATA 2.4, MS-OXNSPI 2.2.1.2).

Used to print ``ReturnValue``/``ErrorCode`` fields and PtypErrorCode property values with the spec's name
beside the number. Sources:

* MS-OXCDATA 2.4.1 "Common Error Codes" and 2.4.1.1 "Additional Error Codes" (the ``ec...`` values of the
  store and RPC layers: ecUnknownUser, ecWrongServer, ecRpcFormat, ecNullObject, ...);
* MS-OXCDATA 2.4.2 "Property Error Codes" (values of FlaggedPropertyValue Flag 0xA);
* MS-OXCDATA 2.4.3 warnings (ErrorsReturned and friends: success codes with information);
* MS-OXNSPI 2.2.1.2 "Permitted Error Code Values": UnbindSuccess 1 and UnbindFailure 2, which only mean
  something as the return value of an NSPI Unbind.

The spec's name is the primary one; the ``ec...``/``MAPI_E_...`` alternate names engineers grep logs for are
kept in :data:`ALTERNATE_NAMES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

_CODES: dict[int, str] = {
    # MS-OXCDATA 2.4.1 Common Error Codes
    0x00000000: "Success",
    0x80004005: "GeneralFailure",
    0x8007000E: "OutOfMemory",
    0x80070057: "InvalidParameter",
    0x80004002: "NoInterface",
    0x80070005: "AccessDenied",
    0x80030001: "StorageInvalidFunction",
    0x80030005: "StorageAccessDenied",
    0x80030008: "StorageInsufficientMemory",
    0x80030009: "StorageInvalidPointer",
    0x8003001E: "StorageReadFault",
    0x80030021: "StorageLockViolation",
    0x80030057: "StorageInvalidParameter",
    0x80030070: "StreamSizeError",
    0x800300FF: "StorageInvalidFlag",
    0x80030103: "StorageCantSave",
    0x80040102: "NotSupported",
    0x80040103: "InvalidCharacterWidth",
    0x80040105: "StringTooLong",
    0x80040106: "InvalidFlag",
    0x80040107: "InvalidEntryID",
    0x80040108: "InvalidObject",
    0x80040109: "ObjectChanged",
    0x8004010A: "ObjectDeleted",
    0x8004010B: "ServerBusy",
    0x8004010D: "OutOfDisk",
    0x8004010E: "OutOfResources",
    0x8004010F: "NotFound",
    0x80040110: "VersionMismatch",
    0x80040111: "LogonFailed",
    0x80040112: "TooManySessions",
    0x80040113: "UserCanceled",
    0x80040114: "AbortFailed",
    0x80040115: "NetworkError",
    0x80040116: "DiskError",
    0x80040117: "TooComplex",
    0x80040118: "InvalidColumn",
    0x8004011A: "ComputedValue",
    0x8004011B: "CorruptData",
    0x8004011E: "InvalidCodepage",
    0x8004011F: "InvalidLocale",
    0x80040123: "TimeSkew",
    0x80040200: "EndOfSession",
    0x80040201: "UnknownEntryId",
    0x80040400: "NotCompleted",
    0x80040401: "Timeout",
    0x80040402: "EmptyTable",
    0x80040403: "TableTooBig",
    0x80040405: "InvalidBookmark",
    0x80040500: "ErrorWait",
    0x80040501: "ErrorCancel",
    0x80040602: "NoSuppress",
    0x80040604: "CollidingNames",
    0x80040605: "NotInitialized",
    0x80040607: "NoRecipients",
    0x80040608: "AlreadySent",
    0x80040609: "HasFolders",
    0x8004060A: "HasMessages",
    0x8004060B: "FolderCycle",
    0x8004060D: "TooManyLocks",
    0x80040700: "AmbiguousRecipient",
    0x80040800: "SyncObjectDeleted",
    0x80040801: "IgnoreFailure",
    0x80040802: "SyncConflict",
    0x80040803: "NoParentFolder",
    0x80040804: "CycleDetected",
    0x80040805: "NotSynchronized",
    0x80040900: "NamedPropertyQuota",
    0x80040FFF: "NotImplemented",
    # MS-OXCDATA 2.4.2 Property Error Codes (NotEnoughMemory shares 0x8007000E with OutOfMemory)
    0x80040301: "BadValue",
    0x80040302: "InvalidType",
    0x80040303: "UnsupportedType",
    0x80040304: "UnexpectedType",
    0x80040305: "TooBig",
    0x80040306: "DeclineCopy",
    0x80040307: "UnexpectedId",
    # MS-OXCDATA 2.4 warnings (success with information)
    0x00040380: "ErrorsReturned",
    0x00040481: "PositionChanged",
    0x00040482: "ApproximateCount",
    0x00040680: "PartiallyComplete",
    0x00040820: "SyncProgress",
    0x00040821: "NewerClientChange",
    # MS-OXCDATA 2.4.1.1 Additional Error Codes (store / RPC layer, the ec... names)
    0x000003EA: "IsamError",
    0x000003EB: "UnknownUser",
    0x000003ED: "Exiting",
    0x000003EE: "BadConfiguration",
    0x000003EF: "UnknownCodePage",
    0x000003F0: "ServerMemory",
    0x000003F2: "LoginPermission",
    0x000003F3: "DatabaseRolledBack",
    0x000003F4: "DatabaseCopiedError",
    0x0000047D: "BufferTooSmall",
    0x00000478: "WrongServer",
    0x000004B6: "RpcFormat",
    0x000004B9: "NullObject",
    0x000004DF: "ClientVersionDisallowed",
    0x000004E1: "CachedModeRequired",
    0x000007D8: "ProtocolDisabled",
}

# NSPI-only return values (MS-OXNSPI 2.2.1.2). 1 and 2 are not store error codes; give them names only
# where the caller says the value is an NSPI return value.
_NSPI_CODES: dict[int, str] = {
    0x00000001: "UnbindSuccess",
    0x00000002: "UnbindFailure",
}

ALTERNATE_NAMES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "Success": ("S_OK", "ecNone"),
        "GeneralFailure": ("E_FAIL", "MAPI_E_CALL_FAILED", "ecError"),
        "OutOfMemory": ("E_NOMEMORY", "MAPI_E_NOT_ENOUGH_MEMORY", "ecMAPIOOM", "NotEnoughMemory"),
        "InvalidParameter": ("E_INVALIDARG", "MAPI_E_INVALID_PARAMETER", "ecInvalidParam"),
        "AccessDenied": ("E_ACCESSDENIED", "MAPI_E_NO_ACCESS", "ecAccessDenied"),
        "NotSupported": ("MAPI_E_NO_SUPPORT", "ecNotSupported"),
        "InvalidObject": ("MAPI_E_INVALID_OBJECT", "ecInvalidObject"),
        "NotFound": ("MAPI_E_NOT_FOUND", "ecNotFound"),
        "LogonFailed": ("MAPI_E_LOGON_FAILED", "ecLoginFailure"),
        "TableTooBig": ("MAPI_E_TABLE_TOO_BIG",),
        "ErrorsReturned": ("MAPI_W_ERRORS_RETURNED", "ecWarnWithErrors"),
        "UnknownUser": ("ecUnknownUser",),
        "ServerMemory": ("ecServerOOM",),
        "BufferTooSmall": ("ecBufferTooSmall",),
        "WrongServer": ("ecWrongServer",),
        "RpcFormat": ("ecRpcFormat",),
        "NullObject": ("ecNullObject",),
        "ClientVersionDisallowed": ("ecClientVerDisallowed",),
        "CachedModeRequired": ("ecCachedModeRequired",),
        "ProtocolDisabled": ("ecProtocolDisabled",),
        "AmbiguousRecipient": ("MAPI_E_AMBIGUOUS_RECIP",),
    }
)

ERROR_CODES: Mapping[int, str] = MappingProxyType(_CODES)


def error_name(code: int, *, nspi: bool = False) -> str | None:
    """The spec's name of ``code``, or ``None`` if it is not a known status code.

    ``nspi=True`` also names the NSPI-only values UnbindSuccess (1) and UnbindFailure (2).
    """
    code &= 0xFFFFFFFF
    name = _CODES.get(code)
    if name is None and nspi:
        name = _NSPI_CODES.get(code)
    return name


def describe(code: int, *, nspi: bool = False) -> str:
    """``0x8004010F (NotFound)``: the number in hex, with the name when known."""
    code &= 0xFFFFFFFF
    name = error_name(code, nspi=nspi)
    return f"0x{code:08X} ({name})" if name else f"0x{code:08X}"


def is_failure(code: int, *, nspi: bool = False) -> bool:
    """True for an HRESULT-style failure (high bit set) or a non-zero store ``ec`` error below 0x10000.

    Warnings such as ErrorsReturned (0x00040380) are successes with information and return False; with
    ``nspi=True`` so is UnbindSuccess (1), the normal answer to an NSPI Unbind.
    """
    code &= 0xFFFFFFFF
    if code == 0 or (nspi and code == 0x00000001):
        return False
    if code & 0x80000000:
        return True
    return code < 0x10000


__all__ = ["ALTERNATE_NAMES", "ERROR_CODES", "describe", "error_name", "is_failure"]
