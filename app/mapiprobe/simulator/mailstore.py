"""The simulated message store behind the mailbox endpoint: folders, messages, their IDs and properties.

The tree comes from ``resources/mailbox/sample-mailbox.json`` (data, not code): ``root`` is the IPM subtree
("Top of Information Store"); each folder has ``display_name``, ``container_class``, optionally ``special``
(its well-known role), ``children`` and ``items``. Optional keys the loader also honours: ``hidden``
(PidTagAttributeHidden) and, on an item, ``body``. Every user of the simulated organisation gets a fresh
copy of the same tree.

Around the IPM subtree the loader builds the non-IPM folders a private mailbox has (MS-OXCSTOR 2.2.1.1.3:
Mailbox Root, Deferred Action, Spooler Queue, Common Views, Schedule, Search/"Finder", Views, Shortcuts), so
RopLogon can name all 13 special folders.

IDs (MS-OXCDATA 2.2.1.1, 2.2.1.2): ReplicaId 1 and a GlobalCounter that grows in tree order, shared by
folders and messages as in Exchange; :class:`~mapiprobe.protocol.properties.FolderId` writes the
GlobalCounter bytes most significant first (PROTOCOL.md §5.5). Properties are served by tag; a property a
folder or message does not have is absent (a reader gets NotFound, MS-OXCDATA 2.4.2).
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mapiprobe.protocol.properties import FileTime, FolderId, MessageId, PropertyTag, PropType
from mapiprobe.protocol.rops.logon import MailboxFolderIds
from mapiprobe.resources import resource_path

REPLICA_ID = 0x0001
"""ReplicaId of every FID/MID in the simulated store (the ReplId RopLogon returns)."""

# -- property tags (names from MS-OXPROPS; values as in PROTOCOL.md §5.6) --------------------------------
TAG_DISPLAY_NAME = 0x3001001F
TAG_FOLDER_ID = 0x67480014
TAG_PARENT_FOLDER_ID = 0x67490014
TAG_MID = 0x674A0014
TAG_INST_ID = 0x674D0014
TAG_INSTANCE_NUM = 0x674E0003
TAG_CONTENT_COUNT = 0x36020003
TAG_CONTENT_UNREAD_COUNT = 0x36030003
TAG_SUBFOLDERS = 0x360A000B
TAG_FOLDER_CHILD_COUNT = 0x66380003
TAG_CONTAINER_CLASS = 0x3613001F
TAG_FOLDER_TYPE = 0x36010003
TAG_DEPTH = 0x30050003
TAG_ENTRY_ID = 0x0FFF0102
TAG_RECORD_KEY = 0x0FF90102
TAG_OBJECT_TYPE = 0x0FFE0003
TAG_ACCESS = 0x0FF40003
TAG_ACCESS_LEVEL = 0x0FF70003
TAG_ATTRIBUTE_HIDDEN = 0x10F4000B
TAG_MESSAGE_SIZE = 0x0E080003
TAG_MESSAGE_SIZE_EXTENDED = 0x0E080014
TAG_CREATION_TIME = 0x30070040
TAG_LAST_MODIFICATION_TIME = 0x30080040
TAG_SUBJECT = 0x0037001F
TAG_NORMALIZED_SUBJECT = 0x0E1D001F
TAG_MESSAGE_CLASS = 0x001A001F
TAG_MESSAGE_DELIVERY_TIME = 0x0E060040
TAG_CLIENT_SUBMIT_TIME = 0x00390040
TAG_SENDER_NAME = 0x0C1A001F
TAG_SENDER_EMAIL_ADDRESS = 0x0C1F001F
TAG_SENDER_ADDRESS_TYPE = 0x0C1E001F
TAG_MESSAGE_FLAGS = 0x0E070003
TAG_HAS_ATTACHMENTS = 0x0E1B000B
TAG_IMPORTANCE = 0x00170003
TAG_BODY = 0x1000001F
TAG_MAILBOX_OWNER_NAME = 0x661A001F
TAG_STORE_SUPPORT_MASK = 0x340D0003

FOLDER_TYPE_ROOT = 0
FOLDER_TYPE_GENERIC = 1
"""PidTagFolderType values (standard MAPI FOLDER_ROOT / FOLDER_GENERIC; PROTOCOL.md §5.6 [U])."""

MSGFLAG_READ = 0x00000001
MSGFLAG_HASATTACH = 0x00000010
"""PidTagMessageFlags bits (MS-OXCMSG 2.2.1.6)."""

OBJECT_TYPE_STORE = 1
OBJECT_TYPE_FOLDER = 3
OBJECT_TYPE_MESSAGE = 5
"""PidTagObjectType values (standard MAPI object types)."""

_EPOCH = _dt.datetime(2026, 1, 1, tzinfo=_dt.UTC)

# The 13 special folders of a private logon in RopLogon order (MS-OXCSTOR 2.2.1.1.3): the role name, the
# display name the simulator gives a folder it creates, and whether it lives in the IPM subtree.
SPECIAL_FOLDERS: tuple[tuple[str, str], ...] = (
    ("Mailbox Root", ""),
    ("Deferred Action", "Deferred Action"),
    ("Spooler Queue", "Spooler Queue"),
    ("IPM Subtree", "Top of Information Store"),
    ("Inbox", "Inbox"),
    ("Outbox", "Outbox"),
    ("Sent Items", "Sent Items"),
    ("Deleted Items", "Deleted Items"),
    ("Common Views", "Common Views"),
    ("Schedule", "Schedule"),
    ("Search", "Finder"),
    ("Views", "Views"),
    ("Shortcuts", "Shortcuts"),
)
_NON_IPM_ROLES = (
    "Deferred Action",
    "Spooler Queue",
    "Common Views",
    "Schedule",
    "Search",
    "Views",
    "Shortcuts",
)


def _parse_time(text: str | None) -> _dt.datetime:
    if not text:
        return _EPOCH
    when = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=_dt.UTC)


def _global_counter_bytes(fid: int) -> bytes:
    return FolderId(fid).to_bytes8()[2:]


@dataclass(eq=False)
class StoreMessage:
    """One message (an item of the sample mailbox)."""

    mid: MessageId
    folder: StoreFolder = field(repr=False)
    subject: str
    sender_name: str
    sender_email: str
    received: _dt.datetime
    size: int
    message_class: str
    read: bool
    has_attachments: bool
    importance: int
    body: str | None = None

    @property
    def flags(self) -> int:
        return (MSGFLAG_READ if self.read else 0) | (MSGFLAG_HASATTACH if self.has_attachments else 0)

    @property
    def normalized_subject(self) -> str:
        text = self.subject
        while True:
            head, sep, rest = text.partition(": ")
            if sep and head.lower() in ("re", "fw", "fwd", "aw", "wg") and rest:
                text = rest
                continue
            return text

    def properties(self) -> dict[int, Any]:
        """Every property of the message, keyed by full tag (computed once: the store does not change)."""
        cached = self.__dict__.get("_properties")
        if cached is not None:
            return dict(cached)
        mailbox = self.folder.mailbox
        when = FileTime.from_datetime(self.received)
        props: dict[int, Any] = {
            TAG_SUBJECT: self.subject,
            TAG_NORMALIZED_SUBJECT: self.normalized_subject,
            TAG_MESSAGE_CLASS: self.message_class,
            TAG_MESSAGE_DELIVERY_TIME: when,
            TAG_CLIENT_SUBMIT_TIME: when,
            TAG_CREATION_TIME: when,
            TAG_LAST_MODIFICATION_TIME: when,
            TAG_SENDER_NAME: self.sender_name,
            TAG_SENDER_EMAIL_ADDRESS: self.sender_email,
            TAG_SENDER_ADDRESS_TYPE: "SMTP",
            TAG_MESSAGE_SIZE: self.size,
            TAG_MESSAGE_SIZE_EXTENDED: self.size,
            TAG_MESSAGE_FLAGS: self.flags,
            TAG_HAS_ATTACHMENTS: self.has_attachments,
            TAG_IMPORTANCE: self.importance,
            TAG_MID: self.mid,
            TAG_FOLDER_ID: self.folder.fid,
            TAG_INST_ID: self.mid,
            TAG_INSTANCE_NUM: 0,
            TAG_OBJECT_TYPE: OBJECT_TYPE_MESSAGE,
            TAG_ENTRY_ID: mailbox.message_entry_id(self),
            TAG_RECORD_KEY: mailbox.message_entry_id(self),
        }
        if self.body is not None:
            props[TAG_BODY] = self.body
        self.__dict__["_properties"] = props
        return dict(props)


@dataclass(eq=False)
class StoreFolder:
    """One folder. ``special`` is its role (``Inbox``, ``IPM Subtree``...) or None."""

    fid: FolderId
    display_name: str
    container_class: str | None
    mailbox: Mailbox = field(repr=False)
    parent: StoreFolder | None = field(default=None, repr=False)
    special: str | None = None
    hidden: bool = False
    folder_type: int = FOLDER_TYPE_GENERIC
    children: list[StoreFolder] = field(default_factory=list, repr=False)
    messages: list[StoreMessage] = field(default_factory=list, repr=False)

    @property
    def unread_count(self) -> int:
        return sum(1 for m in self.messages if not m.read)

    @property
    def total_size(self) -> int:
        return sum(m.size for m in self.messages)

    def descendants(self) -> Iterator[tuple[StoreFolder, int]]:
        """Every folder below this one in depth-first order, with its depth (0 = a direct child)."""
        stack: list[tuple[StoreFolder, int]] = [(c, 0) for c in reversed(self.children)]
        while stack:
            folder, depth = stack.pop()
            yield folder, depth
            stack.extend((c, depth + 1) for c in reversed(folder.children))

    def properties(self) -> dict[int, Any]:
        """Every property of the folder, keyed by full tag (PidTagDepth belongs to tables, not here);
        computed once, as the store does not change after loading."""
        cached = self.__dict__.get("_properties")
        if cached is not None:
            return dict(cached)
        entry_id = self.mailbox.folder_entry_id(self)
        props: dict[int, Any] = {
            TAG_DISPLAY_NAME: self.display_name,
            TAG_FOLDER_ID: self.fid,
            TAG_CONTENT_COUNT: len(self.messages),
            TAG_CONTENT_UNREAD_COUNT: self.unread_count,
            TAG_SUBFOLDERS: bool(self.children),
            TAG_FOLDER_CHILD_COUNT: len(self.children),
            TAG_FOLDER_TYPE: self.folder_type,
            TAG_MESSAGE_SIZE: self.total_size,
            TAG_MESSAGE_SIZE_EXTENDED: self.total_size,
            TAG_ENTRY_ID: entry_id,
            TAG_RECORD_KEY: entry_id,
            TAG_OBJECT_TYPE: OBJECT_TYPE_FOLDER,
            TAG_ACCESS: 0x3F,
            TAG_ACCESS_LEVEL: 1,
            TAG_ATTRIBUTE_HIDDEN: self.hidden,
            TAG_CREATION_TIME: FileTime.from_datetime(_EPOCH),
            TAG_LAST_MODIFICATION_TIME: FileTime.from_datetime(
                max((m.received for m in self.messages), default=_EPOCH)
            ),
        }
        if self.parent is not None:
            props[TAG_PARENT_FOLDER_ID] = self.parent.fid
        if self.container_class is not None:
            props[TAG_CONTAINER_CLASS] = self.container_class
        self.__dict__["_properties"] = props
        return dict(props)

    @property
    def path(self) -> str:
        """``Inbox/Projects``: the display names from the IPM subtree down (``""`` for the subtree)."""
        names: list[str] = []
        folder: StoreFolder | None = self
        while folder is not None and folder.special != "IPM Subtree":
            names.append(folder.display_name)
            folder = folder.parent
        if folder is None:  # outside the IPM subtree: the path from the mailbox root
            return "/" + "/".join(reversed(names))
        return "/".join(reversed(names))


class Mailbox:
    """One user's store: the folder tree, FID/MID lookup, named-property map and store properties."""

    def __init__(self, mailbox_guid: uuid.UUID, owner_name: str, tree: dict[str, Any]) -> None:
        self.mailbox_guid = mailbox_guid
        # The database (replica) GUID: fixed per mailbox so that runs are reproducible.
        self.repl_guid = uuid.uuid5(mailbox_guid, "mapiprobe-simulator-database")
        self.repl_id = REPLICA_ID
        self.owner_name = owner_name
        self._counter = 0
        self.folders: dict[int, StoreFolder] = {}
        self.messages: dict[int, StoreMessage] = {}
        self.specials: dict[str, StoreFolder] = {}
        self.named_properties: dict[tuple[int, uuid.UUID, int | str], int] = {}
        self.root = self._folder("", None, None, special="Mailbox Root", hidden=True)
        self.root.folder_type = FOLDER_TYPE_ROOT
        non_ipm = dict(SPECIAL_FOLDERS)
        ipm = self._build(tree, self.root, special="IPM Subtree")
        for role in _NON_IPM_ROLES:
            self._folder(non_ipm[role], self.root, None, special=role, hidden=True)
        self.ipm_subtree = ipm
        for role, name in SPECIAL_FOLDERS:
            if role not in self.specials:  # e.g. a tree without Outbox: create it under the IPM subtree
                self._folder(name, ipm, "IPF.Note", special=role)

    # -- construction -------------------------------------------------------------------------------

    def _next_id(self) -> int:
        self._counter += 1
        return int(FolderId.from_parts(self.repl_id, self._counter))

    def _folder(
        self,
        name: str,
        parent: StoreFolder | None,
        container_class: str | None,
        *,
        special: str | None = None,
        hidden: bool = False,
    ) -> StoreFolder:
        folder = StoreFolder(
            FolderId(self._next_id()), name, container_class, self, parent, special=special, hidden=hidden
        )
        self.folders[int(folder.fid)] = folder
        if parent is not None:
            parent.children.append(folder)
        if special is not None:
            self.specials.setdefault(special, folder)
        return folder

    def _build(self, node: dict[str, Any], parent: StoreFolder, *, special: str | None = None) -> StoreFolder:
        folder = self._folder(
            str(node.get("display_name", "")),
            parent,
            node.get("container_class"),
            special=special or node.get("special"),
            hidden=bool(node.get("hidden", False)),
        )
        for item in node.get("items", ()):
            msg = StoreMessage(
                mid=MessageId(self._next_id()),
                folder=folder,
                subject=str(item.get("subject", "")),
                sender_name=str(item.get("sender_name", "")),
                sender_email=str(item.get("sender_email", "")),
                received=_parse_time(item.get("received")),
                size=int(item.get("size", 0)),
                message_class=str(item.get("message_class", "IPM.Note")),
                read=bool(item.get("read", False)),
                has_attachments=bool(item.get("has_attachments", False)),
                importance=int(item.get("importance", 1)),
                body=item.get("body"),
            )
            folder.messages.append(msg)
            self.messages[int(msg.mid)] = msg
        for child in node.get("children", ()):
            self._build(child, folder)
        return folder

    # -- lookup -------------------------------------------------------------------------------------

    def folder(self, fid: int) -> StoreFolder | None:
        return self.folders.get(int(fid))

    def message(self, mid: int) -> StoreMessage | None:
        return self.messages.get(int(mid))

    def special_folder_ids(self) -> MailboxFolderIds:
        """The 13 FolderIds of the RopLogon response, in MS-OXCSTOR 2.2.1.1.3 order."""
        return MailboxFolderIds(*(self.specials[role].fid for role, _ in SPECIAL_FOLDERS))

    def find_path(self, path: str) -> StoreFolder | None:
        """A folder by ``Inbox/Projects`` (display names below the IPM subtree, case-insensitive)."""
        folder = self.ipm_subtree
        for part in (p for p in path.strip("/").split("/") if p):
            folder_next = next((c for c in folder.children if c.display_name.lower() == part.lower()), None)
            if folder_next is None:
                return None
            folder = folder_next
        return folder

    def store_properties(self) -> dict[int, Any]:
        """Properties of the Logon (store) object."""
        total = sum(m.size for m in self.messages.values())
        return {
            TAG_DISPLAY_NAME: f"Mailbox - {self.owner_name}",
            TAG_MAILBOX_OWNER_NAME: self.owner_name,
            TAG_MESSAGE_SIZE: min(total, 0x7FFFFFFF),
            TAG_MESSAGE_SIZE_EXTENDED: total,
            TAG_OBJECT_TYPE: OBJECT_TYPE_STORE,
            TAG_RECORD_KEY: self.mailbox_guid.bytes_le,
            TAG_STORE_SUPPORT_MASK: 0x00040E79,
        }

    # -- EntryIDs (MS-OXCDATA 2.2.4.1, 2.2.4.2) --------------------------------------------------------

    def folder_entry_id(self, folder: StoreFolder) -> bytes:
        """Folder EntryID: Flags 0, ProviderUID (the mailbox GUID), FolderType 0x0001 (private folder),
        DatabaseGuid, GlobalCounter, Pad."""
        return (
            b"\x00\x00\x00\x00"
            + self.mailbox_guid.bytes_le
            + (0x0001).to_bytes(2, "little")
            + self.repl_guid.bytes_le
            + _global_counter_bytes(folder.fid)
            + b"\x00\x00"
        )

    def message_entry_id(self, message: StoreMessage) -> bytes:
        """Message EntryID: Flags 0, ProviderUID, MessageType 0x0007 (private message), the folder's
        DatabaseGuid + GlobalCounter + Pad, then the message's."""
        return (
            b"\x00\x00\x00\x00"
            + self.mailbox_guid.bytes_le
            + (0x0007).to_bytes(2, "little")
            + self.repl_guid.bytes_le
            + _global_counter_bytes(message.folder.fid)
            + b"\x00\x00"
            + self.repl_guid.bytes_le
            + _global_counter_bytes(message.mid)
            + b"\x00\x00"
        )

    # -- named properties (MS-OXCPRPT 2.2.12) -------------------------------------------------------------

    def property_id_for(self, kind: int, guid: uuid.UUID, name: int | str, *, create: bool) -> int:
        """The property ID (0x8000 and up) of a named property; 0 if unknown and ``create`` is false."""
        key = (kind, guid, name.lower() if isinstance(name, str) else name)
        found = self.named_properties.get(key)
        if found is None and create:
            found = 0x8000 + len(self.named_properties)
            if found > 0xFFFE:
                return 0
            self.named_properties[key] = found
        return found or 0


def value_for(props: dict[int, Any], column: int) -> tuple[int, Any] | None:
    """The value of ``column`` in ``props`` and the type to send it with, or None if the property is absent.

    A column asks for a property id and a type: PtypUnspecified (0x0000) takes the property's own type,
    PtypString8 and PtypString are interchangeable (the value is re-encoded), any other mismatch counts as
    absent.
    """
    tag = PropertyTag(column & 0xFFFFFFFF)
    for full, value in props.items():
        if full >> 16 != tag.prop_id:
            continue
        real_type = full & 0xFFFF
        if tag.prop_type in (PropType.UNSPECIFIED, real_type):
            return real_type, value
        strings = (PropType.STRING, PropType.STRING8)
        if tag.prop_type in strings and real_type in strings:
            return tag.prop_type, value
        if tag.prop_type == PropType.INTEGER64 and real_type == PropType.INTEGER32:
            return tag.prop_type, value
    return None


@functools.cache
def _sample_tree(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def load_mailbox(mailbox_guid: str | uuid.UUID, owner_name: str = "", *, path: Path | None = None) -> Mailbox:
    """A fresh store for one user, built from the sample mailbox file (or ``path``)."""
    source = path or resource_path("mailbox", "sample-mailbox.json")
    raw = json.loads(_sample_tree(str(source)))
    guid = mailbox_guid if isinstance(mailbox_guid, uuid.UUID) else uuid.UUID(str(mailbox_guid))
    return Mailbox(guid, owner_name, raw["root"])


__all__ = [
    "REPLICA_ID",
    "SPECIAL_FOLDERS",
    "Mailbox",
    "StoreFolder",
    "StoreMessage",
    "load_mailbox",
    "value_for",
]
