"""Local side of ``python -m imaplib_c backup``: the state file, Maildir and mbox.

Layout of a destination directory::

    DEST/.imaplib_c-backup.json     the state (one JSON object, see State)
    DEST/INBOX/{cur,new,tmp}        Maildir format: one Maildir per mailbox,
    DEST/Archive/2024/{cur,new,tmp} nested along the server's hierarchy
    DEST/INBOX.mbox (+ .mbox.idx)   mbox format: one mboxrd file per mailbox
    DEST/.uidvalidity-<N>/...       a mailbox whose UIDVALIDITY changed, moved aside

Crash safety: a Maildir message is written to tmp/, fsynced and renamed into
cur/ under a name that carries its UID and UIDVALIDITY, so the files themselves
say what is saved and a restart reconciles the state with them.  An mbox is
only appended to; the state records the byte offsets up to which the mbox and
its index are complete, and anything past them (a torn tail) is cut off on
the next start.
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATE_NAME = ".imaplib_c-backup.json"
STATE_VERSION = 1
FORMATS = ("maildir", "mbox")

# IMAP system flag <-> Maildir info letter (the letters sorted, as the spec asks).
MAILDIR_FLAGS = {
    "\\Draft": "D",
    "\\Flagged": "F",
    "\\Answered": "R",
    "\\Seen": "S",
    "\\Deleted": "T",
}
LETTER_FLAGS = {v: k for k, v in MAILDIR_FLAGS.items()}


class StoreError(Exception):
    """The destination cannot be used (another format, a damaged mbox...)."""


# ---------------------------------------------------------------- UID sets


def uids_to_text(uids: Iterable[int]) -> str:
    """{1,2,3,7} -> '1:3,7' (the state keeps UID sets this small)."""
    out: list[str] = []
    run: list[int] = []
    for u in sorted(set(uids)):
        if run and u == run[-1] + 1:
            run[-1] = u
            continue
        if run:
            out.append(f"{run[0]}:{run[1]}" if run[1] != run[0] else str(run[0]))
        run = [u, u]
    if run:
        out.append(f"{run[0]}:{run[1]}" if run[1] != run[0] else str(run[0]))
    return ",".join(out)


def text_to_uids(text: str) -> set[int]:
    out: set[int] = set()
    for part in filter(None, text.split(",")):
        lo, _, hi = part.partition(":")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


# ---------------------------------------------------------------- names


def decode_utf7(name: str) -> str:
    """RFC 3501 modified UTF-7 ('&AOk-t&AOk-' -> 'été'); undecodable stays as is."""

    def one(m: re.Match[str]) -> str:
        b64 = m.group(1)
        if not b64:
            return "&"
        raw = b64.replace(",", "/")
        try:
            return base64.b64decode(raw + "=" * (-len(raw) % 4)).decode("utf-16-be")
        except (ValueError, UnicodeDecodeError):
            return m.group(0)

    return re.sub(r"&([A-Za-z0-9+,]*)-", one, name)


def encode_utf7(name: str) -> str:
    """The inverse of decode_utf7 (for --mailbox given in Unicode)."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


_RESERVED = {"cur", "new", "tmp"}


def local_part(part: str) -> str:
    """One level of a mailbox name as a safe directory name: '%' and '/' and NUL
    are %-escaped, a leading '.' too (so names never clash with '.uidvalidity-N'
    or hidden files), and cur/new/tmp get a '%' prefix (they are Maildir's own)."""
    text = part.replace("%", "%25").replace("/", "%2F").replace("\0", "%00")
    if text.startswith("."):
        text = "%2E" + text[1:]
    if text in _RESERVED or not text:
        text = "%" + text
    return text


def local_path(decoded: str, delimiter: str | None) -> str:
    """'Archive/2024' with delimiter '/' -> 'Archive/2024' (a relative path)."""
    parts = decoded.split(delimiter) if delimiter else [decoded]
    return "/".join(local_part(p) for p in parts)


# ---------------------------------------------------------------- messages


@dataclass
class Message:
    uid: int
    flags: list[str]
    internaldate: float  # seconds since the epoch
    data: bytes


def maildir_info(flags: Iterable[str]) -> str:
    return "".join(sorted(MAILDIR_FLAGS[f] for f in flags if f in MAILDIR_FLAGS))


def _hostname() -> str:
    # Maildir: '/' and ':' in the host part are written as octal escapes.
    return socket.gethostname().replace("/", r"\057").replace(":", r"\072") or "localhost"


# <time>.<uid>_<uidvalidity>.<host>:2,<flags>
_NAME_RE = re.compile(r"^\d+\.(\d+)_(\d+)\.[^:]*(?::2,([A-Za-z]*))?$")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """tmp + fsync + rename + fsync of the directory: the old or the new file,
    never a torn one, even after a power cut."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


# ---------------------------------------------------------------- state


@dataclass
class MailboxState:
    """What is saved of one server mailbox."""

    name: str  # the server's name (modified UTF-7), as LIST gave it
    path: str  # relative to DEST: a Maildir directory, or the mbox without .mbox
    delimiter: str | None = None
    uidvalidity: int = 0
    uidnext: int = 0  # the server's UIDNEXT when every message below it was saved
    uids: set[int] = field(default_factory=set)
    mbox_size: int = 0  # mbox: bytes of the file that are complete
    index_size: int = 0  # mbox: bytes of the index that are complete

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "delimiter": self.delimiter,
            "uidvalidity": self.uidvalidity,
            "uidnext": self.uidnext,
            "uids": uids_to_text(self.uids),
            "mbox_size": self.mbox_size,
            "index_size": self.index_size,
        }

    @classmethod
    def from_json(cls, name: str, obj: dict[str, Any]) -> MailboxState:
        return cls(
            name=name,
            path=obj["path"],
            delimiter=obj.get("delimiter"),
            uidvalidity=int(obj.get("uidvalidity", 0)),
            uidnext=int(obj.get("uidnext", 0)),
            uids=text_to_uids(obj.get("uids", "")),
            mbox_size=int(obj.get("mbox_size", 0)),
            index_size=int(obj.get("index_size", 0)),
        )


class State:
    """DEST/.imaplib_c-backup.json: the format and, per server mailbox, its
    UIDVALIDITY and the UIDs saved."""

    def __init__(self, dest: Path, fmt: str) -> None:
        self.dest = dest
        self.path = dest / STATE_NAME
        self.format = fmt
        self.mailboxes: dict[str, MailboxState] = {}

    @classmethod
    def load(cls, dest: Path, fmt: str | None = None) -> State:
        """The state of dest (a new one if there is none); fmt None = any."""
        path = dest / STATE_NAME
        if not path.exists():
            if fmt is None:
                raise StoreError(f"{dest} is not a backup made by imaplib_c (no {STATE_NAME})")
            return cls(dest, fmt)
        try:
            obj = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot read {path}: {exc}") from exc
        if obj.get("version") != STATE_VERSION:
            raise StoreError(f"{path}: unknown state version {obj.get('version')!r}")
        if fmt is not None and obj["format"] != fmt:
            raise StoreError(f"{dest} holds a {obj['format']} backup, not {fmt}")
        state = cls(dest, obj["format"])
        for name, mbox in obj["mailboxes"].items():
            state.mailboxes[name] = MailboxState.from_json(name, mbox)
        return state

    def save(self) -> None:
        obj = {
            "version": STATE_VERSION,
            "format": self.format,
            "mailboxes": {n: m.to_json() for n, m in sorted(self.mailboxes.items())},
        }
        self.dest.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, json.dumps(obj, indent=1).encode() + b"\n")

    def aside(self, mbox: MailboxState) -> Path:
        """Move a mailbox's files to DEST/.uidvalidity-<old>/<path> (UIDVALIDITY
        changed: the old UIDs mean nothing now, but the files are kept)."""
        target = self.dest / f".uidvalidity-{mbox.uidvalidity}"
        for suffix in ("", ".mbox", ".mbox.idx"):
            src = self.dest / (mbox.path + suffix)
            if src.exists():
                dst = target / (mbox.path + suffix)
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
        return target


# ---------------------------------------------------------------- writers


class Writer:
    """Where one mailbox's messages go.  add() stores one; sync() makes what
    was added durable, after which the state may say so."""

    def add(self, msg: Message) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def sync(self, mbox: MailboxState) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def flush(self) -> None:
        """Wait until what was added is written (it is, here)."""

    def close(self) -> None:
        pass


class MaildirWriter(Writer):
    def __init__(self, root: Path, mbox: MailboxState) -> None:
        self.root = root
        self.uidvalidity = mbox.uidvalidity
        self.host = _hostname()
        for sub in ("cur", "new", "tmp"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        self._clean_tmp()
        mbox.uids |= self.saved_uids()

    def _clean_tmp(self) -> None:
        """Our own files left in tmp/ by a killed run are incomplete: remove them."""
        for entry in os.scandir(self.root / "tmp"):
            if _NAME_RE.match(entry.name):
                os.unlink(entry.path)

    def saved_uids(self) -> set[int]:
        """UIDs (of this UIDVALIDITY) that have a file in cur/ or new/."""
        found: set[int] = set()
        for sub in ("cur", "new"):
            for entry in os.scandir(self.root / sub):
                m = _NAME_RE.match(entry.name)
                if m and int(m.group(2)) == self.uidvalidity:
                    found.add(int(m.group(1)))
        return found

    def add(self, msg: Message) -> None:
        base = f"{int(msg.internaldate)}.{msg.uid}_{self.uidvalidity}.{self.host}"
        tmp = self.root / "tmp" / base
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(msg.data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.utime(tmp, (msg.internaldate, msg.internaldate))
        os.replace(tmp, self.root / "cur" / f"{base}:2,{maildir_info(msg.flags)}")

    def sync(self, mbox: MailboxState) -> None:
        _fsync_dir(self.root / "cur")


def _from_line(when: float) -> bytes:
    return b"From imaplib_c@backup " + time.asctime(time.gmtime(when)).encode() + b"\n"


def mboxrd_quote(data: bytes) -> bytes:
    """mboxrd: '>*From ' at a line start gets one more '>' (reversible)."""
    return re.sub(rb"(?m)^(>*From )", rb">\1", data)


def mboxrd_unquote(data: bytes) -> bytes:
    return re.sub(rb"(?m)^>(>*From )", rb"\1", data)


class MboxWriter(Writer):
    """An mboxrd file (the message bytes as the server sent them, CRLF included)
    and an index of JSON lines: uid, offset and length of the quoted message,
    flags, INTERNALDATE, so restore needs no parsing."""

    def __init__(self, base: Path, mbox: MailboxState) -> None:
        base.parent.mkdir(parents=True, exist_ok=True)
        self.mbox_path = base.with_name(base.name + ".mbox")
        self.index_path = base.with_name(base.name + ".mbox.idx")
        self.mbox = self._open_at(self.mbox_path, mbox.mbox_size)
        self.index = self._open_at(self.index_path, mbox.index_size)

    @staticmethod
    def _open_at(path: Path, size: int) -> Any:
        """Open for appending after `size` bytes, cutting off a torn tail."""
        f = open(path, "ab")  # noqa: SIM115 - closed in close()
        actual = f.seek(0, os.SEEK_END)
        if actual < size:
            f.close()
            raise StoreError(f"{path} is shorter ({actual}) than the state says ({size})")
        if actual > size:
            f.truncate(size)
            os.fsync(f.fileno())
        f.seek(size)
        return f

    def add(self, msg: Message) -> None:
        body = mboxrd_quote(msg.data)
        start = self.mbox.tell()
        self.mbox.write(_from_line(msg.internaldate) + body + b"\n")
        head = len(_from_line(msg.internaldate))
        entry = {
            "uid": msg.uid,
            "offset": start + head,
            "length": len(body),
            "flags": msg.flags,
            "internaldate": msg.internaldate,
        }
        self.index.write(json.dumps(entry).encode() + b"\n")

    def sync(self, mbox: MailboxState) -> None:
        for f in (self.mbox, self.index):
            f.flush()
            os.fsync(f.fileno())
        mbox.mbox_size = self.mbox.tell()
        mbox.index_size = self.index.tell()

    def close(self) -> None:
        self.mbox.close()
        self.index.close()


def open_writer(state: State, mbox: MailboxState) -> Writer:
    target = state.dest / mbox.path
    if state.format == "maildir":
        return MaildirWriter(target, mbox)
    return MboxWriter(target, mbox)


# ---------------------------------------------------------------- reading back


def read_messages(state: State, mbox: MailboxState) -> Iterator[Message]:
    """The messages of one backed-up mailbox, in UID order (for restore)."""
    if state.format == "maildir":
        yield from _read_maildir(state.dest / mbox.path)
    else:
        yield from _read_mbox(state.dest / mbox.path, mbox)


def _read_maildir(root: Path) -> Iterator[Message]:
    entries = []
    for sub in ("cur", "new"):
        for entry in os.scandir(root / sub):
            if entry.name.startswith("."):
                continue
            m = _NAME_RE.match(entry.name)
            uid = int(m.group(1)) if m else 0
            letters = entry.name.rpartition(":2,")[2] if ":2," in entry.name else ""
            entries.append((uid, entry.name, entry.path, letters))
    for uid, _, path, letters in sorted(entries):
        flags = [LETTER_FLAGS[c] for c in letters if c in LETTER_FLAGS]
        with open(path, "rb") as f:
            data = f.read()
        yield Message(uid, flags, os.stat(path).st_mtime, data)


def _read_mbox(base: Path, mbox: MailboxState) -> Iterator[Message]:
    mbox_path = base.with_name(base.name + ".mbox")
    index_path = base.with_name(base.name + ".mbox.idx")
    with open(index_path, "rb") as idx, open(mbox_path, "rb") as f:
        for line in idx.read(mbox.index_size).splitlines():
            entry = json.loads(line)
            f.seek(entry["offset"])
            data = mboxrd_unquote(f.read(entry["length"]))
            yield Message(entry["uid"], entry["flags"], entry["internaldate"], data)
