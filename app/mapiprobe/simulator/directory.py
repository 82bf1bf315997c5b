"""The simulated address book: a deterministic contoso.test directory generated from a seed.

The simulator's NSPI endpoint (:mod:`mapiprobe.simulator.nspi`) serves this directory. It holds users with
realistic names, titles, departments, offices, phone numbers, SMTP addresses and legacy DNs, plus rooms,
distribution lists and mail contacts, in the address lists Exchange shows: the Global Address List and,
under "All Address Lists", All Users, All Rooms, All Distribution Lists and All Contacts.

* **Deterministic.** The same ``seed`` and ``size`` give the same directory: the same people with the same
  Minimal Entry IDs (MIds, MS-OXNSPI 2.2.9.1), so a test or a saved screenshot can name an MId.
* **Data, not code.** Names, titles, departments, offices and the fixed entries come from
  ``resources/directory/``. The fixed entries are ambiguous on purpose (two people called Alex Wilber,
  several Smiths); the demo users of ``resources/org`` are always present with their own legacy DNs.
* **Fast for 100,000 entries.** Every address list is a list sorted once, by display name (SortType 0,
  MS-OXNSPI 2.2.1.10) compared case-insensitively, ties broken by MId. Positions are found by bisection,
  never by sorting or scanning per request.

Ambiguous name resolution (ANR, MS-OXNSPI 3.1.4.7) here is the simulator's own simple rule set, documented
on :meth:`Directory.anr`; Exchange's real rules are richer.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import random
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from mapiprobe.protocol.nspi_types import DisplayType
from mapiprobe.resources import resource_path

from .org import Organisation, load_organisation

_T = TypeVar("_T")

DEFAULT_GAL_SIZE = 2000
"""Entries in the default generated GAL (``mapiprobe simulator --gal-size`` changes it)."""
MAX_GAL_SIZE = 1_000_000
DEFAULT_SEED = 20240501

ALL_ADDRESS_LISTS = 0x00000100
"""MId of the "All Address Lists" container; the address lists under it are 0x101..0x104."""
FIRST_ENTRY_MID = 0x00001000
"""MId of the first generated entry; the next ones count up in generation order (stable per seed)."""

# PidTagContainerFlags bits (MS-OXOABK 2.2.2.1).
AB_RECIPIENTS = 0x00000001
AB_SUBCONTAINERS = 0x00000002
AB_UNMODIFIABLE = 0x00000008

# PidTagObjectType values (MS-OXCPRPT 2.2.1.7 / MS-OXOABK 2.2.3.10).
MAPI_ABCONT = 4
MAPI_MAILUSER = 6
MAPI_DISTLIST = 8

# PidTagDisplayTypeEx of a room mailbox (MS-OXOABK 2.2.3.11: DT_ROOM).
DT_ROOM = 0x00000007

KIND_USER = "user"
KIND_ROOM = "room"
KIND_DL = "dl"
KIND_CONTACT = "contact"
KINDS = (KIND_USER, KIND_ROOM, KIND_DL, KIND_CONTACT)

_DISPLAY_TYPE = {
    KIND_USER: int(DisplayType.DT_MAILUSER),
    KIND_ROOM: int(DisplayType.DT_MAILUSER),
    KIND_DL: int(DisplayType.DT_DISTLIST),
    KIND_CONTACT: int(DisplayType.DT_REMOTE_MAILUSER),
}

# Share of each kind among the generated (not fixed) entries.
_MIX = ((KIND_USER, 0.85), (KIND_CONTACT, 0.08), (KIND_DL, 0.04), (KIND_ROOM, 0.03))


@dataclass(frozen=True, slots=True)
class DirEntry:
    """One address book object (a recipient) of the simulated directory."""

    mid: int
    kind: str
    display_name: str
    alias: str
    domain: str
    legacy_dn: str
    given_name: str | None = None
    surname: str | None = None
    title: str | None = None
    department: str | None = None
    office: str | None = None
    phone: str | None = None
    mobile: str | None = None
    company: str | None = None
    city: str | None = None
    country: str | None = None
    sort_key: tuple[str, int] = ("", 0)

    @property
    def smtp_address(self) -> str:
        return f"{self.alias}@{self.domain}"

    @property
    def display_type(self) -> int:
        """PidTagDisplayType (MS-OXNSPI 2.2.1.3)."""
        return _DISPLAY_TYPE[self.kind]

    @property
    def display_type_ex(self) -> int:
        """PidTagDisplayTypeEx: DT_ROOM for rooms, otherwise the display type."""
        return DT_ROOM if self.kind == KIND_ROOM else self.display_type

    @property
    def object_type(self) -> int:
        return MAPI_DISTLIST if self.kind == KIND_DL else MAPI_MAILUSER


@dataclass(frozen=True)
class AddressList:
    """An address book container of the hierarchy table (MS-OXNSPI 3.1.4.4.3.1).

    ``container_id`` is the MId a STAT names it by (0 for the GAL); ``entries`` is sorted by
    :attr:`DirEntry.sort_key`. A container with ``AB_SUBCONTAINERS`` and no ``AB_RECIPIENTS`` only groups
    others (All Address Lists).
    """

    container_id: int
    name: str
    depth: int
    flags: int
    dn: str
    entries: Sequence[DirEntry] = field(default=(), repr=False)
    is_gal: bool = False
    parent_id: int | None = None

    def __len__(self) -> int:
        return len(self.entries)

    def position_of(self, mid: int, entry: DirEntry | None) -> int | None:
        """The 0-based row of ``entry`` (whose MId is ``mid``) in this list, or None if it is not in it."""
        if entry is None:
            return None
        pos = bisect.bisect_left(self.entries, entry.sort_key, key=_sort_key)
        if pos < len(self.entries) and self.entries[pos].mid == mid:
            return pos
        return None

    def seek(self, text: str) -> int:
        """The first row whose display name sorts at or after ``text`` (len(self) when none does)."""
        return bisect.bisect_left(self.entries, (text.casefold(), -1), key=_sort_key)


def _sort_key(entry: DirEntry) -> tuple[str, int]:
    return entry.sort_key


@dataclass(frozen=True)
class _Pools:
    first_names: tuple[str, ...]
    common_surnames: tuple[str, ...]
    surnames: tuple[str, ...]
    titles: tuple[str, ...]
    departments: tuple[str, ...]
    offices: tuple[dict[str, Any], ...]
    list_suffixes: tuple[str, ...]
    list_topics: tuple[str, ...]
    companies: tuple[dict[str, str], ...]
    fixed: tuple[dict[str, Any], ...]


def _read_lines(path: Path) -> list[list[str]]:
    """Blocks of non-comment lines separated by blank lines."""
    blocks: list[list[str]] = [[]]
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#"):
            continue
        if not line:
            if blocks[-1]:
                blocks.append([])
            continue
        blocks[-1].append(line)
    return [b for b in blocks if b]


def load_pools(directory: Path | None = None) -> _Pools:
    base = directory or resource_path("directory")
    first = [n for block in _read_lines(base / "first_names.txt") for n in block]
    surname_blocks = _read_lines(base / "surnames.txt")
    common = surname_blocks[0] if len(surname_blocks) > 1 else []
    rest = (
        [n for block in surname_blocks[1:] for n in block] if len(surname_blocks) > 1 else surname_blocks[0]
    )
    titles = [n for block in _read_lines(base / "titles.txt") for n in block]
    departments = [n for block in _read_lines(base / "departments.txt") for n in block]
    offices = json.loads((base / "offices.json").read_text(encoding="utf-8"))["offices"]
    lists = json.loads((base / "lists.json").read_text(encoding="utf-8"))
    return _Pools(
        first_names=tuple(first),
        common_surnames=tuple(common),
        surnames=tuple(rest),
        titles=tuple(titles),
        departments=tuple(departments),
        offices=tuple(offices),
        list_suffixes=tuple(lists["list_suffixes"]),
        list_topics=tuple(lists["list_topics"]),
        companies=tuple(lists["contact_companies"]),
        fixed=tuple(lists["fixed"]),
    )


@functools.lru_cache(maxsize=65536)
def ascii_alias(text: str) -> str:
    """``José Müller-Łukasz`` -> ``jose.muller-lukasz``: the mail nickname form of a name."""
    text = text.replace("ß", "ss").replace("Ł", "L").replace("ł", "l").replace("Ø", "O").replace("ø", "o")
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    out = []
    for ch in plain.lower():
        if ch.isascii() and (ch.isalnum() or ch in "-."):
            out.append(ch)
        elif ch in " _":
            out.append(".")
    return ".".join(part for part in "".join(out).split(".") if part)


class _Builder:
    """Generates the entries in a fixed order from one ``random.Random``; MIds count up as they are made."""

    def __init__(self, org: Organisation, pools: _Pools, seed: int) -> None:
        self.org = org
        self.pools = pools
        self.rng = random.Random(seed)
        self.random = self.rng.random
        self.entries: list[DirEntry] = []
        self.aliases: set[str] = set()
        self.recipients = f"{org.administrative_group}/cn=Recipients"
        self.all_surnames = [*pools.common_surnames, *pools.surnames]
        weights = [5] * len(pools.common_surnames) + [1] * len(pools.surnames)
        self.surname_cum = list(itertools.accumulate(weights))

    def _unique_alias(self, wanted: str, domain: str) -> str:
        base = wanted or "user"
        alias = base
        n = 2
        while f"{alias}@{domain}" in self.aliases:
            alias = f"{base}{n}"
            n += 1
        self.aliases.add(f"{alias}@{domain}")
        return alias

    def _legacy_dn(self, alias: str) -> str:
        # Exchange puts a GUID-like hex string before the alias; ours comes from the seeded generator.
        return f"{self.recipients}/cn={self.rng.getrandbits(128):032x}-{alias}"

    def weighted(self, items: Sequence[_T], cum_weights: Sequence[float]) -> _T:
        """``random.choices(items, cum_weights=...)[0]`` without its per-call list building."""
        return items[bisect.bisect(cum_weights, self.random() * cum_weights[-1])]

    def _surname(self) -> str:
        return self.weighted(self.all_surnames, self.surname_cum)

    def pick(self, items: Sequence[_T]) -> _T:
        """``random.choice`` without its per-call overhead (this runs ~10 times per entry)."""
        return items[int(self.random() * len(items))]

    def _office(self, name: str | None = None) -> tuple[str, str, str, str]:
        """(office location, main phone prefix, city, country) of a named or random office."""
        offices = self.pools.offices
        office = next((o for o in offices if o["name"] == name), None) if name else None
        if office is None:
            office = self.pick(offices)
        building = self.pick(office["buildings"])
        room = 100 + int(self.random() * 900)
        return f"{office['name']} {building}/{room}", office["phone"], office["city"], office["country"]

    def _phone(self, prefix: str) -> str:
        return f"{prefix}{int(self.random() * 100):02d}"

    def add(self, kind: str, display_name: str, alias: str, domain: str, **extra: Any) -> DirEntry:
        mid = FIRST_ENTRY_MID + len(self.entries)
        legacy_dn = extra.pop("legacy_dn", None) or self._legacy_dn(alias)
        entry = DirEntry(
            mid=mid,
            kind=kind,
            display_name=display_name,
            alias=alias,
            domain=domain,
            legacy_dn=legacy_dn,
            sort_key=(display_name.casefold(), mid),
            **extra,
        )
        self.entries.append(entry)
        return entry

    # -- kinds -------------------------------------------------------------------------------------

    def user(
        self,
        given: str,
        surname: str,
        *,
        alias: str | None = None,
        title: str | None = None,
        department: str | None = None,
        office: str | None = None,
        legacy_dn: str | None = None,
        display_name: str | None = None,
    ) -> DirEntry:
        domain = self.org.domain
        alias = self._unique_alias(alias or ascii_alias(f"{given}.{surname}"), domain)
        location, prefix, city, country = self._office(office)
        return self.add(
            KIND_USER,
            display_name or f"{given} {surname}",
            alias,
            domain,
            legacy_dn=legacy_dn,
            given_name=given,
            surname=surname,
            title=title or self.pick(self.pools.titles),
            department=department or self.pick(self.pools.departments),
            office=location,
            phone=self._phone(prefix),
            mobile=self._phone(prefix) if self.random() < 0.6 else None,
            company=self.org.organization,
            city=city,
            country=country,
        )

    def random_user(self) -> DirEntry:
        given = self.pick(self.pools.first_names)
        return self.user(given, self._surname())

    def room(
        self, display_name: str | None = None, alias: str | None = None, office: str | None = None
    ) -> DirEntry:
        location, prefix, city, country = self._office(office)
        if display_name is None:
            city_name = location.split(" ")[0] if office is None else office
            display_name = f"Conf Room {city_name} {location.rsplit('/', 1)[-1]}"
        alias = self._unique_alias(
            alias or ascii_alias(display_name.replace("Conf Room", "confroom")), self.org.domain
        )
        return self.add(
            KIND_ROOM,
            display_name,
            alias,
            self.org.domain,
            office=location,
            phone=self._phone(prefix),
            company=self.org.organization,
            city=city,
            country=country,
        )

    def distribution_list(
        self, display_name: str | None = None, alias: str | None = None, department: str | None = None
    ) -> DirEntry:
        if display_name is None:
            department = department or self.pick(self.pools.departments)
            if self.random() < 0.5:
                display_name = f"{department} {self.pick(self.pools.list_suffixes)}"
            else:
                topic = self.pick(self.pools.list_topics)
                display_name = f"Project {topic} {self.pick(self.pools.list_suffixes)}"
        alias = self._unique_alias(alias or ascii_alias(display_name).replace(".", ""), self.org.domain)
        return self.add(
            KIND_DL,
            display_name,
            alias,
            self.org.domain,
            department=department,
            company=self.org.organization,
        )

    def contact(
        self,
        given: str | None = None,
        surname: str | None = None,
        company: str | None = None,
        domain: str | None = None,
    ) -> DirEntry:
        given = given or self.pick(self.pools.first_names)
        surname = surname or self._surname()
        if company is None or domain is None:
            chosen = self.pick(self.pools.companies)
            company, domain = chosen["name"], chosen["domain"]
        alias = self._unique_alias(ascii_alias(f"{given}.{surname}"), domain)
        return self.add(
            KIND_CONTACT,
            f"{given} {surname}",
            alias,
            domain,
            given_name=given,
            surname=surname,
            company=company,
        )

    def fixed(self, spec: dict[str, Any]) -> DirEntry:
        kind = spec["kind"]
        if kind == KIND_USER:
            return self.user(
                spec["given_name"],
                spec["surname"],
                alias=spec.get("alias"),
                title=spec.get("title"),
                department=spec.get("department"),
                office=spec.get("office"),
            )
        if kind == KIND_ROOM:
            return self.room(spec.get("display_name"), spec.get("alias"), spec.get("office"))
        if kind == KIND_DL:
            return self.distribution_list(spec.get("display_name"), spec.get("alias"), spec.get("department"))
        if kind == KIND_CONTACT:
            return self.contact(
                spec.get("given_name"), spec.get("surname"), spec.get("company"), spec.get("domain")
            )
        raise ValueError(f"unknown entry kind {kind!r} in resources/directory/lists.json")


def _split_name(display_name: str) -> tuple[str, str]:
    given, _, surname = display_name.partition(" ")
    return given, surname or given


@dataclass(frozen=True)
class _Keys:
    """A sorted list of keys and, beside each, the GAL position of the entry it belongs to."""

    keys: list[str]
    positions: list[int]


@dataclass(frozen=True)
class _AnrIndex:
    name: _Keys
    alias: _Keys
    smtp: _Keys
    given: _Keys
    surname: _Keys


def _prefix(index: _Keys, q: str, *, whole: bool = False) -> list[int]:
    """GAL positions of the keys that begin with ``q`` (or equal it, ``whole``)."""
    lo = bisect.bisect_left(index.keys, q)
    hi = bisect.bisect_right(index.keys, q) if whole else bisect.bisect_left(index.keys, q + "\U0010ffff")
    return index.positions[lo:hi]


def _exact_form(q: str) -> str | None:
    """The text of an exact ANR query (``=value``, ``SMTP:address`` or an address with ``@``), else None."""
    if q.startswith("="):
        return q[1:].strip()
    if q.startswith("smtp:"):
        return q[5:].strip()
    if "@" in q:
        return q
    return None


class Directory:
    """The generated directory: every entry by MId and the address lists of the hierarchy table."""

    def __init__(self, org: Organisation, entries: Sequence[DirEntry], *, seed: int) -> None:
        self.org = org
        self.seed = seed
        self.domain = org.domain
        self.entries: tuple[DirEntry, ...] = tuple(entries)
        self._by_mid = {e.mid: e for e in self.entries}
        self._by_dn = {e.legacy_dn.casefold(): e for e in self.entries}
        self._by_smtp = {e.smtp_address.casefold(): e for e in self.entries}
        self._index: _AnrIndex | None = None
        self._index_lock = threading.Lock()
        ordered = sorted(self.entries, key=_sort_key)
        group = org.administrative_group.split("/ou=")[0]

        def of(kind: str) -> list[DirEntry]:
            return [e for e in ordered if e.kind == kind]

        fixed = AB_RECIPIENTS | AB_UNMODIFIABLE
        self.gal = AddressList(0, "Global Address List", 0, fixed, "/", ordered, is_gal=True)
        sublists = (
            (0x101, "All Contacts", KIND_CONTACT),
            (0x102, "All Distribution Lists", KIND_DL),
            (0x103, "All Rooms", KIND_ROOM),
            (0x104, "All Users", KIND_USER),
        )
        self.lists: tuple[AddressList, ...] = (
            self.gal,
            AddressList(
                ALL_ADDRESS_LISTS,
                "All Address Lists",
                0,
                AB_SUBCONTAINERS | AB_UNMODIFIABLE,
                f"{group}/cn=All Address Lists",
            ),
            *(
                AddressList(mid, name, 1, fixed, f"{group}/cn={name}", of(kind), parent_id=ALL_ADDRESS_LISTS)
                for mid, name, kind in sublists
            ),
        )
        self._by_container = {a.container_id: a for a in self.lists}

    def __len__(self) -> int:
        return len(self.entries)

    def entry(self, mid: int) -> DirEntry | None:
        return self._by_mid.get(mid)

    def container(self, container_id: int) -> AddressList | None:
        return self._by_container.get(container_id)

    def find_dn(self, dn: str) -> DirEntry | None:
        return self._by_dn.get(dn.strip().casefold())

    def find_smtp(self, address: str) -> DirEntry | None:
        return self._by_smtp.get(address.strip().casefold())

    def find_container_dn(self, dn: str) -> AddressList | None:
        low = dn.strip().casefold()
        return next((a for a in self.lists if a.dn.casefold() == low), None)

    # -- ambiguous name resolution ------------------------------------------------------------------

    def anr(self, text: str, entries: Iterable[DirEntry] | None = None) -> list[DirEntry]:
        """Entries that ``text`` matches, in display-name order (the simulator's ANR, MS-OXNSPI 3.1.4.7).

        ``=value`` and ``SMTP:address`` match exactly (alias, SMTP address or display name); a text with an
        ``@`` matches SMTP addresses exactly; any other text matches when it begins the display name, the
        alias, the given name or the surname, and ``first last`` also matches given name + surname prefixes
        in either order. Comparisons ignore case.

        Over the whole GAL this uses sorted indexes (built on first use), so a name costs a few bisections
        rather than a scan of 100,000 entries; ``entries`` restricts the answer to those entries.
        """
        q = " ".join(text.split()).casefold()
        if not q:
            return []
        found = self._anr_indexed(q)
        if entries is not None:
            allowed = {id(e) for e in entries}
            found = [e for e in found if id(e) in allowed]
        return found

    def anr_scan(self, text: str, entries: Iterable[DirEntry] | None = None) -> list[DirEntry]:
        """:meth:`anr` by looking at every entry (the definition the indexes must agree with)."""
        q = " ".join(text.split()).casefold()
        if not q:
            return []
        pool = self.gal.entries if entries is None else entries
        exact = _exact_form(q)
        if exact is not None:
            return [
                e for e in pool if exact in (e.alias.casefold(), e.smtp_address.casefold(), e.sort_key[0])
            ]
        words = q.split(" ")
        first, last = words[0], words[-1]
        out: list[DirEntry] = []
        for e in pool:
            given = (e.given_name or "").casefold()
            surname = (e.surname or "").casefold()
            if (
                e.sort_key[0].startswith(q)
                or e.alias.casefold().startswith(q)
                or (len(words) == 1 and (given.startswith(q) or surname.startswith(q)))
                or (
                    len(words) > 1
                    and given
                    and (
                        (given.startswith(first) and surname.startswith(last))
                        or (surname.startswith(first) and given.startswith(last))
                    )
                )
            ):
                out.append(e)
        return out

    def _anr_indexed(self, q: str) -> list[DirEntry]:
        idx = self._anr_index()
        gal = self.gal.entries
        exact = _exact_form(q)
        hits: set[int] = set()
        if exact is not None:
            hits.update(_prefix(idx.alias, exact, whole=True))
            hits.update(_prefix(idx.smtp, exact, whole=True))
            hits.update(_prefix(idx.name, exact, whole=True))
        else:
            words = q.split(" ")
            hits.update(_prefix(idx.name, q))
            hits.update(_prefix(idx.alias, q))
            if len(words) == 1:
                hits.update(_prefix(idx.given, q))
                hits.update(_prefix(idx.surname, q))
            else:
                first, last = words[0], words[-1]
                for a, b in ((first, last), (last, first)):
                    for pos in _prefix(idx.surname, b):
                        e = gal[pos]
                        if e.given_name and e.given_name.casefold().startswith(a):
                            hits.add(pos)
        return [gal[pos] for pos in sorted(hits)]

    def _anr_index(self) -> _AnrIndex:
        with self._index_lock:
            if self._index is None:
                gal = self.gal.entries

                def keyed(key: Callable[[DirEntry], str | None]) -> _Keys:
                    pairs = sorted((k, pos) for pos, e in enumerate(gal) if (k := key(e)))
                    return _Keys([k for k, _ in pairs], [pos for _, pos in pairs])

                self._index = _AnrIndex(
                    name=_Keys([e.sort_key[0] for e in gal], list(range(len(gal)))),
                    alias=keyed(lambda e: e.alias.casefold()),
                    smtp=keyed(lambda e: e.smtp_address.casefold()),
                    given=keyed(lambda e: (e.given_name or "").casefold()),
                    surname=keyed(lambda e: (e.surname or "").casefold()),
                )
            return self._index

    def resolve(self, text: str) -> tuple[DirEntry | None, list[DirEntry]]:
        """ResolveNames for one name: ``(entry, [])`` resolved, else ``(None, candidates)`` (maybe empty).

        One ANR match resolves. Several resolve only if exactly one of them matches the whole text exactly
        (its SMTP address, alias or display name); otherwise the name is ambiguous.
        """
        matches = self.anr(text)
        if len(matches) == 1:
            return matches[0], []
        q = " ".join(text.split()).casefold()
        exact = [
            e
            for e in matches
            if q in (e.alias.casefold(), e.smtp_address.casefold(), e.display_name.casefold())
        ]
        if len(exact) == 1:
            return exact[0], []
        return None, matches


def generate_directory(
    size: int = DEFAULT_GAL_SIZE,
    *,
    seed: int = DEFAULT_SEED,
    org: Organisation | None = None,
    data_dir: Path | None = None,
) -> Directory:
    """Generate the directory of ``org`` (default: resources/org) with ``size`` entries in its GAL.

    The demo users and the fixed entries of ``resources/directory/lists.json`` come first (their MIds are
    the same for every size); the rest are users, contacts, distribution lists and rooms in the
    proportions of ``_MIX``. ``size`` smaller than the fixed part gives just the fixed part.
    """
    if not 0 <= size <= MAX_GAL_SIZE:
        raise ValueError(f"gal size must be 0..{MAX_GAL_SIZE}, not {size}")
    org = org or load_organisation()
    pools = load_pools(data_dir)
    b = _Builder(org, pools, seed)
    for user in org.users:
        given, surname = _split_name(user.display_name)
        b.user(
            given,
            surname,
            alias=user.local_part,
            legacy_dn=user.legacy_dn,
            display_name=user.display_name,
            title="Helpdesk Demo Account",
            department="Information Technology",
        )
    for spec in pools.fixed:
        b.fixed(spec)
    kinds = [k for k, _ in _MIX]
    cum = list(itertools.accumulate(w for _, w in _MIX))
    makers = {
        KIND_USER: b.random_user,
        KIND_CONTACT: b.contact,
        KIND_DL: b.distribution_list,
        KIND_ROOM: b.room,
    }
    while len(b.entries) < size:
        makers[b.weighted(kinds, cum)]()
    return Directory(org, b.entries, seed=seed)


class LazyDirectory:
    """Generates the directory on first use (thread-safe), so that a Simulator that never serves the
    address book does not pay for it."""

    def __init__(
        self, size: int = DEFAULT_GAL_SIZE, *, seed: int = DEFAULT_SEED, org: Organisation | None = None
    ) -> None:
        if not 0 <= size <= MAX_GAL_SIZE:
            raise ValueError(f"gal size must be 0..{MAX_GAL_SIZE}, not {size}")
        self.size = size
        self.seed = seed
        self.org = org
        self._lock = threading.Lock()
        self._directory: Directory | None = None

    def get(self) -> Directory:
        with self._lock:
            if self._directory is None:
                self._directory = generate_directory(self.size, seed=self.seed, org=self.org)
            return self._directory

    @property
    def ready(self) -> bool:
        return self._directory is not None


__all__ = [
    "AB_RECIPIENTS",
    "AB_SUBCONTAINERS",
    "AB_UNMODIFIABLE",
    "ALL_ADDRESS_LISTS",
    "DEFAULT_GAL_SIZE",
    "DEFAULT_SEED",
    "DT_ROOM",
    "FIRST_ENTRY_MID",
    "KINDS",
    "KIND_CONTACT",
    "KIND_DL",
    "KIND_ROOM",
    "KIND_USER",
    "MAPI_ABCONT",
    "MAPI_DISTLIST",
    "MAPI_MAILUSER",
    "MAX_GAL_SIZE",
    "AddressList",
    "DirEntry",
    "Directory",
    "LazyDirectory",
    "ascii_alias",
    "generate_directory",
    "load_pools",
]
