"""HTTP transport: httpx client, authentication, TLS and certificate inspection, timing, redacted traces.

May import :mod:`mapiprobe.protocol`; never imports session/, diagnostics/, gui/ or Qt.
"""
