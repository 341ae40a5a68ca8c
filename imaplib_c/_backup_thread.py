"""The disk side of a backup in a thread of its own.

Each message is written, fsynced and renamed (Maildir) or appended (mbox); an
fsync waits for the disk, and meanwhile nothing reads the socket.  Here the
writes run in a second thread: the network and the disk overlap (both release
the GIL while they wait).  At most ``limit`` bytes of messages wait, so memory
stays bounded; the order of messages is kept; ``sync()`` and ``flush()`` wait
until everything queued is written, so the state saved after them is true.  An
error in the thread is raised in the caller at its next call.
"""

from __future__ import annotations

import threading
from collections import deque

from ._backup_store import MailboxState, Message, Writer

QUEUE_LIMIT = 32 << 20


class BackgroundWriter(Writer):
    def __init__(self, writer: Writer, limit: int = QUEUE_LIMIT) -> None:
        self.writer = writer
        self.limit = limit
        self.cond = threading.Condition()
        self.queue: deque[Message] = deque()
        self.queued = 0  # bytes in the queue
        self.error: BaseException | None = None
        self.closing = False
        self.thread = threading.Thread(target=self._run, name="imaplib_c backup writer", daemon=True)
        self.thread.start()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def add(self, msg: Message) -> None:
        with self.cond:
            while self.queue and self.queued + len(msg.data) > self.limit and self.error is None:
                self.cond.wait()
            self._raise()
            self.queue.append(msg)
            self.queued += len(msg.data)
            self.cond.notify_all()

    def flush(self) -> None:
        """Wait until every queued message is written."""
        with self.cond:
            while self.queue and self.error is None:
                self.cond.wait()
            self._raise()

    def sync(self, mbox: MailboxState) -> None:
        self.flush()
        self.writer.sync(mbox)

    def close(self) -> None:
        """Write what is queued (unless writing failed), then close the writer."""
        with self.cond:
            self.closing = True
            self.cond.notify_all()
        self.thread.join()
        self.writer.close()

    def _next(self) -> Message | None:
        with self.cond:
            while not self.queue and not self.closing:
                self.cond.wait()
            return self.queue[0] if self.queue else None

    def _run(self) -> None:
        while (msg := self._next()) is not None:
            try:
                self.writer.add(msg)
            except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread
                with self.cond:
                    self.error = exc
                    self.queue.clear()
                    self.queued = 0
                    self.cond.notify_all()
                return
            with self.cond:
                self.queue.popleft()
                self.queued -= len(msg.data)
                self.cond.notify_all()
