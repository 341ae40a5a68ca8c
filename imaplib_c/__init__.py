"""imaplib_c: CPython's imaplib on a C protocol engine.

Use it as ``import imaplib_c as imaplib``, or run an unchanged program on it
with ``python -m imaplib_c run PROGRAM``.  The classes derive from the C
engine and from the running interpreter's own ``imaplib`` (see
``_assemble.py``); the module namespace is that imaplib's (see
``_namespace.py``): its functions, constants, ``Commands`` and exception
classes are the interpreter's own objects, and settings written here land
there.  Where the engine cannot be loaded, imaplib_c is that imaplib
(``accelerated`` is False; see ``_engine_loader.py``).
"""

from __future__ import annotations

from . import _engine_loader, _namespace, _stdlib_loader, _version

package_version = _version.VERSION  # the distribution's; __version__ is imaplib's
_stdlib = _stdlib_loader.load()  # the interpreter's own imaplib
_ext = _engine_loader.load()  # the C engine, or None
accelerated = _ext is not None
why_not_accelerated = _engine_loader.why_not

if _ext is not None:
    from ._assemble import engine_classes

    _classes_made, _command_differences = engine_classes(_stdlib, _ext)
    del engine_classes
else:  # imaplib_c is the interpreter's imaplib
    _classes_made = {
        name: getattr(_stdlib, name)
        for name in ("IMAP4", "IMAP4_SSL", "IMAP4_stream")
        if hasattr(_stdlib, name)
    }
    _command_differences = []
# The engine's command path is in use (see _commands_check.py).
c_commands = accelerated and not _command_differences
globals().update(_classes_made)
if accelerated and not hasattr(_stdlib.IMAP4, "idle"):
    from ._idle import Idler as Idler  # with the IDLE that _assemble.py added

__all__ = list(_stdlib.__all__)
_namespace.install(__name__, _stdlib, set(globals()) | set(_classes_made))
del _classes_made


def __getattr__(name):  # type: ignore[no-untyped-def]  # unannotated: imaplib's signature
    return _namespace.getattr_from(_stdlib, name)
