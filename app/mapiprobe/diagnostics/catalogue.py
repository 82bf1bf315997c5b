"""Every scenario the simulator can play, with the diagnosis it must produce.

One :class:`Expectation` per scenario: the step (``step_id``, and a piece of its target when the step runs for
several targets), its status, the ``cause_code`` and words the cause must contain. ``options`` are the
pipeline switches the scenario needs (e.g. the MapiHttpDisabled emulation, a redirect approved in advance,
an idle pause before the PING, the simulator's proxy). The healthy organisation (``normal``) has no
expectation but that every step passes. tests/diagnostics/test_catalogue.py runs them all.

Scenario names are plain strings: the catalogue does not import the simulator (diagnostics/ sits below it
in no way; it only needs the names, and a test checks that every simulator scenario is listed here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mapiprobe.diagnostics.steps import Status


@dataclass(frozen=True)
class Expectation:
    step_id: str
    status: Status
    cause_code: str
    words: tuple[str, ...]  # each must appear (case-insensitive) in the step's cause
    target_contains: str | None = None
    # DiagnosisOptions fields; "proxy": True to use the simulator's proxy; "timeout": the connection's
    options: dict[str, Any] = field(default_factory=dict)
    slow_seconds: float | None = None  # the simulator's slow_seconds for this scenario


HEALTHY = "normal"

CATALOGUE: dict[str, Expectation | None] = {
    "normal": None,
    "basic-only": Expectation("probe", Status.WARN, "only-basic", ("only Basic",), "/mapi/emsmdb/"),
    "mapihttp-disabled": Expectation(
        "mapi-http", Status.FAIL, "mapihttp-disabled-org", ("RPC/HTTP", "organisation-wide")
    ),
    "ignores-header": Expectation(
        "mapi-http",
        Status.WARN,
        "server-ignores-header",
        ("X-MapiHttpCapability", "ignores"),
        options={"mapi_http_disabled": True},
    ),
    "redirect-addr": Expectation(
        "autodiscover", Status.FAIL, "autodiscover-redirect-consent", ("redirect", "consent", "fabrikam.test")
    ),
    "redirect-url": Expectation(
        "autodiscover",
        Status.FAIL,
        "autodiscover-redirect-consent",
        ("redirect", "consent", "mail.contoso.test"),
    ),
    "redirect-loop": Expectation(
        "autodiscover",
        Status.FAIL,
        "autodiscover-redirect-loop",
        ("loop",),
        options={"allowed_hosts": frozenset({"mail.contoso.test", "autodiscover.contoso.test"})},
    ),
    "unknown-user": Expectation(
        "autodiscover", Status.FAIL, "autodiscover-unknown-user", ("does not know the address",)
    ),
    "html-login": Expectation("autodiscover", Status.FAIL, "autodiscover-html", ("HTML", "reverse proxy")),
    "slow": Expectation(
        "autodiscover",
        Status.WARN,
        "server-stalls",
        ("stalls", "Autodiscover"),
        options={"slow_request_s": 1.0},
        slow_seconds=2.0,
    ),
    "dead-root": Expectation(
        "tls",
        Status.WARN,
        "candidate-never-answers",
        ("never answers", "whole timeout"),
        "contoso.test:443",
        options={"timeout": 1.5},
    ),
    "mailbox-expired": Expectation("ping", Status.WARN, "context-short", ("only 2.0 s",)),
    "mailbox-moved": Expectation("logon", Status.WARN, "mailbox-moved", ("moved", "ecWrongServer")),
    "mailbox-slow": Expectation(
        "mailbox-connect", Status.WARN, "server-stalls", ("stalls", "1.2 s"), options={"slow_request_s": 1.0}
    ),
    "mailbox-503": Expectation(
        "probe", Status.FAIL, "front-end-unavailable", ("HTTP 503", "mailbox"), "/mapi/emsmdb/"
    ),
    "mailbox-html": Expectation(
        "probe", Status.FAIL, "front-end-html", ("HTML page", "mailbox"), "/mapi/emsmdb/"
    ),
    "windows-auth": None,
    "modern-auth": None,
    "ab-refused": Expectation(
        "ab-bind", Status.FAIL, "auth-refused-one-endpoint", ("address book", "mailbox endpoint accepted")
    ),
    "cert-wrong-name": Expectation(
        "tls",
        Status.FAIL,
        "cert-name-mismatch",
        ("does not name mail.contoso.test", "certificate warning"),
        "mail.contoso.test",
    ),
    "cert-expired": Expectation("tls", Status.FAIL, "cert-expired", ("expired",), "mail.contoso.test"),
    "cert-missing-intermediate": Expectation(
        "tls", Status.FAIL, "cert-missing-intermediate", ("intermediate",), "mail.contoso.test"
    ),
    "context-expires-early": Expectation(
        "ping",
        Status.FAIL,
        "context-expires-early",
        ("forgot the session context", "announced 900 s"),
        options={"idle_check_s": 1.3},
    ),
    "lb-cut": Expectation("mailbox-connect", Status.FAIL, "lb-cut", ("cut after 0.8 s", "load balancer")),
    "rpch-unknown-server": Expectation(
        "rpc-http",
        Status.FAIL,
        "rpc-server-refused",
        ("RPC proxy refuses", "6001"),
        options={"mapi_http_disabled": True},
    ),
    "rpch-channel-cut": Expectation(
        "folders",
        Status.FAIL,
        "rpc-channel-cut",
        ("OUT channel was closed", "load balancer"),
        options={"mapi_http_disabled": True},
    ),
    "rpch-authn-level": Expectation(
        "rpc-http",
        Status.WARN,
        "rpc-auth-none",
        ("refused RPC-level authentication", "bind_nak"),
        options={"mapi_http_disabled": True},
    ),
    "proxy-intercept": Expectation(
        "proxy",
        Status.FAIL,
        "proxy-intercepts",
        ("intercepts TLS", "intercepting proxy CA"),
        "autodiscover.contoso.test",
        options={"proxy": True},
    ),
}
"""Scenario -> the diagnosis it must produce (None: a healthy organisation, every step passes)."""


__all__ = ["CATALOGUE", "HEALTHY", "Expectation"]
