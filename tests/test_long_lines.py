"""Lines longer than the engine's receive buffer (> 1 MiB), stdlib vs target.

imaplib_c finishes an untagged line that outgrows its buffer directly in the
``bytes`` object it returns (a 7 MB ``SEARCH`` result is copied once).  These
sessions check that path against stdlib imaplib: results, the bytes after the
long line, literals that follow it, the ``_MAXLINE`` limit, a bare LF and EOF
inside it, and tagged or continuation lines that are long.
"""

from __future__ import annotations

import random
from types import ModuleType
from typing import Any, Callable
from unittest import mock

import pytest
from conftest import STDLIB, load_target
from outcomes import describe_exc, typed

from testsupport.scripted_server import HELLO, Close, ScriptedServer, Send, Step, cmd, send

MB = 1 << 20
NUMBERS = b" ".join(b"%d" % i for i in range(1, 400_001))  # ~2.7 MB


def _play(
    mod: ModuleType,
    steps: list[Step],
    calls: Callable[[Any], list[Any]],
    maxline: int,
    chunked: bool,
) -> list[str]:
    server = ScriptedServer(steps, chunked=chunked, timeout=20)
    out: list[str] = []
    try:
        with mock.patch.object(mod, "_MAXLINE", maxline):
            random.seed(7)
            M = mod.IMAP4("127.0.0.1", server.port)
            M.state = "SELECTED"
            for call in calls(M):
                try:
                    out.append(typed(call()))
                except Exception as exc:  # noqa: BLE001 - compared, not handled
                    out.append(describe_exc(mod.IMAP4, exc))
                    break
            out.append(typed(M.untagged_responses))
            M.shutdown()
    finally:
        server.stop()
    return out


CASES: dict[str, tuple[list[Step], Callable[[Any], list[Any]], int]] = {
    "search_then_more": (
        [
            *HELLO,
            cmd("SEARCH ALL"),
            Send(b"* SEARCH " + NUMBERS + b"\r\n* 3 EXISTS\r\n{tag} OK done\r\n"),
            cmd("NOOP"),
            send(b"{tag} OK noop"),
        ],
        lambda M: [lambda: M.search(None, "ALL"), M.noop],
        10 * MB,
    ),
    "status_line_with_literal_after": (
        [
            *HELLO,
            cmd("FETCH 1 (X)"),
            Send(b"* 1 FETCH (X " + NUMBERS + b" BODY {5}\r\nhello)\r\n{tag} OK done\r\n"),
        ],
        lambda M: [lambda: M.fetch("1", "(X)")],
        10 * MB,
    ),
    "over_maxline": (
        [*HELLO, cmd("SEARCH ALL"), Send(b"* SEARCH " + NUMBERS + b"\r\n"), Close()],
        lambda M: [lambda: M.search(None, "ALL")],
        2 * MB,
    ),
    "bare_lf": (
        [*HELLO, cmd("SEARCH ALL"), Send(b"* SEARCH " + NUMBERS + b"\n{tag} OK\r\n")],
        lambda M: [lambda: M.search(None, "ALL")],
        10 * MB,
    ),
    "eof_inside": (
        [*HELLO, cmd("SEARCH ALL"), Send(b"* SEARCH " + NUMBERS), Close()],
        lambda M: [lambda: M.search(None, "ALL")],
        10 * MB,
    ),
    "long_tagged_line": (
        [*HELLO, cmd("NOOP"), Send(b"{tag} OK " + NUMBERS + b"\r\n")],
        lambda M: [M.noop],
        10 * MB,
    ),
    "long_untagged_without_text": (
        [*HELLO, cmd("NOOP"), Send(b"* " + b"X" * (2 * MB) + b"\r\n{tag} OK done\r\n")],
        lambda M: [M.noop],
        10 * MB,
    ),
}


@pytest.mark.parametrize("chunked", [False, True], ids=["whole", "chunked"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_long_line(name: str, chunked: bool) -> None:
    steps, calls, maxline = CASES[name]
    want = _play(STDLIB, steps, calls, maxline, chunked)
    got = _play(load_target(), steps, calls, maxline, chunked)
    assert got == want
