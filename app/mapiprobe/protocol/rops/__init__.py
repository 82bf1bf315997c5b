"""ROP request and response codecs for browsing a mailbox (MS-OXCROPS; semantics in MS-OXCSTOR, MS-OXCFOLD,
MS-OXCTABL and MS-OXCPRPT).

Layout of the package — one small module per group of ROPs, each ROP a frozen dataclass registered by
RopId:

* :mod:`.base` — :class:`RopId`, the request/response base classes, the failure response, registries;
* :mod:`.logon` — RopLogon (request; private, public, redirect responses);
* :mod:`.folder` — RopOpenFolder, RopGetHierarchyTable, RopGetContentsTable;
* :mod:`.table` — RopSetColumns, RopQueryRows;
* :mod:`.property` — RopGetPropertiesSpecific, RopGetPropertyIdsFromNames;
* :mod:`.server` — RopRelease and the server-generated RopBufferTooSmall, RopBackoff, RopPending;
* :mod:`.layout`, :mod:`.generic`, :mod:`.catalog` — every other ROP of MS-OXCROPS 2.2 as data: field
  kinds, the generic request/response classes, and the table (one :class:`~.generic.RopSpec` per ROP);
* :mod:`.codec` — :func:`decode_requests`, :func:`decode_responses`, :func:`encode_rops`;
* :mod:`.decode_kinds` — the ``rop-request`` / ``rop-response`` kinds of ``mapiprobe decode``.
"""

from __future__ import annotations

from . import catalog as _catalog  # noqa: F401 - builds and registers the table-driven ROP classes
from . import decode_kinds as _decode_kinds  # noqa: F401 - registers the decode kinds
from .base import (
    REQUESTS,
    RESPONSES,
    ResponseContext,
    Rop,
    RopFailureResponse,
    RopId,
    RopRequest,
    RopResponse,
    StandardResponse,
    describe_rop_id,
)
from .codec import decode_requests, decode_responses, encode_rops, iter_requests, iter_responses
from .folder import (
    RopGetContentsTableRequest,
    RopGetContentsTableResponse,
    RopGetHierarchyTableRequest,
    RopGetHierarchyTableResponse,
    RopOpenFolderRequest,
    RopOpenFolderResponse,
)
from .logon import (
    EC_WRONG_SERVER,
    LogonTime,
    MailboxFolderIds,
    PublicFolderIds,
    RopLogonPrivateMailboxResponse,
    RopLogonPublicFoldersResponse,
    RopLogonRedirectResponse,
    RopLogonRequest,
)
from .property import (
    RopGetPropertiesSpecificRequest,
    RopGetPropertiesSpecificResponse,
    RopGetPropertyIdsFromNamesRequest,
    RopGetPropertyIdsFromNamesResponse,
)
from .server import (
    SERVER_GENERATED,
    BackoffRop,
    RopBackoffResponse,
    RopBufferTooSmallResponse,
    RopPendingResponse,
    RopReleaseRequest,
)
from .table import (
    RopQueryRowsRequest,
    RopQueryRowsResponse,
    RopSetColumnsRequest,
    RopSetColumnsResponse,
)

__all__ = [
    "EC_WRONG_SERVER",
    "REQUESTS",
    "RESPONSES",
    "SERVER_GENERATED",
    "BackoffRop",
    "LogonTime",
    "MailboxFolderIds",
    "PublicFolderIds",
    "ResponseContext",
    "Rop",
    "RopBackoffResponse",
    "RopBufferTooSmallResponse",
    "RopFailureResponse",
    "RopGetContentsTableRequest",
    "RopGetContentsTableResponse",
    "RopGetHierarchyTableRequest",
    "RopGetHierarchyTableResponse",
    "RopGetPropertiesSpecificRequest",
    "RopGetPropertiesSpecificResponse",
    "RopGetPropertyIdsFromNamesRequest",
    "RopGetPropertyIdsFromNamesResponse",
    "RopId",
    "RopLogonPrivateMailboxResponse",
    "RopLogonPublicFoldersResponse",
    "RopLogonRedirectResponse",
    "RopLogonRequest",
    "RopOpenFolderRequest",
    "RopOpenFolderResponse",
    "RopPendingResponse",
    "RopQueryRowsRequest",
    "RopQueryRowsResponse",
    "RopReleaseRequest",
    "RopRequest",
    "RopResponse",
    "RopSetColumnsRequest",
    "RopSetColumnsResponse",
    "StandardResponse",
    "decode_requests",
    "decode_responses",
    "describe_rop_id",
    "encode_rops",
    "iter_requests",
    "iter_responses",
]
