"""Pluggable name resolution: the operating system's resolver, or one DNS server named on the command line.

Two questions are asked of a resolver: the addresses of a host (for the TCP connect, see client.py) and the
SRV records of a name (``_autodiscover._tcp.<domain>``, MS-OXDISCO 3.1.5.3). ``--dns-server ADDR:PORT``
sends both to that server through dnspython, so a test (or a helpdesk engineer) can point mapiprobe at a
DNS server of their choosing without touching the machine's configuration.

"No SRV records" is an answer, not an error (MS-OXDISCO 3.1.5.3): :meth:`Resolver.srv` returns an empty list
then and raises :class:`~mapiprobe.transport.errors.NameNotResolved` only when no answer could be had at all.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Protocol

import dns.exception
import dns.rdatatype
import dns.resolver

from mapiprobe.transport.errors import NameNotResolved


@dataclass(frozen=True)
class SrvRecord:
    """One SRV answer (RFC 2782): ``target`` without the trailing dot."""

    priority: int
    weight: int
    port: int
    target: str


class Resolver(Protocol):
    """What the transport and the discovery need to ask DNS."""

    @property
    def description(self) -> str: ...

    def addresses(self, host: str) -> list[str]:
        """IP addresses of ``host`` (an IP literal resolves to itself); raises NameNotResolved."""
        ...

    def srv(self, name: str) -> list[SrvRecord]:
        """SRV records of ``name`` in the order to try them; empty when there are none."""
        ...


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _sort_srv(records: list[SrvRecord]) -> list[SrvRecord]:
    # RFC 2782: lowest priority first; within a priority, heavier weight first (deterministic rather than
    # the RFC's weighted random choice, so that a diagnostic run is repeatable).
    return sorted(records, key=lambda r: (r.priority, -r.weight, r.target, r.port))


def _srv_query(resolver: dns.resolver.Resolver, name: str, where: str) -> list[SrvRecord]:
    try:
        answer = resolver.resolve(name, "SRV", search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.Timeout as exc:
        raise NameNotResolved(f"SRV lookup of {name} timed out ({where})", host=name) from exc
    except dns.resolver.NoNameservers as exc:
        message = f"SRV lookup of {name} failed: no name server answered ({where})"
        raise NameNotResolved(message, host=name) from exc
    except dns.exception.DNSException as exc:
        raise NameNotResolved(f"SRV lookup of {name} failed: {exc} ({where})", host=name) from exc
    records = []
    for rdata in answer:
        target = rdata.target.to_text(omit_final_dot=True)
        if not target or target == ".":  # "service not available" (RFC 2782)
            continue
        records.append(SrvRecord(int(rdata.priority), int(rdata.weight), int(rdata.port), target))
    return _sort_srv(records)


class SystemResolver:
    """The operating system's resolver for addresses; the system's DNS configuration for SRV."""

    description = "system resolver"

    def __init__(self, timeout: float = 5.0) -> None:
        self._timeout = timeout

    def addresses(self, host: str) -> list[str]:
        host = host.strip("[]")
        if is_ip_literal(host):
            return [host]
        try:
            infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise NameNotResolved(f"cannot resolve {host}: {exc}", host=host) from exc
        found: list[str] = []
        for info in infos:
            addr = str(info[4][0])
            if addr not in found:
                found.append(addr)
        return found

    def srv(self, name: str) -> list[SrvRecord]:
        try:
            resolver = dns.resolver.Resolver(configure=True)
        except (dns.resolver.NoResolverConfiguration, OSError) as exc:
            message = f"SRV lookup of {name}: no DNS configuration on this machine"
            raise NameNotResolved(message, host=name) from exc
        resolver.lifetime = self._timeout
        return _srv_query(resolver, name, "system DNS")


class DnsServerResolver:
    """Ask one DNS server (``--dns-server ADDR:PORT``) for everything, over UDP (TCP when truncated)."""

    def __init__(self, address: str, port: int = 53, *, timeout: float = 5.0) -> None:
        if not is_ip_literal(address):
            raise ValueError(f"DNS server must be an IP address, not {address!r}")
        self.address = address.strip("[]")
        self.port = port
        self._resolver = dns.resolver.Resolver(configure=False)
        self._resolver.nameservers = [self.address]
        self._resolver.port = port
        self._resolver.lifetime = timeout
        self._resolver.timeout = min(timeout, 2.0)

    @property
    def description(self) -> str:
        return f"DNS server {self.address}:{self.port}"

    def addresses(self, host: str) -> list[str]:
        host = host.strip("[]")
        if is_ip_literal(host):
            return [host]
        found: list[str] = []
        failures: list[str] = []
        for rdtype in ("A", "AAAA"):
            try:
                answer = self._resolver.resolve(host, rdtype, search=False)
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                continue
            except dns.exception.DNSException as exc:
                failures.append(f"{rdtype}: {type(exc).__name__}")
                continue
            found += [rdata.to_text() for rdata in answer if rdata.to_text() not in found]
            if found:
                break
        if not found:
            why = "; ".join(failures) if failures else "no A or AAAA record"
            raise NameNotResolved(f"cannot resolve {host} via {self.description}: {why}", host=host)
        return found

    def srv(self, name: str) -> list[SrvRecord]:
        return _srv_query(self._resolver, name, self.description)


def parse_dns_server(text: str) -> tuple[str, int]:
    """``ADDR``, ``ADDR:PORT`` or ``[V6ADDR]:PORT`` -> (address, port)."""
    text = text.strip()
    if text.startswith("["):
        addr, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
        if rest and not rest.startswith(":"):
            raise ValueError(f"bad DNS server {text!r}")
    elif text.count(":") == 1:
        addr, port_text = text.split(":")
    else:
        addr, port_text = text, ""
    if not is_ip_literal(addr):
        raise ValueError(f"DNS server must be an IP address (ADDR or ADDR:PORT), not {text!r}")
    port = 53
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"bad DNS server port in {text!r}")
        port = int(port_text)
    return addr, port


def make_resolver(dns_server: str | None, *, timeout: float = 5.0) -> Resolver:
    """The resolver for ``--dns-server`` (None: the system's)."""
    if dns_server is None:
        return SystemResolver(timeout)
    addr, port = parse_dns_server(dns_server)
    return DnsServerResolver(addr, port, timeout=timeout)


__all__ = [
    "DnsServerResolver",
    "Resolver",
    "SrvRecord",
    "SystemResolver",
    "is_ip_literal",
    "make_resolver",
    "parse_dns_server",
]
