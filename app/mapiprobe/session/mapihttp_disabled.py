"""Outlook's ``MapiHttpDisabled`` switch: read it, emulate it, and compare the server's two answers.

Outlook with ``HKCU\\Software\\Microsoft\\Exchange\\MapiHttpDisabled`` = 1 leaves ``X-MapiHttpCapability``
out of its Autodiscover request and falls back to RPC over HTTP. A server is expected to send the
``mapiHttp`` Protocol block only when the header is present (MS-OXDSCLI 3.1.4, 2.2.2.1); some servers send
it regardless (gromox, PROTOCOL.md section 10).

* :func:`registry_setting` reads (never writes) the value on Windows; elsewhere it says "not Windows".
* Emulation itself is :attr:`DiscoveryOptions.mapi_http_disabled
  <mapiprobe.session.autodiscover.DiscoveryOptions.mapi_http_disabled>`.
* :func:`rpc_http_only` is the plain answer of the commands that cannot use an RPC/HTTP-only answer yet.
* :func:`compare` runs discovery twice, with and without the header, and lists what differs in the
  answers as the server sent them, with findings such as "server ignores X-MapiHttpCapability".
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, replace
from typing import Any

from mapiprobe.protocol.autodiscover import AutodiscoverResponse
from mapiprobe.session.autodiscover import (
    AutodiscoverSession,
    ConsentCallback,
    DiscoveryOptions,
    DiscoveryResult,
    Finding,
    ProgressCallback,
    protocol_of,
)
from mapiprobe.transport.auth import Credentials, Secret
from mapiprobe.transport.client import ConnectionOptions
from mapiprobe.transport.resolve import Resolver
from mapiprobe.transport.trace import Trace

RPC_HTTP_ONLY = "this server offers only RPC/HTTP here; mapiprobe does not connect over RPC/HTTP yet"


def rpc_http_only(response: AutodiscoverResponse | None) -> str | None:
    """:data:`RPC_HTTP_ONLY` when ``response`` offers RPC/HTTP (EXHTTP or EXPR) and no MAPI/HTTP, else None.

    The one place that says what mapiprobe cannot reach over RPC/HTTP: today the probe (the mailbox and
    address book commands connect over RPC/HTTP: session/mailbox_transport.py, addressbook_transport.py).
    Replace it here when it learns to.
    """
    if response is None or response.mapi_http is not None:
        return None
    if response.protocol("EXHTTP") is None and response.protocol("EXPR") is None:
        return None
    return RPC_HTTP_ONLY


REGISTRY_KEY = r"Software\Microsoft\Exchange"
REGISTRY_VALUE = "MapiHttpDisabled"


@dataclass(frozen=True)
class RegistrySetting:
    """What ``HKCU\\Software\\Microsoft\\Exchange\\MapiHttpDisabled`` says on this machine."""

    available: bool  # False: not Windows (or the registry could not be read)
    present: bool
    value: int | None
    message: str

    @property
    def disabled(self) -> bool:
        return self.value is not None and self.value != 0


def registry_setting() -> RegistrySetting:
    """Read the current user's MapiHttpDisabled value (read-only access; nothing is ever written)."""
    if sys.platform != "win32":
        return RegistrySetting(
            False, False, None, "not Windows: Outlook's registry switch does not exist here"
        )
    try:
        import winreg
    except ImportError:  # pragma: no cover - Windows without winreg does not exist
        return RegistrySetting(False, False, None, "the Windows registry is not accessible from this Python")
    return _read_winreg(winreg)


def _read_winreg(winreg: Any) -> RegistrySetting:
    path = f"HKCU\\{REGISTRY_KEY}\\{REGISTRY_VALUE}"
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, REGISTRY_KEY, 0, winreg.KEY_READ) as key:
            value, kind = winreg.QueryValueEx(key, REGISTRY_VALUE)
    except FileNotFoundError:
        return RegistrySetting(True, False, None, f"{path} is not set: Outlook uses MAPI/HTTP when offered")
    except OSError as exc:
        return RegistrySetting(False, False, None, f"cannot read {path}: {exc.strerror or exc}")
    if kind != winreg.REG_DWORD or not isinstance(value, int):
        return RegistrySetting(
            True, True, None, f"{path} exists but is not a DWORD ({kind}); Outlook ignores it"
        )
    state = "Outlook will NOT use MAPI/HTTP" if value else "MAPI/HTTP allowed"
    return RegistrySetting(True, True, value, f"{path} = {value}: {state}")


# -- compare mode ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    field: str
    with_header: str | None
    without_header: str | None


@dataclass(frozen=True)
class Comparison:
    with_header: DiscoveryResult
    without_header: DiscoveryResult
    differences: tuple[Difference, ...]
    findings: tuple[Finding, ...]


def summarize(result: DiscoveryResult) -> dict[str, str | None]:
    """The facts of a run's answer as the server sent it, flattened for comparison."""
    resp: AutodiscoverResponse | None = result.raw_response
    out: dict[str, str | None] = {
        "action": resp.action if resp is not None else None,
        "url": result.url,
        "protocol": protocol_of(resp),
        "problem": result.problem.code if result.problem is not None else None,
    }
    if resp is None:
        return out
    m = resp.mapi_http
    out.update(
        {
            "mapi_http.version": str(m.version) if m is not None else None,
            "mapi_http.mailstore.internal": m.mailstore_internal if m is not None else None,
            "mapi_http.mailstore.external": m.mailstore_external if m is not None else None,
            "mapi_http.addressbook.internal": m.addressbook_internal if m is not None else None,
            "mapi_http.addressbook.external": m.addressbook_external if m is not None else None,
            "rpc_http.types": ",".join(p.type for p in resp.legacy) or None,
            "redirect_addr": resp.redirect_addr,
            "redirect_url": resp.redirect_url,
            "error.code": resp.error.code if resp.error is not None else None,
        }
    )
    if resp.user is not None:
        out["user.legacy_dn"] = resp.user.legacy_dn
        out["user.display_name"] = resp.user.display_name
    for proto in resp.legacy:
        for key, value in proto.settings:
            out[f"rpc_http.{proto.type}.{key}"] = value
    return out


def diff(with_header: DiscoveryResult, without_header: DiscoveryResult) -> tuple[Difference, ...]:
    a, b = summarize(with_header), summarize(without_header)
    keys = list(a) + [k for k in b if k not in a]
    return tuple(Difference(k, a.get(k), b.get(k)) for k in keys if a.get(k) != b.get(k))


def compare_findings(with_header: DiscoveryResult, without_header: DiscoveryResult) -> tuple[Finding, ...]:
    found: list[Finding] = []
    asked = with_header.raw_response
    plain = without_header.raw_response
    if plain is not None and plain.mapi_http is not None:
        found.append(
            Finding(
                "server-ignores-mapihttp-capability",
                "warning",
                "server ignores X-MapiHttpCapability: it sends the mapiHttp block without the header "
                "(MS-OXDSCLI 3.1.4); Outlook with MapiHttpDisabled would ignore it",
            )
        )
    if asked is not None and asked.action == "settings" and asked.mapi_http is None:
        found.append(
            Finding(
                "mapihttp-not-offered",
                "warning",
                "the server does not offer MAPI/HTTP even when asked: MAPI/HTTP is off for the organisation "
                "or the mailbox, or the server predates Exchange 2013 SP1",
            )
        )
    if asked is not None and plain is not None and asked.mapi_http is not None and plain.mapi_http is None:
        legacy = ", ".join(p.type for p in plain.legacy) or "none"
        found.append(
            Finding(
                "mapihttp-capability-honoured",
                "info",
                f"the server honours X-MapiHttpCapability: mapiHttp with it, legacy blocks ({legacy}) "
                "without",
            )
        )
    return tuple(found)


def compare(
    email: str,
    *,
    user: str | None = None,
    password: str | Secret | None = None,
    connection: ConnectionOptions | None = None,
    options: DiscoveryOptions | None = None,
    consent: ConsentCallback | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    trace: Trace | None = None,
    resolver: Resolver | None = None,
    credentials: Credentials | None = None,
    auth_scheme: str | None = None,
) -> Comparison:
    """Run discovery with and then without ``X-MapiHttpCapability`` and compare the answers.

    The user is asked for consent at most once per host: approvals of the first run carry to the second.
    """
    base = options or DiscoveryOptions()
    approved: set[str] = set()
    cancel = cancel or threading.Event()
    runs: list[DiscoveryResult] = []
    for disabled in (False, True):
        session = AutodiscoverSession(
            email,
            user=user,
            password=password,
            connection=connection,
            options=replace(base, mapi_http_disabled=disabled),
            consent=consent,
            progress=progress,
            cancel=cancel,
            trace=trace,
            resolver=resolver,
            approved_hosts=approved,
            credentials=credentials,
            auth_scheme=auth_scheme,
        )
        runs.append(session.run())
        if cancel.is_set():
            break
    with_header = runs[0]
    without_header = runs[1] if len(runs) > 1 else runs[0]
    return Comparison(
        with_header,
        without_header,
        diff(with_header, without_header),
        compare_findings(with_header, without_header),
    )


__all__ = [
    "REGISTRY_KEY",
    "REGISTRY_VALUE",
    "RPC_HTTP_ONLY",
    "Comparison",
    "Difference",
    "RegistrySetting",
    "compare",
    "compare_findings",
    "diff",
    "registry_setting",
    "rpc_http_only",
    "summarize",
]
