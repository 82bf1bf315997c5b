"""Demo mode: the simulated organisation (:mod:`mapiprobe.simulator`) started inside the app on loopback.

Its CA is trusted for this run only (the connection options carry it; nothing is installed), its host names
reach 127.0.0.1 through ``--connect-to`` rules and its own DNS server, and the first demo user's address and
(public, simulated) password fill the account bar. The simulator stops when the app quits.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from mapiprobe.simulator.scenarios import SCENARIOS
from mapiprobe.transport.client import ConnectionOptions

NO_KDC_KRB5_CONF = """\
# Written by mapiprobe's demo mode: the simulated organisation has no Kerberos KDC. Without a realm, MIT krb5
# would look one up in DNS first, and Negotiate could wait ~5 s per handshake before it falls back to NTLM.
[libdefaults]
\tdns_lookup_kdc = false
\tdns_lookup_realm = false
\trdns = false
"""


def no_kdc_kerberos() -> None:
    """For this process only, and only when the user has not set KRB5_CONFIG: a krb5 configuration that looks
    no KDC up (Negotiate then goes to NTLM at once against the simulator)."""
    if os.environ.get("KRB5_CONFIG"):
        return
    path = Path(tempfile.gettempdir()) / "mapiprobe-demo-krb5.conf"
    try:
        path.write_text(NO_KDC_KRB5_CONF, encoding="utf-8")
    except OSError:
        return
    os.environ["KRB5_CONFIG"] = str(path)


class Demo:
    def __init__(
        self, scenario: str = "normal", *, gal_size: int | None = None, slow_seconds: float = 3.0
    ) -> None:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
        from mapiprobe.simulator import Simulator

        no_kdc_kerberos()
        self.sim: Any = Simulator(scenario=scenario, gal_size=gal_size, slow_seconds=slow_seconds)
        self.started = False

    def start(self) -> Demo:
        self.sim.start()
        self.started = True
        return self

    def stop(self) -> None:
        if self.started:
            self.started = False
            self.sim.stop()

    @property
    def scenario(self) -> str:
        return str(self.sim.scenario)

    @property
    def domain(self) -> str:
        return str(self.sim.domain)

    @staticmethod
    def scenarios() -> dict[str, str]:
        return dict(SCENARIOS)

    def set_scenario(self, name: str) -> None:
        self.sim.set_scenario(name)

    @property
    def user_record(self) -> Any:
        return self.sim.users[0]

    @property
    def email(self) -> str:
        return str(self.user_record.email)

    @property
    def user(self) -> str:
        return str(self.user_record.user)

    @property
    def password(self) -> str:
        return str(self.user_record.password)

    def connection(self, base: ConnectionOptions | dict[str, Any] | None = None) -> ConnectionOptions:
        """``base`` plus what reaches the simulator: its host mappings, its CA (this run only), its DNS."""
        if isinstance(base, dict):
            base = ConnectionOptions(**base)
        base = base or ConnectionOptions()
        timeout = min(base.connect_timeout, 10.0)
        return replace(
            base,
            connect_to=(*base.connect_to, *self.sim.connect_to),
            ca_certs=(*base.ca_certs, self.sim.ca_cert_path),
            dns_server=f"127.0.0.1:{self.sim.dns_port}",
            connect_timeout=timeout,
            read_timeout=max(timeout, 10.0),
        )
