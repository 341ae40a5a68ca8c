"""A scripted, threaded IMAP server on 127.0.0.1 for client tests.

A script is a list of steps, played in order on each accepted connection:

* ``Send(data)`` sends bytes to the client.  ``{tag}`` in ``data`` is replaced
  by the tag of the last client command, ``{prefix}`` by its letters.
* ``Expect(pattern)`` reads one client line (CRLF stripped) and requires an
  exact match; ``ExpectRe`` takes a regular expression.  ``cmd(text)`` expects
  ``<tag> text`` and captures the tag.
* ``ExpectRaw(data)`` reads exactly ``len(data)`` bytes (literal payloads).
* ``Maybe(first, *rest)`` is an optional exchange: ``first`` (an ``Expect`` or
  ``ExpectRe``) is matched against the client's next line; if it matches, the
  line is consumed and ``rest`` is played, otherwise the line is left for the
  steps that follow.  It is for what one CPython release sends and another
  does not (imaplibs with ``_refresh_capabilities()``, e.g. Debian sid's
  3.13.18, 3.14 and 3.15, ask for CAPABILITY after LOGIN unless the server's
  OK carried a ``[CAPABILITY ...]`` code), so a ``Maybe`` must be followed by
  a line the client sends in any case (or by the end of the script): it waits
  for that line, as an ``Expect`` does.
* ``Close()`` closes the connection, ``Detach()`` moves on to the next
  connection leaving this one open (closed at ``stop()``), ``Sleep(s)`` pauses, ``Signal(ev)`` sets
  a ``threading.Event`` and ``WaitFor(ev)`` blocks until the test sets one.

Everything the client sends is recorded in ``received`` (per connection in
``connections``).  A client that deviates from the script (wrong line, EOF,
silence longer than ``timeout``) makes the server record an error and close
the connection, so the client fails instead of hanging; ``check()`` (called
by the context manager) then raises ``ScriptError``.

Its sockets and reads come from ``testsupport/loopback.py``, shared with the
benchmarks' replay server (that module says why the two stay two servers).
"""

from __future__ import annotations

import random
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Union

from testsupport.loopback import Reader, accepted, listener

CRLF = b"\r\n"
TAG_RE = re.compile(rb"[A-P]+\d+")
# socket.timeout is TimeoutError from 3.10 on; on 3.9 it is only an OSError.
_TIMEOUT = (TimeoutError, socket.timeout)


class ScriptError(AssertionError):
    """The client did not follow the script."""


@dataclass(frozen=True)
class Send:
    data: bytes
    splits: tuple[int, ...] | None = None  # explicit split offsets


@dataclass(frozen=True)
class Expect:
    line: bytes


@dataclass(frozen=True)
class ExpectRe:
    pattern: bytes


@dataclass(frozen=True)
class ExpectRaw:
    data: bytes


@dataclass(frozen=True)
class Maybe:
    """An optional exchange: played only if the client's next line matches
    ``steps[0]`` (see the module docstring)."""

    steps: tuple[Step, ...]

    def __init__(self, first: Expect | ExpectRe, *rest: Step) -> None:
        if not isinstance(first, (Expect, ExpectRe)):
            raise TypeError(f"Maybe must start with Expect or ExpectRe, not {first!r}")
        object.__setattr__(self, "steps", (first, *rest))


@dataclass(frozen=True)
class Close:
    pass


@dataclass(frozen=True)
class Detach:
    """End this connection's script without waiting for the client to close."""


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Signal:
    event: threading.Event = field(compare=False)


@dataclass(frozen=True)
class WaitFor:
    event: threading.Event = field(compare=False)
    timeout: float = 10.0


Step = Union[Send, Expect, ExpectRe, ExpectRaw, Maybe, Close, Detach, Sleep, Signal, WaitFor]
_EXPECTS = (Expect, ExpectRe, ExpectRaw, Maybe)


def cmd(text: bytes | str) -> ExpectRe:
    """Expect a tagged command line ``<tag> text`` (exact text)."""
    if isinstance(text, str):
        text = text.encode()
    return ExpectRe(rb"(?P<tag>[A-P]+\d+) " + re.escape(text))


def cmd_any(*texts: bytes | str) -> ExpectRe:
    """Expect a tagged command line ``<tag> text`` for any of ``texts`` (exact
    texts): the forms different CPython releases send for one call, e.g. an
    argument that newer releases quote (``CREATE caf\xe9`` / ``CREATE "caf\xe9"``)."""
    alternatives = [t.encode() if isinstance(t, str) else t for t in texts]
    return ExpectRe(
        rb"(?P<tag>[A-P]+\d+) (?:" + b"|".join(re.escape(t) for t in alternatives) + rb")"
    )


def cmd_re(pattern: bytes) -> ExpectRe:
    """Expect a tagged command line whose text matches ``pattern``."""
    return ExpectRe(rb"(?P<tag>[A-P]+\d+) " + pattern)


def send(*lines: bytes | str) -> Send:
    """Send each line followed by CRLF."""
    out = b""
    for line in lines:
        out += (line.encode() if isinstance(line, str) else line) + CRLF
    return Send(out)


# The greeting and CAPABILITY exchange most scripts start with.
HELLO: list[Step] = [
    send(b"* OK IMAP4rev1 ready"),
    cmd("CAPABILITY"),
    send(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN", b"{tag} OK done"),
]


@dataclass
class Connection:
    received: bytearray = field(default_factory=bytearray)
    lines: list[bytes] = field(default_factory=list)
    tags: list[bytes] = field(default_factory=list)


class ScriptedServer:
    """Serve ``scripts`` (one script per connection, in order) on loopback."""

    def __init__(
        self,
        *scripts: list[Step],
        chunked: bool = False,
        seed: int = 0,
        timeout: float = 10.0,
        pace: float = 0.0002,
    ) -> None:
        self.scripts = [list(s) for s in scripts]
        self.chunked = chunked
        self.rng = random.Random(seed)
        self.timeout = timeout
        self.pace = pace
        self.connections: list[Connection] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._conn: socket.socket | None = None
        self._detached: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = listener(4)
        self._listener.settimeout(0.05)
        self.host, self.port = self._listener.getsockname()[:2]
        self._thread = threading.Thread(target=self._serve, name="scripted-imap", daemon=True)
        self._thread.start()

    # -- public API ---------------------------------------------------------

    @property
    def received(self) -> bytes:
        """Bytes the client sent, over all connections."""
        return b"".join(bytes(c.received) for c in self.connections)

    def __enter__(self) -> ScriptedServer:  # noqa: PYI034
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.stop()
        if exc_type is None:
            self.check()

    def check(self) -> None:
        if self.errors:
            raise ScriptError("; ".join(self.errors))

    def stop(self) -> None:
        """Wait for the script to end (bounded), then release everything."""
        self._thread.join(self.timeout + 2)
        if self._thread.is_alive():
            self._stop.set()
            self._force_close()
            self._thread.join(5)
        self._listener.close()
        for conn in self._detached:
            conn.close()
        if self._thread.is_alive():  # pragma: no cover - a harness bug
            raise ScriptError("scripted server thread did not stop")

    # -- internals ----------------------------------------------------------

    def _force_close(self) -> None:
        with self._lock:
            conn = self._conn
        if conn is not None:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _fail(self, msg: str) -> None:
        self.errors.append(msg)

    def _serve(self) -> None:
        try:
            self._serve_all()
        finally:
            # Refuse anything still queued so that no client waits forever.
            self._listener.close()

    def _serve_all(self) -> None:
        for index, script in enumerate(self.scripts):
            conn = self._accept()
            if conn is None:
                self._fail(f"connection {index}: client never connected")
                return
            with self._lock:
                self._conn = conn
            record = Connection()
            self.connections.append(record)
            player = _Player(self, conn, record, index)
            try:
                player.play(script)
            finally:
                with self._lock:
                    self._conn = None
                if player.detached:
                    self._detached.append(conn)
                else:
                    conn.close()
            if self.errors:
                return

    def _accept(self) -> socket.socket | None:
        deadline = time.monotonic() + self.timeout
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = self._listener.accept()
            except _TIMEOUT:
                continue
            except OSError:
                return None
            return accepted(conn, self.timeout)
        return None


class _Player:
    def __init__(
        self, server: ScriptedServer, conn: socket.socket, record: Connection, index: int
    ) -> None:
        self.server = server
        self.conn = conn
        self.record = record
        self.index = index
        self.reader = Reader(conn, record=record.received)
        self.tag = b""
        self.detached = False

    def fail(self, step_no: int, msg: str) -> None:
        self.server._fail(f"connection {self.index} step {step_no}: {msg}")

    def _chunks(self, data: bytes, splits: tuple[int, ...] | None) -> list[bytes]:
        if splits is None and not self.server.chunked:
            return [data]
        if splits is None:
            cuts: list[int] = []
            pos = 0
            top = 7 if len(data) < 4096 else max(7, len(data) // 64)
            while True:
                pos += self.server.rng.randint(1, top)
                if pos >= len(data):
                    break
                cuts.append(pos)
        else:
            cuts = sorted(s for s in splits if 0 < s < len(data))
        out, prev = [], 0
        for cut in cuts:
            out.append(data[prev:cut])
            prev = cut
        out.append(data[prev:])
        return out

    def _send(self, step: Send) -> bool:
        prefix = TAG_RE.match(self.tag)
        letters = self.tag.rstrip(b"0123456789") if prefix else b""
        data = step.data.replace(b"{tag}", self.tag).replace(b"{prefix}", letters)
        chunks = self._chunks(data, step.splits)
        for i, chunk in enumerate(chunks):
            try:
                self.conn.sendall(chunk)
            except OSError:
                return False
            if i + 1 < len(chunks) and self.server.pace:
                time.sleep(self.server.pace)
        return True

    def play(self, script: list[Step]) -> None:
        for no, step in enumerate(script):
            if self.server._stop.is_set():
                self.fail(no, "server stopped")
                return
            try:
                if not self._step(no, step, script[no + 1 :]):
                    return
            except _TIMEOUT:
                self.fail(no, f"timed out waiting for the client at {step!r}")
                return
            except OSError as exc:
                self.fail(no, f"socket error {exc!r} at {step!r}")
                return
        self._drain_after_end(len(script))

    def _step(self, no: int, step: Step, later: list[Step]) -> bool:
        """Play step number ``no``; ``later`` are the steps after it."""
        if isinstance(step, Send):
            if not self._send(step) and any(isinstance(s, _EXPECTS) for s in later):
                self.fail(no, "client closed the connection before the script ended")
                return False
            return True
        if isinstance(step, (Expect, ExpectRe)):
            line = self.reader.line()
            if line is None:
                self.fail(no, f"client closed the connection; expected {step!r}")
                return False
            if not self._take_line(step, line):
                self.record.lines.append(line)
                self.fail(no, f"client sent {line!r}; expected {step!r}")
                return False
            return True
        if isinstance(step, Maybe):
            first, rest = step.steps[0], step.steps[1:]
            line = self.reader.line()
            if line is None:  # EOF: the steps that follow report it (or accept it)
                return True
            if not self._take_line(first, line):  # assert: first is Expect or ExpectRe
                self.reader.unread(line)  # not this exchange: leave the line for the next step
                return True
            return all(self._step(no, sub, [*rest[i + 1 :], *later]) for i, sub in enumerate(rest))
        if isinstance(step, ExpectRaw):
            data = self.reader.exact(len(step.data))
            if data != step.data:
                self.fail(no, f"client sent {data!r}; expected raw {step.data!r}")
                return False
            return True
        if isinstance(step, Close):
            try:
                self.conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return False
        if isinstance(step, Detach):
            self.detached = True
            return False
        if isinstance(step, Sleep):
            time.sleep(step.seconds)
            return True
        if isinstance(step, Signal):
            step.event.set()
            return True
        if isinstance(step, WaitFor):
            if not step.event.wait(step.timeout):
                self.fail(no, "WaitFor timed out")
                return False
            return True
        raise TypeError(f"unknown step {step!r}")  # pragma: no cover

    def _take_line(self, step: Expect | ExpectRe, line: bytes) -> bool:
        """Does ``line`` (with its line end) match ``step``?  If so, record it
        (and the tag it carries)."""
        body = line[:-2] if line.endswith(CRLF) else line[:-1]
        if isinstance(step, Expect):
            ok = body == step.line and line.endswith(CRLF)
            match = None
        else:
            match = re.fullmatch(step.pattern, body, re.DOTALL)
            ok = match is not None and line.endswith(CRLF)
        if not ok:
            return False
        self.record.lines.append(line)
        if match is not None and "tag" in match.groupdict():
            self.tag = match.group("tag")
            self.record.tags.append(self.tag)
        return True

    def _drain_after_end(self, no: int) -> None:
        """After the last step, the client may only close the connection."""
        reader = self.reader
        try:
            if not reader.buf and not reader.fill():
                return  # the client closed the connection
        except _TIMEOUT:
            self.fail(no, "client did not close the connection after the script ended")
            return
        self.fail(no, f"client sent {bytes(reader.buf)!r} after the end of the script")
