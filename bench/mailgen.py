"""Synthetic mail for the bulk benchmarks: realistic sizes *and* compressibility.

COMPRESS figures mean nothing on repeated lines (deflate shrinks them to nothing), so
a message here is what a mailbox holds: a block of Received/DKIM headers (partly
base64, which deflates poorly), a text body of word lines drawn from a large pool
(so the 32 KiB deflate window rarely sees a line twice), and for the larger messages
a base64 attachment of random bytes (incompressible beyond base64's 3/4).  Sizes: most
2-60 KB; with ``big``, one message in 200 has a 1-5 MB attachment.  Message ``i`` is
the same bytes on every run.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator

_VOCABULARY = (
    "the of and to in is that for it as was with be by on not he this are or his from at "
    "which but have an they you were her she there been one all we their has would when "
    "if so no will can more other about what out up into them only some could time these "
    "two may then do first any like now my such make over our even most me state after "
    "also made many did must before back see through way where get much go well your "
    "meeting invoice report project deadline attached please regards thanks review draft "
    "server mailbox backup schedule budget quarter customer release update question"
)
WORDS = _VOCABULARY.split()


def _pool(n: int = 20_000) -> list[bytes]:
    rng = random.Random(1)
    lines = []
    for _ in range(n):
        words = rng.choices(WORDS, k=rng.randint(8, 14))
        lines.append(" ".join(words).capitalize().encode() + b".\r\n")
    return lines


_POOL = _pool()


def _b64_lines(data: bytes) -> bytes:
    text = base64.b64encode(data)
    return b"".join(text[i : i + 76] + b"\r\n" for i in range(0, len(text), 76))


def _headers(i: int, rng: random.Random) -> bytes:
    sig = _b64_lines(rng.randbytes(192)).replace(b"\r\n", b"\r\n\t")
    hops = b"".join(
        b"Received: from mx%d.example.net (mx%d.example.net [192.0.2.%d])\r\n"
        b"\tby mail.example.org with ESMTPS id %x; Mon, %d Nov 2026 10:%02d:%02d +0000\r\n"
        % (h, h, rng.randint(1, 254), rng.getrandbits(48), 1 + i % 28, h, i % 60)
        for h in range(3)
    )
    return (
        hops
        + b"DKIM-Signature: v=1; a=rsa-sha256; d=example.net; s=s1; b="
        + sig.rstrip(b"\t")
        + b"From: Sender %d <sender%d@example.net>\r\nTo: user@example.org\r\n" % (i % 97, i % 97)
        + b"Subject: "
        + _POOL[(i * 7919) % len(_POOL)].rstrip(b"\r\n")
        + b"\r\n"
        + b"Message-ID: <%x.%d@example.net>\r\nMIME-Version: 1.0\r\n" % (rng.getrandbits(64), i)
    )


def message(i: int, big: bool) -> bytes:
    """Message i: mostly 2-60 KB, with ``big`` 1 in 200 of 1-5 MB."""
    rng = random.Random(i)
    size = rng.choice([2_000, 4_000, 8_000, 15_000, 30_000, 60_000])
    attach = size // 2 if size >= 30_000 else 0
    if big and i % 200 == 7:
        size = attach = rng.randint(1, 5) * 1_000_000
    head = _headers(i, rng)
    text = b"".join(rng.choices(_POOL, k=max(1, (size - attach - len(head)) // 80)))
    if not attach:
        return head + b"Content-Type: text/plain; charset=us-ascii\r\n\r\n" + text
    return (
        head
        + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
        + b"Content-Type: text/plain\r\n\r\n"
        + text
        + b"--b1\r\nContent-Type: application/octet-stream\r\n"
        + b"Content-Transfer-Encoding: base64\r\n\r\n"
        + _b64_lines(rng.randbytes(attach * 3 // 4))
        + b"--b1--\r\n"
    )


def mailbox(n: int, big: bool) -> Iterator[bytes]:
    """Messages 1..n, generated as they are consumed."""
    return (message(i, big) for i in range(1, n + 1))
