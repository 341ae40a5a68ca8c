"""A small pipelining IMAP server on 127.0.0.1 over an in-memory mailbox.

It answers CAPABILITY, NOOP, UID SEARCH, UID FETCH and APPEND (with MULTIAPPEND,
RFC 3502, when offered) as commands arrive (so a client may pipeline), counts how
many commands were in flight at once, and can be told to refuse a batch or a
message, send BYE, or EXPUNGE a message in the middle.
Used by the tests of the bulk methods (tests/test_fetch_stream.py,
tests/test_append_many.py).
"""

from __future__ import annotations

import select
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from testsupport.loopback import Reader, accepted, listener


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
    literal_plus: bool = False  # offer LITERAL+ (RFC 7888)
    multiappend: bool = False  # offer MULTIAPPEND (RFC 3502)
    appended: list[bytes] = field(default_factory=list)
    reject: bytes = b"REJECT-ME"  # an APPENDed message holding this gets NO
    continuations: int = 0
    appends: int = 0  # APPEND commands
    messages_per_append: list[int] = field(default_factory=list)
    append_lines: list[bytes] = field(default_factory=list)  # each message's line part

    def capabilities(self) -> bytes:
        return (
            b"IMAP4rev1"
            + (b" LITERAL+" if self.literal_plus else b"")
            + (b" MULTIAPPEND" if self.multiappend else b"")
        )


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
        conn.sendall(b"* PREAUTH [CAPABILITY " + self.box.capabilities() + b"] ready\r\n")
        try:
            while True:
                line = reader.line()
                if line is None:
                    return
                if b" UID FETCH " in line or b" APPEND " in line:
                    self._count_in_flight(conn, reader)
                if b" APPEND " in line:
                    self._append(conn, reader, line.rstrip(b"\r\n"))
                    continue
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

    def _append(self, conn: Any, reader: Reader, line: bytes) -> None:
        """One APPEND: one message, or several with MULTIAPPEND (all or none)."""
        box = self.box
        box.appends += 1
        tag = line.split(b" ", 1)[0]
        messages: list[bytes] = []
        while True:
            box.append_lines.append(line)
            size = line[line.rindex(b"{") + 1 : -1]
            if not size.endswith(b"+"):
                if any(box.reject in m for m in messages):
                    break  # a synchronising literal: refuse before it is sent
                box.continuations += 1
                conn.sendall(b"+ go ahead\r\n")
            data = reader.exact(int(size.rstrip(b"+")))
            assert data is not None
            messages.append(data)
            line = (reader.line() or b"").rstrip(b"\r\n")
            if not line:
                break
            assert box.multiappend, "a second message without MULTIAPPEND"
        box.messages_per_append.append(len(messages))
        if any(box.reject in data for data in messages):
            conn.sendall(tag + b" NO [OVERQUOTA] refused\r\n")
            return
        first = len(box.appended) + 1
        box.appended.extend(messages)
        uids = b"%d" % first if len(messages) == 1 else b"%d:%d" % (first, len(box.appended))
        conn.sendall(tag + b" OK [APPENDUID 1 " + uids + b"] APPEND done\r\n")

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
            out.append(b"* CAPABILITY " + box.capabilities())
        elif rest.startswith(b"LOGOUT"):
            conn.sendall(b"* BYE bye\r\n" + tag + b" OK LOGOUT done\r\n")
            return False
        out.append(tag + b" OK done")
        conn.sendall(b"".join(x + b"\r\n" for x in out))
        return True
