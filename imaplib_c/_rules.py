"""What the interpreter's imaplib does, where the C engine must do the same.

The engine reads responses itself, so the few points where imaplib's own
response loop differs between CPython releases are found out here, from that
imaplib, by running its ``_get_response`` on scripted lines: no table of
version numbers to keep up to date.
"""

from __future__ import annotations

import inspect
import io
import sys
import warnings
from types import ModuleType
from typing import Any, NamedTuple


class Rules(NamedTuple):
    """The order is _bind()'s (csrc/binding/module.c)."""

    skip_blank: bool  # blank lines skipped between responses / after a literal in ( )
    own_buffer: bool  # IMAP4.file is a property; readline() reads sock into its own buffer
    start_timeout: bool  # _get_response(start_timeout=False) (IDLE, 3.14+)
    literal_overflow: bool  # read(size > sys.maxsize) raises OverflowError at once
    plain_send: bool  # send() is sys.audit("imaplib.send", ...) + self.sock.sendall(data)


def _probe(std: ModuleType, lines: list[bytes], literal: bytes = b"") -> Any:
    """Run the interpreter's IMAP4._get_response over `lines`; return what it
    filed (or the exception it raised)."""

    class Probe(std.IMAP4):  # type: ignore[name-defined,misc]
        def __init__(self) -> None:  # no connection: just the state _get_response reads
            self.debug = 0
            self.state = "AUTH"
            self.literal = None
            self.tagged_commands: dict[bytes, Any] = {}
            self.untagged_responses: dict[str, list[Any]] = {}
            self.continuation_response = ""
            self.is_readonly = False
            self.tagnum = 0
            self._idle_capture = False
            self._idle_responses: list[Any] = []
            self._mode_ascii()
            self.tagpre = b"PROB"
            self.tagre = std.re.compile(
                rb"(?P<tag>PROB\d+) (?P<type>[A-Z]+) (?P<data>.*)", std.re.ASCII
            )

        def _get_line(self) -> bytes:
            return lines.pop(0)

        def read(self, size: int) -> bytes:
            return literal[:size]

    probe = Probe()
    try:
        probe._get_response()
    except Exception as exc:  # noqa: BLE001 - the outcome is what is probed
        return exc
    return probe.untagged_responses


class _NoData:
    """A socket that is at EOF."""

    def recv(self, size: int) -> bytes:
        return b""


def _literal_overflows(std: ModuleType) -> bool:
    """Does the interpreter's IMAP4.read refuse a size over sys.maxsize at
    once (file.read up to 3.13.0) rather than read until EOF?"""
    probe = std.IMAP4.__new__(std.IMAP4)
    empty = io.BufferedReader(io.BytesIO(b""))  # type: ignore[arg-type]
    vars(probe).update(sock=_NoData(), _readbuf=[], file=empty, _file=empty, _imaplib_file=empty)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            std.IMAP4.read(probe, sys.maxsize + 1)
    except OverflowError:
        return True
    except Exception:  # noqa: BLE001 - anything else: it does not refuse at once
        return False
    return False


def find(std: ModuleType) -> Rules:
    between = _probe(std, [b"", b"* OK probe"])
    after_literal = _probe(std, [b"* 1 FETCH (BODY[] {2}", b"", b")"], b"ab")
    skip = between == {"OK": [b"probe"]} and after_literal == {
        "FETCH": [(b"1 (BODY[] {2}", b"ab"), b")"]
    }
    params = inspect.signature(std.IMAP4._get_response).parameters
    return Rules(
        skip_blank=skip,
        own_buffer=isinstance(vars(std.IMAP4).get("file"), property),
        start_timeout="start_timeout" in params,
        literal_overflow=_literal_overflows(std),
        plain_send=_plain_send(std),
    )


def _plain_send(std: ModuleType) -> bool:
    """Is the interpreter's IMAP4.send exactly ``sys.audit("imaplib.send", self,
    data); self.sock.sendall(data)``, so that the engine may do it itself?"""
    code = std.IMAP4.send.__code__
    return (
        code.co_argcount == 2
        and code.co_names == ("sys", "audit", "sock", "sendall")
        and "imaplib.send" in code.co_consts
        and std.IMAP4.send.__defaults__ is None
    )
