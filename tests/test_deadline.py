"""The opt-in command deadline (``IMAP4.deadline``, seconds; None: off).

A per-recv socket timeout cannot stop a server that drips: each byte resets it.
With ``deadline`` set, a command must have read its whole response within that many
seconds of its start; when it has not, it ends with ``IMAP4.abort`` and the
connection is broken, never read on half-way.  Off by default, so imaplib's
behaviour is unchanged.
"""

from __future__ import annotations

import random
import socket
import time
from typing import Any

import pytest

from testsupport.scripted_server import HELLO, ScriptedServer, Send, Sleep, Step, cmd

pytestmark = pytest.mark.usefixtures("only_extension")

BODY = b"0123456789" * 3


def drip(pause: float) -> list[Step]:
    """A FETCH whose literal comes one byte at a time, `pause` apart."""
    steps: list[Step] = [cmd("FETCH 1 (BODY[])"), Send(b"* 1 FETCH (BODY[] {%d}\r\n" % len(BODY))]
    for i in range(len(BODY)):
        steps += [Send(BODY[i : i + 1]), Sleep(pause)]
    return [*steps, Send(b")\r\n{tag} OK done\r\n")]


def connect(target: Any, steps: list[Step]) -> tuple[Any, ScriptedServer]:
    server = ScriptedServer([*HELLO, *steps], timeout=20)
    random.seed(7)
    m = target.IMAP4("127.0.0.1", server.port)
    m.state = "SELECTED"
    return m, server


def test_off_by_default(target: Any) -> None:
    m, server = connect(target, drip(0.01))
    try:
        assert m.deadline is None
        assert m.fetch("1", "(BODY[])") == ("OK", [(b"1 (BODY[] {30}", BODY), b")"])
    finally:
        m.shutdown()
        server.stop()


def test_drip_ends_at_the_deadline(target: Any) -> None:
    m, server = connect(target, drip(0.1))  # 3 s of dripping
    m.deadline = 0.5
    try:
        t0 = time.monotonic()
        with pytest.raises(m.abort, match="deadline expired"):
            m.fetch("1", "(BODY[])")
        took = time.monotonic() - t0
        assert 0.45 <= took < 1.5, took
        with pytest.raises(m.abort):  # broken: never read on half-way
            m.noop()
    finally:
        m.shutdown()
        server.stop()


def test_deadline_is_per_command(target: Any) -> None:
    m, server = connect(target, [*drip(0.02), cmd("NOOP"), Send(b"{tag} OK done\r\n")])
    m.deadline = 2.0  # each command well inside it
    try:
        assert m.fetch("1", "(BODY[])")[0] == "OK"
        assert m.noop()[0] == "OK"
    finally:
        m.shutdown()
        server.stop()


def test_silent_server_ends_at_the_deadline_not_the_socket_timeout(target: Any) -> None:
    m, server = connect(target, [cmd("NOOP"), Sleep(3), Send(b"{tag} OK done\r\n")])
    m.sock.settimeout(30)
    m.deadline = 0.3
    try:
        t0 = time.monotonic()
        with pytest.raises(m.abort, match="deadline expired"):
            m.noop()
        assert time.monotonic() - t0 < 1.5
        assert m.sock.gettimeout() == 30  # put back
    finally:
        m.shutdown()
        server.stop()


def test_bad_value(target: Any) -> None:
    m, server = connect(target, [cmd("NOOP"), Send(b"{tag} OK done\r\n")])
    m.deadline = "soon"
    try:
        with pytest.raises(TypeError, match="deadline"):
            m.noop()
        m.deadline = None
        assert m.noop()[0] == "OK"
    finally:
        m.shutdown()
        server.stop()


class _RestoreFails(socket.socket):
    """A socket whose settimeout() fails when the deadline's wait puts the old
    timeout back, after a recv() that did receive bytes."""

    armed = False

    def settimeout(self, value: float | None) -> None:
        if self.armed and value == 30:
            raise OSError("settimeout failed")
        super().settimeout(value)


def test_bytes_lost_to_a_failed_timeout_restore_break_the_connection(target: Any) -> None:
    steps = [cmd("NOOP"), Send(b"{tag} OK done\r\n"), cmd("NOOP"), Send(b"{tag} OK two\r\n")]
    m, server = connect(target, steps)
    m.sock.settimeout(30)
    sock = _RestoreFails(fileno=m.sock.detach())
    sock.settimeout(30)
    m.sock = sock
    if "file" in vars(m):  # up to 3.13 (later, file is a property over sock)
        m.file = sock.makefile("rb")
    m.deadline = 5
    sock.armed = True
    try:
        with pytest.raises(OSError, match="settimeout failed"):
            m.noop()  # its OK arrived and is lost with the error
        sock.armed = False
        with pytest.raises(m.abort):  # never the next response read as this one's
            m.noop()
    finally:
        m.shutdown()
        server.stop()
