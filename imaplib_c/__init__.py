"""imaplib_c: CPython's imaplib on a C protocol engine.

Use it as ``import imaplib_c as imaplib``, or run an unchanged program on it
with ``python -m imaplib_c run PROGRAM``.  The module namespace mirrors
imaplib's; the engine reads the names tools write (``Commands``,
``_MAXLINE``, ``Debug``, and the modules tests patch such as ``socket`` or
``random``) from *this* module's namespace at the time it uses them.
"""
from . import _imaplib_c

globals().update(
    {k: v for k, v in vars(_imaplib_c).items() if not (k.startswith("__") and k.endswith("__"))}
)
__all__ = list(_imaplib_c.__all__)
__version__ = _imaplib_c.__version__
_imaplib_c._bind(globals())
del _imaplib_c

# IDLE as CPython 3.14 offers it, on every version (see _idle.py).
from ._idle import Idler as Idler
from ._idle import idle as _idle_method

IMAP4.idle = _idle_method  # type: ignore[name-defined]  # noqa: F821
del _idle_method
