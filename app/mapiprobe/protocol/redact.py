"""Redaction: what of an HTTP exchange may be shown, kept in a trace, a report or a saved capture.

Pure functions shared by the live trace (transport/trace.py) and the capture reader (protocol/capture.py):

* :func:`redact_headers` keeps the scheme name of ``Authorization`` and ``Proxy-Authorization``, the
  cookie names of ``Cookie`` and ``Set-Cookie`` (attributes of ``Set-Cookie`` too), the scheme names and
  ``realm`` of ``WWW-Authenticate``/``Proxy-Authenticate``; every other value of those headers becomes
  ``[redacted]`` (NTLM and Negotiate blobs, Bearer tokens, Basic credentials, cookie values).
* :func:`redact_body`: the values of password/secret/token-like fields of a form or JSON body, of such
  elements of an XML body, and any ``Basic``/``NTLM``/``Negotiate``/``Bearer`` credential quoted in a
  text body. Binary bodies (MAPI/HTTP) carry no credentials and pass unchanged.
* :func:`redact_url`: ``user:password@`` and the values of secret-named query parameters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus, urlsplit, urlunsplit

REDACTED = "[redacted]"

_AUTHORIZATION = frozenset({"authorization", "proxy-authorization"})
_CHALLENGE = frozenset({"www-authenticate", "proxy-authenticate"})

# -- redaction ------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_PARAM = re.compile(r"""([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)\s*$""")


def _redact_authorization(value: str) -> str:
    scheme = value.strip().split(None, 1)
    if not scheme:
        return ""
    if len(scheme) == 1:
        return scheme[0]
    return f"{scheme[0]} {REDACTED}"


_COMMA_QUOTE_ESCAPE = re.compile(r'[,"\\]')


def _split_commas(value: str) -> list[str]:
    """Split on commas that are not inside a quoted string (a backslash in one escapes the next character)."""
    if '"' not in value:  # nothing quoted: every comma splits
        return [item.strip() for item in value.split(",") if item.strip()]
    cuts: list[int] = []
    quoted = False
    escaped_at = -1  # the position of the character a backslash escapes
    for m in _COMMA_QUOTE_ESCAPE.finditer(value):  # only the three characters that matter
        at = m.start()
        if at == escaped_at:
            continue
        ch = value[at]
        if ch == "\\":
            if quoted:
                escaped_at = at + 1
        elif ch == '"':
            quoted = not quoted
        elif not quoted:
            cuts.append(at)
    starts = [0, *(at + 1 for at in cuts)]
    items = [value[a:b] for a, b in zip(starts, [*cuts, len(value)], strict=True)]
    return [item.strip() for item in items if item.strip()]


@dataclass
class _Challenge:
    scheme: str
    realm: str | None = None
    other: bool = False  # a token68 or an auth-param other than realm was present


def _challenges(value: str) -> list[_Challenge]:
    """The challenges of a WWW-Authenticate value (RFC 7235 section 2.1, read tolerantly)."""
    found: list[_Challenge] = []
    for item in _split_commas(value):
        param = _PARAM.match(item)
        if param and found:  # an auth-param of the current challenge
            if param.group(1).lower() == "realm":
                found[-1].realm = param.group(2)
            else:
                found[-1].other = True
            continue
        m = _TOKEN.match(item)
        if not m:
            if found:
                found[-1].other = True
            continue
        challenge = _Challenge(m.group(0))
        rest = item[m.end() :].strip()
        if rest:
            param = _PARAM.match(rest)
            if param and param.group(1).lower() == "realm":
                challenge.realm = param.group(2)
            else:
                challenge.other = True
        found.append(challenge)
    return found


def _redact_challenge(value: str) -> str:
    out = []
    for ch in _challenges(value):
        text = ch.scheme
        if ch.realm is not None:
            text += f" realm={ch.realm}"
        if ch.other:
            text += f" {REDACTED}"
        out.append(text)
    return ", ".join(out) if out else (REDACTED if value.strip() else "")


def challenge_schemes(value: str) -> tuple[str, ...]:
    """Scheme names of a WWW-Authenticate value: ``Negotiate, Basic realm="x"`` -> (Negotiate, Basic)."""
    return tuple(ch.scheme for ch in _challenges(value))


def _redact_cookie(value: str) -> str:
    names = []
    for pair in value.split(";"):
        name = pair.split("=", 1)[0].strip()
        if name:
            names.append(f"{name}={REDACTED}")
    return "; ".join(names)


def _redact_set_cookie(value: str) -> str:
    first, *attrs = value.split(";")
    name = first.split("=", 1)[0].strip()
    kept = [f"{name}={REDACTED}"]
    kept += [attr.strip() for attr in attrs if attr.strip()]
    return "; ".join(kept)


def redact_header(name: str, value: str) -> str:
    lname = name.lower()
    if lname in _AUTHORIZATION:
        return _redact_authorization(value)
    if lname in _CHALLENGE:
        return _redact_challenge(value)
    if lname == "cookie":
        return _redact_cookie(value)
    if lname == "set-cookie":
        return _redact_set_cookie(value)
    return value


def redact_headers(headers: Iterable[tuple[str, str]] | Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return tuple((str(k), redact_header(str(k), str(v))) for k, v in items)


# -- bodies -------------------------------------------------------------------------------------------

# Field names whose values are credentials: password, passwd, pwd, client_secret, access_token,
# refresh_token, id_token, assertion, client_assertion, apikey, authorization, cookie...
_SECRET_NAME = re.compile(
    r"pass(?:word|wd)?$|^pwd$|secret|token|assertion|credential|api[-_]?key|^authorization$|^cookie$"
    r"|^code$|^session[-_]?key$",
    re.IGNORECASE,
)
_CRED_IN_TEXT = re.compile(rb"\b(Basic|NTLM|Negotiate|Bearer)([ \t]+)([A-Za-z0-9+/._~-]{8,}=*)")
_XML_SECRET = re.compile(
    rb"(<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)(?:\s[^>]*)?>)([^<]*)(</(?:[A-Za-z_][\w.-]*:)?\2\s*>)"
)
_JSON_SECRET = re.compile(rb'"([^"\\]{1,64})"(\s*:\s*)"((?:[^"\\]|\\.)*)"')
_TEXTUAL = ("text/", "json", "xml", "x-www-form-urlencoded", "javascript", "html")
_REDACTED_B = REDACTED.encode()


def is_secret_name(name: str) -> bool:
    """True for a form/JSON/XML field name that holds a credential (``password``, ``access_token``...)."""
    return bool(_SECRET_NAME.search(name.strip()))


def _redact_json_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (REDACTED if is_secret_name(str(k)) and v not in (None, "") else _redact_json_value(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact_json_value(v) for v in value]
    return value


def _redact_json(body: bytes) -> bytes:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):  # cut off or not JSON after all: field by field
        return _JSON_SECRET.sub(
            lambda m: (
                m.group(0)
                if not is_secret_name(m.group(1).decode("utf-8", "replace"))
                else b'"' + m.group(1) + b'"' + m.group(2) + b'"' + _REDACTED_B + b'"'
            ),
            body,
        )
    redacted = _redact_json_value(doc)
    return body if redacted == doc else json.dumps(redacted, ensure_ascii=False).encode()


def _redact_form(body: bytes) -> bytes:
    parts = body.split(b"&")
    for i, part in enumerate(parts):
        name, eq, _value = part.partition(b"=")
        if eq and is_secret_name(unquote_plus(name.decode("latin-1"))):
            parts[i] = name + b"=" + _REDACTED_B
    return b"&".join(parts)


def _redact_xml(body: bytes) -> bytes:
    return _XML_SECRET.sub(
        lambda m: (
            m.group(0)
            if not is_secret_name(m.group(2).decode("latin-1")) or not m.group(3).strip()
            else m.group(1) + _REDACTED_B + m.group(4)
        ),
        body,
    )


def redact_body(content_type: str | None, body: bytes) -> bytes:
    """``body`` with the credentials it may carry replaced by ``[redacted]`` (see the module docstring).

    Binary bodies (MAPI/HTTP, octet streams) are returned unchanged: they carry no credentials.
    """
    ctype = (content_type or "").split(";")[0].strip().lower()
    if not body or ctype in ("application/mapi-http", "application/octet-stream"):
        return body
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    textual = any(t in ctype for t in _TEXTUAL)
    if not textual and (ctype or b"\0" in body[:1024]):
        return body
    out = body
    if "x-www-form-urlencoded" in ctype or (
        not ctype and b"=" in head and head[:1] not in (b"{", b"[", b"<")
    ):
        out = _redact_form(out)
    elif "json" in ctype or head[:1] in (b"{", b"["):
        out = _redact_json(out)
    if "xml" in ctype or "html" in ctype or head[:1] == b"<":
        out = _redact_xml(out)
    return _CRED_IN_TEXT.sub(_redact_credential, out)


def _redact_credential(m: re.Match[bytes]) -> bytes:
    token = m.group(3)
    # A credential, not prose ("Basic authentication"): a digit, + / =, or a capital after the first char.
    if not re.search(rb"[0-9+/=]|.[A-Z]", token):
        return m.group(0)
    return m.group(1) + m.group(2) + _REDACTED_B


BodyRedactor = Callable[[str | None, bytes], bytes]


def header_value(headers: Iterable[tuple[str, str]] | Mapping[str, str], name: str) -> str | None:
    items = headers.items() if isinstance(headers, Mapping) else headers
    lname = name.lower()
    for key, value in items:
        if str(key).lower() == lname:
            return str(value)
    return None


def redact_url(url: str) -> str:
    """``url`` without ``user:password@`` and with secret-named query values (``access_token=``) redacted."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1] if "@" in parts.netloc else parts.netloc
    query = parts.query
    if query:
        query = _redact_form(query.encode("latin-1", "replace")).decode("latin-1")
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


__all__ = [
    "REDACTED",
    "BodyRedactor",
    "challenge_schemes",
    "header_value",
    "is_secret_name",
    "redact_body",
    "redact_header",
    "redact_headers",
    "redact_url",
]
