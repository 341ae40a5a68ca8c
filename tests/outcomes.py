"""Outcomes of imaplib calls written so that two implementations compare
equal exactly when they behave the same: ``typed`` (a repr that pins down
exact types), ``describe_exc`` (where an exception sits in the
error/abort/readonly hierarchy, its ``str`` and ``args``) and ``as_eof`` (one
description of EOF inside a literal for imaplibs that word it differently)."""

from __future__ import annotations

import ast
import re

_PLAIN = (bool, int, float, str, bytes, type(None))


def typed(value: object) -> str:
    """A repr that also pins down exact container and scalar types."""
    t = type(value)
    if t in _PLAIN:
        return repr(value)
    if t is tuple:
        items = [typed(v) for v in value]  # type: ignore[attr-defined]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if t is list:
        return "[" + ", ".join(typed(v) for v in value) + "]"  # type: ignore[attr-defined]
    if t is dict:
        return "{" + ", ".join(f"{typed(k)}: {typed(v)}" for k, v in value.items()) + "}"  # type: ignore[attr-defined]
    text = re.sub(r" at 0x[0-9a-fA-F]+", " at 0x?", repr(value))
    return f"<{t.__module__}.{t.__qualname__} {text}>"


def exc_kind(imap_class: type, exc: BaseException) -> str:
    """Where ``exc`` sits in the error/abort/readonly hierarchy of ``imap_class``."""
    for kind in ("readonly", "abort", "error"):
        if isinstance(exc, getattr(imap_class, kind)):
            return kind
    return "other"


def describe_exc(imap_class: type, exc: BaseException) -> str:
    return (
        f"raise {exc_kind(imap_class, exc)}:{type(exc).__name__}"
        f" str={str(exc)!r} args={typed(exc.args)}"
    )


_UNTERMINATED = re.compile(r"socket error: unterminated line: b'.*'")
_RAISED = re.compile(r"(?P<head>(?:.*: )?raise [a-z]+:\w+) str=(?P<str>.*) args=\((?P<arg>.*),\)")


def as_eof(description: str) -> str:
    """``description`` (of ``describe_exc``, possibly after a label) with the
    message "socket error: unterminated line: b'...'" put as imaplib_c reports
    EOF inside a literal: "socket error: EOF" (see ``rereads_cut_literal``)."""
    m = _RAISED.fullmatch(description)
    if m is None or m["str"] != m["arg"]:
        return description
    message = ast.literal_eval(m["str"])
    if not _UNTERMINATED.search(message):
        return description
    message = _UNTERMINATED.sub("socket error: EOF", message)
    return f"{m['head']} str={message!r} args=({message!r},)"
