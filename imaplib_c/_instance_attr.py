"""Catching one of an IMAP4 object's methods for a moment, for the methods
imaplib_c adds (``append_many`` catches ``send``; ``backup`` counts ``_command``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_NONE = object()


@contextmanager
def instead(imap: Any, name: str, value: Any) -> Iterator[None]:
    """imap.<name> is `value` for a moment; an override of the instance's own
    (imap.send = f) is put back afterwards, not deleted."""
    own = vars(imap)
    saved = own.get(name, _NONE)
    setattr(imap, name, value)
    try:
        yield
    finally:
        if saved is _NONE:
            delattr(imap, name)
        else:
            setattr(imap, name, saved)
