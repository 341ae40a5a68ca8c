"""Bounded stress run: signals, threads, shutdown() and timeouts at random
points (tests/stress_client.py), in a subprocess so that a crash, a hang or
a sanitizer report fails the test.  Under tools/asan-pytest.sh the child
inherits the ASan+UBSan build."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import REPO_ROOT, STDLIB, TARGET_IS_STDLIB, TARGET_NAME
from imaplib_features import reads_socket_itself

SECONDS = float(os.environ.get("IMAPLIB_C_STRESS_SECONDS", "8"))


@pytest.mark.parametrize("seed", [1, 2])
def test_random_interleavings(seed: int) -> None:
    if TARGET_IS_STDLIB and reads_socket_itself(STDLIB):
        # What the run checks is imaplib_c's: the stdlib met it only through
        # its socket file (a BufferedReader refuses reentrant reads, and every
        # read after a timeout); with its own read buffer (3.14 on) it parses
        # the rest of a literal after a timeout.
        pytest.skip(
            "this imaplib reads the socket into its own buffer (no reentrancy or timeout guard)"
        )
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])
    )
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "tests" / "stress_client.py"),
            TARGET_NAME,
            str(SECONDS),
            str(seed),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=SECONDS + 120,
        env=env,
    )
    report = proc.stdout[-3000:] + proc.stderr[-5000:]
    assert proc.returncode == 0, report
    assert "ERROR: AddressSanitizer" not in proc.stderr and "runtime error:" not in proc.stderr, (
        report
    )
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("OK "), report
    calls = int(last.split()[1])
    assert calls > 50, report  # the run really exercised the object
