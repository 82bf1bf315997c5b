"""Autodiscover discovery: from an email address to the MAPI/HTTP endpoints, the way Outlook finds them.

Candidates (MS-OXDISCO 3.1.5), in the order of priority used to pick the answer:

1. ``https://<domain>/autodiscover/autodiscover.xml``                         (3.1.5.2, root domain)
2. ``https://autodiscover.<domain>/autodiscover/autodiscover.xml``            (3.1.5.2)
3. DNS SRV ``_autodiscover._tcp.<domain>`` -> ``https://<target>[:port]/...``  (3.1.5.3)
4. Autodiscover v2: ``GET https://autodiscover.<domain>/autodiscover/autodiscover.json/v1.0/<smtp>
   ?Protocol=AutodiscoverV1`` -> the v1 URL (not in the open specs; PROTOCOL.md 1.4)
5. The unauthenticated ``GET http://autodiscover.<domain>/autodiscover/autodiscover.xml``; a 302
   ``Location`` becomes a candidate only if the user agrees (3.1.5.4)

SCP lookup (3.1.5.1) needs a domain-joined Windows machine and LDAP; it is not done here.

All candidates are probed at once (one thread each, a time limit each). The answer honours the priority,
without paying a dead host's time limit: once a lower-priority candidate has a usable answer, a still pending
higher-priority one is waited for only if it has shown a sign of life (its TLS handshake completed: a live
server gets that far about as fasthe answering one did), and then only for a grace period of
``max(GRACE_MIN, GRACE_FACTOR x the answering candidate's time)`` (never past its own time limit). A pending
candidate without a handshake by then, or still without an answer at the end of its grace, is abandoned and
reported as such (outcome ``abandoned``, with how far it got), so a black-holed root domain costs nothing
and a live but slower one still wins. The signs of life come from httpcore's trace events
(``connection.start_tls.complete``) of each candidate's own requests.

Then redirects are followed (MS-OXDSCLI 3.1.5): ``redirectAddr`` (ask again for the new address),
``redirectUrl`` and an HTTP 302 on the POST (ask the new URL), at most 10 hops (PROTOCOL.md 1.3, from the
Exchange 2007 SDK), stopping at the first URL + address seen twice.

Safety rules, each enforced in one place:

* Credentials go only over HTTPS (every flow ``make_auth`` builds refuses anything else) and only to a host
  the user named (the email address's domain and ``autodiscover.<domain>``, or the host of ``--url``) or
  approved (``--allow-redirect``, or the consent callback). :meth:`AutodiscoverSession._credentials_for` is
  the only place credentials are attached.
* Every redirect to another host (302, SRV target, v2 answer, redirectUrl, redirectAddr to another domain)
  asks the consent callback first; without a callback the answer is no.
* The domain is used exactly as given: never ``autodiscover.<tld>``, never labels stripped off.
* A certificate that does not verify stops that attempt and is reported; it is never retried without TLS.

The session reports progress through a callback, asks consent through another (both called in the thread
that runs :meth:`AutodiscoverSession.run`), can be cancelled with a :class:`threading.Event`, never prints
and keeps no global state.
"""

from __future__ import annotations

from mapiprobe.session.autodiscover.candidates import (
    AUTODISCOVER_PATH,
    GRACE_FACTOR,
    GRACE_MIN,
    MAX_REDIRECTS,
    SECONDARY_DELAY,
    V2_PATH,
    X_MAPIHTTP_CAPABILITY,
    Source,
    UsageError,
    candidate_urls,
    host_of,
    split_address,
    srv_name,
)
from mapiprobe.session.autodiscover.results import (
    Attempt,
    ConsentCallback,
    ConsentRequest,
    DiscoveryOptions,
    DiscoveryResult,
    Finding,
    Outcome,
    Problem,
    ProgressCallback,
    ProgressEvent,
    Redirect,
    protocol_of,
)
from mapiprobe.session.autodiscover.session import AutodiscoverSession, discover

__all__ = [
    "AUTODISCOVER_PATH",
    "GRACE_FACTOR",
    "GRACE_MIN",
    "MAX_REDIRECTS",
    "SECONDARY_DELAY",
    "V2_PATH",
    "X_MAPIHTTP_CAPABILITY",
    "Attempt",
    "AutodiscoverSession",
    "ConsentCallback",
    "ConsentRequest",
    "DiscoveryOptions",
    "DiscoveryResult",
    "Finding",
    "Outcome",
    "Problem",
    "ProgressCallback",
    "ProgressEvent",
    "Redirect",
    "Source",
    "UsageError",
    "candidate_urls",
    "discover",
    "host_of",
    "protocol_of",
    "split_address",
    "srv_name",
]
