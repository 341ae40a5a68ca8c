"""``IMAP4.append_many``: APPEND of many messages without a round trip or two each.

How, from what the server offers:

* ``LITERAL+`` (or ``LITERAL-`` for literals up to 4096 bytes, RFC 7888): each message
  is one APPEND whose literal goes out without waiting for a continuation, up to
  ``window`` commands in flight; the link stays busy.
* ``MULTIAPPEND`` (RFC 3502) without ``LITERAL+``: up to ``window`` messages in one
  APPEND; each literal still waits for its continuation, one round trip per message
  instead of two.  A MULTIAPPEND is all or nothing: when the server refuses it, the
  batch's messages are appended one by one, so one refused message does not lose the
  others.
* neither: one ``append()`` per message.

Every message goes through this interpreter's own ``append()`` first, with its
``_simple_command`` caught, so the quoting, flags, date and line ends are that
imaplib's.  In UTF-8 mode each message is one ``append()`` (the framing differs
between imaplib releases).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from imaplib_c._capabilities import offered
from imaplib_c._instance_attr import instead

#: The largest literal LITERAL- (RFC 7888) lets a client send without waiting.
LITERAL_MINUS_MAX = 4096

Result = tuple[str, list[Any]]


@dataclass
class _Message:
    """One message as this imaplib's append() would send it."""

    name: str
    args: tuple[Any, ...]  # mailbox, flags, date: None where absent
    literal: bytes


def _prepared(imap: Any, mailbox: Any, flags: Any, date_time: Any, message: Any) -> _Message:
    """Run this interpreter's append() with _simple_command caught."""
    caught: list[tuple[str, tuple[Any, ...]]] = []

    def catch(name: str, *args: Any) -> Result:
        caught.append((name, args))
        return ("OK", [None])

    with instead(imap, "_simple_command", catch):
        imap.append(mailbox, flags, date_time, message)
    literal = imap.literal
    imap.literal = None
    name, args = caught[0]
    return _Message(name, args, literal)


def _command_line(imap: Any, msg: _Message) -> tuple[bytes, bytes]:
    """(tag, line): _command() builds, checks, logs and registers the command line
    as this imaplib does; only its send is caught, so that a literal can follow."""
    sent: list[bytes] = []
    with instead(imap, "send", sent.append):
        tag = imap._command(msg.name, *msg.args)
    return tag, b"".join(sent)[:-2]


def _further(imap: Any, msg: _Message) -> bytes:
    """A MULTIAPPEND's second or later message: its flags and date, as _command
    would encode them (the mailbox is named once)."""
    encoding = getattr(imap, "_encoding", "ascii")
    parts = [a if isinstance(a, bytes) else str(a).encode(encoding) for a in msg.args[1:] if a is not None]
    return b"".join(b" " + p for p in parts)


def _nonsync_ok(imap: Any, size: int) -> bool:
    caps = getattr(imap, "capabilities", ())
    return "LITERAL+" in caps or ("LITERAL-" in caps and size <= LITERAL_MINUS_MAX)


def _literal_head(imap: Any, size: int) -> bytes:
    return (b" {%d+}\r\n" if _nonsync_ok(imap, size) else b" {%d}\r\n") % size


def _use_multiappend(imap: Any, multiappend: bool | None) -> bool:
    if multiappend is None:  # where LITERAL+ pipelines, MULTIAPPEND adds nothing
        return not offered(imap, "LITERAL+") and offered(imap, "MULTIAPPEND")
    if multiappend and not offered(imap, "MULTIAPPEND"):
        raise imap.error("append_many: the server does not offer MULTIAPPEND")
    return bool(multiappend)


class _Appender:
    """The APPEND commands in flight and the result owed to each message."""

    def __init__(self, imap: Any, window: int) -> None:
        self.imap = imap
        self.window = window
        self.results: list[Result | None] = []
        self.in_flight: deque[tuple[list[int], bytes]] = deque()

    def new_index(self) -> int:
        self.results.append(None)
        return len(self.results) - 1

    def _complete_oldest(self) -> Result:
        indices, tag = self.in_flight[0]
        imap = self.imap
        while imap.tagged_commands.get(tag) is None:
            imap._check_bye()
            imap._get_response()
        self.in_flight.popleft()
        result: Result = imap.tagged_commands.pop(tag)
        for i in indices:
            self.results[i] = result
        return result

    def drain(self) -> None:
        while self.in_flight:
            self._complete_oldest()

    def one(self, index: int, msg: _Message) -> None:
        """One message, one APPEND: pipelined where its literal need not wait."""
        imap = self.imap
        if imap.utf8_enabled or not _nonsync_ok(imap, len(msg.literal)):
            self.drain()
            imap.literal = msg.literal
            self.in_flight.append(([index], imap._command(msg.name, *msg.args)))
            self._complete_oldest()
            return
        tag, line = _command_line(imap, msg)
        self.in_flight.append(([index], tag))
        imap.send(line + _literal_head(imap, len(msg.literal)) + msg.literal + b"\r\n")
        while len(self.in_flight) >= self.window:
            self._complete_oldest()

    def multi(self, batch: list[tuple[int, _Message]]) -> None:
        """The batch in one MULTIAPPEND; if it is refused, each message alone."""
        self.drain()
        imap = self.imap
        tag, out = _command_line(imap, batch[0][1])
        self.in_flight.append(([i for i, _ in batch], tag))
        for k, (_, msg) in enumerate(batch):
            out += (_further(imap, msg) if k else b"") + _literal_head(imap, len(msg.literal))
            if not out.endswith(b"+}\r\n"):
                imap.send(out)
                out = b""
                if not self._continued(tag):
                    break  # refused: the rest of the command is never sent
            imap.send(out + msg.literal)
            out = b""
        else:
            imap.send(b"\r\n")
        if self._complete_oldest()[0] != "OK":
            for index, msg in batch:
                self.one(index, msg)

    def _continued(self, tag: bytes) -> bool:
        """Wait for the server's continuation; False if the command ended instead."""
        imap = self.imap
        while imap._get_response():  # None: a continuation request
            if imap.tagged_commands.get(tag):
                return False
        return True


def append_many(
    self: Any,
    mailbox: str,
    messages: Iterable[Any],
    flags: str | None = None,
    date_time: Any = None,
    *,
    window: int = 32,
    multiappend: bool | None = None,
) -> list[Result]:
    """APPEND every message of ``messages`` to ``mailbox``, pipelined.

    An item of ``messages`` is a message (bytes), appended with ``flags`` and
    ``date_time``, or a ``(flags, date_time, message)`` tuple with its own.
    Returns one ``(typ, data)`` per message, in order, as ``append()`` returns it; a
    message the server refuses (NO, or BAD, for which ``append()`` would raise) gets
    its ``(typ, data)`` and does not stop the others.  Where the server offers
    LITERAL+ (or LITERAL- for literals up to 4096 bytes, RFC 7888) the literals go
    out without waiting for a continuation, up to ``window`` commands in flight.
    With ``multiappend`` (default: when the server offers MULTIAPPEND, RFC 3502, but
    not LITERAL+) up to ``window`` messages go in one APPEND, and each message's
    result is that command's; a refused MULTIAPPEND is retried one message at a
    time.  Otherwise, and in UTF-8 mode, each message is one ``append()``.
    """
    if window < 1:
        raise ValueError("window must be at least 1")
    app = _Appender(self, window)
    multi = _use_multiappend(self, multiappend)
    batch: list[tuple[int, _Message]] = []
    for item in messages:
        try:
            m_flags, m_date, message = item if isinstance(item, tuple) else (flags, date_time, item)
            msg = _prepared(self, mailbox, m_flags, m_date, message)
        except Exception:
            if batch:  # what came before a bad argument is still appended
                app.multi(batch)
            app.drain()
            raise
        index = app.new_index()
        if not multi or self.utf8_enabled:
            app.one(index, msg)
            continue
        batch.append((index, msg))
        if len(batch) >= window:
            app.multi(batch)
            batch = []
    if batch:
        app.multi(batch)
    app.drain()
    return [r for r in app.results if r is not None]
