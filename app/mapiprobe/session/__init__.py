"""Sessions: Autodiscover discovery, the mailbox session, the address-book session.

Front ends drive these objects; they report progress through callbacks, can be cancelled, never print
and keep no global state. May import transport/ and protocol/; never Qt.
"""
