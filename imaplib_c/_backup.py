"""Incremental backup of IMAP mailboxes to Maildir or mbox, and restore.

The command line is in ``_backup_cli.py`` and the local files in
``_backup_store.py``; this module talks to the server.  Per mailbox: EXAMINE
(read-only, so flags such as \\Recent are left alone) gives UIDVALIDITY and
UIDNEXT; if UIDVALIDITY is the one saved and UIDNEXT has not moved since a
complete run, nothing new can exist and nothing else is sent.  Otherwise the
UIDs below UIDNEXT that are not saved are fetched with ``fetch_stream``
(``UID FETCH`` pipelined, one message in memory at a time) and each is stored
as it arrives; the state is saved every ``checkpoint`` messages.
"""

from __future__ import annotations

import calendar
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from ._backup_store import (
    MailboxState,
    Message,
    State,
    decode_utf7,
    local_path,
    open_writer,
    read_messages,
    uids_to_text,
)
from ._backup_thread import BackgroundWriter
from ._instance_attr import instead

FETCH_PARTS = "(UID FLAGS INTERNALDATE BODY.PEEK[])"

#: Test-only hook: after storing this many messages, say "backup: paused" on
#: stderr and sleep, so a test can SIGKILL the run at a known point.
PAUSE_ENV = "IMAPLIB_C_BACKUP_TEST_PAUSE_AFTER"


class BackupError(Exception):
    """An expected failure (the server refused something): reported without a traceback."""


class Progress:
    """What the engine reports; the default reports nothing."""

    def mailbox(self, name: str, count: int) -> None:
        """Starting `name`, with `count` messages to transfer."""

    def message(self, size: int) -> None:
        """One message of `size` bytes transferred."""

    def finish(self, stats: Stats) -> None:
        """All done."""


@dataclass
class Stats:
    mailboxes: int = 0
    messages: int = 0
    bytes: int = 0
    fetch_commands: int = 0  # UID FETCH batches sent (0 on a run with nothing new)
    seconds: float = 0.0


# ---------------------------------------------------------------- talking IMAP


def quote(name: str) -> str:
    """A mailbox name as an IMAP quoted string (imaplib sends arguments as given)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def _check(imap: Any, what: str, result: tuple[str, list[Any]]) -> list[Any]:
    typ, data = result
    if typ != "OK":
        text = b" ".join(d for d in data if isinstance(d, bytes)).decode(errors="replace")
        raise BackupError(f"{what}: {typ} {text}")
    return data


_LIST_RE = re.compile(r'^\((?P<flags>[^)]*)\) (?P<delim>"(?:[^"\\]|\\.)*"|NIL) ?(?P<name>.*)$')


def list_mailboxes(imap: Any) -> list[tuple[str, str | None]]:
    """(name, delimiter) of every selectable mailbox (LIST "" "*")."""
    data = _check(imap, "LIST", imap.list('""', '"*"'))
    out = []
    for item in data:
        if item is None:
            continue
        if isinstance(item, tuple):  # the name came as a literal
            head, name = item[0].decode(), item[1].decode()
        else:
            head, name = item.decode(), None
        m = _LIST_RE.match(head)
        if not m:
            continue
        if "\\noselect" in m.group("flags").lower() or "\\nonexistent" in m.group(
            "flags"
        ).lower():
            continue
        delim = None if m.group("delim") == "NIL" else _unquote(m.group("delim"))
        out.append((name if name is not None else _unquote(m.group("name")), delim))
    return out


def _untagged_int(imap: Any, key: str) -> int:
    values = imap.untagged_responses.get(key) or [b"0"]
    return int(values[-1])


def examine(imap: Any, name: str) -> tuple[int, int]:
    """Select `name` read-only; its (UIDVALIDITY, UIDNEXT) (UIDNEXT 0 if not sent)."""
    _check(imap, f"EXAMINE {name}", imap.select(quote(name), readonly=True))
    return _untagged_int(imap, "UIDVALIDITY"), _untagged_int(imap, "UIDNEXT")


def wanted_set(saved: set[int], uidnext: int) -> str:
    """The UIDs to fetch: those below UIDNEXT not saved ('' = none).  Without
    UIDNEXT, 'N:*' past the highest saved UID (its echo is dropped when it comes)."""
    if uidnext <= 0:
        return f"{max(saved, default=0) + 1}:*"
    missing = set(range(1, uidnext)) - saved if uidnext <= 1_000_000 else None
    if missing is not None:
        return uids_to_text(missing)
    # A huge UID range: list the gaps between saved UIDs instead of every UID.
    gaps, prev = [], 0
    for u in sorted(saved):
        if u > prev + 1:
            gaps.append(f"{prev + 1}:{u - 1}" if u - 1 > prev + 1 else str(prev + 1))
        prev = u
    if prev + 1 < uidnext:
        gaps.append(f"{prev + 1}:{uidnext - 1}")
    return ",".join(gaps)


_MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}
_DATE_RE = re.compile(
    r'INTERNALDATE "\s*(\d{1,2})-(\w{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)"'
)


def parse_internaldate(text: str) -> float:
    """INTERNALDATE "17-Jul-1996 02:44:25 -0700" -> seconds since the epoch."""
    m = _DATE_RE.search(text)
    if not m:
        return time.time()
    d, mon, y, hh, mm, ss, sign, oh, om = m.groups()
    utc = calendar.timegm((int(y), _MONTHS[mon.title()], int(d), int(hh), int(mm), int(ss)))
    offset = (int(oh) * 60 + int(om)) * 60
    return float(utc - offset if sign == "+" else utc + offset)


def _parse(head: bytes, tail: bytes, data: bytes) -> Message | None:
    text = (head + b" " + tail).decode("ascii", "replace")
    uid = re.search(r"\bUID (\d+)", text)
    if uid is None:
        return None
    flags = re.search(r"\bFLAGS \(([^)]*)\)", text)
    return Message(
        uid=int(uid.group(1)),
        # \Recent belongs to a session; it cannot be stored back either.
        flags=[f for f in (flags.group(1).split() if flags else []) if f.lower() != "\\recent"],
        internaldate=parse_internaldate(text),
        data=data,
    )


def messages_of(items: Iterable[Any]) -> Iterator[Message]:
    """Messages from fetch_stream's items: a (header, literal) tuple, then the
    rest of the line (which may hold FLAGS sent after the body); a lone bytes
    item is an unsolicited FETCH (a flag change) and is skipped."""
    pending: tuple[bytes, bytes] | None = None
    for item in items:
        if isinstance(item, tuple):
            if pending is not None:
                msg = _parse(pending[0], b"", pending[1])
                if msg:
                    yield msg
            pending = item
            continue
        if pending is not None:
            msg = _parse(pending[0], item, pending[1])
            pending = None
            if msg:
                yield msg
    if pending is not None:
        msg = _parse(pending[0], b"", pending[1])
        if msg:
            yield msg


# ---------------------------------------------------------------- backup


def _pause_hook() -> int:
    raw = os.environ.get(PAUSE_ENV, "")
    return int(raw) if raw.isdigit() else 0


class _Run:
    """One backup run: the state, the counters and the checkpoints."""

    def __init__(self, imap: Any, state: State, progress: Progress, checkpoint: int) -> None:
        self.imap = imap
        self.state = state
        self.progress = progress
        self.checkpoint = max(1, checkpoint)
        self.stats = Stats()
        self.pause_after = _pause_hook()

    def mailbox(self, name: str, delimiter: str | None) -> None:
        uidvalidity, uidnext = examine(self.imap, name)
        mbox = self.state.mailboxes.get(name)
        if mbox is not None and mbox.uidvalidity != uidvalidity:
            self.state.aside(mbox)  # the old UIDs name other messages now
            mbox = None
        if mbox is None:
            path = local_path(decode_utf7(name), delimiter)
            mbox = MailboxState(name, path, delimiter, uidvalidity)
            self.state.mailboxes[name] = mbox
            self.state.save()
        self.stats.mailboxes += 1
        if uidnext and mbox.uidnext == uidnext:
            self.progress.mailbox(name, 0)
            return  # nothing new since a complete run: not even a SEARCH
        writer = BackgroundWriter(open_writer(self.state, mbox))  # disk and network overlap
        try:
            self._fetch(mbox, writer, wanted_set(mbox.uids, uidnext))
        finally:
            writer.close()
        mbox.uidnext = uidnext
        self.state.save()

    def _fetch(self, mbox: MailboxState, writer: Any, uid_set: str) -> None:
        self.progress.mailbox(mbox.name, _count(uid_set))
        if not uid_set:
            return
        items = self._counted(self.imap.fetch_stream(uid_set, FETCH_PARTS, uid=True))
        since = 0
        for msg in messages_of(items):
            if msg.uid in mbox.uids:
                continue  # 'N:*' echoes the highest UID
            writer.add(msg)
            self.stats.messages += 1
            self.stats.bytes += len(msg.data)
            self.progress.message(len(msg.data))
            mbox.uids.add(msg.uid)
            since += 1
            if since >= self.checkpoint:  # durable first, then the state says so
                writer.sync(mbox)
                self.state.save()
                since = 0
            if self.pause_after and self.stats.messages == self.pause_after:
                writer.flush()  # the test kills a run whose files are written
                sys.stderr.write("backup: paused\n")
                sys.stderr.flush()
                time.sleep(3600)
        writer.sync(mbox)

    def _counted(self, items: Iterator[Any]) -> Iterator[Any]:
        """Count the UID FETCH commands fetch_stream sends (for the figures and tests)."""
        real = self.imap._command

        def command(name: str, *args: Any) -> Any:
            if name == "UID" and args and args[0] == "FETCH":
                self.stats.fetch_commands += 1
            return real(name, *args)

        with instead(self.imap, "_command", command):
            yield from items


def _count(uid_set: str) -> int:
    """Messages in a UID set (an upper bound where it ends in '*')."""
    total = 0
    for part in filter(None, uid_set.split(",")):
        lo, _, hi = part.partition(":")
        total += 1 if hi in ("", "*") else int(hi) - int(lo) + 1
    return total


def select_mailboxes(
    available: list[tuple[str, str | None]], wanted: list[str] | None
) -> list[tuple[str, str | None]]:
    """The mailboxes named in `wanted` (by server name or decoded), or all."""
    if not wanted:
        return available
    out: list[tuple[str, str | None]] = []
    for want in wanted:
        found = [m for m in available if want in (m[0], decode_utf7(m[0]))]
        if not found:
            raise BackupError(f"no mailbox {want!r} on the server")
        out.extend(f for f in found if f not in out)
    return out


def backup(
    imap: Any,
    dest: str | os.PathLike[str],
    *,
    mailboxes: list[str] | None = None,
    fmt: str = "maildir",
    progress: Progress | None = None,
    checkpoint: int = 100,
) -> Stats:
    """Back up `mailboxes` (all if None) of the logged-in `imap` into `dest`."""
    start = time.monotonic()
    progress = progress or Progress()
    state = State.load(Path(dest), fmt)
    run = _Run(imap, state, progress, checkpoint)
    failed: list[str] = []
    for name, delim in select_mailboxes(list_mailboxes(imap), mailboxes):
        try:
            run.mailbox(name, delim)
        except BackupError as exc:  # one refused mailbox does not stop the others
            failed.append(str(exc))
    if imap.state == "SELECTED":
        imap.close()
    run.stats.seconds = time.monotonic() - start
    progress.finish(run.stats)
    if failed:
        raise BackupError(f"{len(failed)} mailbox(es) not backed up: " + "; ".join(failed))
    return run.stats


# ---------------------------------------------------------------- restore


def _ensure_mailbox(imap: Any, name: str) -> None:
    typ, data = imap.list('""', quote(name))
    if typ == "OK" and any(d is not None for d in data):
        return
    _check(imap, f"CREATE {name}", imap.create(quote(name)))


T = TypeVar("T")

# Messages per append_many call: pipelined within, progress shown between.
RESTORE_CHUNK = 200


def _chunks(items: Iterable[T], n: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == n:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _when(internaldate: float) -> datetime:
    return datetime.fromtimestamp(internaldate, timezone.utc)


def _flag_text(flags: list[str]) -> str | None:
    kept = [f for f in flags if f.lower() != "\\recent"]
    return "(" + " ".join(kept) + ")" if kept else None


def restore(
    imap: Any,
    source: str | os.PathLike[str],
    *,
    mailboxes: list[str] | None = None,
    progress: Progress | None = None,
) -> Stats:
    """Upload a backup made by backup() into the mailboxes of the same names,
    creating them as needed; flags and INTERNALDATE are kept."""
    start = time.monotonic()
    progress = progress or Progress()
    state = State.load(Path(source))
    stats = Stats()
    chosen = select_mailboxes([(m.name, m.delimiter) for m in state.mailboxes.values()], mailboxes)
    for name, _ in chosen:
        mbox = state.mailboxes[name]
        _ensure_mailbox(imap, name)
        stats.mailboxes += 1
        progress.mailbox(name, len(mbox.uids))
        for chunk in _chunks(read_messages(state, mbox), RESTORE_CHUNK):
            items = [(_flag_text(m.flags), _when(m.internaldate), m.data) for m in chunk]
            results = imap.append_many(quote(name), items)
            for msg, result in zip(chunk, results):
                _check(imap, f"APPEND {name}", result)
                stats.messages += 1
                stats.bytes += len(msg.data)
                progress.message(len(msg.data))
    stats.seconds = time.monotonic() - start
    progress.finish(stats)
    return stats
