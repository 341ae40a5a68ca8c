"""One fuzz input through imaplib_c's engine and through the interpreter's imaplib.

The input's first three bytes choose how the engine is driven; the rest is what the
server sends after a fixed greeting.  Both modules read the same stream from a
socketpair through their real constructors (``open()`` / ``_create_socket``), then
``_get_response()`` is called until it raises.  After every call the result, the
exception (class and message), ``untagged_responses``, ``tagged_commands``,
``continuation_response`` and every ``_mesg`` message are recorded; the two records
must be equal.  With the top bit of byte 2 set, ``_get_tagged_response(tag)`` is
called instead for each pending tag in turn, so that the engine reads the untagged
responses in between as runs (``response_run``) where it can.

* byte 0: ``_MAXLINE`` (bits 0-1), debug level 0/1/4/5 (bits 2-3), the hook the
  engine's subclass overrides, calling the engine's own (bits 4-6: none, ``readline``,
  ``read``, ``_get_line``, ``_append_untagged``; or, in both classes, an
  ``_append_untagged`` that reads a nested response from inside a literal's filing),
  whether ``tagged_commands`` is a dict subclass (bit 7);
* byte 1: how ``recv_into`` splits the stream (0: as it comes, 1: one byte at a time,
  else pseudo-random pieces up to that size), byte 2 the seed of the pieces (its top
  bit: ``_get_tagged_response`` instead of ``_get_response``).

The engine's socket is a ``socket.socket`` subclass whose ``recv_into`` returns the
chosen pieces, so the engine's handlers build imaplib's objects at every split point.
Used by ``fuzz_binding.c`` (libFuzzer, with the extension built for coverage) and by
``tests/test_binding_fuzz.py`` (its corpus and seeded inputs, every CI run).
"""

from __future__ import annotations

import imaplib
import random
import re
import socket
import sys
from typing import Any

import imaplib_c

TAGPRE = b"ABCD"
MAXLINES = (1000000, 200, 40, 12)
DEBUG_LEVELS = (0, 1, 4, 5)
HOOKS = ("", "readline", "read", "_get_line", "_append_untagged", "nested")


class Mismatch(AssertionError):
    """imaplib_c and the interpreter's imaplib did not do the same."""


class _PieceSock(socket.socket):
    """A socket whose recv_into returns the stream in chosen pieces."""

    pieces: random.Random | None = None
    limit = 0

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        n = nbytes or len(buffer)
        if self.limit == 1:
            n = 1
        elif self.limit > 1 and self.pieces is not None:
            n = min(n, self.pieces.randint(1, self.limit))
        return super().recv_into(buffer, n, flags)


def _greeting() -> bytes:
    # The constructor reads the greeting and asks for CAPABILITY with its own
    # (seeded) tag; everything after that is the fuzz input's.
    random.seed(7)
    tag = imaplib.Int2AP(random.randint(4096, 65535))
    return b"* OK ready\r\n* CAPABILITY IMAP4rev1\r\n" + tag + b"0 OK done\r\n"


class _Recorder:
    """What both classes add: a captured _mesg and a socketpair of our own."""

    stream = b""
    piece_limit = 0
    piece_seed = 0
    sock_class: type[socket.socket] = socket.socket
    mesgs: list[str]

    def _create_socket(self, timeout: Any = None) -> socket.socket:
        ours, theirs = socket.socketpair()
        theirs.sendall(self.stream)
        theirs.shutdown(socket.SHUT_WR)
        self._peer = theirs
        s = self.sock_class(ours.family, ours.type, ours.proto, fileno=ours.detach())
        if isinstance(s, _PieceSock):
            s.limit = self.piece_limit
            s.pieces = random.Random(self.piece_seed)
        s.settimeout(10)
        return s

    def open(self, host: str = "", port: int = 0, timeout: Any = None) -> None:
        random.seed(7)  # _connect() draws the tag prefix next
        super().open(host, port, timeout)  # type: ignore[misc]

    def _mesg(self, s: str, secs: Any = None) -> None:
        self.mesgs.append(s)


class _ChunkedRead:
    """The interpreter's imaplib reading a literal, minus two known differences.

    Before 3.13.x, read(size) is file.read(size), which allocates the announced size
    up to sys.maxsize at once (imaplib_c never does, gh-119511): here it reads the same
    bytes in pieces.  From 3.14, imaplib reads the socket into its own buffer and
    keeps a literal cut short by EOF there, so the next readline() returns it once
    more (imaplib_c does not: tests/imaplib_features.rereads_cut_literal): here its
    buffer gives each byte once."""

    def read(self, size: int) -> bytes:
        own: list[bytes] | None = getattr(self, "_readbuf", None)
        if own is None and size > sys.maxsize:  # OverflowError, as imaplib raises
            return super().read(size)  # type: ignore[misc,no-any-return]
        out = bytearray()
        while len(out) < size:
            want = min(size - len(out), 1 << 16)
            if own is None:
                piece = super().read(want)  # type: ignore[misc]
            elif own:
                piece = own.pop(0)
                if len(piece) > want:
                    own.insert(0, piece[want:])
                    piece = piece[:want]
            else:
                piece = self.sock.recv(want)  # type: ignore[attr-defined]
            if not piece:
                break
            out += piece
        return bytes(out)


class _AnyTag(dict):  # type: ignore[type-arg]
    def __contains__(self, key: object) -> bool:
        return isinstance(key, bytes) and key.startswith(TAGPRE)


def _make(base: type, hook: str, piece_sock: bool) -> type:
    body: dict[str, Any] = {"sock_class": _PieceSock if piece_sock else socket.socket}
    if hook == "nested":

        def nested(self: Any, typ: str, dat: Any) -> None:
            super(cls, self)._append_untagged(typ, dat)
            if isinstance(dat, tuple) and not getattr(self, "_nesting", False):
                self._nesting = True
                try:
                    self.mesgs.append(f"nested: {self._get_response()!r}")
                except (self.error, OverflowError) as exc:
                    # Passed on: a read that failed inside a response leaves the
                    # rest of it unread, and there imaplib_c refuses to go on
                    # (README, "Deliberate differences") where imaplib would
                    # parse what follows as new responses.
                    self.mesgs.append(f"nested: {type(exc).__name__} {exc}")
                    raise
                finally:
                    self._nesting = False

        body["_append_untagged"] = nested
    elif hook:

        def through(self: Any, *a: Any, _name: str = hook, **k: Any) -> Any:
            return getattr(super(cls, self), _name)(*a, **k)

        body[hook] = through
    mixins = (_Recorder,) if piece_sock else (_Recorder, _ChunkedRead)
    cls = type("Fuzzed" + base.__name__, (*mixins, base), body)
    return cls


def _snapshot(m: Any) -> tuple[Any, ...]:
    ur = {k: list(v) for k, v in m.untagged_responses.items()}
    tc = {k: v for k, v in dict(m.tagged_commands).items() if v is not None}
    return ur, tc, m.continuation_response, list(m.mesgs)


def _session(mod: Any, data: bytes, engine: bool) -> list[tuple[Any, ...]]:
    flags = data[0]
    hook = HOOKS[(flags >> 4) & 7] if (flags >> 4) & 7 < len(HOOKS) else ""
    cls = _make(mod.IMAP4, hook if engine or hook == "nested" else "", piece_sock=engine)
    cls.stream = _greeting() + data[3:]
    cls.piece_limit = data[1]
    cls.piece_seed = data[2]
    cls.mesgs = []
    m = cls("fuzz")
    m.mesgs = []
    m.debug = DEBUG_LEVELS[(flags >> 2) & 3]
    m.tagpre = TAGPRE
    m.tagre = re.compile(rb"(?P<tag>" + TAGPRE + rb"\d+) (?P<type>[A-Z]+) (?P<data>.*)", re.ASCII)
    m.untagged_responses = {}
    tags = {TAGPRE + b"%d" % i: None for i in range(10)}
    m.tagged_commands = _AnyTag(tags) if flags & 0x80 else tags
    record: list[tuple[Any, ...]] = []
    saved = imaplib._MAXLINE  # the one home of _MAXLINE, imaplib_c's too
    imaplib._MAXLINE = MAXLINES[flags & 3]
    tagged = iter(list(tags)) if data[2] & 0x80 else None
    try:
        for _ in range(10000):
            try:
                if tagged is None:
                    r = m._get_response()
                else:
                    tag = next(tagged, None)
                    if tag is None:
                        break
                    r = m._get_tagged_response(tag)
            except (mod.IMAP4.error, OverflowError) as exc:
                record.append(("raise", type(exc).__name__, str(exc), *_snapshot(m)))
                break
            record.append(("return", r, *_snapshot(m)))
            m.untagged_responses = {}
            m.mesgs = []
    finally:
        imaplib._MAXLINE = saved
        m.sock.close()
        m._peer.close()
    return record


def run(data: bytes) -> None:
    """Raise Mismatch if imaplib_c and imaplib differ on this input."""
    if len(data) < 3:
        return
    want = _session(imaplib, data, engine=False)
    got = _session(imaplib_c, data, engine=True)
    if got != want:
        for i, (g, w) in enumerate(zip(got, want)):
            if g != w:
                raise Mismatch(f"call {i}: imaplib_c {g!r}\n  imaplib {w!r}")
        raise Mismatch(f"imaplib_c made {len(got)} calls, imaplib {len(want)}")
