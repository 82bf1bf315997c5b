"""A recorded run against the simulator (mailbox and address book), shared by the capture tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from mapiprobe.session.addressbook import AddressBookSession
from mapiprobe.session.mailbox import MailboxSession, MessageSummary
from mapiprobe.simulator import Simulator
from mapiprobe.transport.trace import Trace, TraceRecord
from tests.session.simhelp import connection, real_auth

PAGE = 7  # Inbox holds 120 items: 18 RopQueryRows, 17 of them in Executes after the RopSetColumns


@dataclass
class Recording:
    sim: Simulator
    records: tuple[TraceRecord, ...]
    inbox: list[MessageSummary]
    folder_count: int


def record_run(sim: Simulator, *, page: int = PAGE) -> Recording:
    user = sim.users[0]
    trace = Trace()
    url = f"https://mail.contoso.test/mapi/emsmdb/?MailboxId={user.mailbox_guid}@{sim.domain}"
    with MailboxSession(
        url,
        user_dn=user.legacy_dn,
        user=user.user,
        auth=real_auth(user.user, user.password),  # normal: Negotiate (NTLM inside SPNEGO), as Exchange 2019
        connection=connection(sim, timeout=5.0),
        trace=trace,
        keepalive=False,
        page_size=page,
    ) as mailbox:
        folders = mailbox.folders()
        inbox, _total = mailbox.contents("Inbox")
    nspi = f"https://mail.contoso.test/mapi/nspi/?MailboxId={user.mailbox_guid}@{sim.domain}"
    book = AddressBookSession(
        nspi,
        user=user.user,
        auth=real_auth(user.user, user.password),
        connection=connection(sim, timeout=5.0),
        trace=trace,
        keepalive=False,
    )
    try:
        book.bind()
        book.address_lists()
        book.page(0, count=10)
    finally:
        book.close()
    return Recording(sim, trace.records, inbox, len(folders))


@pytest.fixture(scope="package")
def recording() -> Iterator[Recording]:
    with Simulator() as sim:
        yield record_run(sim)
