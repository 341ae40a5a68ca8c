"""Loopback plumbing shared by the IMAP test servers and the Dovecot launcher.

There are two IMAP servers, and they stay two because they do opposite jobs:

* ``testsupport/scripted_server.py`` drives exact protocol exchanges for the
  client tests: one connection at a time, every client line checked against
  a script and every byte recorded, server output optionally cut into random
  chunks; a client that strays from the script is an error.
* ``bench/replay_server.py`` answers canned responses as fast as it can for
  the benchmarks: its own process, a thread per connection, plain and TLS,
  ``TCP_QUICKACK`` on request; it checks only what it needs to answer.

One class doing both would either check and record inside the timed server
or lose the scripted server's strictness.  What they share is here: the
listening socket on 127.0.0.1, the set-up of an accepted connection, a
buffered reader of lines and exact byte counts, and a self-signed
certificate (which ``testsupport/dovecot.py`` uses too).
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import subprocess
from pathlib import Path

HOST = "127.0.0.1"
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


def listener(backlog: int) -> socket.socket:
    """A TCP socket listening on a free port of 127.0.0.1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sock.listen(backlog)
    return sock


def free_port() -> int:
    """A port of 127.0.0.1 that was free a moment ago, for a server that binds it itself."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def accepted(conn: socket.socket, timeout: float | None = None) -> socket.socket:
    """Set up an accepted connection: no Nagle delay on what the server
    sends, and reads that time out after ``timeout`` seconds (``None``: never)."""
    conn.settimeout(timeout)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


class Reader:
    """Buffered reads from one connection: lines with their line end, and
    exact byte counts.  ``None`` means end of file (a reset connection is
    one too); socket timeouts propagate.

    Every byte received is appended to ``record`` when one is given.  With
    ``quickack`` set, ``TCP_QUICKACK`` is set before every ``recv`` (Linux
    clears it by itself), so the kernel ACKs what arrives at once.
    """

    def __init__(
        self,
        sock: socket.socket,
        *,
        record: bytearray | None = None,
        quickack: bool = False,
        chunk: int = 65536,
    ) -> None:
        self.sock = sock
        self.record = record
        self.quickack = quickack
        self.chunk = chunk
        self.buf = bytearray()

    def fill(self) -> bool:
        """Receive once into the buffer; ``False`` at end of file."""
        if self.quickack and _QUICKACK is not None:
            with contextlib.suppress(OSError):
                self.sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        try:
            data = self.sock.recv(self.chunk)
        except ConnectionResetError:
            data = b""
        if self.record is not None:
            self.record += data
        self.buf += data
        return bool(data)

    def line(self, end: bytes = b"\n") -> bytes | None:
        """The next line, up to and including ``end``."""
        start = 0
        while True:
            i = self.buf.find(end, start)
            if i >= 0:
                return self._take(i + len(end))
            start = max(0, len(self.buf) - len(end) + 1)
            if not self.fill():
                return None

    def exact(self, n: int) -> bytes | None:
        """The next ``n`` bytes."""
        while len(self.buf) < n:
            if not self.fill():
                return None
        return self._take(n)

    def unread(self, data: bytes) -> None:
        """Put ``data`` back in front of what is buffered."""
        self.buf[:0] = data

    def _take(self, n: int) -> bytes:
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data


def make_cert(
    directory: str | os.PathLike[str], name: str = "localhost", *, openssl: str = "openssl"
) -> tuple[Path, Path]:
    """Write a self-signed certificate for ``name`` and 127.0.0.1 and its
    key, ``cert.pem`` and ``key.pem`` in ``directory``, with the ``openssl``
    command; return their paths."""
    d = Path(directory)
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "30", "-subj", f"/CN={name}",
            "-addext", f"subjectAltName=DNS:{name},IP:{HOST}",
        ],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    key.chmod(0o600)
    return cert, key


def server_context(cert: str | os.PathLike[str], key: str | os.PathLike[str]) -> ssl.SSLContext:
    """A TLS server context with the certificate and key of :func:`make_cert`."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx
