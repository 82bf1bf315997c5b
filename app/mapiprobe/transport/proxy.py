"""Which proxy a request goes through: ``--proxy URL``, ``--proxy none``, or the system's settings.

The system's settings are, in order: the environment (``https_proxy``, ``http_proxy``, ``all_proxy`` and
``no_proxy``, lower case winning over upper case as in curl); on Windows, the
WinINet settings Outlook itself uses (``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet
Settings``: ``ProxyEnable``, ``ProxyServer``, ``ProxyOverride``, ``AutoConfigURL``). A PAC file
(``AutoConfigURL``, or ``--proxy pac+URL``) is fetched once and evaluated with pypac's ``PACFile`` (a real
JavaScript engine), when pypac is installed; otherwise the PAC is reported as not evaluated and requests go
direct.

Only ``http://`` proxies are spoken to (CONNECT for HTTPS, absolute form for HTTP), as by WinINet.
:class:`TunnelBackend` opens a CONNECT tunnel for code that speaks TLS itself (the certificate report).
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

DIRECT_WORDS = frozenset({"none", "direct", "no", "off"})
WININET_KEY = r"Software\Microsoft\Windows\CurrentVersion\Internet Settings"


class ProxyError(ValueError):
    """A proxy setting that cannot be used."""


@dataclass(frozen=True)
class ProxySettings:
    """Where the proxy choice comes from and what it says."""

    source: str  # "option", "none", "environment", "wininet", "pac", "system-none"
    http: str | None = None
    https: str | None = None
    bypass: tuple[str, ...] = ()  # host patterns ("*.contoso.test", ".local", "<local>", "*")
    pac_url: str | None = None

    @property
    def describe(self) -> str:
        if self.source == "none":
            return "no proxy (--proxy none)"
        if self.pac_url:
            return f"PAC file {self.pac_url} ({self.source})"
        if not (self.http or self.https):
            return "no proxy configured (direct)"
        parts = [f"https via {self.https}" if self.https else "https direct"]
        parts.append(f"http via {self.http}" if self.http else "http direct")
        if self.bypass:
            parts.append("bypass " + ";".join(self.bypass))
        return f"{', '.join(parts)} ({self.source})"


def normalise_proxy_url(text: str) -> str:
    value = text.strip()
    if "://" not in value:
        value = "http://" + value
    parts = urlsplit(value)
    if parts.scheme.lower() != "http" or not parts.hostname:
        raise ProxyError(f"proxy {text!r}: only http:// proxies (host:port) are supported")
    try:
        port = parts.port or 8080
    except ValueError:
        raise ProxyError(f"proxy {text!r}: bad port") from None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"http://{host}:{port}"


def settings_from_option(option: str | None, **system: Any) -> ProxySettings:
    """``--proxy``: None (the system's), a word meaning none, ``pac+URL``, or a proxy URL."""
    if option is None:
        return system_proxy_settings(**system)
    if option.strip().lower() in DIRECT_WORDS or not option.strip():
        return ProxySettings("none")
    if option.strip().lower().startswith("pac+"):
        return ProxySettings("option", pac_url=option.strip()[4:])
    url = normalise_proxy_url(option)
    return ProxySettings("option", http=url, https=url)


def system_proxy_settings(
    *, environ: Mapping[str, str] | None = None, winreg: Any = None, platform: str | None = None
) -> ProxySettings:
    """The environment's proxy variables, else (Windows) WinINet's, else none."""
    env = dict(os.environ if environ is None else environ)
    found = _from_environment(env)
    if found is not None:
        return found
    if (platform or sys.platform) == "win32" or winreg is not None:
        if winreg is None:
            try:
                import winreg as winreg_module
            except ImportError:  # pragma: no cover - Windows always has winreg
                return ProxySettings("system-none")
            winreg = winreg_module
        wininet = read_wininet(winreg)
        if wininet is not None:
            return wininet
    return ProxySettings("system-none")


def _env(env: Mapping[str, str], name: str) -> str | None:
    """``name`` in lower case wins over upper case, as in curl and the standard library."""
    value = env.get(name) or env.get(name.upper())
    return value.strip() if value and value.strip() else None


def _from_environment(env: Mapping[str, str]) -> ProxySettings | None:
    every = _env(env, "all_proxy")
    http, https = _env(env, "http_proxy") or every, _env(env, "https_proxy") or every
    if not (http or https):
        return None
    bypass = tuple(p.strip() for p in (_env(env, "no_proxy") or "").split(",") if p.strip())
    try:
        return ProxySettings(
            "environment",
            http=normalise_proxy_url(http) if http else None,
            https=normalise_proxy_url(https) if https else None,
            bypass=bypass,
        )
    except ProxyError:
        return None


def read_wininet(winreg: Any) -> ProxySettings | None:
    """WinINet's per-user proxy settings (what Outlook uses), or None when it has none."""
    values: dict[str, Any] = {}
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, WININET_KEY, 0, winreg.KEY_READ) as key:
            for name in ("ProxyEnable", "ProxyServer", "ProxyOverride", "AutoConfigURL"):
                with contextlib.suppress(OSError):
                    values[name] = winreg.QueryValueEx(key, name)[0]
    except OSError:
        return None
    pac = values.get("AutoConfigURL")
    bypass = tuple(p.strip() for p in str(values.get("ProxyOverride") or "").split(";") if p.strip())
    if isinstance(pac, str) and pac.strip():
        return ProxySettings("wininet", pac_url=pac.strip(), bypass=bypass)
    if values.get("ProxyEnable") != 1 or not values.get("ProxyServer"):
        return None
    server = str(values["ProxyServer"])
    http = https = None
    if "=" in server:
        for item in server.split(";"):
            scheme, _, where = item.partition("=")
            if scheme.strip().lower() == "http" and where.strip():
                http = normalise_proxy_url(where)
            elif scheme.strip().lower() == "https" and where.strip():
                https = normalise_proxy_url(where)
    else:
        http = https = normalise_proxy_url(server)
    return ProxySettings("wininet", http=http, https=https, bypass=bypass)


def bypassed(host: str, patterns: Iterable[str]) -> bool:
    """True when ``host`` matches a no_proxy / ProxyOverride pattern (``<local>``: names without a dot)."""
    low = host.lower().strip("[]")
    for raw in patterns:
        pattern = raw.strip().lower()
        if not pattern:
            continue
        if pattern == "*":
            return True
        if pattern == "<local>":
            if "." not in low:
                return True
            continue
        pattern = pattern.split(":")[0] if pattern.count(":") == 1 else pattern
        if pattern.startswith("."):
            if low.endswith(pattern) or low == pattern[1:]:
                return True
        elif "*" in pattern or "?" in pattern:
            if fnmatch.fnmatchcase(low, pattern):
                return True
        elif low == pattern or low.endswith("." + pattern):
            return True
    return False


PacEvaluator = Callable[[str, str], str]


def pac_evaluator(script: str) -> PacEvaluator | None:
    """``FindProxyForURL`` of a PAC script through pypac (None when pypac is not installed)."""
    try:
        from pypac.parser import PACFile
    except ImportError:
        return None
    pac = PACFile(script)
    return lambda url, host: str(pac.find_proxy_for_url(url, host))


def first_pac_proxy(value: str) -> str | None:
    """The first usable entry of a PAC answer (``PROXY a:1; DIRECT``); None for DIRECT."""
    for item in value.split(";"):
        words = item.split()
        if not words:
            continue
        kind = words[0].upper()
        if kind == "DIRECT":
            return None
        if kind in ("PROXY", "HTTP") and len(words) > 1:
            return normalise_proxy_url(words[1])
    return None


class ProxySelector:
    """The proxy (``http://host:port``) for each URL, or None for a direct connection."""

    def __init__(self, settings: ProxySettings, *, fetch_pac: Callable[[str], str] | None = None) -> None:
        self.settings = settings
        self._fetch_pac = fetch_pac
        self._pac: PacEvaluator | None = None
        self._pac_state = "not-loaded"
        self._lock = threading.Lock()

    @property
    def may_proxy(self) -> bool:
        s = self.settings
        return bool(s.http or s.https or s.pac_url)

    @property
    def pac_state(self) -> str:
        """ "not-loaded", "loaded", "no-pypac" or "failed: ..." (for the report)."""
        return self._pac_state

    def for_url(self, url: str) -> str | None:
        s = self.settings
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if not host or bypassed(host, s.bypass):
            return None
        if s.pac_url:
            evaluate = self._load_pac()
            if evaluate is None:
                return None
            try:
                return first_pac_proxy(evaluate(url, host))
            except Exception:  # a broken PAC script: go direct, as browsers do
                return None
        return s.https if parts.scheme.lower() == "https" else s.http

    def _load_pac(self) -> PacEvaluator | None:
        with self._lock:
            if self._pac_state == "not-loaded":
                url = self.settings.pac_url or ""
                try:
                    if self._fetch_pac is None:
                        raise ProxyError("no way to fetch the PAC file")
                    script = self._fetch_pac(url)
                    self._pac = pac_evaluator(script)
                    self._pac_state = "loaded" if self._pac is not None else "no-pypac"
                except Exception as exc:
                    self._pac_state = f"failed: {exc}"
            return self._pac


def split_proxy(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return (parts.hostname or ""), parts.port or 8080


class TunnelBackend:
    """An httpcore-style backend whose ``connect_tcp(host, port)`` returns a CONNECT tunnel through a proxy.

    ``inner`` opens the TCP connection to the proxy (with the run's ``--connect-to`` rules and resolver);
    a proxy that refuses the CONNECT raises :class:`ProxyRefused` with its status line.
    """

    def __init__(self, inner: Any, proxy_url: str) -> None:
        self.inner = inner
        self.proxy_url = proxy_url

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, **kwargs: Any) -> Any:
        phost, pport = split_proxy(self.proxy_url)
        stream = self.inner.connect_tcp(phost, pport, timeout=timeout)
        try:
            authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            stream.write(
                f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode("ascii"), timeout
            )
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = stream.read(4096, timeout)
                if not chunk:
                    raise ProxyRefused(f"the proxy {self.proxy_url} closed the connection after CONNECT")
                head += chunk
                if len(head) > 16384:
                    raise ProxyRefused(f"the proxy {self.proxy_url} sent an oversized answer to CONNECT")
            status = head.split(b"\r\n", 1)[0].decode("latin-1", "replace")
            fields = status.split()
            if len(fields) < 2 or not fields[1].startswith("2"):
                raise ProxyRefused(f"the proxy {self.proxy_url} refused CONNECT {authority}: {status}")
        except BaseException:
            stream.close()
            raise
        return stream


class ProxyRefused(OSError):
    """The proxy did not open the tunnel."""


__all__ = [
    "DIRECT_WORDS",
    "ProxyError",
    "ProxyRefused",
    "ProxySelector",
    "ProxySettings",
    "TunnelBackend",
    "bypassed",
    "first_pac_proxy",
    "normalise_proxy_url",
    "read_wininet",
    "settings_from_option",
    "system_proxy_settings",
]
