"""The :class:`Simulator`: one simulated Exchange organisation on loopback, with its scenarios.

Listeners (all on 127.0.0.1): HTTPS for every virtual host (``contoso.test``, ``autodiscover.contoso.test``,
``mail.contoso.test`` and the redirect target ``fabrikam.test`` with its hosts), plain HTTP for the
unauthenticated redirect probe, UDP DNS for SRV/A lookups, and a black hole that accepts TCP and never
answers. A client reaches the virtual hosts through curl-style ``--connect-to`` mappings
(:attr:`Simulator.connect_to`) and trusts the simulator's own CA (:attr:`Simulator.ca_cert_path`).
"""

from __future__ import annotations

import importlib
import shutil
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .auth import install as install_auth
from .autodiscover import AUTODISCOVER_PATH, AutodiscoverService
from .net import BlackHole, DnsServer, LatencyRelay
from .org import Organisation, SimUser, load_organisation
from .proxy import HttpProxy
from .scenarios import SCENARIOS
from .tls import CertificateScenarios, issue_server_cert, load_or_create_ca, server_context
from .web import BasicAuth, Listener, ReceivedRequest, Response, Site

if TYPE_CHECKING:
    from .mapihttp import MapiHttpService

# The MAPI/HTTP endpoints, one line each: a module of this package whose ``install(sim: Simulator)``
# mounts a MapiHttpService (simulator/mapihttp.py) on ``sim.https_site`` and returns it.
ENDPOINT_MODULES: tuple[str, ...] = (
    "mailbox",  # the mailbox endpoint /mapi/emsmdb/ (simulator/mailbox.py)
    "nspi",  # the address book endpoint /mapi/nspi/ (simulator/nspi.py)
)


class Simulator:
    """A simulated organisation. Use as a context manager, or call :meth:`start` and :meth:`stop`."""

    def __init__(
        self,
        *,
        scenario: str = "normal",
        port: int = 0,
        state_dir: Path | None = None,
        slow_seconds: float = 3.0,
        org_file: Path | None = None,
        gal_size: int | None = None,
        rtt_s: float = 0.0,
    ) -> None:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
        self.org: Organisation = load_organisation(org_file)
        self.domain: str = self.org.domain
        self.scenario = scenario
        self.slow_seconds = slow_seconds
        self._requested_port = port
        self._own_state_dir = state_dir is None
        self.state_dir: Path = state_dir or Path(tempfile.mkdtemp(prefix="mapiprobe-sim-"))
        self.users: list[SimUser] = list(self.org.users)
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self.https_site = Site(realm=self.domain)
        self.http_site = Site(realm=self.domain)
        self.https_site.auth_schemes.append(BasicAuth(self.org))
        self.auth = install_auth(self)
        """Authentication (simulator/auth.py): ``auth.offer(endpoint, schemes)``, ``auth.keytab``, counts."""
        self.autodiscover = AutodiscoverService(
            self.org, lambda: self.scenario, slow_seconds=lambda: self.slow_seconds, stopping=self._stopping
        )
        self.rtt_s = rtt_s
        """A network round trip added to every connection (TCP and TLS handshakes included) and DNS answer,
        through :class:`~.net.LatencyRelay` in front of the listeners (0: none)."""
        self._relays: dict[str, LatencyRelay] = {}
        self.gal_size = gal_size
        """Entries of the generated address book (None: simulator/directory.py's default, 2,000)."""
        self.endpoints: dict[str, MapiHttpService] = {}
        """MAPI/HTTP services by name (``emsmdb``, ``nspi``); tests turn their knobs (fault, delay_s...)."""
        self._install_routes()
        # Imported by name like the endpoints above (rpcproxy.py uses the mailbox endpoint's stores).
        self.rpcproxy: Any = importlib.import_module(f"{__package__}.rpcproxy").install(self)
        """RPC over HTTP (simulator/rpcproxy.py) at /rpc/rpcproxy.dll, on the mailbox endpoint's engine."""
        self._https: Listener | None = None
        self._http: Listener | None = None
        self._dns: DnsServer | None = None
        self._blackhole: BlackHole | None = None
        self.proxy: HttpProxy | None = None
        """A forward proxy (simulator/proxy.py): a tunnel, or TLS interception in ``proxy-intercept``."""
        self.port = 0
        self.http_port = 0
        self.dns_port = 0
        self.blackhole_port = 0
        self.ca_cert_path: Path = self.state_dir / "ca.pem"
        self._started = False

    # -- routes ----------------------------------------------------------------------------------

    def _install_routes(self) -> None:
        self.autodiscover.install(self.https_site, self.http_site)
        for module in ENDPOINT_MODULES:
            service: MapiHttpService = importlib.import_module(f"{__package__}.{module}").install(self)
            self.endpoints[service.name] = service
        roots = [self.org.domain, self.org.redirect_domain]
        # The root domain is an ordinary web site without Autodiscover (MS-OXDISCO 3.1.5.2 candidate 1).
        self.https_site.add("/", _not_found, methods=("GET", "POST", "HEAD"), hosts=roots, name="root-site")
        self.https_site.add("/", _welcome, methods=("GET", "HEAD"), name="welcome")
        self.http_site.add("/", _not_found, methods=("GET", "POST", "HEAD"), name="http-other")

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Simulator:
        if self._started:
            return self
        ca = load_or_create_ca(self.state_dir)
        self.ca_cert_path = ca.cert_path
        cert = issue_server_cert(ca, [*self.org.hosts(), "localhost", "127.0.0.1"], self.state_dir)
        self.certificates = CertificateScenarios(ca, self.org, self.state_dir, lambda: self.scenario)
        self._https = Listener(
            "https",
            self.https_site,
            port=self._requested_port,
            tls=server_context(cert),
            context_for=self.certificates.context_for,
        )
        self._http = Listener("http", self.http_site)
        self._dns = DnsServer(self.org)
        self._blackhole = BlackHole()
        self.proxy = HttpProxy(
            self.route,
            self.state_dir,
            [*self.org.hosts(), "localhost"],
            intercept=lambda: self.scenario == "proxy-intercept",
        )
        self.proxy.start()
        if self.rtt_s > 0:
            self._dns.delay_s = self.rtt_s
            self._relays = {
                "https": LatencyRelay(lambda: ("127.0.0.1", self._listener_port("https")), self.rtt_s),
                "http": LatencyRelay(lambda: ("127.0.0.1", self._listener_port("http")), self.rtt_s),
            }
            for relay in self._relays.values():
                relay.start()
        self.port, self.http_port = self._https.port, self._http.port
        self.dns_port, self.blackhole_port = self._dns.port, self._blackhole.port
        for part in (self._https, self._http, self._dns, self._blackhole):
            part.start()
        self._started = True
        return self

    def stop(self) -> None:
        if not self._started:
            return
        self._stopping.set()
        for service in self.endpoints.values():
            service.stop()
        self.rpcproxy.stop()
        # Stop the listeners side by side: each waits for its own loop to notice.
        stoppers = [
            threading.Thread(target=part.stop, name="sim-stop", daemon=True)
            for part in (self._https, self._http, self._dns, self._blackhole)
            if part is not None
        ]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join(timeout=10)
        if self.proxy is not None:
            self.proxy.stop()
        for relay in self._relays.values():
            relay.stop()
        self._started = False
        if self._own_state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- state -----------------------------------------------------------------------------------

    def set_scenario(self, name: str) -> None:
        if name not in SCENARIOS:
            raise ValueError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}")
        with self._lock:
            self.scenario = name

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Every request received so far on the HTTPS and HTTP listeners, in arrival order."""
        merged = [*self.https_site.log, *self.http_site.log]
        return sorted(merged, key=lambda r: r.time)

    def clear_requests(self) -> None:
        self.https_site.log.clear()
        self.http_site.log.clear()

    @property
    def errors(self) -> list[str]:
        """Handler failures (bugs in the simulator), for tests to assert empty."""
        return [*self.https_site.errors, *self.http_site.errors]

    @property
    def autodiscover_url(self) -> str:
        return f"https://autodiscover.{self.domain}{AUTODISCOVER_PATH}"

    @property
    def connect_to(self) -> list[str]:
        """curl-style ``HOST:PORT:ADDR:PORT`` for every virtual host, port 443 and port 80."""
        out: list[str] = []
        https, http = self.port, self.http_port
        if "https" in self._relays:
            https, http = self._relays["https"].port, self._relays["http"].port
        for host in self.org.hosts():
            https_port = https
            if self.scenario == "dead-root" and host == self.org.domain:
                https_port = self.blackhole_port
            out.append(f"{host}:443:127.0.0.1:{https_port}")
            out.append(f"{host}:80:127.0.0.1:{http}")
        return out

    def _listener_port(self, which: str) -> int:
        listener = self._https if which == "https" else self._http
        assert listener is not None
        return listener.port

    def route(self, host: str, port: int) -> tuple[str, int]:
        """Where a connection for (host, port) goes, by :attr:`connect_to` (unknown names: unchanged)."""
        for rule in self.connect_to:
            name, rport, addr, aport = rule.split(":")
            if name == host.lower() and int(rport) == port:
                return addr, int(aport)
        return host, port

    @property
    def proxy_url(self) -> str | None:
        return self.proxy.url if self.proxy is not None else None

    def info(self) -> dict[str, Any]:
        """The object ``mapiprobe simulator --json`` prints."""
        return {
            "domain": self.domain,
            "autodiscover_url": self.autodiscover_url,
            "ca_cert": str(self.ca_cert_path),
            "connect_to": self.connect_to,
            "users": [{"email": u.email, "user": u.user, "password": u.password} for u in self.users],
            "bearer_tokens": self.auth.tokens,
            "scenario": self.scenario,
            "https_port": self.port,
            "http_port": self.http_port,
            "dns_server": f"127.0.0.1:{self.dns_port}",
            "blackhole_port": self.blackhole_port,
            "proxy": self.proxy_url,
        }


def _not_found(req: Any) -> Response:
    return Response.text(404, "404 Not Found\n", "text/html; charset=utf-8")


def _welcome(req: Any) -> Response:
    return Response.text(200, "mapiprobe simulator\n")


__all__ = ["SCENARIOS", "Simulator"]
