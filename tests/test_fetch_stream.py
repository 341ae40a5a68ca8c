"""IMAP4.fetch_stream: the streamed, pipelined FETCH (imaplib_c/_bulk.py).

A small mailbox server on 127.0.0.1 answers SELECT, NOOP, UID SEARCH and UID FETCH
from an in-memory mailbox as commands arrive (so the client may pipeline), records
how many commands were in flight at once, and can be told to fail one batch, send
BYE or EXPUNGE a message in the middle.  The reference for what the stream yields is
imaplib_c's own ``uid('FETCH', ...)``, whose data matches stdlib imaplib's (the
differential suite).
"""

from __future__ import annotations

import re
import select
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from testsupport.loopback import Reader, accepted, listener

pytestmark = pytest.mark.usefixtures("only_extension")


def message(uid: int) -> bytes:
    body = b"line %d of a message\r\n" % uid
    return b"Subject: m%d\r\n\r\n" % uid + body * (uid % 7 + 1)


@dataclass
class Mailbox:
    uids: list[int] = field(default_factory=lambda: list(range(1, 101)))
    fail_uid: int | None = None  # a UID FETCH naming it gets NO
    bye_after: int | None = None  # BYE after this many FETCH commands
    expunge_after: int | None = None  # EXPUNGE the last message after N FETCHes
    max_in_flight: int = 0
    fetches: int = 0


def _uids_of(uidset: bytes, have: list[int]) -> list[int]:
    want: set[int] = set()
    for part in uidset.split(b","):
        lo, _, hi = part.partition(b":")
        a = int(lo)
        b = max(have, default=0) if hi == b"*" else int(hi or lo)
        want.update(range(min(a, b), max(a, b) + 1))
    return [u for u in have if u in want]


class MailboxServer:
    """Answers one connection's commands from a Mailbox, in arrival order."""

    def __init__(self, box: Mailbox) -> None:
        self.box = box
        self.sock = listener(1)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        conn = accepted(conn, 10)
        reader = Reader(conn)
        conn.sendall(b"* PREAUTH [CAPABILITY IMAP4rev1] ready\r\n")
        try:
            while True:
                line = reader.line()
                if line is None:
                    return
                if b" UID FETCH " in line:
                    self._count_in_flight(conn, reader)
                if not self._answer(conn, line.rstrip(b"\r\n")):
                    return
        finally:
            conn.close()

    def _count_in_flight(self, conn: Any, reader: Reader) -> None:
        """Commands sent before this one is answered: a pipelining client has
        them on the wire within a few milliseconds."""
        time.sleep(0.01)
        ready, _, _ = select.select([conn], [], [], 0)
        waiting = conn.recv(1 << 20, socket.MSG_PEEK) if ready else b""
        n = 1 + reader.buf.count(b"\n") + waiting.count(b"\n")
        self.box.max_in_flight = max(self.box.max_in_flight, n)

    def _answer(self, conn: Any, line: bytes) -> bool:
        box = self.box
        tag, _, rest = line.partition(b" ")
        out = []
        if rest.startswith(b"UID SEARCH"):
            words = rest.split()
            if words[2] == b"UID":
                found = _uids_of(words[3], box.uids)
            else:  # a sequence set
                seqs = _uids_of(words[2], list(range(1, len(box.uids) + 1)))
                found = [box.uids[q - 1] for q in seqs]
            out.append(b"* SEARCH " + b" ".join(b"%d" % u for u in found))
        elif rest.startswith(b"UID FETCH"):
            box.fetches += 1
            uidset = rest.split()[2]
            uids = _uids_of(uidset, box.uids)
            if box.bye_after is not None and box.fetches > box.bye_after:
                conn.sendall(b"* BYE going away\r\n")
                return False
            if box.fail_uid in uids:
                conn.sendall(tag + b" NO [SERVERBUG] cannot fetch\r\n")
                return True
            for u in uids:
                m = message(u)
                seq = box.uids.index(u) + 1
                out.append(b"* %d FETCH (UID %d BODY[] {%d}\r\n" % (seq, u, len(m)) + m + b")")
            if box.expunge_after is not None and box.fetches == box.expunge_after:
                out.append(b"* %d EXPUNGE" % len(box.uids))
                box.uids.pop()
        elif rest.startswith(b"CAPABILITY"):
            out.append(b"* CAPABILITY IMAP4rev1")
        elif rest.startswith(b"LOGOUT"):
            conn.sendall(b"* BYE bye\r\n" + tag + b" OK LOGOUT done\r\n")
            return False
        out.append(tag + b" OK done")
        conn.sendall(b"".join(x + b"\r\n" for x in out))
        return True


@pytest.fixture
def box() -> Mailbox:
    return Mailbox()


@pytest.fixture
def imap(target: Any, box: Mailbox) -> Iterator[Any]:
    server = MailboxServer(box)
    m = target.IMAP4("127.0.0.1", server.port)
    m.state = "SELECTED"
    yield m
    try:
        m.shutdown()
    except OSError:
        pass


def reference(uids: list[int]) -> list[Any]:
    out: list[Any] = []
    for seq, u in enumerate(uids, 1):
        m = message(u)
        out += [(b"%d (UID %d BODY[] {%d}" % (seq, u, len(m)), m), b")"]
    return out


@pytest.mark.parametrize(("batch", "window"), [(1, 1), (7, 3), (100, 4), (1000, 2)])
def test_stream_yields_what_fetch_returns(imap: Any, box: Mailbox, batch: int, window: int) -> None:
    got = list(imap.fetch_stream("1:*", "(UID BODY[])", batch=batch, window=window))
    assert got == reference(box.uids)
    assert got == imap.uid("FETCH", "1:*", "(UID BODY[])")[1]
    batches = -(-len(box.uids) // batch)
    assert box.fetches == batches + 1  # and the reference fetch
    assert 1 <= box.max_in_flight <= window + 1


def test_pipelined(imap: Any, box: Mailbox) -> None:
    list(imap.fetch_stream("1:*", "(UID BODY[])", batch=5, window=4))
    assert box.max_in_flight >= 2  # commands went out before the answers came


def test_uid_sets_and_sequence_sets(imap: Any, box: Mailbox) -> None:
    box.uids = [3, 4, 5, 9, 20, 21]
    assert list(imap.fetch_stream("2:3", "(UID BODY[])", batch=1)) == reference(box.uids)[2:6]
    got = list(imap.fetch_stream("9:21", "(UID BODY[])", uid=True))
    heads = [h for h, _ in got[::2]]
    assert heads == [
        b"%d (UID %d BODY[] {%d}" % (q, u, len(message(u))) for q, u in [(4, 9), (5, 20), (6, 21)]
    ]


def test_no_for_one_batch_raises_after_the_others(imap: Any, box: Mailbox) -> None:
    box.fail_uid = 30
    got: list[Any] = []
    with pytest.raises(imap.error, match="FETCH command error: NO"):
        got.extend(imap.fetch_stream("1:*", "(UID BODY[])", batch=10, window=3))
    # Batches 1-2 before the NO, 4-5 already in flight with it; 6 on never sent.
    ref = reference(box.uids)
    assert got == ref[: 2 * 20] + ref[3 * 20 : 5 * 20]
    assert box.fetches == 5
    assert imap.noop()[0] == "OK"  # still in step


def test_bye_mid_stream_aborts(imap: Any, box: Mailbox) -> None:
    box.bye_after = 2
    with pytest.raises(imap.abort):
        list(imap.fetch_stream("1:*", "(UID BODY[])", batch=10, window=1))


def test_expunge_during_the_stream(imap: Any, box: Mailbox) -> None:
    box.expunge_after = 1
    want = reference(list(range(1, 100)))  # UID 100 is gone before its batch
    got = list(imap.fetch_stream("1:*", "(UID BODY[])", batch=25, window=1))
    assert got == want
    assert imap.untagged_responses.get("EXPUNGE") == [b"100"]


def test_closed_early_stays_in_step(imap: Any, box: Mailbox) -> None:
    it = imap.fetch_stream("1:*", "(UID BODY[])", batch=10, window=4)
    first = [next(it) for _ in range(3)]
    assert first == reference(box.uids)[:3]
    it.close()
    assert imap.noop()[0] == "OK"
    assert "FETCH" not in imap.untagged_responses


def test_other_command_mid_stream(imap: Any, box: Mailbox) -> None:
    it = imap.fetch_stream("1:*", "(UID BODY[])", batch=10, window=4)
    got = [next(it) for _ in range(5)]
    assert imap.noop()[0] == "OK"  # reads the batches in flight meanwhile
    got += list(it)
    assert got == reference(box.uids)


def test_select_mid_stream_is_a_clear_error(imap: Any, box: Mailbox) -> None:
    it = imap.fetch_stream("1:*", "(UID BODY[])", batch=10, window=4)
    next(it)
    imap.untagged_responses = {}  # what select() does
    with pytest.raises(imap.error, match="replaced untagged_responses"):
        list(it)
    assert imap.noop()[0] == "OK"


def test_bad_arguments(imap: Any) -> None:
    with pytest.raises(ValueError):
        next(imap.fetch_stream("1:*", "(BODY[])", window=0))


def test_uid_set_compression() -> None:
    from imaplib_c._bulk import _uid_set

    assert _uid_set([1, 2, 3, 7, 9, 10]) == "1:3,7,9:10"
    assert _uid_set([5]) == "5"
    assert re.fullmatch(r"1:1000", _uid_set(list(range(1, 1001))))
