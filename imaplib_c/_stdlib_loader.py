"""The running interpreter's own ``imaplib``: the base of imaplib_c's classes.

Under the runner ``sys.modules["imaplib"]`` is imaplib_c itself, so a later
(re)import of imaplib_c finds the interpreter's module through the one
already loaded.
"""

from __future__ import annotations

import sys
from types import ModuleType

# Was the interpreter's imaplib imported before imaplib_c was?  (The runner
# refuses to stand in for an imaplib that code may already hold.)
preimported = False


def load() -> ModuleType:
    """Return the interpreter's imaplib module, importing it if needed."""
    global preimported
    current = sys.modules.get("imaplib")
    inner = getattr(current, "_stdlib", None)
    if isinstance(inner, ModuleType):
        return inner  # imaplib_c stands in for imaplib (the runner)
    preimported = current is not None
    import imaplib

    return imaplib
