"""The Python side of the C-core tests: imaplib's own regexes and parser.

Renders results in exactly the text forms of csrc/core/tests/describe.h and
csrc/core/tests/event_log.h, so C output and CPython output compare as strings:

* ``describe_all(line, tagpre)`` -- the three pattern matches of one line
  (tagre / Untagged_response / Untagged_status / Continuation in imaplib's
  order, Literal, Response_code), using the compiled patterns from the
  stdlib ``imaplib`` module itself;
* ``imaplib_events(stream, maxline, tagpre)`` -- the event log that
  CPython's ``IMAP4._get_response`` produces over a byte stream.

Used by tests/test_core_c.py and csrc/core/tests/gen_cases.py; stdlib only.
"""

from __future__ import annotations

import ast
import imaplib
import io
import re
import sys

UINT64_MAX = 2**64 - 1


def esc(b: bytes) -> str:
    out = []
    for c in b:
        if c in (0x5C, 0x22):
            out.append("\\" + chr(c))
        elif 0x20 <= c < 0x7F:
            out.append(chr(c))
        else:
            out.append(f"\\x{c:02x}")
    return '"' + "".join(out) + '"'


def tagre(tagpre: bytes) -> re.Pattern[bytes]:
    # As IMAP4.__init__ compiles it (3.11).
    return re.compile(rb"(?P<tag>" + tagpre + rb"\d+) (?P<type>[A-Z]+) (?P<data>.*)", re.ASCII)


def _opt(m: re.Match[bytes], group: str, label: str) -> str:
    if m.group(group) is None:
        return f" {label}=None"
    return f" {label}@{m.start(group)}={esc(m.group(group))}"


def describe_classify(line: bytes, tagpre: bytes) -> str:
    # imaplib's tag prefix is never empty (Int2AP of a random number >= 4096).
    assert tagpre, "tagpre must be non-empty"
    if True:
        m = tagre(tagpre).match(line)
        if m:
            return (
                "TAGGED" + _opt(m, "tag", "tag") + _opt(m, "type", "type") + _opt(m, "data", "text")
            )
    m = imaplib.Untagged_response.match(line)
    if m:
        return "UNTAGGED" + _opt(m, "type", "type") + _opt(m, "data", "text")
    # The per-instance copy (self.Untagged_status, _mode_ascii).
    m = re.compile(imaplib._Untagged_status, re.ASCII).match(line)
    if m:
        return (
            "STATUS" + _opt(m, "data", "num") + _opt(m, "type", "type") + _opt(m, "data2", "text")
        )
    m = imaplib.Continuation.match(line)
    if m:
        return "CONTINUATION" + _opt(m, "data", "text")
    return "UNEXPECTED"


def describe_literal(dat: bytes) -> str:
    m = re.compile(imaplib._Literal, re.ASCII).match(dat)
    if not m:
        return "NOLITERAL"
    size = min(int(m.group("size")), UINT64_MAX)
    return f"LITERAL size={size} digits@{m.start('size')}"


def describe_respcode(dat: bytes) -> str:
    m = imaplib.Response_code.match(dat)
    if not m:
        return "NOCODE"
    return "CODE" + _opt(m, "type", "type") + _opt(m, "data", "data")


def describe_all(line: bytes, tagpre: bytes) -> str:
    return "\t".join(
        (
            describe_classify(line, tagpre),
            describe_literal(line),
            describe_respcode(line),
        )
    )


# ---------------------------------------------------------------------------
# Streams: CPython's _get_response over a byte stream.


class _AnyTag(dict):
    """tagged_commands that knows every tag and logs each completion."""

    def __init__(self, events: list[str]):
        super().__init__()
        self.events = events

    def __contains__(self, tag: object) -> bool:
        return True

    def __setitem__(self, tag: bytes, value: tuple) -> None:
        typ, (dat,) = value
        self.events.append(
            "T tag={} type={} dat={}".format(esc(tag), esc(typ.encode("ascii")), esc(dat))
        )


class _Harness(imaplib.IMAP4):
    def __init__(self, stream: bytes, tagpre: bytes):  # no connection
        self.events: list[str] = []
        self.debug = 0
        self.stream = io.BytesIO(stream)
        self.tagpre = tagpre
        self.tagre = tagre(tagpre)
        self._mode_ascii()
        self.untagged_responses = {}
        self.tagged_commands = _AnyTag(self.events)
        self.continuation_response = ""

    def _append_untagged(self, typ: str, dat: object) -> None:
        if dat is None:
            dat = b""
        t = esc(typ.encode("ascii"))
        if isinstance(dat, tuple):
            self.events.append(f"L type={t} dat={esc(dat[0])} lit={esc(dat[1])}")
        else:
            assert isinstance(dat, bytes)
            self.events.append(f"U type={t} dat={esc(dat)}")

    def _log(self, line: str) -> None:
        pass

    # The reads of imaplib up to 3.13 (file.readline(_MAXLINE + 1), then the
    # length check; file.read(size)), over the stream, on every version: 3.14
    # reads its socket itself.  What is under test is _get_response.
    def readline(self) -> bytes:
        line = self.stream.readline(imaplib._MAXLINE + 1)
        if len(line) > imaplib._MAXLINE:
            raise self.error(f"got more than {imaplib._MAXLINE} bytes")
        return line

    def read(self, size: int) -> bytes:
        # CPython passes the announced size straight to file.read(), which
        # raises OverflowError above sys.maxsize; the core saturates such a
        # size (imapc_literal_size) and reads to EOF.  Model the latter.
        return self.stream.read(min(size, sys.maxsize))


def imaplib_events(stream: bytes, maxline: int = 1000000, tagpre: bytes = b"ABCD") -> list[str]:
    """The event_log.h event log, produced by imaplib.IMAP4._get_response."""
    h = _Harness(stream, tagpre)
    saved = imaplib._MAXLINE
    imaplib._MAXLINE = maxline
    try:
        while True:
            try:
                if h._get_response() is None:
                    c = h.continuation_response
                    h.events.append("C text=None" if c is None else "C text=" + esc(c))
            except imaplib.IMAP4.abort as e:
                msg = str(e)
                if msg == "socket error: EOF":
                    h.events.append("E eof")
                    break
                for prefix, ev in (
                    ("socket error: unterminated line: ", "E unterminated "),
                    ("unexpected response: ", "E unexpected "),
                ):
                    if msg.startswith(prefix):
                        h.events.append(ev + esc(ast.literal_eval(msg[len(prefix) :])))
                        break
                else:
                    raise
            except imaplib.IMAP4.error as e:
                if not str(e).startswith("got more than "):
                    raise
                h.events.append("E toolong")
    finally:
        imaplib._MAXLINE = saved
    return h.events


def imaplib_skips_blank() -> bool:
    """Does this interpreter's imaplib skip blank lines (3.13.x+)?"""
    return imaplib_events(b"\r\n* OK x\r\n") == ['U type="OK" dat="x"', "E eof"]


def load_transcript(text: str) -> tuple[bytes, int, bytes, list[str], bool]:
    """Parse a transcript file: (stream, max, tagpre, expected, skip_blank)."""
    stream = bytearray()
    maxline, tagpre, expect, skip_blank = 1000000, b"ABCD", [], False
    for ln in text.splitlines():
        if not ln or ln.startswith("#"):
            continue
        if ln.startswith("> "):
            stream += unescape(ln[2:])
        elif ln.startswith("= "):
            expect.append(ln[2:])
        elif ln.startswith("!max "):
            maxline = int(ln[5:])
        elif ln.startswith("!tagpre "):
            tagpre = ln[8:].encode("ascii")
        elif ln == "!skip_blank":
            skip_blank = True
        else:
            raise ValueError(f"unrecognised transcript line: {ln!r}")
    return bytes(stream), maxline, tagpre, expect, skip_blank


_ESC = {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0", "\\": b"\\", '"': b'"'}


def unescape(s: str) -> bytes:
    out, i = bytearray(), 0
    while i < len(s):
        c = s[i]
        i += 1
        if c != "\\":
            out += c.encode("latin-1")
        elif s[i] == "x":
            out.append(int(s[i + 1 : i + 3], 16))
            i += 3
        else:
            out += _ESC[s[i]]
            i += 1
    return bytes(out)


def escape_stream(b: bytes) -> str:
    """Inverse of unescape for writing transcripts."""
    out = []
    for c in b:
        ch = chr(c)
        if ch == "\r":
            out.append("\\r")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\\":
            out.append("\\\\")
        elif 0x20 <= c < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\x{c:02x}")
    return "".join(out)
