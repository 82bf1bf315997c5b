"""The Autodiscover POX codec: MS-OXDSCLI 4.2 and 4.4 examples, realistic and hostile bodies, round trips."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapiprobe.protocol.autodiscover import (
    RESPONSE_SCHEMA_2006A,
    AutodiscoverRequest,
    AutodiscoverResponse,
    AutodiscoverUser,
    ErrorResponse,
    LegacyProtocol,
    MapiHttpSettings,
    build_request,
    build_response,
    parse_request,
    parse_response,
    urls_of,
)
from mapiprobe.protocol.errors import AutodiscoverError, EncodeError, ProtocolError
from mapiprobe.protocol.jsonview import to_jsonable
from mapiprobe.protocol.registry import DecodeContext, kinds
from tests.hypothesis_profiles import examples

DATA = Path(__file__).resolve().parents[1] / "data"


def load(name: str) -> bytes:
    """The body of a data file: the leading ``#`` citation lines removed, every other byte kept."""
    raw = (DATA / name).read_bytes()
    while raw.startswith(b"#"):
        raw = raw.split(b"\n", 1)[1]
    return raw


# --------------------------------------------------------------------------------------------------
# Spec vectors
# --------------------------------------------------------------------------------------------------


def test_spec_4_4_mapihttp_response_decodes() -> None:
    resp = parse_response(load("autodiscover_spec_4_4_mapihttp_response.xml"))
    assert resp.action == "settings"
    assert resp.account_type == "email"
    assert resp.user == AutodiscoverUser(
        display_name="User Display Name",
        legacy_dn="/o=microsoft/ou=Contoso/cn=Recipients/cn=486021",
        autodiscover_smtp_address="user@Contoso.com",
        deployment_id="30c3a927-42aa-5de8-91e3-8e5b4655ed00",
    )
    guid = "416c6368-656d-794a-6f45-57615272456e@Contoso.com"
    assert resp.mapi_http == MapiHttpSettings(
        version=1,
        mailstore_internal=f"https://mail.Contoso.com/mapi/emsmdb/?MailboxId={guid}",
        mailstore_external=None,
        addressbook_internal=f"https://mail.Contoso.com/mapi/nspi/?MailboxId={guid}",
        addressbook_external=None,
    )
    assert resp.mapi_http.mailstore_url == resp.mapi_http.mailstore_internal  # no ExternalUrl: fall back
    [web] = resp.legacy
    assert web.type == "WEB"
    assert ("External/OWAUrl@AuthenticationMethod", "Fba") in web.settings
    assert (
        "Internal/OWAUrl",
        "https:/Internal.mail.Contoso.com/owa",
    ) in web.settings  # the spec's typo, kept
    assert ("Internal/Protocol/Type", "EXCH") in web.settings
    assert resp.redirect_addr is None and resp.redirect_url is None and resp.error is None


def test_spec_4_4_reencodes_byte_exact() -> None:
    data = load("autodiscover_spec_4_4_mapihttp_response.xml")
    assert build_response(parse_response(data)) == data


def test_spec_4_2_redirectaddr_decodes_and_reencodes() -> None:
    data = load("autodiscover_spec_4_2_redirectaddr_response.xml")
    resp = parse_response(data)
    assert resp == AutodiscoverResponse(action="redirectAddr", redirect_addr="user@subdomain.contoso.com")
    assert build_response(resp) == data


# --------------------------------------------------------------------------------------------------
# Request
# --------------------------------------------------------------------------------------------------


def test_build_request_matches_constructed_layout() -> None:
    assert build_request("user@example.com") == load("autodiscover_constructed_request.xml")


def test_request_round_trip_email_and_legacy_dn() -> None:
    req = parse_request(build_request("a&b@example.com", legacy_dn="/o=X/cn=<y>"))
    assert req == AutodiscoverRequest("a&b@example.com", "/o=X/cn=<y>", RESPONSE_SCHEMA_2006A)
    assert parse_request(build_request(legacy_dn="/o=X")).email is None


def test_parse_learn_pox_request_with_https_namespaces() -> None:
    req = parse_request(load("autodiscover_learn_pox_request.xml"))
    assert req.email == "user@contoso.com"
    assert req.acceptable_response_schema == RESPONSE_SCHEMA_2006A.replace("http://", "https://")


def test_build_request_needs_an_address() -> None:
    with pytest.raises(EncodeError):
        build_request()


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<Autodiscover/>",
        b'<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">'
        b"<Request><AcceptableResponseSchema>x</AcceptableResponseSchema></Request></Autodiscover>",
        b"<Other/>",
        load("autodiscover_spec_4_2_redirectaddr_response.xml"),
    ],
)
def test_parse_request_rejects(body: bytes) -> None:
    with pytest.raises(AutodiscoverError):
        parse_request(body)


# --------------------------------------------------------------------------------------------------
# Realistic responses (constructed)
# --------------------------------------------------------------------------------------------------


def test_gromox_style_all_blocks() -> None:
    resp = parse_response(load("autodiscover_constructed_gromox_style.xml"))
    assert resp.mapi_http is not None
    assert resp.mapi_http.mailstore_external is not None
    assert resp.mapi_http.mailstore_external.endswith("@example.org&x=1")  # query kept, entity decoded
    assert resp.mapi_http.mailstore_url == resp.mapi_http.mailstore_external  # ExternalUrl preferred
    assert [p.type for p in resp.legacy] == ["EXHTTP", "EXCH", "EXPR"]
    exch = resp.protocol("exch")
    assert exch is not None
    assert exch.server == "0a1b2c3d-0000-4000-8000-000000000001@example.org"
    assert exch.server_version == "73C18880"
    assert exch.mdb_dn is not None and exch.mdb_dn.endswith("/cn=Microsoft Private MDB")
    assert ("AD", "mx.example.org") in exch.settings  # a child without a field is still kept
    expr = resp.protocol("EXPR")
    assert expr is not None
    assert (expr.ssl, expr.auth_package, expr.cert_principal_name) == ("On", "Basic", "msstd:mx.example.org")
    assert resp.protocol("EXHTTP") is not None
    assert resp.protocol("WEB") is None
    assert "https://mx.example.org/OAB/" in urls_of(resp)
    # Re-encoding keeps everything (byte-exact after our own layout).
    assert parse_response(build_response(resp)) == resp


def test_error_500_under_response() -> None:
    resp = parse_response(load("autodiscover_constructed_error_500.xml"))
    assert resp.action == "error"
    assert resp.error == ErrorResponse(
        code="500",
        message="The email address can't be found.",
        debug_data=None,
        time="10:21:05.1234567",
        id="3541028577",
    )
    assert resp.error.meaning is not None and "not found" in resp.error.meaning


def test_error_600_under_account() -> None:
    resp = parse_response(load("autodiscover_constructed_error_in_account.xml"))
    assert resp.action == "error"
    assert resp.error is not None
    assert (resp.error.code, resp.error.message, resp.error.debug_data) == (
        "600",
        "Invalid Request",
        "request body was empty",
    )
    assert resp.error.id == "1054084152"
    assert ErrorResponse("999").meaning is None  # codes outside the table are allowed (MS-OXDSCLI 3.2.5)


def test_redirect_url_https_namespaces_and_query_kept() -> None:
    resp = parse_response(load("autodiscover_constructed_redirecturl.xml"))
    assert resp.action == "redirectUrl"
    assert resp.redirect_url == "https://autodiscover.eu.example.net/autodiscover/autodiscover.xml?tenant=42"


def test_legitimate_variety_bom_crlf_prefixes_whitespace_unknown_elements() -> None:
    data = load("autodiscover_constructed_variety.xml")
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    resp = parse_response(data)
    assert resp.action == "settings"  # "SETTINGS" normalised
    assert resp.user is not None and resp.user.display_name == "Erik Ek"
    assert resp.mapi_http == MapiHttpSettings(
        version=1,
        mailstore_external="https://mail.example.org/mapi/emsmdb/?MailboxId=e1e1e1e1-0000-4000-8000-000000000002@example.org",
        addressbook_external="https://mail.example.org/mapi/nspi/?MailboxId=e1e1e1e1-0000-4000-8000-000000000002@example.org",
    )


def test_settings_without_action_but_with_protocols_is_settings() -> None:
    body = build_response(
        AutodiscoverResponse("settings", mapi_http=MapiHttpSettings(1, "https://h/x"))
    ).replace(b"      <Action>settings</Action>\n", b"")
    assert parse_response(body).action == "settings"


# --------------------------------------------------------------------------------------------------
# Hostile and broken bodies
# --------------------------------------------------------------------------------------------------


def _account(inner: bytes) -> bytes:
    return b"<Autodiscover><Response><Account>" + inner + b"</Account></Response></Autodiscover>"


def _raises(body: bytes, *fragments: str) -> AutodiscoverError:
    with pytest.raises(AutodiscoverError) as info:
        parse_response(body)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)
    return info.value


def test_html_login_page() -> None:
    _raises(load("autodiscover_constructed_html_login.xml"), "HTML page")
    _raises(b"<html><body>Please sign in</body></html>", "HTML page")
    _raises(b"\n  <!-- proxy --><HTML><HEAD></HEAD></HTML>", "HTML page")


def test_xxe_does_not_read_local_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-42", encoding="utf-8")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">'
        "<Response><Account><Action>redirectAddr</Action><RedirectAddr>&x;</RedirectAddr></Account>"
        "</Response></Autodiscover>"
    ).encode()
    err = _raises(body, "DOCTYPE")
    assert "TOP-SECRET" not in str(err)
    # Parameter entities and external DTDs are refused the same way.
    _raises(f'<!DOCTYPE a SYSTEM "file://{secret}"><a/>'.encode(), "DOCTYPE")


def test_entity_bomb_fails_fast() -> None:
    start = time.perf_counter()
    _raises(load("autodiscover_constructed_entity_bomb.xml"), "DOCTYPE")
    assert time.perf_counter() - start < 0.5


def test_utf16_bodies_hostile_and_good(tmp_path: Path) -> None:
    """A DOCTYPE hidden from a byte scan by UTF-16 is still refused; a clean UTF-16 answer still parses."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-16", encoding="utf-8")
    xxe = (
        f'<?xml version="1.0" encoding="utf-16"?><!DOCTYPE a [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<Autodiscover><Response><Account><Action>redirectAddr</Action><RedirectAddr>&x;</RedirectAddr>"
        "</Account></Response></Autodiscover>"
    )
    assert "TOP-SECRET" not in str(_raises(xxe.encode("utf-16")))
    bomb = (
        load("autodiscover_constructed_entity_bomb.xml")
        .decode()
        .replace('"1.0"?>', '"1.0" encoding="utf-16"?>')
    )
    start = time.perf_counter()
    _raises(bomb.encode("utf-16"))
    assert time.perf_counter() - start < 0.5
    good = load("autodiscover_spec_4_4_mapihttp_response.xml").decode().replace("utf-8", "utf-16")
    assert parse_response(good.encode("utf-16")) == parse_response(
        load("autodiscover_spec_4_4_mapihttp_response.xml")
    )


def test_undeclared_entity_is_not_well_formed() -> None:
    _raises(
        b'<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">&x;</Autodiscover>',
        "well-formed",
    )


def test_every_truncation_is_an_error() -> None:
    data = load("autodiscover_spec_4_4_mapihttp_response.xml")
    cut_points = [*range(0, len(data) - 2, 7), len(data) - 3]
    for cut in cut_points:
        with pytest.raises(AutodiscoverError):
            parse_response(data[:cut])


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "empty"),
        (b"   \r\n ", "empty"),
        (b'{"Protocol":"AutodiscoverV1","Url":"https://x/autodiscover/autodiscover.xml"}', "JSON"),
        (b"<Other/>", "root element"),
        (b'<Autodiscover xmlns="urn:other"><Response/></Autodiscover>', "namespace"),
        (build_request("a@b.c"), "request"),
        (
            b'<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"/>',
            "no Response",
        ),
        (load("autodiscover_constructed_mobilesync.xml"), "ActiveSync"),
        (b'<Autodiscover><Response xmlns="urn:x"/></Autodiscover>', "namespace"),
        (b"<Autodiscover><Response/></Autodiscover>", "neither Account nor Error"),
        (b"<Autodiscover><Response><Account/></Response></Autodiscover>", "no Action"),
        (
            b"<Autodiscover><Response><Account><Action>fly</Action></Account></Response></Autodiscover>",
            "unknown Action",
        ),
        (
            b"<Autodiscover><Response><Account><Action>redirectAddr</Action></Account></Response></Autodiscover>",
            "RedirectAddr",
        ),
        (
            b"<Autodiscover><Response><Account><Action>redirectUrl</Action></Account></Response></Autodiscover>",
            "RedirectUrl",
        ),
        (
            _account(b'<Action>settings</Action><Protocol Type="mapiHttp"/>'),
            "Version",
        ),
        (
            _account(b'<Action>settings</Action><Protocol Type="mapiHttp" Version="one"/>'),
            "not a number",
        ),
        (b"\xff\xfe\x00garbage", "XML"),
        (b"<a>\xff</a>", "XML"),
    ],
)
def test_not_an_answer(body: bytes, fragment: str) -> None:
    _raises(body, fragment)


def test_size_cap() -> None:
    data = load("autodiscover_spec_4_4_mapihttp_response.xml")
    with pytest.raises(AutodiscoverError, match="limit"):
        parse_response(data, max_size=100)
    with pytest.raises(AutodiscoverError, match="limit"):
        parse_response(b"<a>" + b" " * 1_100_000 + b"</a>")


def test_not_bytes() -> None:
    with pytest.raises(AutodiscoverError):
        parse_response("<Autodiscover/>")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# JSON view and `mapiprobe decode`
# --------------------------------------------------------------------------------------------------


def test_jsonview_uses_spec_names() -> None:
    view = to_jsonable(parse_response(load("autodiscover_spec_4_4_mapihttp_response.xml")))
    assert view["Action"] == "settings"
    assert view["User"]["LegacyDN"] == "/o=microsoft/ou=Contoso/cn=Recipients/cn=486021"
    assert view["User"]["AutoDiscoverSMTPAddress"] == "user@Contoso.com"
    assert view["MapiHttp"]["MailStore/InternalUrl"].startswith("https://mail.Contoso.com/mapi/emsmdb/")
    assert "Element" not in view["LegacyProtocols"][0]
    json.dumps(view)


def test_decode_kind_registered(tmp_path: Path) -> None:
    table = kinds()
    assert "autodiscover-response" in table and "autodiscover-request" in table
    ctx = DecodeContext()
    result = table["autodiscover-response"].func(load("autodiscover_spec_4_2_redirectaddr_response.xml"), ctx)
    assert result.action == "redirectAddr"
    from mapiprobe.cli import main

    path = tmp_path / "r.xml"
    path.write_bytes(load("autodiscover_constructed_error_500.xml"))
    assert main(["decode", "autodiscover-response", "--file", str(path), "--json"]) == 0
    path.write_bytes(load("autodiscover_constructed_html_login.xml"))
    assert main(["decode", "autodiscover-response", "--file", str(path)]) == 2


# --------------------------------------------------------------------------------------------------
# Hypothesis: round trips and fuzz
# --------------------------------------------------------------------------------------------------

_XML_CHARS = st.characters(
    codec="utf-8",
    categories=("L", "M", "N", "P", "S", "Zs"),
    exclude_characters="\x85\u2028\u2029\ufffe\uffff",
)
_text = st.text(_XML_CHARS, min_size=1, max_size=30).map(str.strip).filter(bool)
_opt = st.none() | _text
_url = st.builds(
    lambda h, q: f"https://{h}.example/mapi/emsmdb/?MailboxId={q}",
    st.from_regex(r"[a-z]{1,8}", fullmatch=True),
    _text,
)
_LEGACY_NAMES = (
    "Server",
    "ServerDN",
    "ServerVersion",
    "MdbDN",
    "AuthPackage",
    "SSL",
    "CertPrincipalName",
    "EwsUrl",
    "OABUrl",
    "AD",
)

_users = st.builds(AutodiscoverUser, _opt, _opt, _opt, _opt)
_mapi = st.builds(
    MapiHttpSettings,
    st.integers(1, 99),
    st.none() | _url,
    st.none() | _url,
    st.none() | _url,
    st.none() | _url,
)
_legacy = st.builds(
    LegacyProtocol.from_settings,
    st.sampled_from(["EXCH", "EXPR", "EXHTTP", "WEB", "POP3"]),
    st.lists(st.tuples(st.sampled_from(_LEGACY_NAMES), _text), max_size=6),
)
_settings = st.builds(
    lambda user, mapi, legacy, at: AutodiscoverResponse(
        "settings", user, mapi, tuple(legacy), account_type=at
    ),
    st.none() | _users,
    st.none() | _mapi,
    st.lists(_legacy, max_size=3),
    _opt,
)
_redirect = st.one_of(
    st.builds(lambda a: AutodiscoverResponse("redirectAddr", redirect_addr=a), _text),
    st.builds(lambda u: AutodiscoverResponse("redirectUrl", redirect_url=u), _url),
)
_attr = st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=1, max_size=12)
_errors = st.builds(
    lambda user, e: AutodiscoverResponse("error", user=user, error=e),
    st.none() | _users,
    st.builds(
        ErrorResponse,
        st.from_regex(r"[0-9]{3}", fullmatch=True),
        _opt,
        _opt,
        st.none() | _attr,
        st.none() | _attr,
    ),
)
responses = st.one_of(_settings, _redirect, _errors)


@settings(max_examples=examples(300), deadline=None)
@given(responses)
def test_response_round_trip(resp: AutodiscoverResponse) -> None:
    data = build_response(resp)
    back = parse_response(data)
    assert back == resp
    assert build_response(back) == data


@settings(max_examples=examples(200), deadline=None)
@given(st.none() | _text, st.none() | _text)
def test_request_round_trip(email: str | None, legacy_dn: str | None) -> None:
    if not email and not legacy_dn:
        with pytest.raises(EncodeError):
            build_request(email, legacy_dn=legacy_dn)
        return
    assert parse_request(build_request(email, legacy_dn=legacy_dn)) == AutodiscoverRequest(
        email, legacy_dn, RESPONSE_SCHEMA_2006A
    )


_SEEDS = [
    load("autodiscover_spec_4_4_mapihttp_response.xml"),
    load("autodiscover_spec_4_2_redirectaddr_response.xml"),
    load("autodiscover_constructed_gromox_style.xml"),
    load("autodiscover_constructed_error_500.xml"),
    load("autodiscover_constructed_variety.xml"),
]


_INSERTS = (b"<", b">", b"&", b"<!DOCTYPE x>", b"\x00", b"</Account>", b"&amp;", b'"', b"<!--")


def _mutate(seed: bytes, script: bytes) -> bytes:
    """Apply byte edits, four script bytes each (kind, position high, position low, value): replace a byte,
    delete a run, insert a token, or truncate. One binary draw keeps hypothesis' generation cheap."""
    data = bytearray(seed)
    for i in range(0, len(script) - 3, 4):
        kind, value = script[i] % 4, script[i + 3]
        pos = ((script[i + 1] << 8) | script[i + 2]) % max(len(data), 1)
        if kind == 0 and data:
            data[pos] = value
        elif kind == 1:
            del data[pos : pos + 1 + value % 16]
        elif kind == 2:
            data[pos:pos] = _INSERTS[value % len(_INSERTS)]
        else:
            del data[pos:]
    return bytes(data)


_mutated = st.builds(_mutate, st.sampled_from(_SEEDS), st.binary(min_size=4, max_size=24))


@settings(max_examples=examples(2000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300) | _mutated)
def test_fuzz_parse_response_only_protocol_errors(data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        parse_response(data)


@settings(max_examples=examples(2000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300) | _mutated | st.sampled_from([build_request("x@y.z")]))
def test_fuzz_parse_request_only_protocol_errors(data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        parse_request(data)
