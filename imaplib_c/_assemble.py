"""imaplib_c's classes, assembled from the C engine and the interpreter's imaplib."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from . import _classes, _commands_check, _rules


def engine_classes(std: ModuleType, ext: ModuleType) -> tuple[dict[str, type], list[Any]]:
    """The classes (IMAP4, IMAP4_SSL, IMAP4_stream) and the differences found
    between the engine's command path and the interpreter's (empty: the
    engine's is used)."""
    classes = _classes.build(std, ext)
    imap4 = classes["IMAP4"]
    rules = _rules.find(std)
    ext._bind(imap4, vars(std), *rules)
    differences = _commands_check.differences(imap4, std, _classes.interpreters_commands(std))
    if differences:
        _classes.use_interpreters_commands(imap4, std, ext)
        ext._bind(imap4, vars(std), *rules)
    if not hasattr(std.IMAP4, "idle"):
        # IDLE as CPython 3.14 offers it, on every version (see _idle.py).
        from ._idle import install

        install(imap4)
    return classes, differences
