"""Bytes on the wire with and without COMPRESS=DEFLATE, and the client's cost.

    python3 tools/compress_measure.py [MESSAGES]

Starts a private Dovecot (testsupport/dovecot.py), gives a user MESSAGES
(default 200) mail-like text messages, and fetches the mailbox (``FETCH 1:*
(FLAGS BODY.PEEK[])``) in a plain session and in one with ``compress()``.  The
bytes are the kernel's count for the client's socket (TCP_INFO
tcpi_bytes_received / tcpi_bytes_acked, Linux), so they include the login and
every command.  CPU is the client process's time for the fetch; the inflate
rate is DeflateSocket alone over the compressed fetch stream, in memory.
"""

from __future__ import annotations

import random
import socket
import struct
import sys
import time
import zlib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import imaplib_c
from imaplib_c._compress import DeflateSocket
from testsupport.dovecot import Dovecot

# struct tcp_info (linux/tcp.h): u64 tcpi_bytes_acked at 120, tcpi_bytes_received at 128.
_TCP_INFO = getattr(socket, "TCP_INFO", 11)


def wire(sock: Any) -> tuple[int, int]:
    """(received, sent and acknowledged) bytes of the TCP connection."""
    raw = sock.raw if isinstance(sock, DeflateSocket) else sock
    info = raw.getsockopt(socket.IPPROTO_TCP, _TCP_INFO, 256)
    acked, received = struct.unpack_from("=QQ", info, 120)
    return received, acked


def mail(i: int, rng: random.Random) -> bytes:
    words = [
        "the",
        "of",
        "and",
        "to",
        "in",
        "is",
        "that",
        "for",
        "it",
        "with",
        "as",
        "was",
        "on",
        "be",
        "by",
        "this",
        "are",
        "from",
        "at",
        "or",
        "have",
    ]
    words += ["message", "server", "mailbox", "project", "meeting", "report", "thanks", "regards"]
    head = (
        f"Return-Path: <sender{i % 17}@example.org>\r\n"
        f"Received: from mx{i % 5}.example.org by imap.example.net; "
        f"Mon, {i % 28 + 1} Nov 2026 10:{i % 60:02d}:00 +0000\r\n"
        f"From: Sender {i % 17} <sender{i % 17}@example.org>\r\n"
        f"To: user@example.net\r\nSubject: Re: report {i}\r\n"
        f"Message-ID: <{rng.getrandbits(64):x}@example.org>\r\n"
        f"Date: Mon, {i % 28 + 1} Nov 2026 10:{i % 60:02d}:00 +0000\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    )
    lines = [
        " ".join(rng.choice(words) for _ in range(rng.randint(6, 14)))
        for _ in range(rng.randint(10, 120))
    ]
    return (head + "\r\n".join(lines) + "\r\n").encode()


def session(dovecot: Dovecot, user: Any, compress: bool) -> dict[str, float]:
    conn = imaplib_c.IMAP4(dovecot.host, dovecot.plain_port)
    conn.login(user.name, user.password)
    if compress:
        conn.compress()
    conn.select("INBOX")
    rx0, tx0 = wire(conn.sock)
    cpu0, t0 = time.process_time(), time.perf_counter()
    typ, dat = conn.fetch("1:*", "(FLAGS BODY.PEEK[])")
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    assert typ == "OK"
    rx, tx = wire(conn.sock)
    body = sum(len(x[1]) for x in dat if isinstance(x, tuple))
    conn.logout()
    return {"rx": rx - rx0, "tx": tx - tx0, "cpu": cpu, "wall": wall, "body": body}


def inflate_rate(plain: bytes) -> float:
    """MB/s of plaintext out of DeflateSocket.recv_into, the compressed stream in memory."""
    z = zlib.compressobj(6, zlib.DEFLATED, -15)
    data = z.compress(plain) + z.flush(zlib.Z_SYNC_FLUSH)

    class Feed:
        def __init__(self) -> None:
            self.pos = 0

        def recv(self, n: int) -> bytes:
            out = data[self.pos : self.pos + n]
            self.pos += len(out)
            return out

    best = 0.0
    buf = bytearray(256 << 10)
    for _ in range(5):
        sock = DeflateSocket(Feed())
        t0 = time.perf_counter()
        while sock.recv_into(buf):
            pass
        best = max(best, len(plain) / (time.perf_counter() - t0) / 1e6)
    return best


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rng = random.Random(4978)
    messages = [mail(i, rng) for i in range(count)]
    with Dovecot(tls=False, features=["compress", "no-auth-delay"]) as dovecot:
        if "compress" not in dovecot.features:
            sys.exit("this Dovecot has no COMPRESS")
        user = dovecot.add_user(messages=messages)
        plain = session(dovecot, user, compress=False)
        deflated = session(dovecot, user, compress=True)
    size = sum(map(len, messages))
    print(f"{count} messages, {size / 1e6:.2f} MB of mail; FETCH 1:* (FLAGS BODY.PEEK[]):")
    for name, r in (("plain", plain), ("COMPRESS", deflated)):
        print(
            f"  {name:9} received {r['rx']:>9,} B  sent {r['tx']:>6,} B  "
            f"client CPU {r['cpu'] * 1e3:6.1f} ms  wall {r['wall'] * 1e3:6.1f} ms"
        )
    print(f"  ratio received: {plain['rx'] / deflated['rx']:.2f}x")
    print(
        f"  DeflateSocket inflate alone: {inflate_rate(b''.join(messages) * 4):.0f} MB/s of plaintext"
    )


if __name__ == "__main__":
    main()
