"""IMAPClient and imap_tools (from PyPI), unchanged, on stdlib imaplib and on
the module under test: run in subprocesses against the same Dovecot, with
results serialised to JSON and compared.

The module under test is put in place with ``python -m imaplib_c run`` (the
tools then import imaplib_c as ``imaplib``).  With IMAPLIB_C_TARGET set to
another module name, that module is installed the same way by a small shim.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from testsupport.dovecot import Dovecot

from .conftest import target_name

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DRIVER = HERE / "tools_driver.py"

TOOLS = {"imapclient": "imapclient", "imap_tools": "imap_tools"}
TRANSPORTS = ("plain", "starttls", "ssl")
# One driver run takes a few seconds; two run per test, within the per-test
# bound of conftest.py (IMAPLIB_C_REALSERVER_TIMEOUT, default 120 s).
DRIVER_TIMEOUT = 90

# Installs an arbitrary module as "imaplib" and then runs the driver; used
# only when IMAPLIB_C_TARGET names a module other than imaplib_c.
_SHIM = """\
import importlib, runpy, sys
target = importlib.import_module(sys.argv[1])
if sys.modules.get("imaplib") not in (None, target):
    raise SystemExit("imaplib was imported before the target module was installed")
sys.modules["imaplib"] = target
sys.argv[:] = sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    parts = [str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


def run_driver(
    tool: str, transport: str, server: Dovecot, tmp_path: Path, *, target: str | None
) -> list[Any]:
    user = server.new_user()
    config = json.dumps(
        {
            "host": server.host,
            "plain_port": server.plain_port,
            "tls_port": server.tls_port,
            "cafile": str(server.cert_file),
            "user": user.name,
            "password": user.password,
        }
    )
    out = tmp_path / f"{tool}-{transport}-{target or 'stdlib'}.json"
    driver_args = [str(DRIVER), tool, transport, config, str(out)]
    if target is None:
        cmd = [sys.executable, *driver_args]
    elif target == "imaplib_c":
        cmd = [sys.executable, "-m", "imaplib_c", "run", *driver_args]
    else:
        cmd = [sys.executable, "-c", _SHIM, target, *driver_args]
    proc = subprocess.run(
        cmd,
        check=False,
        env=_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=DRIVER_TIMEOUT,
    )
    assert proc.returncode == 0, (
        f"{' '.join(cmd[:4])} ... failed ({proc.returncode}):\n{proc.stderr[-5000:]}"
    )
    steps: list[Any] = json.loads(out.read_text())
    return steps


def _first_difference(ref: list[Any], got: list[Any]) -> str | None:
    for i, (a, b) in enumerate(zip(ref, got)):
        if a != b:
            return (
                f"step {i} ({a[0]}) differs:\n  stdlib: {json.dumps(a[1])[:3000]}\n"
                f"  target: {json.dumps(b[1])[:3000]}"
            )
    if len(ref) != len(got):
        return f"different number of steps: stdlib {len(ref)}, target {len(got)}"
    return None


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_tool_on_target(tool: str, transport: str, dovecot: Dovecot, tmp_path: Path) -> None:
    if importlib.util.find_spec(TOOLS[tool]) is None:
        pytest.skip(f"{tool} is not installed (pip install imapclient imap-tools)")
    reference = run_driver(tool, transport, dovecot, tmp_path, target=None)
    target = target_name()
    got = run_driver(tool, transport, dovecot, tmp_path, target=target)

    # The runs really used the intended modules.
    assert reference[0] == ["imaplib module", {"list": ["imaplib", "imaplib"]}]
    assert got[0] == ["imaplib module", {"list": [target, target]}]
    uses = f"{tool} uses"
    assert dict(got)[uses] == target
    # Tools must really have worked (so that equality is not vacuous).
    ref = dict(reference)
    assert "raise" not in json.dumps(ref["login"]), ref["login"]
    idle_key = "idle_check" if tool == "imapclient" else "idle.poll"
    assert "EXISTS" in json.dumps(ref[idle_key]), ref[idle_key]
    fetch_key = "fetch parsed" if tool == "imapclient" else "fetch bulk"
    assert "raise" not in json.dumps(ref[fetch_key])[:200]

    # Everything else must be identical, except for the labels checked above.
    skip = {"imaplib module", uses}
    diff = _first_difference(
        [s for s in reference if s[0] not in skip], [s for s in got if s[0] not in skip]
    )
    assert diff is None, diff
