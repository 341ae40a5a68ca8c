"""imaplib_c: CPython's imaplib on a C protocol engine.

Use it as ``import imaplib_c as imaplib``, or run an unchanged program on it
with ``python -m imaplib_c run PROGRAM``.  The classes derive from the C
engine and from the running interpreter's own ``imaplib`` (see
``_classes.py``); the module namespace is that imaplib's (see
``_namespace.py``): its functions, constants, ``Commands`` and exception
classes are the interpreter's own objects, and settings written here land
there.
"""

from __future__ import annotations

from . import _classes, _commands_check, _namespace, _rules, _stdlib_loader
from . import _imaplib_c as _ext

_stdlib = _stdlib_loader.load()  # the interpreter's own imaplib

_classes_made = _classes.build(_stdlib, _ext)
globals().update(_classes_made)
_found = _rules.find(_stdlib)
_ext._bind(IMAP4, vars(_stdlib), *_found)  # type: ignore[name-defined]  # noqa: F821
# The engine's command path where it does what the interpreter's does.
_command_differences = _commands_check.differences(
    IMAP4,  # type: ignore[name-defined]  # noqa: F821
    _stdlib,
    _classes.interpreters_commands(_stdlib),
)
c_commands = not _command_differences
if not c_commands:
    _classes.use_interpreters_commands(IMAP4, _stdlib, _ext)  # type: ignore[name-defined]  # noqa: F821
    _ext._bind(IMAP4, vars(_stdlib), *_found)  # type: ignore[name-defined]  # noqa: F821

if not hasattr(_stdlib.IMAP4, "idle"):
    # IDLE as CPython 3.14 offers it, on every version (see _idle.py).
    from ._idle import Idler as Idler
    from ._idle import install as _install_idle

    _install_idle(IMAP4)  # type: ignore[name-defined]  # noqa: F821
    del _install_idle

__all__ = list(_stdlib.__all__)
_namespace.install(__name__, _stdlib, set(globals()) | set(_classes_made))
del _classes_made, _found


def __getattr__(name):  # type: ignore[no-untyped-def]  # unannotated: imaplib's signature
    return _namespace.getattr_from(_stdlib, name)
