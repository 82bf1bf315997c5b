"""Autodiscover POX codec: the request Outlook posts and the response that tells it where the mailbox is.

MS-OXDSCLI 2.2.3 (request, schema ``…/outlook/requestschema/2006``) and 2.2.4 (response, outer schema
``…/responseschema/2006`` with an inner ``Response`` in ``…/outlook/responseschema/2006a``). The client
uses :func:`build_request` and :func:`parse_response`; the simulator uses :func:`parse_request` and
:func:`build_response`. Bytes in, frozen dataclasses out, and back; no I/O.

The body comes from whatever answered an HTTPS URL, so :func:`parse_response` treats it as hostile:
lxml with entity resolution, DTD loading and network access off, a size cap, and any DOCTYPE rejected
outright (no XXE, no entity bombs). An HTML login page, JSON, a truncated body or an XML document that
is not an Autodiscover response raises :class:`~mapiprobe.protocol.errors.AutodiscoverError` naming the
problem. Legitimate variety is accepted: a UTF-8 BOM, CRLF line ends, namespace prefixes, unknown
elements, whitespace around values (stripped). URLs are opaque and kept exactly as sent (query included).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from .errors import AutodiscoverError
from .registry import DecodeContext, decode_kind

REQUEST_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
"""Namespace of the request document (MS-OXDSCLI 2.2.3)."""
RESPONSE_NS = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
"""Namespace of the response's outer ``Autodiscover`` element (MS-OXDSCLI 2.2.4)."""
RESPONSE_SCHEMA_2006A = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
"""Namespace of the inner ``Response`` element and the AcceptableResponseSchema value (MS-OXDSCLI 2.2.4)."""

# ⚠ PROTOCOL.md 1.2: Microsoft's developer pages print these namespaces with "https://"; the open-spec
# examples, ruler and gromox use "http://". We send the spec's http:// form and accept both.
_REQUEST_NAMESPACES = frozenset({REQUEST_NS, REQUEST_NS.replace("http://", "https://", 1)})
_RESPONSE_NAMESPACES = frozenset({RESPONSE_NS, RESPONSE_NS.replace("http://", "https://", 1), None})
_INNER_NAMESPACES = frozenset(
    {RESPONSE_SCHEMA_2006A, RESPONSE_SCHEMA_2006A.replace("http://", "https://", 1)} | _RESPONSE_NAMESPACES
)
_MOBILESYNC_MARK = "/autodiscover/mobilesync/"

DEFAULT_MAX_SIZE = 1_048_576
"""Largest response body parsed (bytes); a real answer is a few kilobytes."""

ACTIONS = ("settings", "redirectAddr", "redirectUrl")
"""Values of Account/Action (MS-OXDSCLI 2.2.4.1.1.2.2); ``"error"`` is ours for a Response with Error."""

ERROR_CODES = {
    "500": "address not found: the server cannot tell how to configure it",
    "501": "bad address: the address is known but has no configuration options",
    "600": "invalid request: the server found the request XML malformed",
    "601": "no configuration of the requested type (AcceptableResponseSchema not offered)",
    "602": "bad address: configuration errors prevent an answer",
    "603": "internal server error",
}
"""ErrorCode meanings (MS-OXDSCLI 2.2.4.1.1.3.2); servers may send others (MS-OXDSCLI 3.2.5)."""


# --------------------------------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class XmlNode:
    """One element exactly as received: local name, attributes, stripped text and child elements."""

    name: str
    text: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    children: tuple[XmlNode, ...] = ()

    def find(self, name: str) -> XmlNode | None:
        """First child element called ``name`` (compared without regard to case)."""
        low = name.lower()
        return next((c for c in self.children if c.name.lower() == low), None)

    def child_text(self, name: str) -> str | None:
        node = self.find(name)
        return node.text if node is not None else None

    def attribute(self, name: str) -> str | None:
        low = name.lower()
        return next((v for k, v in self.attributes if k.lower() == low), None)

    def flatten(self, prefix: str = "") -> Iterator[tuple[str, str]]:
        """``(path, value)`` for every descendant as ``Parent/Child`` and ``Element@Attribute``."""
        for child in self.children:
            path = f"{prefix}{child.name}"
            for key, value in child.attributes:
                yield f"{path}@{key}", value
            if child.children:
                yield from child.flatten(path + "/")
            elif child.text is not None or not child.attributes:
                yield path, child.text or ""

    def __json__(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Name": self.name}
        if self.attributes:
            out["Attributes"] = dict(self.attributes)
        if self.text is not None:
            out["Text"] = self.text
        if self.children:
            out["Children"] = list(self.children)
        return out


@dataclass(frozen=True)
class AutodiscoverRequest:
    """The POX request (MS-OXDSCLI 2.2.3.1): EMailAddress or LegacyDN, and AcceptableResponseSchema."""

    email: str | None = field(default=None, metadata={"spec": "EMailAddress"})
    legacy_dn: str | None = field(default=None, metadata={"spec": "LegacyDN"})
    acceptable_response_schema: str | None = None


@dataclass(frozen=True)
class MapiHttpSettings:
    """``<Protocol Type="mapiHttp" Version="n">`` (MS-OXDSCLI 2.2.4.1.1.2.6): the MAPI/HTTP endpoint URLs."""

    version: int
    mailstore_internal: str | None = field(default=None, metadata={"spec": "MailStore/InternalUrl"})
    mailstore_external: str | None = field(default=None, metadata={"spec": "MailStore/ExternalUrl"})
    addressbook_internal: str | None = field(default=None, metadata={"spec": "AddressBook/InternalUrl"})
    addressbook_external: str | None = field(default=None, metadata={"spec": "AddressBook/ExternalUrl"})

    @property
    def mailstore_url(self) -> str | None:
        """The mailbox endpoint a client outside the network uses: ExternalUrl, else InternalUrl."""
        return self.mailstore_external or self.mailstore_internal

    @property
    def addressbook_url(self) -> str | None:
        return self.addressbook_external or self.addressbook_internal


@dataclass(frozen=True)
class LegacyProtocol:
    """A ``<Protocol>`` block with a ``<Type>`` child: EXCH, EXPR, EXHTTP, WEB, or anything else.

    MS-OXDSCLI 2.2.4.1.1.2.6.x. The key children are fields; ``settings`` keeps every child (nested ones
    as ``Parent/Child`` paths, attributes as ``Element@Attribute``) and ``element`` the whole block, so
    nothing the server said is lost.
    """

    type: str
    server: str | None = None
    server_dn: str | None = field(default=None, metadata={"spec": "ServerDN"})
    server_version: str | None = None
    mdb_dn: str | None = field(default=None, metadata={"spec": "MdbDN"})
    auth_package: str | None = None
    ssl: str | None = field(default=None, metadata={"spec": "SSL"})
    cert_principal_name: str | None = None
    server_exclusive_connect: str | None = None
    public_folder_server: str | None = None
    ews_url: str | None = None
    as_url: str | None = field(default=None, metadata={"spec": "ASUrl"})
    oab_url: str | None = field(default=None, metadata={"spec": "OABUrl"})
    settings: tuple[tuple[str, str], ...] = ()
    element: XmlNode | None = field(default=None, compare=False, metadata={"json": False})

    @classmethod
    def from_element(cls, element: XmlNode) -> LegacyProtocol:
        """The block for a ``<Protocol>`` element (the key fields are read from its children)."""
        return _legacy_from_node(element)

    @classmethod
    def from_settings(cls, type_: str, settings: Iterable[tuple[str, str]]) -> LegacyProtocol:
        """Build a block from ``(child name, text)`` pairs, in order (``Parent/Child`` nests one level)."""
        children: list[XmlNode] = [XmlNode("Type", type_)]
        for name, value in settings:
            if "/" in name:
                parent, _, leaf = name.partition("/")
                if children and children[-1].name == parent and children[-1].children:
                    last = children.pop()
                    children.append(XmlNode(parent, None, (), (*last.children, XmlNode(leaf, value))))
                else:
                    children.append(XmlNode(parent, None, (), (XmlNode(leaf, value),)))
            else:
                children.append(XmlNode(name, value))
        return _legacy_from_node(XmlNode("Protocol", None, (), tuple(children)))


@dataclass(frozen=True)
class AutodiscoverUser:
    """``Response/User`` (MS-OXDSCLI 2.2.4.1.1.1 [U: number inferred]): who the answer is for."""

    display_name: str | None = None
    legacy_dn: str | None = field(default=None, metadata={"spec": "LegacyDN"})
    autodiscover_smtp_address: str | None = field(default=None, metadata={"spec": "AutoDiscoverSMTPAddress"})
    deployment_id: str | None = None


@dataclass(frozen=True)
class ErrorResponse:
    """``Error`` (MS-OXDSCLI 2.2.4.1.1.3) with its ``Time`` and ``Id`` attributes."""

    code: str = field(metadata={"spec": "ErrorCode"})
    message: str | None = None
    debug_data: str | None = None
    time: str | None = None
    id: str | None = None

    @property
    def meaning(self) -> str | None:
        """The spec's meaning of ``code`` (MS-OXDSCLI 2.2.4.1.1.3.2), or None for a code not in its table."""
        return ERROR_CODES.get(self.code)


@dataclass(frozen=True)
class AutodiscoverResponse:
    """A parsed Autodiscover answer (MS-OXDSCLI 2.2.4).

    ``action`` is the Account/Action value (``settings``, ``redirectAddr``, ``redirectUrl``) or ``error``
    when the response carries an Error element instead.
    """

    action: str
    user: AutodiscoverUser | None = None
    mapi_http: MapiHttpSettings | None = None
    legacy: tuple[LegacyProtocol, ...] = field(default=(), metadata={"spec": "LegacyProtocols"})
    redirect_addr: str | None = None
    redirect_url: str | None = None
    error: ErrorResponse | None = None
    account_type: str | None = None

    def protocol(self, type_: str) -> LegacyProtocol | None:
        """The first legacy block of the given Type (``EXCH``, ``EXPR``, ``EXHTTP``, ``WEB``)."""
        low = type_.lower()
        return next((p for p in self.legacy if p.type.lower() == low), None)


# --------------------------------------------------------------------------------------------------
# Request
# --------------------------------------------------------------------------------------------------


def build_request(email: str | None = None, *, legacy_dn: str | None = None) -> bytes:
    """The POX request body (MS-OXDSCLI 2.2.3; the layout of the spec's example).

    Give ``email`` (EMailAddress, 2.2.3.1.1.2) or ``legacy_dn`` (LegacyDN, 2.2.3.1.1.3); with both, both
    are sent and the server MUST use LegacyDN (MS-OXDSCLI 3.2.5).
    """
    if not email and not legacy_dn:
        from .errors import EncodeError

        raise EncodeError(
            "an Autodiscover request needs an email address or a LegacyDN", field="EMailAddress"
        )
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<Autodiscover xmlns="{REQUEST_NS}">',
        "  <Request>",
    ]
    if email:
        lines.append(f"    <EMailAddress>{escape(email)}</EMailAddress>")
    if legacy_dn:
        lines.append(f"    <LegacyDN>{escape(legacy_dn)}</LegacyDN>")
    lines += [
        f"    <AcceptableResponseSchema>{RESPONSE_SCHEMA_2006A}</AcceptableResponseSchema>",
        "  </Request>",
        "</Autodiscover>",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def parse_request(data: bytes, *, max_size: int = 65_536) -> AutodiscoverRequest:
    """Parse a POX request (the simulator's side). Raises AutodiscoverError for anything else."""
    root = _parse_xml(data, max_size, what="Autodiscover request")
    if _local(root) != "Autodiscover" or _ns(root) not in _REQUEST_NAMESPACES | {None}:
        raise AutodiscoverError(
            f"the root element is {_describe(root)}, not Autodiscover in the request schema",
            expected=f"{{{REQUEST_NS}}}Autodiscover",
            field="Autodiscover",
        )
    node = _to_node(root)
    req = node.find("Request")
    if req is None:
        raise AutodiscoverError("the request has no Request element", expected="Request", field="Request")
    email = req.child_text("EMailAddress")
    legacy_dn = req.child_text("LegacyDN")
    if not email and not legacy_dn:
        raise AutodiscoverError(
            "the request has neither EMailAddress nor LegacyDN",
            expected="EMailAddress or LegacyDN",
            field="EMailAddress",
        )
    return AutodiscoverRequest(email or None, legacy_dn or None, req.child_text("AcceptableResponseSchema"))


# --------------------------------------------------------------------------------------------------
# Response
# --------------------------------------------------------------------------------------------------


def parse_response(data: bytes, *, max_size: int = DEFAULT_MAX_SIZE) -> AutodiscoverResponse:
    """Parse an Autodiscover response body (MS-OXDSCLI 2.2.4) into an :class:`AutodiscoverResponse`.

    Raises :class:`AutodiscoverError` naming the problem for anything that is not a usable answer.
    """
    root = _parse_xml(data, max_size, what="Autodiscover response")
    if _local(root) != "Autodiscover":
        raise AutodiscoverError(
            f"the root element is {_describe(root)}, not Autodiscover",
            expected=f"{{{RESPONSE_NS}}}Autodiscover",
            field="Autodiscover",
        )
    ns = _ns(root)
    if ns in _REQUEST_NAMESPACES:
        raise AutodiscoverError(
            "the body is an Autodiscover request (the server echoed the request back?)",
            expected=f"{{{RESPONSE_NS}}}Autodiscover",
            field="Autodiscover",
        )
    if ns not in _RESPONSE_NAMESPACES:
        raise AutodiscoverError(
            f"the Autodiscover element is in namespace {ns!r}",
            expected=RESPONSE_NS,
            field="Autodiscover",
        )
    response_el = next((c for c in _element_children(root) if _local(c) == "Response"), None)
    if response_el is None:
        raise AutodiscoverError(
            "the Autodiscover element has no Response", expected="Response", field="Response"
        )
    inner_ns = _ns(response_el)
    if inner_ns is not None and _MOBILESYNC_MARK in inner_ns:
        raise AutodiscoverError(
            "the answer is in the ActiveSync (mobilesync) schema, not the Outlook schema",
            expected=RESPONSE_SCHEMA_2006A,
            field="Response",
        )
    if inner_ns not in _INNER_NAMESPACES:
        raise AutodiscoverError(
            f"the Response element is in namespace {inner_ns!r}",
            expected=RESPONSE_SCHEMA_2006A,
            field="Response",
        )
    response = _to_node(response_el)
    return _response_from_node(response)


def _response_from_node(response: XmlNode) -> AutodiscoverResponse:
    user_node = response.find("User")
    user = None
    if user_node is not None:
        user = AutodiscoverUser(
            display_name=user_node.child_text("DisplayName"),
            legacy_dn=user_node.child_text("LegacyDN"),
            autodiscover_smtp_address=user_node.child_text("AutoDiscoverSMTPAddress"),
            deployment_id=user_node.child_text("DeploymentId"),
        )
    account = response.find("Account")
    # Error is a child of Response (MS-OXDSCLI 2.2.4.1.1.3); Microsoft's POX pages show it under Account.
    error_node = response.find("Error")
    if error_node is None and account is not None:
        error_node = account.find("Error")
    error = _error_from_node(error_node) if error_node is not None else None
    if account is None:
        if error is not None:
            return AutodiscoverResponse(action="error", user=user, error=error)
        raise AutodiscoverError(
            "the Response has neither Account nor Error", expected="Account or Error", field="Account"
        )
    account_type = account.child_text("AccountType")
    raw_action = account.child_text("Action")
    protocols = [c for c in account.children if c.name.lower() == "protocol"]
    if raw_action is None or raw_action == "":
        if error is not None:
            action = "error"
        elif protocols:
            action = "settings"  # Action is required; a block list without it can only mean settings.
        else:
            raise AutodiscoverError(
                "the Account has no Action", expected="settings|redirectAddr|redirectUrl", field="Action"
            )
    else:
        canon = {a.lower(): a for a in ACTIONS}.get(raw_action.lower())
        if canon is None:
            raise AutodiscoverError(
                f"unknown Action {raw_action!r}", expected="settings|redirectAddr|redirectUrl", field="Action"
            )
        action = canon
    redirect_addr = account.child_text("RedirectAddr")
    redirect_url = account.child_text("RedirectUrl")
    if action == "redirectAddr" and not redirect_addr:
        raise AutodiscoverError(
            "Action is redirectAddr but RedirectAddr is missing or empty",
            expected="an email address",
            field="RedirectAddr",
        )
    if action == "redirectUrl" and not redirect_url:
        raise AutodiscoverError(
            "Action is redirectUrl but RedirectUrl is missing or empty", expected="a URL", field="RedirectUrl"
        )
    mapi_http: MapiHttpSettings | None = None
    legacy: list[LegacyProtocol] = []
    for proto in protocols:
        type_attr = proto.attribute("Type")
        if type_attr is not None and type_attr.lower() == "mapihttp":
            if mapi_http is None:
                mapi_http = _mapihttp_from_node(proto)
            continue
        legacy.append(_legacy_from_node(proto))
    return AutodiscoverResponse(
        action=action,
        user=user,
        mapi_http=mapi_http,
        legacy=tuple(legacy),
        redirect_addr=redirect_addr,
        redirect_url=redirect_url,
        error=error,
        account_type=account_type,
    )


def _error_from_node(node: XmlNode) -> ErrorResponse:
    return ErrorResponse(
        code=node.child_text("ErrorCode") or "",
        message=node.child_text("Message"),
        debug_data=node.child_text("DebugData"),
        time=node.attribute("Time"),
        id=node.attribute("Id"),
    )


def _mapihttp_from_node(node: XmlNode) -> MapiHttpSettings:
    raw = node.attribute("Version")
    if raw is None:
        raise AutodiscoverError(
            "the mapiHttp Protocol has no Version attribute", expected='Version="1"', field="Protocol@Version"
        )
    try:
        version = int(raw.strip())
    except ValueError:
        raise AutodiscoverError(
            f"the mapiHttp Version attribute {raw!r} is not a number",
            expected="an integer > 0",
            field="Protocol@Version",
        ) from None

    def url(parent: str, child: str) -> str | None:
        holder = node.find(parent)
        return holder.child_text(child) if holder is not None else None

    return MapiHttpSettings(
        version=version,
        mailstore_internal=url("MailStore", "InternalUrl"),
        mailstore_external=url("MailStore", "ExternalUrl"),
        addressbook_internal=url("AddressBook", "InternalUrl"),
        addressbook_external=url("AddressBook", "ExternalUrl"),
    )


def _legacy_from_node(node: XmlNode) -> LegacyProtocol:
    type_ = node.child_text("Type") or node.attribute("Type") or ""
    settings = tuple((k, v) for k, v in node.flatten() if k != "Type")
    get = node.child_text
    return LegacyProtocol(
        type=type_,
        server=get("Server"),
        server_dn=get("ServerDN"),
        server_version=get("ServerVersion"),
        mdb_dn=get("MdbDN"),
        auth_package=get("AuthPackage"),
        ssl=get("SSL"),
        cert_principal_name=get("CertPrincipalName"),
        server_exclusive_connect=get("ServerExclusiveConnect"),
        public_folder_server=get("PublicFolderServer"),
        ews_url=get("EwsUrl"),
        as_url=get("ASUrl"),
        oab_url=get("OABUrl"),
        settings=settings,
        element=node,
    )


def build_response(resp: AutodiscoverResponse) -> bytes:
    """Write ``resp`` as a response document (MS-OXDSCLI 2.2.4), laid out like the spec's examples.

    Error responses put ``Error`` directly under ``Response`` (MS-OXDSCLI 2.2.4.1.1.3).
    """
    out: list[str] = ['<?xml version="1.0" encoding="utf-8"?>', f'<Autodiscover xmlns="{RESPONSE_NS}">']
    out.append(f'  <Response xmlns="{RESPONSE_SCHEMA_2006A}">')
    if resp.user is not None:
        u = resp.user
        out.append("    <User>")
        _leaf(out, 6, "DisplayName", u.display_name)
        _leaf(out, 6, "LegacyDN", u.legacy_dn)
        _leaf(out, 6, "AutoDiscoverSMTPAddress", u.autodiscover_smtp_address)
        _leaf(out, 6, "DeploymentId", u.deployment_id)
        out.append("    </User>")
    if resp.action != "error":
        out.append("    <Account>")
        _leaf(out, 6, "AccountType", resp.account_type)
        _leaf(out, 6, "Action", resp.action)
        _leaf(out, 6, "RedirectAddr", resp.redirect_addr)
        _leaf(out, 6, "RedirectUrl", resp.redirect_url)
        if resp.mapi_http is not None:
            m = resp.mapi_http
            out.append(f'      <Protocol Type="mapiHttp" Version="{m.version}">')
            for parent, internal, external in (
                ("MailStore", m.mailstore_internal, m.mailstore_external),
                ("AddressBook", m.addressbook_internal, m.addressbook_external),
            ):
                if internal is None and external is None:
                    continue
                out.append(f"        <{parent}>")
                _leaf(out, 10, "InternalUrl", internal)
                _leaf(out, 10, "ExternalUrl", external)
                out.append(f"        </{parent}>")
            out.append("      </Protocol>")
        for proto in resp.legacy:
            node = proto.element or LegacyProtocol.from_settings(proto.type, proto.settings).element
            assert node is not None
            _write_node(out, 6, node)
        out.append("    </Account>")
    if resp.error is not None:
        e = resp.error
        attrs = "".join(f" {k}={quoteattr(v)}" for k, v in (("Time", e.time), ("Id", e.id)) if v is not None)
        out.append(f"    <Error{attrs}>")
        _leaf(out, 6, "ErrorCode", e.code)
        _leaf(out, 6, "Message", e.message)
        _leaf(out, 6, "DebugData", e.debug_data)
        out.append("    </Error>")
    out += ["  </Response>", "</Autodiscover>"]
    return ("\n".join(out) + "\n").encode("utf-8")


def _leaf(out: list[str], indent: int, name: str, value: str | None) -> None:
    if value is None:
        return
    pad = " " * indent
    out.append(f"{pad}<{name}>{escape(value)}</{name}>" if value else f"{pad}<{name} />")


def _write_node(out: list[str], indent: int, node: XmlNode) -> None:
    pad = " " * indent
    attrs = "".join(f" {k}={quoteattr(v)}" for k, v in node.attributes)
    if node.children:
        out.append(f"{pad}<{node.name}{attrs}>")
        for child in node.children:
            _write_node(out, indent + 2, child)
        out.append(f"{pad}</{node.name}>")
    elif node.text:
        out.append(f"{pad}<{node.name}{attrs}>{escape(node.text)}</{node.name}>")
    else:
        out.append(f"{pad}<{node.name}{attrs} />")


# --------------------------------------------------------------------------------------------------
# Hardened XML reading
# --------------------------------------------------------------------------------------------------

_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_HTML_TAG = re.compile(rb"<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.IGNORECASE)


def _looks_like_html(head: bytes) -> bool:
    """True when the first tag after any leading comments is an HTML one (a linear scan, no backtracking)."""
    pos = 0
    while True:
        while pos < len(head) and head[pos : pos + 1].isspace():
            pos += 1
        if head.startswith(b"<!--", pos):
            end = head.find(b"-->", pos + 4)
            if end < 0:
                return False
            pos = end + 3
            continue
        return _HTML_TAG.match(head, pos) is not None


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _parse_xml(data: bytes, max_size: int, *, what: str) -> Any:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise AutodiscoverError(f"the {what} must be bytes, not {type(data).__name__}")
    data = bytes(data)
    if len(data) > max_size:
        raise AutodiscoverError(
            f"the {what} is {len(data)} bytes, larger than the {max_size}-byte limit",
            expected=f"at most {max_size} bytes",
        )
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if not body.strip():
        raise AutodiscoverError(f"the {what} is empty", offset=0, expected="an XML document")
    head = body[:2048].lstrip()
    if _looks_like_html(head):
        raise AutodiscoverError(
            f"the {what} is an HTML page (a login portal, proxy or error page?), not Autodiscover XML",
            offset=0,
            expected="an XML document",
        )
    if head[:1] in (b"{", b"["):
        raise AutodiscoverError(
            f"the {what} is JSON, not Autodiscover XML", offset=0, expected="an XML document"
        )
    match = _DOCTYPE.search(body)
    if match:
        raise AutodiscoverError(
            f"the {what} declares a DOCTYPE or ENTITY, which Autodiscover never uses (XXE or entity bomb?)",
            offset=match.start() + (len(data) - len(body)),
            expected="no DOCTYPE",
        )
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line, col = exc.position if exc.position else (None, None)
        where = f" at line {line}, column {col}" if line is not None else ""
        reason = (exc.msg or str(exc)).strip()
        raise AutodiscoverError(
            f"the {what} is not well-formed XML{where}: {reason}", expected="well-formed XML"
        ) from None
    except (etree.Error, ValueError, UnicodeError) as exc:
        raise AutodiscoverError(f"the {what} could not be read as XML: {exc}", expected="XML") from None
    if root is None:
        raise AutodiscoverError(f"the {what} has no root element", expected="an XML document")
    docinfo: Any = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # belt and braces: also caught above
        raise AutodiscoverError(f"the {what} declares a DOCTYPE (rejected)", expected="no DOCTYPE")
    return root


def _local(el: Any) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def _ns(el: Any) -> str | None:
    tag = el.tag
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1:].partition("}")[0]
    return None


def _describe(el: Any) -> str:
    ns = _ns(el)
    return f"{_local(el)!r}" + (f" (namespace {ns})" if ns else "")


def _element_children(el: Any) -> list[Any]:
    return [c for c in el if isinstance(c.tag, str)]


def _to_node(el: Any) -> XmlNode:
    children = tuple(_to_node(c) for c in _element_children(el))
    if isinstance(el, etree._Element) and any(not isinstance(c.tag, str) for c in el):
        raise AutodiscoverError("the document contains an entity reference (rejected)", field=_local(el))
    text = None if children else "".join(el.itertext()).strip()
    if not children and text == "" and el.text is None:
        text = None
    attrs = tuple((str(k).rpartition("}")[2], str(v)) for k, v in el.attrib.items())
    return XmlNode(_local(el), text, attrs, children)


# --------------------------------------------------------------------------------------------------
# mapiprobe decode
# --------------------------------------------------------------------------------------------------


@decode_kind("autodiscover-response", "an Autodiscover POX response body (XML file)")
def _decode_response(data: bytes, ctx: DecodeContext) -> AutodiscoverResponse:
    result = parse_response(data)
    ctx.partial["Response"] = result
    return result


@decode_kind("autodiscover-request", "an Autodiscover POX request body (XML file)")
def _decode_request(data: bytes, ctx: DecodeContext) -> AutodiscoverRequest:
    result = parse_request(data)
    ctx.partial["Request"] = result
    return result


def urls_of(resp: AutodiscoverResponse) -> Sequence[str]:
    """Every URL the response names (mapiHttp and legacy blocks), in document order, for display."""
    found: list[str] = []
    if resp.mapi_http is not None:
        m = resp.mapi_http
        found += [
            u
            for u in (
                m.mailstore_internal,
                m.mailstore_external,
                m.addressbook_internal,
                m.addressbook_external,
            )
            if u
        ]
    for proto in resp.legacy:
        found += [v for _, v in proto.settings if v.lower().startswith(("http://", "https://"))]
    if resp.redirect_url:
        found.append(resp.redirect_url)
    return found


__all__ = [
    "ACTIONS",
    "DEFAULT_MAX_SIZE",
    "ERROR_CODES",
    "REQUEST_NS",
    "RESPONSE_NS",
    "RESPONSE_SCHEMA_2006A",
    "AutodiscoverRequest",
    "AutodiscoverResponse",
    "AutodiscoverUser",
    "ErrorResponse",
    "LegacyProtocol",
    "MapiHttpSettings",
    "XmlNode",
    "build_request",
    "build_response",
    "parse_request",
    "parse_response",
    "urls_of",
]
