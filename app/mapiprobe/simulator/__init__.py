"""A simulated Exchange organisation (Autodiscover, MAPI/HTTP mailbox and address book) on loopback.

Reuses :mod:`mapiprobe.protocol` for every wire format; never imports session/, diagnostics/ or gui/.
"""
