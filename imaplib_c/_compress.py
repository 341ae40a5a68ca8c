"""COMPRESS=DEFLATE (RFC 4978): ``IMAP4.compress()`` and the socket it installs.

After the server's OK both directions are a raw deflate stream (RFC 1951) for
the rest of the connection.  ``compress()`` replaces ``self.sock`` with a
:class:`DeflateSocket` over the old socket (and ``file`` with a reader over it),
as imaplib's ``starttls`` replaces them with an SSL socket; the engine notices
the new socket and reads through it, in fast mode too (``recv_into``).  Every
byte the engine, imaplib, the debug log and IDLE see is plaintext.

A server may compress right after its OK (RFC 4978): what the engine had
already read past the tagged OK is handed to the inflater first.  A corrupt
deflate stream raises ``IMAP4.abort`` (imaplib would let an ``OSError``
through).
"""

from __future__ import annotations

import io
import zlib
from typing import Any, Callable

from ._capabilities import offered
from ._temporary_command import temporary_command

# Raw deflate, no zlib header (RFC 4978 section 4).
_WBITS = -15
# Compressed bytes read per recv on the wrapped socket.
_RAW_CHUNK = 64 << 10
_STATES = ("AUTH", "SELECTED")


class CompressError(OSError):
    """The server's deflate stream cannot be inflated."""


class _DeflateIO(io.RawIOBase):
    """A raw reader over a DeflateSocket.  ``_sock`` is the name the engine
    looks for (as in socket.SocketIO) to read the socket itself, in fast mode."""

    def __init__(self, sock: DeflateSocket) -> None:
        super().__init__()
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        return self._sock.recv_into(b)


class DeflateSocket:
    """A socket whose traffic is deflated on the wire (RFC 4978).

    Sends are compressed and flushed (Z_SYNC_FLUSH) at once, so a command is
    never held back.  A receive inflates at most the bytes asked for: what is
    left of the compressed input waits in the inflater's ``unconsumed_tail``,
    so a small compressed stream cannot blow up into memory (decompression
    bombs).  Timeouts come from the wrapped socket's recv, before the inflater
    sees anything, so a timed-out wait (IDLE) loses no state.
    """

    def __init__(
        self,
        sock: Any,
        level: int = zlib.Z_DEFAULT_COMPRESSION,
        error: Callable[[str], Exception] = CompressError,
        received: bytes = b"",
    ) -> None:
        self._sock = sock
        self._received = received  # compressed bytes read before the switch
        self._error = error  # compress() gives IMAP4.abort: imaplib lets OSError through
        self._failed: str | None = None
        self._deflater = zlib.compressobj(level, zlib.DEFLATED, _WBITS)
        self._inflater = zlib.decompressobj(_WBITS)
        # The last inflate filled its buffer: zlib may hold more output
        # even when no input is left.
        self._full = False
        self.bytes_in = 0  # compressed bytes received
        self.bytes_out = 0  # compressed bytes sent

    @property
    def raw(self) -> Any:
        """The wrapped socket."""
        return self._sock

    # -- receiving -------------------------------------------------------

    def _fail(self, why: str) -> Exception:
        self._failed = why  # every later read fails the same way
        return self._error(why)

    def _inflate(self, data: bytes, limit: int) -> bytes:
        try:
            out = self._inflater.decompress(data, limit)
        except zlib.error as exc:
            raise self._fail(f"COMPRESS: corrupt deflate stream from the server: {exc}") from None
        if self._inflater.eof and self._inflater.unused_data:
            raise self._fail("COMPRESS: data after the end of the server's deflate stream")
        self._full = len(out) == limit
        return out

    def _next(self, limit: int) -> bytes:
        """Up to ``limit`` inflated bytes, at least one; b"" at end of file."""
        if self._failed is not None:
            raise self._error(self._failed)
        while True:
            tail = self._inflater.unconsumed_tail
            if tail or self._full:
                out = self._inflate(tail, limit)
                if out:
                    return out
                if self._inflater.unconsumed_tail:
                    continue
            data, self._received = self._received or self._sock.recv(_RAW_CHUNK), b""
            if not data:
                return b""
            self.bytes_in += len(data)
            out = self._inflate(data, limit)
            if out:
                return out

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        view = memoryview(buffer).cast("B")
        limit = nbytes or len(view)
        if limit <= 0:
            return 0
        out = self._next(limit)
        view[: len(out)] = out
        return len(out)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        return self._next(bufsize) if bufsize > 0 else b""

    def makefile(
        self, mode: str = "rb", buffering: int | None = None, **_: Any
    ) -> io.BufferedReader:
        if mode not in ("r", "rb"):
            raise ValueError(f"DeflateSocket.makefile: unsupported mode {mode!r}")
        size = buffering if buffering and buffering > 0 else io.DEFAULT_BUFFER_SIZE
        return io.BufferedReader(_DeflateIO(self), size)

    # -- sending ---------------------------------------------------------

    def sendall(self, data: Any, flags: int = 0) -> None:
        out = self._deflater.compress(data) + self._deflater.flush(zlib.Z_SYNC_FLUSH)
        self.bytes_out += len(out)
        self._sock.sendall(out)

    def send(self, data: Any, flags: int = 0) -> int:
        self.sendall(data)
        return len(memoryview(data).cast("B"))

    # -- the rest is the wrapped socket's ---------------------------------

    def settimeout(self, value: float | None) -> None:
        self._sock.settimeout(value)

    def gettimeout(self) -> float | None:
        return self._sock.gettimeout()  # type: ignore[no-any-return]

    def fileno(self) -> int:
        return self._sock.fileno()  # type: ignore[no-any-return]

    def shutdown(self, how: int) -> None:
        self._sock.shutdown(how)

    def close(self) -> None:
        self._sock.close()

    def __getattr__(self, name: str) -> Any:
        # setsockopt, getpeername, getsockname, family, ...
        if name == "_sock" or name.startswith("__"):
            raise AttributeError(name)  # not set yet (copy, pickle): no recursion
        return getattr(self._sock, name)

    def __repr__(self) -> str:
        return f"<DeflateSocket over {self._sock!r}>"


# Where imaplib's starttls puts the new reader: `file` up to 3.13, `_file`
# in 3.14, `_imaplib_file` from 3.15 (`file` is a property over it then).
_FILE_ATTRS = ("_imaplib_file", "_file", "file")


def _install(imap: Any, sock: DeflateSocket) -> None:
    """Make ``sock`` the connection's, as this imaplib's starttls does for TLS."""
    from . import _stdlib

    names = _stdlib.IMAP4.starttls.__code__.co_names
    attr = next((a for a in _FILE_ATTRS if a in names), "file")
    if "_close_imaplib_file" in names:
        imap._close_imaplib_file()  # 3.15 closes the old reader (not the socket) first
    imap.sock = sock
    setattr(imap, attr, sock.makefile("rb"))


def compress(self: Any) -> tuple[str, list[Any]]:
    """Turn on COMPRESS=DEFLATE (RFC 4978) for the rest of the connection.

    Needs ``COMPRESS=DEFLATE`` in ``capabilities`` (asked for again with
    CAPABILITY when it is not there), a socket connection (not
    ``IMAP4_stream``) and the AUTH or SELECTED state; compression can be turned
    on once per connection, and STARTTLS is no longer possible afterwards.  On
    OK, ``sock`` becomes a :class:`DeflateSocket` over the old socket; a NO or
    BAD raises ``IMAP4.error`` and leaves the connection uncompressed.  Returns
    the tagged ``(typ, data)``, e.g. ``('OK', [b'DEFLATE active'])``.
    """
    from . import _stdlib

    if isinstance(self.sock, DeflateSocket):
        raise self.error("COMPRESS: compression is already active")
    if not self.sock:
        raise self.error("COMPRESS requires a socket connection")
    if not offered(self, "COMPRESS=DEFLATE"):  # Dovecot offers it after LOGIN
        raise self.error("COMPRESS=DEFLATE not supported by server")
    with temporary_command(_stdlib.Commands, "COMPRESS", _STATES):
        typ, dat = self._simple_command("COMPRESS", "DEFLATE")
    if typ != "OK":
        raise self.error(f"COMPRESS command error: {typ} {dat!r}")
    # Bytes read past the OK are the start of the compressed stream.
    received = self._imaplib_c_take_buffered()
    _install(self, DeflateSocket(self.sock, error=self.abort, received=received))
    return typ, dat
