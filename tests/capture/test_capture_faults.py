"""Captures made by hand as other tools write them: secrets inside, damage, lossy text, chunked and gzip.

A capture holding a password (Basic and a form), a real NTLM handshake (pyspnego on both sides), a Bearer
token and cookie values shows none of them in any output. A SAZ cut off in the middle of a member, a
member that does not inflate, and a HAR whose binary request body was stored as text give notes, not
exceptions.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import spnego

from mapiprobe.protocol.capture import open_capture, read_har, read_saz
from mapiprobe.protocol.capture_decode import decode_capture, render_text
from mapiprobe.protocol.emsmdb import ConnectRequest, ConnectResponse
from mapiprobe.simulator.auth import acceptor_environment, demo_token, write_ntlm_user_file
from mapiprobe.simulator.org import load_organisation

ORG = load_organisation()
ALICE = ORG.users[0]
TOKEN = demo_token(ORG, ALICE)
COOKIE = "f3a9c0d2e7b64c1d9a8b7c6d5e4f3a2b"
CONNECTED = ConnectResponse(display_name=ALICE.display_name).encode()
MAILBOX = "https://mail.contoso.test/mapi/emsmdb/?MailboxId=abc@contoso.test"


def ntlm_handshake(tmp_path: Path) -> tuple[bytes, bytes, bytes]:
    """A real NTLM NEGOTIATE, CHALLENGE and AUTHENTICATE (pyspnego as client and as acceptor)."""
    users = write_ntlm_user_file(ORG, tmp_path / "ntlm-users")
    client = spnego.client(ALICE.user, ALICE.password, hostname="mail.contoso.test", protocol="ntlm")
    with acceptor_environment(users):
        server = spnego.server(protocol="ntlm")
        negotiate = client.step()
        assert negotiate is not None
        challenge = server.step(negotiate)
        assert challenge is not None
        authenticate = client.step(challenge)
        assert authenticate is not None
        server.step(authenticate)
    assert server.complete
    return negotiate, challenge, authenticate


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _noise(n: int) -> bytes:
    """20 KB that compress only to half (hex digits of hashes)."""
    return b"".join(hashlib.sha256(b"%d %d" % (n, i)).hexdigest().encode() for i in range(320))


def http_request(method: str, url: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    head = [f"{method} {url} HTTP/1.1", *(f"{k}: {v}" for k, v in headers)]
    if body:
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def http_response(
    status: str, headers: list[tuple[str, str]], body: bytes = b"", *, chunked: bool = False
) -> bytes:
    head = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers)]
    if chunked:
        head.append("Transfer-Encoding: chunked")
        framed = b"".join(
            b"%x\r\n%s\r\n" % (len(body[i : i + 5]), body[i : i + 5]) for i in range(0, len(body), 5)
        )
        body = framed + b"0\r\n\r\n"
    else:
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def make_saz(sessions: list[tuple[bytes, bytes | None]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for n, (request, response) in enumerate(sessions, 1):
            archive.writestr(f"raw/{n:02d}_c.txt", request)
            if response is not None:
                archive.writestr(f"raw/{n:02d}_s.txt", response)
            archive.writestr(
                f"raw/{n:02d}_m.xml",
                f'<?xml version="1.0" encoding="utf-8"?><Session SID="{n}"><SessionTimers '
                'ClientBeginRequest="2024-05-06T10:11:12.1234567+02:00" '
                'ClientDoneResponse="2024-05-06T10:11:12.3734567+02:00" TCPConnectTime="3" '
                'HTTPSHandshakeTime="12" /><SessionFlags><SessionFlag N="x-hostip" V="10.0.0.5" />'
                "</SessionFlags></Session>",
            )
    return out.getvalue()


def secret_sessions(tmp_path: Path) -> list[tuple[bytes, bytes | None]]:
    negotiate, challenge, authenticate = ntlm_handshake(tmp_path)
    basic = _b64(f"{ALICE.user}:{ALICE.password}".encode())
    form = f"username={ALICE.user}&password={ALICE.password}&grant_type=password".encode()
    connect = ConnectRequest(user_dn=ALICE.legacy_dn).encode()
    return [
        (
            http_request("POST", "/autodiscover/autodiscover.xml", [("Host", "autodiscover.contoso.test"),
                         ("Authorization", f"Basic {basic}"), ("Content-Type", "text/xml")], b"<x/>"),
            http_response("401 Unauthorized", [("WWW-Authenticate", "NTLM"), ("WWW-Authenticate", "Basic")]),
        ),
        (
            http_request("POST", MAILBOX, [("Authorization", f"NTLM {_b64(negotiate)}"),
                         ("Content-Type", "application/mapi-http"), ("X-RequestType", "Connect")], connect),
            http_response("401 Unauthorized", [("WWW-Authenticate", f"NTLM {_b64(challenge)}")]),
        ),
        (
            http_request("POST", MAILBOX, [("Authorization", f"NTLM {_b64(authenticate)}"),
                         ("Content-Type", "application/mapi-http"), ("X-RequestType", "Connect"),
                         ("X-RequestId", "{0E0D7B4C-5E35-4A8B-9C0E-1A2B3C4D5E6F}:1")], connect),
            http_response("200 OK", [("Set-Cookie", f"MapiContext={COOKIE}; path=/mapi/; HttpOnly"),
                          ("Content-Type", "application/mapi-http"), ("X-ResponseCode", "0")],
                          b"PROCESSING\r\nDONE\r\n\r\n" + CONNECTED, chunked=True),
        ),
        (
            http_request("GET", f"https://login.contoso.test/cb?state=1&access_token={TOKEN}",
                         [("Authorization", f"Bearer {TOKEN}"), ("Cookie", f"MapiContext={COOKIE}")]),
            http_response("200 OK", [("Content-Type", "application/json"), ("Content-Encoding", "gzip")],
                          gzip.compress(json.dumps({"access_token": TOKEN, "user": "alice"}).encode())),
        ),
        (
            http_request("POST", "https://login.contoso.test/token",
                         [("Content-Type", "application/x-www-form-urlencoded")], form),
            None,
        ),
    ]  # fmt: skip


def secrets_in(text: str) -> list[str]:
    found = [s for s in (ALICE.password, TOKEN, COOKIE) if s in text]
    found += [f"base64 {s[:8]}" for s in (_b64(f"{ALICE.user}:{ALICE.password}".encode()),) if s in text]
    if "TlRMTVNTUA" in text or "NTLMSSP" in text:
        found.append("an NTLM message")
    return found


def all_output(capture_bytes: bytes) -> tuple[str, list[Any]]:
    exchanges = list(decode_capture(open_capture(io.BytesIO(capture_bytes))))
    text = "\n".join(line for d in exchanges for line in render_text(d))
    blob = json.dumps({"exchanges": [d.to_json() for d in exchanges]})
    records = "\n".join(
        repr(d.exchange) + (d.exchange.request_body or b"").decode("latin-1")
        + (d.exchange.response_body or b"").decode("latin-1")
        for d in exchanges
    )  # fmt: skip
    return text + blob + records, exchanges


def har_from_sessions(sessions: list[tuple[bytes, bytes | None]]) -> bytes:
    """The same sessions as a browser would write them in a HAR (text bodies, headers as sent)."""
    entries = []
    for request, response in sessions:
        head, _, body = request.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        method, url, _ = lines[0].split(" ", 2)
        headers = [dict(zip(("name", "value"), line.split(": ", 1), strict=True)) for line in lines[1:]]
        if url.startswith("/"):
            url = "https://autodiscover.contoso.test" + url
        entry: dict[str, Any] = {
            "startedDateTime": "2024-05-06T08:11:12.123Z",
            "time": 250,
            "request": {"method": method, "url": url, "httpVersion": "HTTP/1.1", "headers": headers,
                        "cookies": [], "queryString": [], "headersSize": -1, "bodySize": len(body)},
            "response": {"status": 0, "statusText": "", "httpVersion": "", "headers": [], "cookies": [],
                         "content": {"size": 0, "mimeType": "x-unknown"}, "redirectURL": "",
                         "headersSize": -1, "bodySize": -1, "_error": "net::ERR_CONNECTION_RESET"},
            "cache": {},
            "timings": {"send": 0, "wait": 200, "receive": 50},
        }  # fmt: skip
        if body:
            entry["request"]["postData"] = {"mimeType": "text/plain", "text": body.decode("latin-1")}
        if response is not None:
            rhead, _, rbody = response.partition(b"\r\n\r\n")
            rlines = rhead.decode().split("\r\n")
            entry["response"].update(
                status=int(rlines[0].split()[1]),
                headers=[dict(zip(("name", "value"), x.split(": ", 1), strict=True)) for x in rlines[1:]],
                content={
                    "size": len(rbody),
                    "mimeType": "text/plain",
                    "text": _b64(rbody),
                    "encoding": "base64",
                },
            )
        entries.append(entry)
    return json.dumps({"log": {"version": "1.2", "creator": {"name": "hand"}, "entries": entries}}).encode()


def test_no_secret_of_a_saz_shows(tmp_path: Path) -> None:
    sessions = secret_sessions(tmp_path)
    raw = make_saz(sessions)
    assert b"TlRMTVNTUA" in zipfile.ZipFile(io.BytesIO(raw)).read("raw/02_c.txt")  # it is in the file
    out, exchanges = all_output(raw)
    assert not secrets_in(out), secrets_in(out)
    assert len(exchanges) == 5
    auth = exchanges[0].exchange.header("Authorization", response=False)
    assert auth == "Basic [redacted]"
    assert exchanges[1].exchange.header("WWW-Authenticate") == "NTLM [redacted]"
    assert exchanges[2].ok and exchanges[2].request_type == "Connect"  # chunked, decoded after the handshake
    assert exchanges[2].exchange.response_body == b"PROCESSING\r\nDONE\r\n\r\n" + CONNECTED
    assert exchanges[2].to_json()["response"]["Body"]["DisplayName"] == ALICE.display_name
    assert exchanges[1].failures == ["HTTP 401 Unauthorized"]
    token = exchanges[3].exchange
    assert token.url.endswith("access_token=[redacted]")
    assert json.loads(token.response_body or b"")["access_token"] == "[redacted]"  # gunzipped, redacted
    assert token.peer_address == "10.0.0.5" and token.timings["total"] == pytest.approx(250, abs=0.01)
    assert (
        exchanges[4].exchange.request_body
        == f"username={ALICE.user}&password=[redacted]&grant_type=password".encode()
    )
    assert any("no response stored" in n for n in exchanges[4].exchange.notes)


def test_no_secret_of_a_har_shows(tmp_path: Path) -> None:
    raw = har_from_sessions(secret_sessions(tmp_path))
    assert ALICE.password.encode() in raw and TOKEN.encode() in raw
    out, exchanges = all_output(raw)
    assert not secrets_in(out), secrets_in(out)
    assert [d.exchange.status for d in exchanges] == [401, 401, 200, 200, None]
    assert any("ERR_CONNECTION_RESET" in n for n in exchanges[4].exchange.notes)


def test_a_saz_cut_off_in_a_member_gives_notes(tmp_path: Path) -> None:
    sessions = [
        (http_request("GET", f"https://h.test/{n}", [("Host", "h.test")]),
         http_response("200 OK", [("Content-Type", "text/plain")], _noise(n)))
        for n in range(1, 5)
    ]  # fmt: skip
    raw = make_saz(sessions)
    cut = raw[: raw.index(b"raw/03_s.txt") + 2000]  # into the compressed data of session 3's response
    capture = read_saz(io.BytesIO(cut))
    exchanges = list(capture)
    assert any("no readable zip directory" in n for n in capture.notes)
    assert [e.index for e in exchanges] == [1, 2, 3]
    assert exchanges[1].status == 200 and exchanges[1].response_body == _noise(2)
    third = exchanges[2]
    assert any("raw/03_s.txt is cut off" in n for n in third.notes), third.notes
    assert any("cut off" in n and "Content-Length" in n for n in third.notes), third.notes
    assert third.status == 200 and third.response_body and len(third.response_body) < len(_noise(3))
    lines = [line for d in decode_capture(iter(exchanges)) for line in render_text(d)]
    assert any("note: raw/03_s.txt is cut off" in line for line in lines)


def test_a_member_that_does_not_inflate_and_a_response_cut_in_a_chunk(tmp_path: Path) -> None:
    body = b"PROCESSING\r\nDONE\r\nX-ResponseCode: 0\r\n\r\n" + b"\x00" * 40
    response = http_response("200 OK", [("Content-Type", "application/mapi-http"), ("X-ResponseCode", "0")],
                             body, chunked=True)[:-20]  # fmt: skip
    request = http_request("POST", MAILBOX, [("Content-Type", "application/mapi-http"),
                           ("X-RequestType", "Execute")], b"\x00" * 8)  # fmt: skip
    raw = bytearray(make_saz([(request, response), (request, response)]))
    # Damage the deflate data of the first request member (its directory entry stays intact).
    start = raw.index(b"raw/01_c.txt") + len("raw/01_c.txt")
    raw[start + 2 : start + 12] = b"\xff" * 10
    capture = read_saz(io.BytesIO(bytes(raw)))
    exchanges = list(capture)
    assert len(exchanges) == 2 and not capture.notes
    assert any("raw/01_c.txt is damaged" in n for n in exchanges[0].notes), exchanges[0].notes
    second = exchanges[1]
    assert any("chunked body is cut off" in n for n in second.notes), second.notes
    assert second.response_body_truncated
    decoded = list(decode_capture(exchanges))
    assert decoded[1].request_error is not None  # 8 zero bytes are no Execute request: an error object
    assert decoded[1].request_error["reason"] and "decoded" in decoded[1].request_error
    assert any("cut off in the capture" in n for n in decoded[1].notes)


def test_a_har_with_a_lossy_request_body_says_so() -> None:
    connect = ConnectRequest(user_dn=ALICE.legacy_dn).encode()
    text = (connect + b"\xff\xfe\x80").decode("utf-8", "replace")  # a tool that stores binary as text
    mapi = "application/mapi-http"
    envelope = "PROCESSING\r\nDONE\r\n\r\n"
    entries = [
        {"request": {"method": "POST", "url": MAILBOX, "httpVersion": "HTTP/1.1",
                     "headers": [{"name": "Content-Type", "value": mapi},
                                 {"name": "X-RequestType", "value": "Connect"}],
                     "postData": {"mimeType": mapi, "text": text}},
         "response": {"status": 200, "statusText": "OK",
                      "headers": [{"name": "X-ResponseCode", "value": "0"}],
                      "content": {"size": 0, "mimeType": mapi, "text": envelope}},
         "startedDateTime": "2024-05-06T08:11:12Z", "time": 5,
         "timings": {"send": 0, "wait": 5, "receive": 0}},
        {"request": {"method": "POST", "url": MAILBOX,
                     "headers": [{"name": "X-RequestType", "value": "Connect"}],
                     "postData": {"mimeType": mapi, "text": _b64(connect), "encoding": "base64"}}},
    ]  # fmt: skip
    raw = json.dumps({"log": {"version": "1.2", "entries": entries}}).encode()
    exchanges = list(decode_capture(read_har(io.BytesIO(raw))))
    first, second = exchanges
    assert first.exchange.request_body_lossy
    assert any("stored as text" in n and "HAR 1.2 has no field" in n for n in first.exchange.notes)
    assert first.request_error is not None and "stored this body as text" in first.request_error["note"]
    assert not second.exchange.request_body_lossy and second.exchange.request_body == connect
    assert second.to_json()["request"]["UserDn"] == ALICE.legacy_dn
    # A HAR cut off after the first entry: that entry, and a note.
    capture = read_har(io.BytesIO(raw[: raw.index(b'"encoding"')]))  # inside the second entry
    assert len(list(capture)) == 1 and "not valid JSON after entry 1" in capture.notes[0]
