"""The C engine, or None where it cannot be loaded.

Without it (PyPy, an install without a compiler, ``IMAPLIB_C_NO_ENGINE=1``)
imaplib_c is the interpreter's own imaplib: same classes, nothing faster.
``imaplib_c.accelerated`` tells which; ``imaplib_c.why_not_accelerated`` and
``python -m imaplib_c --version`` say why not.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

# Empty when the engine is loaded; else the reason it is not.
why_not = ""


def load() -> ModuleType | None:
    global why_not
    if os.environ.get("IMAPLIB_C_NO_ENGINE") == "1":
        why_not = "IMAPLIB_C_NO_ENGINE=1 is set"
        return None
    try:
        return importlib.import_module("imaplib_c._imaplib_c")
    except ImportError as exc:
        why_not = f"the C extension did not load ({exc})"
        return None
