"""bench/bulk.py end to end on a tiny mailbox: every row moves the mailbox's bytes,
the wire carries at least that much, and a compressed row carries less.  (Figures
are for bench/README.md, never asserted here.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.mailgen import mailbox, message
from testsupport.dovecot import Dovecot

REPO = Path(__file__).resolve().parents[2]


def test_mailgen_is_deterministic_and_sized() -> None:
    assert message(7, True) == message(7, True)
    assert 1_000_000 <= len(message(7, True)) <= 7_000_000  # 1 in 200 is big
    assert all(1_500 <= len(m) <= 90_000 for m in mailbox(50, False))


@pytest.mark.usefixtures("only_extension")
def test_bulk_rows_move_the_mailbox(tmp_path: Path, dovecot: Dovecot) -> None:
    # (the session's Dovecot is not used: bench/bulk.py starts its own; asking for
    # it skips, or in CI fails, where Dovecot is missing)
    rows = "imaplib 1:*,fetch_stream,fetch_stream +Z,append_many"
    out = tmp_path / "r.json"
    cmd = [sys.executable, "bench/bulk.py", "--messages", "30", "--appends", "5"]
    cmd += ["--rtt-ms", "0", "--mbit", "0", "--rows", rows, "--json", str(out)]
    subprocess.run(cmd, cwd=REPO, check=True, timeout=300, capture_output=True)
    res = json.loads(out.read_text())["results"]
    total = sum(len(m) for m in mailbox(30, False))
    assert res["imaplib 1:*"]["bytes"] == res["fetch_stream"]["bytes"] == total
    assert res["fetch_stream"]["wire"] > total
    assert res["append_many"]["bytes"] == sum(len(message(i, False)) for i in range(5))
    assert all("error" not in r for r in res.values()), res
    if "fetch_stream +Z" not in res:
        return  # no COMPRESS in this Dovecot: the row was skipped (and said so)
    assert res["fetch_stream +Z"]["bytes"] == total
    assert res["fetch_stream +Z"]["wire"] < res["fetch_stream"]["wire"] * 0.9
