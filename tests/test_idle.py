"""IMAP4.idle() as CPython 3.14 defines it, offered by imaplib_c on every version.

The expected values follow 3.14's ``test_imaplib`` idle tests: responses are
yielded in arrival order (those before the continuation first), a response with
a literal is one item, a partial line survives a read timeout, leftovers and
responses after DONE land in ``untagged_responses``.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from typing import Callable

import pytest
from conftest import load_target

mod = load_target()
pytestmark = pytest.mark.skipif(not hasattr(mod.IMAP4, "idle"), reason="no IMAP4.idle()")


def _serve(ls: socket.socket, on_idle: Callable[[socket.socket, bytes], None], caps: bytes) -> None:
    conn, _ = ls.accept()
    with conn:
        f = conn.makefile("rb")
        conn.sendall(b"* OK ready\r\n")
        while True:
            line = f.readline()
            if not line:
                return
            tag, command = line.split()[:2]
            if command == b"CAPABILITY":
                conn.sendall(b"* CAPABILITY " + caps + b"\r\n" + tag + b" OK done\r\n")
            elif command == b"IDLE":
                on_idle(conn, tag)
                if f.readline() != b"DONE\r\n":
                    return
                conn.sendall(b"* 9 RECENT\r\n" + tag + b" OK IDLE terminated\r\n")
            else:
                conn.sendall(tag + b" OK done\r\n")


def _client(on_idle: Callable[[socket.socket, bytes], None], caps: bytes = b"IMAP4rev1 IDLE"):
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen()
    t = threading.Thread(target=_serve, args=(ls, on_idle, caps), daemon=True)
    t.start()
    M = mod.IMAP4("127.0.0.1", ls.getsockname()[1])
    M.state = "AUTH"
    return M, ls, t


def _typical(conn: socket.socket, tag: bytes) -> None:
    conn.sendall(b"* 0 EXISTS\r\n+ idling\r\n* 2 EXISTS\r\n")
    time.sleep(0.05)
    # A literal-bearing response, then a line split across a pause.
    conn.sendall(b"* 1 FETCH (BODY[HEADER.FIELDS (DATE)] {5}\r\nabcde)\r\n* 3 EX")
    time.sleep(0.3)
    conn.sendall(b"ISTS\r\n")


def test_iteration_order_literals_and_partial_line() -> None:
    M, ls, t = _client(_typical)
    with M.idle(1.5) as idler:
        assert M.state == "IDLING"
        got = list(idler)
    assert got == [
        ("EXISTS", [b"0"]),
        ("EXISTS", [b"2"]),
        ("FETCH", [(b"1 (BODY[HEADER.FIELDS (DATE)] {5}", b"abcde"), b")"]),
        ("EXISTS", [b"3"]),
    ]
    assert M.state == "AUTH"
    assert M.response("RECENT") == ("RECENT", [b"9"])  # arrived after DONE
    assert "_append_untagged" not in vars(M)
    assert ("IDLE" in mod.Commands) == (sys.version_info >= (3, 14))  # as the stdlib's table
    M.shutdown()
    ls.close()
    t.join(5)


def test_leftovers_go_to_untagged_responses() -> None:
    M, ls, t = _client(lambda conn, tag: conn.sendall(b"* 4 EXISTS\r\n+ idling\r\n"))
    with M.idle(0.2):
        pass  # never iterated
    assert M.response("EXISTS") == ("EXISTS", [b"4"])
    M.shutdown()
    ls.close()
    t.join(5)


def test_burst_returns_what_is_ready() -> None:
    def on_idle(conn: socket.socket, tag: bytes) -> None:
        conn.sendall(b"+ idling\r\n* 1 EXISTS\r\n* 2 EXISTS\r\n* 1 RECENT\r\n")
        time.sleep(0.5)
        conn.sendall(b"* 5 EXISTS\r\n")

    M, ls, t = _client(on_idle)
    with M.idle(2) as idler:
        batch = list(idler.burst(0.1))
    assert batch == [("EXISTS", [b"1"]), ("EXISTS", [b"2"]), ("RECENT", [b"1"])]
    M.shutdown()
    ls.close()
    t.join(5)


def test_denied_and_missing_capability() -> None:
    def deny(conn: socket.socket, tag: bytes) -> None:
        conn.sendall(tag + b" NO not now\r\n")

    M, ls, _ = _client(deny)
    with pytest.raises(mod.IMAP4.error, match="idle denied"), M.idle():
        pass
    assert "_append_untagged" not in vars(M)
    M.shutdown()
    ls.close()

    M, ls, _ = _client(deny, caps=b"IMAP4rev1")
    with pytest.raises(mod.IMAP4.error, match="does not support IMAP4 IDLE"):
        M.idle()
    M.shutdown()
    ls.close()
