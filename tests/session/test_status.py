"""Connection Status rows (session/status.py): built from hand-made trace records (each column's rule), and
end to end from a real mailbox and address book session against the simulator (the rows the GUI shows)."""

from __future__ import annotations

import pytest

from mapiprobe.session.addressbook import AddressBookSession
from mapiprobe.session.mailbox import MailboxSession
from mapiprobe.session.state import SessionState
from mapiprobe.session.status import (
    COLUMNS,
    DIRECTORY,
    MAIL,
    RPC_HTTP,
    EndpointSession,
    describe_address_book,
    describe_mailbox,
    describe_rpc_http,
    format_seconds,
    format_status_table,
    parse_elapsed_ms,
    status_row,
    status_rows,
)
from mapiprobe.simulator import Simulator
from mapiprobe.transport.auth import Credentials, make_auth
from mapiprobe.transport.trace import Trace, TraceRecord
from tests.session.simhelp import connection

URL = "https://mail.contoso.test/mapi/emsmdb/?MailboxId=abc@contoso.test"
AB_URL = "https://mail.contoso.test/mapi/nspi/?MailboxId=abc@contoso.test"


def rec(seq: int, url: str = URL, **kw: object) -> TraceRecord:
    kw.setdefault("status", 200)
    kw.setdefault("outcome", "ok")
    kw.setdefault("started_at", 1000.0 + seq)
    kw.setdefault("total_ms", 10.0)
    return TraceRecord(seq=seq, method="POST", url=url, **kw)  # type: ignore[arg-type]


def live(url: str = URL, **kw: object) -> EndpointSession:
    kw.setdefault("state", SessionState.CONNECTED)
    return EndpointSession(kind=MAIL, url=url, **kw)  # type: ignore[arg-type]


def test_annotation_names_agree_with_the_transport() -> None:
    from mapiprobe.session import status
    from mapiprobe.transport import auth, mapihttp

    assert status.ANNOTATION_ELAPSED_TIME == mapihttp.ANNOTATION_ELAPSED_TIME
    assert status.ANNOTATION_AUTH_SCHEME == auth.ANNOTATION_AUTH_SCHEME


def test_columns_are_outlooks() -> None:
    assert COLUMNS == (
        "Server name",
        "SMTP Address",
        "Display name",
        "Type",
        "Protocol",
        "Authn",
        "Encrypt",
        "Status",
        "Session",
        "Expires in",
        "Req/Fail",
        "Avg Resp",
        "Avg Proc",
        "Version",
    )


def test_counts_times_version_and_expiry_from_the_trace() -> None:
    records = [
        rec(1, status=401, total_ms=4.0, response_headers=(("WWW-Authenticate", "Basic realm=x"),)),
        rec(
            2,
            total_ms=20.0,
            tls_version="TLSv1.3",
            request_headers=(("Authorization", "Basic [redacted]"),),
            response_headers=(
                ("X-ServerApplication", "Exchange/15.02.1544.004"),
                ("X-ExpirationInfo", "900000"),
            ),
            annotations=(("mapihttp.elapsed_time", "6"),),
        ),
        rec(3, total_ms=30.0, annotations=(("mapihttp.elapsed_time", "10"),), response_code="0"),
        rec(4, url=AB_URL, total_ms=999.0),  # another endpoint: not counted
    ]
    # The expiry counts from the end of the last exchange with X-ExpirationInfo (started 1002, took 20 ms).
    row = status_row(live(smtp_address="a@contoso.test", display_name="A"), records, now=1002.02 + 60)
    assert row.requests == 3
    assert row.failures == 0  # the 401 was a handshake leg: the session went on
    assert row.req_fail == "3/0"
    assert row.avg_resp_ms == pytest.approx(18.0)
    assert row.avg_proc_ms == pytest.approx(8.0)
    assert row.version == "15.2.1544.4"
    assert row.authn == "Clear"
    assert row.encrypt == "TLS 1.3"
    assert row.expires_in_s == pytest.approx(840.0)
    assert row.expires_in == "14:00"
    assert row.status == "Established"
    assert row.session == "connected"
    values = dict(zip(COLUMNS, row.values(), strict=True))
    assert values["Server name"] == URL
    assert values["Type"] == "Mail"
    assert values["Protocol"] == "HTTP"
    assert values["Avg Resp"] == "18 ms"
    assert values["Avg Proc"] == "8 ms"


def test_failures() -> None:
    records = [
        rec(1, status=200, response_code="10"),  # context expired
        rec(2, status=None, outcome="read-timeout"),
        rec(3, status=503),
        rec(4, status=200),
        rec(5, status=401),  # the last request was refused: a failure
    ]
    row = status_row(live(state=SessionState.FAILED, error="the server refused the password"), records, now=0)
    assert (row.requests, row.failures) == (5, 4)
    assert row.status == "Failed: the server refused the password"
    assert row.expires_in_s is None  # no live context


@pytest.mark.parametrize(
    ("authorization", "mechanism", "word"),
    [
        ("Basic [redacted]", None, "Clear"),
        ("NTLM [redacted]", None, "NTLM"),
        ("Negotiate [redacted]", None, "Nego"),
        ("Negotiate [redacted]", "kerberos", "Kerberos"),
        ("Negotiate [redacted]", "ntlm", "Nego"),
        ("Bearer [redacted]", None, "Bearer"),
        (None, None, "Anonymous"),
    ],
)
def test_authn_words(authorization: str | None, mechanism: str | None, word: str) -> None:
    headers = (("Authorization", authorization),) if authorization else ()
    row = status_row(live(mechanism=mechanism), [rec(1, request_headers=headers)], now=0)
    assert row.authn == word


def test_rpc_http_row_says_why_not_connected() -> None:
    session = describe_rpc_http("mail.contoso.test", MAIL, smtp_address="a@contoso.test")
    row = status_row(session, [], now=0)
    assert row.protocol == RPC_HTTP
    assert row.status.startswith("Not connected: ")
    assert "RPC/HTTP" in row.status
    assert row.server_name == "https://mail.contoso.test/rpc/rpcproxy.dll"
    assert row.req_fail == "0/0"


def test_rpc_http_session_closed_cleanly_reads_disconnected() -> None:
    """A session that ran over RPC/HTTP and was closed is not a failure: the plain word, like MAPI/HTTP's."""
    closed = live(protocol=RPC_HTTP, state=SessionState.DISCONNECTED)
    assert status_row(closed, [rec(1)], now=0).status == "Disconnected"
    remark = live(protocol=RPC_HTTP, state=SessionState.DISCONNECTED, error="closed after Compare protocols")
    assert status_row(remark, [rec(1)], now=0).status == "Disconnected: closed after Compare protocols"
    failed = live(protocol=RPC_HTTP, state=SessionState.FAILED, error="HTTP 503 from the RPC proxy")
    assert status_row(failed, [rec(1)], now=0).status == "Failed: HTTP 503 from the RPC proxy"


def test_elapsed_time_units() -> None:
    assert parse_elapsed_ms("12") == 12.0
    assert parse_elapsed_ms("0.25") == 250.0  # gromox sends seconds
    assert parse_elapsed_ms("x") is None


def test_format_seconds() -> None:
    assert format_seconds(None) == ""
    assert format_seconds(5.9) == "0:05"
    assert format_seconds(900) == "15:00"
    assert format_seconds(3725) == "1:02:05"


def test_text_table() -> None:
    rows = [
        status_row(live(smtp_address="a@contoso.test"), [rec(1)], now=0),
        status_row(live(url=AB_URL, smtp_address="a@contoso.test"), [rec(2, url=AB_URL)], now=0),
    ]
    text = format_status_table(rows)
    lines = text.splitlines()
    assert lines[0].startswith("Server name")
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert len(lines) == 4
    assert URL in lines[2] and AB_URL in lines[3]
    # Columns line up: every column starts where its header does.
    start = lines[0].index("Req/Fail")
    assert lines[2][start : start + 3] == "1/0"
    short = format_status_table(rows, columns=("Type", "Req/Fail"))
    assert short.splitlines()[0] == "Type  Req/Fail"


def test_sort_keys_put_unknowns_last() -> None:
    a = status_row(live(), [rec(1, total_ms=50.0)], now=0)
    b = status_row(live(), [], now=0)
    c = status_row(live(), [rec(1, total_ms=5.0)], now=0)
    ordered = sorted([a, b, c], key=lambda r: r.sort_key(COLUMNS.index("Avg Resp")))
    assert [r.avg_resp_ms for r in ordered] == [5.0, 50.0, None]


@pytest.mark.network
def test_rows_of_real_sessions(sim: Simulator) -> None:
    user = sim.users[0]
    trace = Trace()
    conn = connection(sim, timeout=5.0)
    mbx_url = f"https://mail.contoso.test/mapi/emsmdb/?MailboxId={user.mailbox_guid}@contoso.test"
    ab_url = f"https://mail.contoso.test/mapi/nspi/?MailboxId={user.mailbox_guid}@contoso.test"
    # ``auto`` annotates the trace with its choice; X-ElapsedTime must still reach the record (Avg Proc).
    auto = make_auth(Credentials(user=user.user, password=user.password), "auto")
    mailbox = MailboxSession(
        mbx_url,
        user_dn=user.legacy_dn,
        auth=auto,
        connection=conn,
        trace=trace,
        keepalive=False,
    )
    book = AddressBookSession(ab_url, auth=auto, connection=conn, trace=trace, keepalive=False)
    with mailbox, book:
        mailbox.folder_tree()
        book.bind()
        book.page(0, count=10)
        rows = status_rows(
            [
                describe_mailbox(mailbox, smtp_address=user.email),
                describe_address_book(book, smtp_address=user.email, display_name=mailbox.display_name or ""),
            ],
            trace.records,
        )
    mail, directory = rows
    assert (mail.type, directory.type) == (MAIL, DIRECTORY)
    assert mail.status == directory.status == "Established"
    assert mail.protocol == directory.protocol == "HTTP"
    # The Exchange-2019-like scenario offers Negotiate and NTLM on /mapi/ (no Basic): Negotiate (NTLM inside).
    assert mail.authn == directory.authn and mail.authn in ("Nego", "NTLM")
    assert mail.encrypt.startswith("TLS 1.")
    assert mail.requests >= 3 and directory.requests >= 2  # Connect, Execute(s) / Bind, QueryRows
    assert mail.failures == directory.failures == 0
    assert mail.display_name == user.display_name
    assert mail.avg_resp_ms is not None and mail.avg_resp_ms > 0
    assert (
        mail.avg_proc_ms is not None and directory.avg_proc_ms is not None
    )  # the simulator sends X-ElapsedTime
    assert mail.version and mail.version[0].isdigit()
    assert mail.expires_in_s is not None and mail.expires_in_s > 0
    text = format_status_table(rows)
    assert user.password not in text
    assert mbx_url in text and ab_url in text


def test_rpc_http_channel_handshake_legs_and_closed_in_channel_are_not_failures() -> None:
    # What transport/rpch.py records for one virtual connection: a 401 leg per channel (outcome http-401),
    # the IN channel closed by the session without an answer (by design), the OUT channel's 200.
    url = "https://mail.contoso.test/rpc/rpcproxy.dll?mail.contoso.test:6004"
    records = [
        rec(1, url, status=401, outcome="http-401"),
        rec(2, url),
        rec(3, url, status=401, outcome="http-401"),
        rec(4, url, status=None, outcome="closed"),
        rec(5, url),
    ]
    row = status_row(EndpointSession(kind=MAIL, url=url, protocol=RPC_HTTP), records, now=2000.0)
    assert (row.requests, row.failures) == (5, 0)
    # A 401 the session did not get past is still one.
    row = status_row(EndpointSession(kind=MAIL, url=url, protocol=RPC_HTTP), records[:1], now=2000.0)
    assert row.failures == 1
