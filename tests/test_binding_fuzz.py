"""The binding fuzzer's harness in every run: its corpus and seeded variations.

``csrc/binding/fuzz/binding_harness.py`` drives imaplib_c's engine and the
interpreter's imaplib over the same server stream (split by ``recv_into`` at chosen
points, each hook overridden in turn, debug levels 0-5) and raises if any result,
exception, filed response or debug message differs.  libFuzzer runs it with coverage
(``tools/fuzz-binding.sh``); here its corpus, including the inputs it found, is
replayed, plus variations of it drawn from a fixed seed.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import TARGET_IS_STDLIB

FUZZ = Path(__file__).resolve().parent.parent / "csrc" / "binding" / "fuzz"
sys.path.insert(0, str(FUZZ))

import binding_harness as harness

CORPUS = sorted((FUZZ / "corpus").iterdir())

pytestmark = pytest.mark.skipif(TARGET_IS_STDLIB, reason="compares imaplib_c with imaplib")


def test_corpus_present() -> None:
    assert len(CORPUS) >= 40
    assert any(p.name.startswith("regress-") for p in CORPUS)


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_corpus(path: Path) -> None:
    harness.run(path.read_bytes())


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_corpus_through_get_tagged_response(path: Path) -> None:
    """The same streams read by _get_tagged_response: runs of untagged responses."""
    data = path.read_bytes()
    if len(data) >= 3:
        harness.run(data[:2] + bytes([data[2] ^ 0x80]) + data[3:])


def _mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.random()
        pos = rng.randrange(len(b) + 1)
        if op < 0.3 and b:
            del b[pos : pos + rng.randint(1, 8)]
        elif op < 0.6:
            b[pos:pos] = rng.choice(
                [b"\r\n", b"{5}\r\n", b"(", b")", b"\n", b"* ", b"ABCD3 OK ", b" "]
            )
        elif b:
            b[min(pos, len(b) - 1)] = rng.randrange(256)
    b[0:3] = bytes(rng.randrange(256) for _ in range(3))
    return bytes(b)


def test_seeded_variations() -> None:
    rng = random.Random(20261130)
    seeds = [p.read_bytes() for p in CORPUS]
    for _ in range(150):
        harness.run(_mutate(rng, rng.choice(seeds)))


def test_harness_sees_a_difference(monkeypatch: pytest.MonkeyPatch) -> None:
    """A harness that cannot fail proves nothing: a changed filing is caught."""

    class Drops(harness.imaplib_c.IMAP4):  # type: ignore[misc,name-defined]
        def _append_untagged(self, typ: str, dat: Any) -> None:
            if typ != "FETCH":
                super()._append_untagged(typ, dat)

    monkeypatch.setattr(harness.imaplib_c, "IMAP4", Drops)
    with pytest.raises(harness.Mismatch):
        harness.run(b"\x00\x00\x00* 1 FETCH (FLAGS ())\r\nABCD1 OK done\r\n")
    with pytest.raises(harness.Mismatch):  # ... and read by _get_tagged_response
        harness.run(b"\x00\x00\x80* 1 FETCH (FLAGS ())\r\nABCD0 OK done\r\n")
