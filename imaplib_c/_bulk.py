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
from contextlib import contextmanager
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


# ---------------------------------------------------------------- APPEND

#: The largest literal LITERAL- (RFC 7888) lets a client send without waiting.
LITERAL_MINUS_MAX = 4096


@contextmanager
def _instead(imap: Any, name: str, value: Any) -> Iterator[None]:
    """imap.<name> is `value` for a moment; an override of the instance's own
    (imap.send = f) is put back afterwards, not deleted."""
    own = vars(imap)
    saved = own.get(name, _NONE)
    setattr(imap, name, value)
    try:
        yield
    finally:
        if saved is _NONE:
            delattr(imap, name)
        else:
            setattr(imap, name, saved)


_NONE = object()


def _prepared(imap: Any, mailbox: Any, flags: Any, date_time: Any, message: bytes) -> tuple:
    """What this interpreter's append() would send: (name, args, literal).

    Its own append() runs with _simple_command caught, so the mailbox quoting, the
    flags, the date and the line ends are this imaplib's, whatever its version."""
    caught: list[tuple[Any, ...]] = []

    def catch(name: str, *args: Any) -> tuple[str, list[None]]:
        caught.append((name, args))
        return ("OK", [None])

    with _instead(imap, "_simple_command", catch):
        imap.append(mailbox, flags, date_time, message)
    literal = imap.literal
    imap.literal = None
    (name, args) = caught[0]
    return name, args, literal


def _command_line(imap: Any, name: str, args: tuple) -> tuple[bytes, bytes]:
    """(tag, line): _command() builds, checks, logs and registers the command line
    as this imaplib does; only its send is caught, to add a non-synchronising
    literal to it."""
    sent: list[bytes] = []
    with _instead(imap, "send", sent.append):
        tag = imap._command(name, *args)
    return tag, b"".join(sent)[:-2]


def _nonsync_ok(imap: Any, size: int) -> bool:
    caps = getattr(imap, "capabilities", ())
    return "LITERAL+" in caps or ("LITERAL-" in caps and size <= LITERAL_MINUS_MAX)


def append_many(
    self: Any,
    mailbox: str,
    messages: Any,
    flags: str | None = None,
    date_time: Any = None,
    *,
    window: int = 32,
) -> list[tuple[str, list[Any]]]:
    """APPEND every message of ``messages`` to ``mailbox``, pipelined.

    Returns one ``(typ, data)`` per message, in order, as ``append()`` returns it; a
    message the server refuses (NO, or BAD, for which ``append()`` would raise) gets
    its ``(typ, data)`` and does not stop the others.  Where the server offers
    LITERAL+ (or LITERAL- for literals up to 4096 bytes, RFC 7888) the literals go
    out without waiting for a continuation, up to ``window`` commands in flight, so
    the link is kept busy instead of waiting two round trips per message; otherwise
    each message is one ``append()``.  In UTF-8 mode each message is one
    ``append()`` too (its framing differs between imaplib releases).
    """
    if window < 1:
        raise ValueError("window must be at least 1")
    results: list[tuple[str, list[Any]] | None] = []
    in_flight: deque[tuple[int, bytes]] = deque()

    def complete_oldest() -> None:
        index, tag = in_flight[0]
        while self.tagged_commands.get(tag) is None:
            self._check_bye()
            self._get_response()
        in_flight.popleft()
        results[index] = self.tagged_commands.pop(tag)

    for message in messages:
        try:
            name, args, literal = _prepared(self, mailbox, flags, date_time, message)
        except Exception:
            while in_flight:  # a bad argument: the commands sent still get read
                complete_oldest()
            raise
        results.append(None)
        if self.utf8_enabled or not _nonsync_ok(self, len(literal)):
            while in_flight:
                complete_oldest()
            self.literal = literal
            in_flight.append((len(results) - 1, self._command(name, *args)))
            complete_oldest()
            continue
        tag, line = _command_line(self, name, args)
        in_flight.append((len(results) - 1, tag))
        self.send(line + b" {%d+}\r\n" % len(literal) + literal + b"\r\n")
        while len(in_flight) >= window:
            complete_oldest()
    while in_flight:
        complete_oldest()
    return [r for r in results if r is not None]
