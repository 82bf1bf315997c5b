"""Autodiscover's candidates (MS-OXDISCO 3.1.5): where to ask for an address, and how each URL became one."""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import urlsplit

AUTODISCOVER_PATH = "/autodiscover/autodiscover.xml"
V2_PATH = "/autodiscover/autodiscover.json/v1.0/"
MAX_REDIRECTS = 10
SECONDARY_DELAY = 0.3  # seconds before the lookups start while the two domain URLs are still pending
# A pending higher-priority candidate that has completed its TLS handshake when a lower-priority one answers
# is waited for max(GRACE_MIN, GRACE_FACTOR x the answering candidate's elapsed time) more (see _abandon).
GRACE_MIN = 1.0
GRACE_FACTOR = 3.0
X_MAPIHTTP_CAPABILITY = "1"  # the version Outlook and ruler send (MS-OXDSCLI 2.2.2.1)


class Source(StrEnum):
    """How a URL became a candidate."""

    GIVEN_URL = "given-url"
    ROOT_DOMAIN = "root-domain"
    AUTODISCOVER_DOMAIN = "autodiscover-domain"
    SRV = "dns-srv"
    AUTODISCOVER_V2 = "autodiscover-v2"
    REDIRECT_PROBE = "http-redirect-probe"
    REDIRECT_URL = "redirectUrl"
    REDIRECT_ADDR = "redirectAddr"
    HTTP_302 = "http-302"


class UsageError(ValueError):
    """Bad input from the user (an address that is not one, a --url that is not HTTPS)."""


def split_address(email: str) -> tuple[str, str]:
    """``local@domain`` -> (local, domain in lower case, IDNA-encoded). Raises UsageError."""
    text = email.strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise UsageError(f"{email!r} is not an email address (local@domain)")
    domain = domain.rstrip(".").lower()
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise UsageError(f"{email!r}: the domain {domain!r} is not a valid host name") from None
    labels = domain.split(".")
    if any(not label or len(label) > 63 for label in labels) or len(domain) > 253:
        raise UsageError(f"{email!r}: the domain {domain!r} is not a valid host name")
    if not all(ch.isalnum() or ch == "-" for label in labels for ch in label):
        raise UsageError(f"{email!r}: the domain {domain!r} is not a valid host name")
    return local, domain


def candidate_urls(domain: str) -> list[tuple[Source, str]]:
    """The two URLs built from the domain (MS-OXDISCO 3.1.5.2): the domain exactly as given, never
    a parent domain and never ``autodiscover.<tld>``."""
    return [
        (Source.ROOT_DOMAIN, f"https://{domain}{AUTODISCOVER_PATH}"),
        (Source.AUTODISCOVER_DOMAIN, f"https://autodiscover.{domain}{AUTODISCOVER_PATH}"),
    ]


def srv_name(domain: str) -> str:
    return f"_autodiscover._tcp.{domain}"


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _same_url(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (
        pa.scheme.lower() == pb.scheme.lower()
        and (pa.hostname or "").lower() == (pb.hostname or "").lower()
        and (pa.port or 443) == (pb.port or 443)
        and pa.path.lower() == pb.path.lower()
        and pa.query == pb.query
    )
