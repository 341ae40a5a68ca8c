"""imaplib_c's module namespace: the interpreter's imaplib is the one home of
its settings.

The interpreter's methods read ``Commands``, ``_MAXLINE``, ``Debug``,
``socket``, ... from their own module's globals, and so does the engine.  So
every name imaplib_c shares with that module is read from it, and a write on
imaplib_c (``imaplib_c._MAXLINE = 10``, or ``mock.patch('imaplib._MAXLINE')``
under the runner, where ``imaplib`` *is* imaplib_c) lands there too.  The
value is also kept in imaplib_c's ``__dict__``, so that ``vars()``, ``dir()``
and ``mock.patch``, which looks there to decide how to restore, see a normal
module.
"""

from __future__ import annotations

import sys
import warnings
from types import ModuleType
from typing import Any


def _forwarding(std: ModuleType, name: str) -> property:
    def get(module: ModuleType) -> Any:
        try:
            return getattr(std, name)
        except AttributeError:
            return module.__dict__[name]  # deleted from imaplib: what is left here

    def set_(module: ModuleType, value: Any) -> None:
        setattr(std, name, value)
        module.__dict__[name] = value

    def delete(module: ModuleType) -> None:
        if hasattr(std, name):
            delattr(std, name)
        module.__dict__.pop(name, None)

    return property(get, set_, delete, f"imaplib.{name} of the running interpreter")


def install(module_name: str, std: ModuleType, own: set[str]) -> None:
    """Turn module `module_name` into a view of `std` for every name of std's
    that is not in `own`."""
    module = sys.modules[module_name]
    shared = {
        name
        for name in vars(std)
        if name not in own and not (name.startswith("__") and name.endswith("__"))
    }
    if "__version__" in vars(std):
        shared.add("__version__")
    attrs: dict[str, Any] = {name: _forwarding(std, name) for name in sorted(shared)}
    attrs["__doc__"] = "imaplib_c's module type: names shared with the interpreter's imaplib"
    namespace = type("ImaplibNamespace", (ModuleType,), attrs)
    for name in shared:
        module.__dict__[name] = getattr(std, name)
    module.__class__ = namespace


def getattr_from(std: ModuleType, name: str) -> Any:
    """A module ``__getattr__`` that asks the interpreter's imaplib (3.15's
    deprecated ``__version__``), re-issuing its warnings at the caller."""
    std_getattr = vars(std).get("__getattr__")
    if std_getattr is None:
        raise AttributeError(f"module 'imaplib_c' has no attribute {name!r}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = std_getattr(name)
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=3)
    return value
