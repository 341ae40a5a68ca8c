"""What the server offers now, for the methods imaplib_c adds.

imaplib before 3.13.x reads the capabilities once, from the greeting; many servers
(Dovecot among them) announce more after LOGIN (MULTIAPPEND, COMPRESS=DEFLATE, ...).
A method that needs such a capability asks the server once more, with imaplib's own
``_get_capabilities()``, when the list it has lacks the name; it does not ask again
for the same list.
"""

from __future__ import annotations

from typing import Any

_REFRESHED = "_imaplib_c_refreshed_capabilities"


def offered(imap: Any, name: str) -> bool:
    """Does the server offer capability ``name`` (upper case) in this state?"""
    caps = getattr(imap, "capabilities", ())
    if name in caps:
        return True
    if imap.state not in ("AUTH", "SELECTED") or vars(imap).get(_REFRESHED) is caps:
        return False
    imap._get_capabilities()
    vars(imap)[_REFRESHED] = imap.capabilities
    return name in imap.capabilities
