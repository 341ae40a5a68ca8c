"""The pure-C core (csrc/core/) under pytest, with CPython as the oracle.

* ``make ctest`` and ``make fuzz-replay`` (gcc by default; ``CC`` overrides),
  built into a temporary directory from csrc/core/ alone -- no Python.h.
* csrc/core/tests/cases_gen.h is up to date with what CPython's regexes say.
* Differential, lines: thousands of random lines through the C classifier,
  literal and response-code scanners (csrc/core/tests/oracle.c) and through
  imaplib's own compiled patterns; the renderings must be equal.
* Differential, streams: every transcript's expected event log is what
  CPython's IMAP4._get_response produces; random server streams give the
  same event log from the C framer (fed in random pieces) and from CPython.

Skips cleanly when no C compiler or make is available.
``IMAPC_DIFF_SCALE=10`` multiplies the random case counts.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CDIR = REPO / "csrc" / "core" / "tests"
sys.path.insert(0, str(CDIR))

import imaplib_oracle as oracle

SKIPS_BLANK = oracle.imaplib_skips_blank()
SCALE = max(1, int(os.environ.get("IMAPC_DIFF_SCALE", "1")))


def _find_cc() -> str | None:
    for cc in (os.environ.get("CC"), "gcc", "cc", "clang"):
        if cc and shutil.which(cc):
            return cc
    return None


CC = _find_cc()
MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(CC is None or MAKE is None, reason="needs a C compiler and make")


def _make(build: Path, *targets: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            MAKE,
            "--no-print-directory",
            "-C",
            str(REPO),
            "CC=" + str(CC),
            "TB=" + str(build / "c"),
            "FB=" + str(build / "fuzz"),
            *targets,
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private build directory (nothing is written into the source tree)."""
    d = tmp_path_factory.mktemp("imapc-build")
    r = _make(d, "ctest-build", "oracle")
    if r.returncode != 0:
        pytest.fail("building the C tests failed:\n" + r.stdout + r.stderr)
    return d


@pytest.fixture(scope="module")
def oracle_bin(build: Path) -> Path:
    return build / "c" / "oracle"


def test_make_ctest(build: Path) -> None:
    r = _make(build, "ctest")
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    m = re.search(r"TOTAL: (\d+) passed, (\d+) failed", out)
    assert m, out
    assert int(m.group(2)) == 0, out
    assert int(m.group(1)) >= 250, out
    assert "not ok" not in out, out


def test_make_fuzz_replay(build: Path) -> None:
    r = _make(build, "fuzz-replay")
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    counts = [int(n) for n in re.findall(r"replayed (\d+) inputs", out)]
    assert len(counts) == 2 and all(n > 0 for n in counts), out


def test_generated_tables_are_fresh() -> None:
    r = subprocess.run(
        [sys.executable, str(CDIR / "gen_cases.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stderr


# ---------------------------------------------------------------------------
# Differential: lines

PIECES = [
    b"*",
    b" ",
    b"+",
    b"ABCD",
    b"PPPP",
    b"B",
    b"1",
    b"42",
    b"007",
    b"OK",
    b"NO",
    b"BAD",
    b"FETCH",
    b"EXISTS",
    b"ok",
    b"-",
    b"[",
    b"]",
    b"{",
    b"}",
    b"5",
    b"0",
    b"99999999999999999999",
    b"FLAGS (",
    b"FLAGS",
    b"(",
    b")",
    b"\\Seen",
    b"\n",
    b"\r",
    b"\x00",
    b"\xff",
    b"\x80",
    b"a",
    b'INTERNALDATE "',
    b'17-Jul-1996 02:44:25 -0700"',
    b' 1-Jan-2000 00:00:00 +0000"',
    b"Foo",
    b"READ-WRITE",
    b"UIDVALIDITY",
    b'"',
    b"~",
    b"X-GM",
]


def random_line(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.1:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 40)))
    if kind < 0.2:
        return bytes(rng.choice(b"* +{}[]()0123456789AB-\n") for _ in range(rng.randint(0, 20)))
    parts = [rng.choice(PIECES) for _ in range(rng.randint(0, 14))]
    if rng.random() < 0.3:  # a plausible head
        parts.insert(0, rng.choice([b"* ", b"ABCD1 ", b"+ ", b"* 1 ", b"[", b"PPPP7 "]))
    return b"".join(parts)


@pytest.mark.parametrize("tagpre", [b"ABCD", b"PPPP", b"B"])
def test_differential_lines(oracle_bin: Path, tagpre: bytes) -> None:
    rng = random.Random(0x1A9 + len(tagpre) + tagpre[0])
    lines = [random_line(rng) for _ in range(4000 * SCALE)]
    payload = b"".join(struct.pack("<I", len(ln)) + ln for ln in lines)
    r = subprocess.run(
        [str(oracle_bin), "lines", tagpre.decode()],
        input=payload,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    got = r.stdout.decode("ascii").split("\n")[:-1]
    assert len(got) == len(lines)
    bad = [(ln, g, w) for ln, g in zip(lines, got) if g != (w := oracle.describe_all(ln, tagpre))]
    examples = "\n".join(f"line {ln!r}\n  C:  {g}\n  re: {w}" for ln, g, w in bad[:5])
    assert not bad, (
        f"C and imaplib's regexes differ on {len(bad)} of {len(lines)} lines, e.g.:\n{examples}"
    )


# ---------------------------------------------------------------------------
# Differential: streams

TRANSCRIPTS = sorted((CDIR / "transcripts").glob("*.txt"))


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_transcript_matches_cpython(path: Path) -> None:
    """The expected log in each transcript is what CPython's imaplib does."""
    stream, maxline, tagpre, expect, skip_blank = oracle.load_transcript(path.read_text())
    got = oracle.imaplib_events(stream, maxline, tagpre)
    if skip_blank != SKIPS_BLANK and got != expect:
        pytest.skip(f"written for an imaplib that {'skips' if skip_blank else 'keeps'} blank lines")
    assert got == expect


def test_transcripts_present() -> None:
    assert len(TRANSCRIPTS) >= 8


def random_stream(rng: random.Random) -> bytes:
    out = []
    for _ in range(rng.randint(1, 12)):
        k = rng.random()
        if k < 0.35:  # untagged, maybe with literals (right or wrong sizes)
            head = rng.choice(
                [
                    b"* 1 FETCH (BODY[] ",
                    b"* OK ",
                    b'* LIST () "/" ',
                    b"* 3 FETCH ",
                    b"* NO [ALERT ",
                    b"* X-Y ",
                ]
            )
            n = rng.randint(0, 3)
            line = head
            for _ in range(n):
                body = bytes(rng.choice(b"ab\r\n{}* 0") for _ in range(rng.randint(0, 12)))
                size = len(body) + (rng.choice([0, 0, 0, -1, 1, 5]) if rng.random() < 0.3 else 0)
                line += b"{%d}\r\n" % max(size, 0) + body + rng.choice([b" X ", b"", b")"])
            out.append(line + rng.choice([b"\r\n", b"\r\n", b"\n", b""]))
        elif k < 0.55:
            out.append(
                rng.choice([b"ABCD", b"PPPP", b"ABC"])
                + b"%d " % rng.randint(0, 99)
                + rng.choice([b"OK", b"NO", b"BAD", b"ok"])
                + rng.choice([b" ", b""])
                + rng.choice([b"[READ-WRITE] done", b"[A b] c] d", b"x", b""])
                + b"\r\n"
            )
        elif k < 0.65:
            out.append(rng.choice([b"+", b"+ ", b"+abc", b"+ go"]) + b"\r\n")
        elif k < 0.8:
            out.append(
                b"".join(rng.choice(PIECES) for _ in range(rng.randint(0, 10)))
                + rng.choice([b"\r\n", b"\n"])
            )
        else:
            out.append(bytes(rng.randrange(256) for _ in range(rng.randint(0, 30))))
    return b"".join(out)


def test_differential_streams(oracle_bin: Path) -> None:
    rng = random.Random(4242)
    failures = []
    n = 400 * SCALE
    for i in range(n):
        stream = random_stream(rng)
        maxline = rng.choice([1000000, 1000000, 64, 24, 16, 8, 3, 1, 0])
        tagpre = rng.choice([b"ABCD", b"PPPP"])
        seed = rng.choice([0, rng.randrange(1, 2**32)])
        want = oracle.imaplib_events(stream, maxline, tagpre)
        r = subprocess.run(
            [str(oracle_bin), "stream", str(maxline), tagpre.decode(), str(seed), str(int(SKIPS_BLANK))],
            input=stream,
            capture_output=True,
            timeout=60,
            check=False,
        )
        got = r.stdout.decode("ascii").split("\n")[:-1]
        if r.returncode != 0 or got != want:
            failures.append((stream, maxline, tagpre, seed, got, want))
    assert not failures, f"{len(failures)} of {n} streams differ; first: {failures[0]!r}"
