"""The stubs match the runtime: ``mypy.stubtest imaplib_c`` (typeshed's imaplib
stubs, with their version branches, for everything the interpreter's imaplib
supplies)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO_ROOT


def test_stubtest_passes() -> None:
    pytest.importorskip("mypy", reason="mypy is not installed (CI installs it)")
    out = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "imaplib_c",
         "--allowlist", str(REPO_ROOT / "tools" / "stubtest-allowlist.txt"),
         "--ignore-unused-allowlist"],  # entries for other interpreters' imaplib
        cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
