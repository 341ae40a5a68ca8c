"""imaplib_c/_backup_thread.py: the backup's disk writes in a thread of their own
keep the order, bound the memory, wait where the state is saved, and hand an
error to the caller."""

from __future__ import annotations

import threading
import time

import pytest

from imaplib_c._backup_store import MailboxState, Message, Writer
from imaplib_c._backup_thread import BackgroundWriter


class _Slow(Writer):
    """Records what it is given; each add() waits for `gate` (if set)."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.added: list[int] = []
        self.synced: list[int] = []
        self.gate = threading.Event()
        self.gate.set()
        self.fail_at = fail_at
        self.closed = False

    def add(self, msg: Message) -> None:
        self.gate.wait(10)
        if msg.uid == self.fail_at:
            raise OSError("disk full")
        self.added.append(msg.uid)

    def sync(self, mbox: MailboxState) -> None:
        self.synced.append(len(self.added))

    def close(self) -> None:
        self.closed = True


def _msg(uid: int, size: int = 10) -> Message:
    return Message(uid=uid, flags=[], internaldate=0.0, data=b"x" * size)


MBOX = MailboxState("INBOX", "INBOX", "/", 1)


def test_order_kept_and_sync_waits_for_the_queue() -> None:
    inner = _Slow()
    w = BackgroundWriter(inner)
    for uid in range(1, 201):
        w.add(_msg(uid))
    w.sync(MBOX)
    assert inner.added == list(range(1, 201))
    assert inner.synced == [200]  # the state may now say all 200 are saved
    w.close()
    assert inner.closed


def test_queue_is_bounded() -> None:
    inner = _Slow()
    inner.gate.clear()  # the disk is stuck
    w = BackgroundWriter(inner, limit=100)
    adder = threading.Thread(target=lambda: [w.add(_msg(u, 40)) for u in range(1, 11)])
    adder.start()
    time.sleep(0.3)
    assert w.queued <= 100 and adder.is_alive()  # the caller waits instead
    inner.gate.set()
    adder.join(10)
    w.flush()
    assert inner.added == list(range(1, 11))
    w.close()


def test_error_in_the_thread_is_raised_in_the_caller() -> None:
    inner = _Slow(fail_at=3)
    w = BackgroundWriter(inner)
    with pytest.raises(OSError, match="disk full"):
        for uid in range(1, 50):
            w.add(_msg(uid))
            time.sleep(0.001)
        w.sync(MBOX)
    assert inner.added == [1, 2] and inner.synced == []  # never said saved
    w.close()
    assert inner.closed
