"""Bulk operations beyond imaplib: a streamed, pipelined FETCH.

``IMAP4.fetch_stream`` fetches a large message set without holding it in memory and
without waiting a round trip per message: the set is resolved to UIDs once (UIDs,
unlike sequence numbers, do not shift under EXPUNGE), split into batches, and up to
``window`` ``UID FETCH`` commands are kept in flight.  Each response is read with
the engine's ``_get_response`` and its FETCH data handed out at once, so memory holds
about one message, whatever the mailbox size; the rest waits in the socket.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any, Union

FetchItem = Union[bytes, tuple[bytes, bytes]]


def _uid_set(uids: list[int]) -> str:
    """1,2,3,7,9,10 -> '1:3,7,9:10' (ascending runs as ranges)."""
    out: list[str] = []
    start = prev = uids[0]
    for u in uids[1:]:
        if u == prev + 1:
            prev = u
            continue
        out.append(f"{start}:{prev}" if prev != start else str(start))
        start = prev = u
    out.append(f"{start}:{prev}" if prev != start else str(start))
    return ",".join(out)


def _resolve(imap: Any, message_set: str, uid: bool) -> list[int]:
    """The UIDs of message_set (a sequence set, or a UID set with uid=True)."""
    args = ("UID", message_set) if uid else (message_set,)
    typ, dat = imap.uid("SEARCH", *args)
    if typ != "OK":
        raise imap.error(f"fetch_stream: SEARCH {typ} {dat!r}")
    found = b" ".join(d for d in dat if isinstance(d, bytes)).split()
    return sorted({int(u) for u in found})


class _Pipeline:
    """The UID FETCH commands in flight and the responses they are owed."""

    def __init__(self, imap: Any, batches: Iterator[str], parts: str, window: int) -> None:
        self.imap = imap
        self.batches = batches
        self.parts = parts
        self.window = window
        self.tags: deque[bytes] = deque()
        self.store = imap.untagged_responses

    def fill(self) -> None:
        while len(self.tags) < self.window:
            batch = next(self.batches, None)
            if batch is None:
                return
            self.tags.append(self.imap._command("UID", "FETCH", batch, self.parts))

    def replaced(self) -> bool:
        """Did another command replace untagged_responses (and our data)?"""
        return self.imap.untagged_responses is not self.store

    def step(self) -> list[FetchItem]:
        """Read one response; the FETCH data filed since the last step."""
        self.imap._check_bye()
        self.imap._get_response()
        return self.imap.untagged_responses.pop("FETCH", [])

    def first_done(self) -> tuple[str, list[Any]] | None:
        """The completion of the oldest command, once it has arrived."""
        result = self.imap.tagged_commands.get(self.tags[0])
        if result is None:
            return None
        del self.imap.tagged_commands[self.tags.popleft()]
        return result  # type: ignore[no-any-return]

    def drain(self) -> None:
        """Read what every command in flight is owed, dropping its data."""
        self.batches = iter(())
        while self.tags:
            if self.first_done() is None:
                self.step()


def fetch_stream(
    self: Any,
    message_set: str,
    message_parts: str,
    *,
    uid: bool = False,
    batch: int = 100,
    window: int = 4,
) -> Iterator[FetchItem]:
    """Fetch message_parts of every message in message_set, streamed and pipelined.

    Yields the data items that ``fetch(message_set, message_parts)`` returns
    (``(header, literal)`` tuples and ``bytes``) as they arrive.  The set (sequence
    numbers, or UIDs with ``uid=True``) is resolved to UIDs with one SEARCH, then
    fetched with ``UID FETCH`` in batches of ``batch`` messages, ``window`` commands
    in flight: memory stays at about one message.  Untagged responses other than
    FETCH (EXPUNGE, EXISTS, ...) are filed in ``untagged_responses`` as imaplib files
    them.  A NO or BAD for one batch raises ``IMAP4.error`` once the batches in flight
    are read; an iterator that is closed or dropped early reads what is in flight
    first, so the connection stays in step.  Another command may run between items
    (its responses and these are filed in order); one that replaces
    ``untagged_responses`` (SELECT) ends the iteration with ``IMAP4.error``.
    """
    if batch < 1 or window < 1:
        raise ValueError("batch and window must be at least 1")
    uids = _resolve(self, message_set, uid)
    batches = iter([_uid_set(uids[i : i + batch]) for i in range(0, len(uids), batch)])
    pipe = _Pipeline(self, batches, message_parts, window)
    failed: tuple[str, list[Any]] | None = None
    try:
        pipe.fill()
        while pipe.tags:
            if pipe.replaced():
                pipe.drain()
                raise self.error(
                    "fetch_stream: another command replaced untagged_responses "
                    "while the stream was open; its data is lost"
                )
            done = pipe.first_done()
            if done is None:
                yield from pipe.step()
                continue
            yield from self.untagged_responses.pop("FETCH", [])
            if done[0] != "OK" and failed is None:
                failed = done
                pipe.batches = iter(())
            pipe.fill()
    except GeneratorExit:
        pipe.drain()  # closed early: read what is owed, stay in step
        raise
    if failed is not None:
        raise self.error(f"FETCH command error: {failed[0]} {failed[1]!r}")
