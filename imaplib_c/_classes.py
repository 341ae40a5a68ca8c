"""imaplib_c's classes: the C engine in front of the interpreter's imaplib.

``IMAP4`` derives from the engine type and from the interpreter's own
``imaplib.IMAP4``, engine first in the MRO: the engine's methods (the
response loop, ``read``/``readline``, the debug log) replace imaplib's; every
other method, the constructor, the exceptions and the docstrings are that
imaplib's, so each CPython release's behaviour, signatures and security
fixes come with it.

``IMAP4_SSL`` and ``IMAP4_stream`` put the interpreter's class *first*:
their transport (``_create_socket``, ``open``, the pipes' ``read``/
``readline``/``send``/``shutdown``) must win over the engine's, which then
sees those methods as overrides and calls them as imaplib does.

The interpreter's methods are wrapped in the engine's command guard (one
thread at a time per connection, for a whole command), except those that do
no I/O and ``shutdown``, which another thread may call to stop a reader.
"""

from __future__ import annotations

import functools
import re
from types import FunctionType, ModuleType
from typing import Any, Callable

from imaplib_c import _append_many, _compress, _fetch_stream

# Methods of the interpreter's imaplib left outside the guard.
UNGUARDED = frozenset(
    {
        "shutdown",  # may be called from another thread (csrc/binding/guard.c, rule 2)
        "_close_imaplib_file",  # 3.15: part of shutdown()
        "socket",
        "response",
        "_dump_ur",
        "_match",
        "_quote",
        "_mode_ascii",
        "_mode_utf8",
        "_new_tag",
        "_check_bye",
        "_CRAM_MD5_AUTH",
    }
)


# NUL, CR and LF would end a command line early (CVE-2025-15366).
_CONTROL = re.compile("[\\x00\\r\\n]")
_CONTROL_B = re.compile(b"[\\x00\\r\\n]")
CONTROL_MESSAGE = "Control characters not allowed in commands"


def _checked_command(std_command: FunctionType) -> Any:
    """imaplib's _command, with arguments holding NUL, CR or LF refused before a
    tag is taken (on every version; newer imaplibs check after taking one)."""

    @functools.wraps(std_command)
    def _command(self: Any, name: str, *args: Any) -> Any:
        for arg in args:
            if isinstance(arg, str):
                bad = _CONTROL.search(arg) is not None
            elif isinstance(arg, (bytes, bytearray)):
                bad = _CONTROL_B.search(arg) is not None
            else:
                continue
            if bad:
                raise ValueError(CONTROL_MESSAGE)
        return std_command(self, name, *args)

    return _command


def _checked_starttls(std_starttls: FunctionType) -> Any:
    """imaplib's starttls, with the engine told to refuse plaintext buffered
    after the server's OK (response injection, CVE-2020-15953 in libetpan):
    the engine checks at the tagged OK, before any handshake.  Refused after
    COMPRESS."""

    @functools.wraps(std_starttls)
    def starttls(self: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(self.sock, _compress.DeflateSocket):
            # RFC 4978: TLS goes under compression, so it must come first.
            raise self.error(
                "STARTTLS after COMPRESS is not allowed (RFC 4978): TLS must come first"
            )
        self.__dict__["_imaplib_c_starttls"] = True
        try:
            return std_starttls(self, *args, **kwargs)
        finally:
            self.__dict__.pop("_imaplib_c_starttls", None)

    return starttls


def _guard_methods(cls: type, std_cls: type, engine: type, guard: Callable[[Any], Any]) -> None:
    """Put a guarded wrapper of each of std_cls's own methods into cls."""
    for name, value in vars(std_cls).items():
        if not isinstance(value, FunctionType) or name in UNGUARDED or name in vars(engine):
            continue
        if name.startswith("__") and name != "__init__":
            continue
        setattr(cls, name, guard(value))


# The command path the engine restates in C (csrc/binding/imap4_command.c).
COMMAND_METHODS = ("_command", "_command_complete", "_simple_command")


def interpreters_commands(std: ModuleType) -> dict[str, Any]:
    """The interpreter's command path, _command behind the control-character check."""
    methods: dict[str, Any] = {name: getattr(std.IMAP4, name) for name in COMMAND_METHODS}
    methods["_command"] = _checked_command(methods["_command"])
    return methods


def use_interpreters_commands(cls: type, std: ModuleType, ext: ModuleType) -> None:
    """Put the interpreter's command path in front of the engine's."""
    for name, func in interpreters_commands(std).items():
        setattr(cls, name, ext._guard(func))


# Where append()'s copy finds its line-end mapper in imaplib's namespace.
FAST_MAPCRLF = "_imaplib_c_MapCRLF"


class _FastMapCRLF:
    """imaplib's ``MapCRLF`` as ``append()`` uses it, ``MapCRLF.sub(CRLF, message)``:
    the usual call (bytes, CRLF) is done in C; any other, or a MapCRLF that a
    program replaced in imaplib, goes to the pattern in imaplib's namespace
    (``_imaplib_c._map_crlf_sub``)."""

    __slots__ = ("sub",)

    def __init__(self, ns: dict[str, Any], pattern: Any, map_crlf_sub: Callable[..., Any]):
        self.sub = functools.partial(map_crlf_sub, ns, pattern)


def _fast_append(std: ModuleType, ext: ModuleType) -> Any:
    """The interpreter's IMAP4.append, reading ``MapCRLF`` as _FastMapCRLF.

    Mapping a message's line ends with the regex is most of imaplib's cost of
    APPEND (~40 us for 4 KiB); the rest of append() stays the interpreter's
    code.  Used only when MapCRLF is the pattern the C mapper restates."""
    func = std.IMAP4.append
    pattern: Any = getattr(std, "MapCRLF", None)
    if (
        not isinstance(func, FunctionType)
        or "MapCRLF" not in func.__code__.co_names
        or getattr(pattern, "pattern", None) != rb"\r\n|\r|\n"
        or pattern.flags != re.compile(b"").flags
    ):
        return None
    ns = vars(std)
    ns.setdefault(FAST_MAPCRLF, _FastMapCRLF(ns, pattern, ext._map_crlf_sub))
    names = tuple(FAST_MAPCRLF if n == "MapCRLF" else n for n in func.__code__.co_names)
    fast = FunctionType(
        func.__code__.replace(co_names=names),
        ns,
        func.__name__,
        func.__defaults__,
        func.__closure__,
    )
    fast.__kwdefaults__ = func.__kwdefaults__
    return functools.update_wrapper(fast, func)


def _named(cls: type, name: str, std_cls: type) -> type:
    cls.__name__ = cls.__qualname__ = name
    cls.__module__ = "imaplib_c"
    cls.__doc__ = std_cls.__doc__
    return cls


def build(std: ModuleType, ext: ModuleType) -> dict[str, type]:
    """The classes of imaplib_c, made from the interpreter's imaplib."""
    engine = ext.Engine

    class IMAP4(engine, std.IMAP4):  # type: ignore[misc,name-defined,valid-type]
        pass

    classes: dict[str, type] = {"IMAP4": _named(IMAP4, "IMAP4", std.IMAP4)}
    _guard_methods(IMAP4, std.IMAP4, engine, ext._guard)
    fast_append = _fast_append(std, ext)
    if fast_append is not None:
        IMAP4.append = ext._guard(fast_append)
    IMAP4.starttls = ext._guard(_checked_starttls(std.IMAP4.starttls))
    IMAP4.fetch_stream = _fetch_stream.fetch_stream
    IMAP4.append_many = _append_many.append_many
    IMAP4.compress = ext._guard(_compress.compress)
    IMAP4.deadline = None  # seconds a command may take in all (the engine enforces it)

    for name in ("IMAP4_SSL", "IMAP4_stream"):
        std_cls = getattr(std, name, None)
        if std_cls is None:  # no ssl module
            continue
        cls = _named(type(name, (std_cls, IMAP4), {}), name, std_cls)
        _guard_methods(cls, std_cls, engine, ext._guard)
        classes[name] = cls
    return classes
