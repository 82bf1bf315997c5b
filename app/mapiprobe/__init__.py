"""mapiprobe: diagnose Outlook connectivity over Autodiscover, MAPI over HTTP and the address book.

Layers (an import only goes downward)::

    gui/, cli/          thin front ends
    diagnostics/        step-by-step checks, remedies, reports
    session/            Autodiscover discovery, mailbox and address-book sessions
    transport/          httpx client, authentication, TLS inspection, redacted traces
    protocol/           pure codecs: bytes in, typed objects out, and back
    simulator/          a simulated Exchange organisation (uses protocol/ and transport helpers only)
"""

__version__ = "0.1.0"
