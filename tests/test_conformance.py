"""The interpreter's own ``test.test_imaplib``, run against the module under test.

``tests/run_stdlib_imaplib_tests.py`` injects the module as ``imaplib`` and
runs the stdlib test file in place, in subprocesses (the ``walltime`` tests
each wait ~10 s on a blocked fake server, so they get a process of their own
and everything runs in parallel).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import REPO_ROOT, TARGET_NAME

# test id -> reason.  Every other test must pass (or be skipped by the stdlib
# test file itself, e.g. the Remote* classes).
KNOWN_FAILURES: dict[str, str] = {}

RUNNER = Path(__file__).with_name("run_stdlib_imaplib_tests.py")
# Tests that need the `walltime` resource: slow under plain unittest.
SLOW_METHODS = {"test_imaplib_timeout_test", "test_ssl_raises", "test_ssl_verified"}
FAST_GROUPS = 2
TIMEOUT = 300
MIN_RAN = 90 if sys.version_info[:2] == (3, 11) else 60


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
    return env


def _runner(*args: str) -> list[str]:
    return [sys.executable, str(RUNNER), "--module", TARGET_NAME, *args]


def _list_ids() -> list[str]:
    proc = subprocess.run(_runner("--list"), capture_output=True, text=True, env=_env(), timeout=TIMEOUT, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _partition(ids: list[str]) -> list[list[str]]:
    slow = [[i] for i in ids if i.rsplit(".", 1)[-1] in SLOW_METHODS]
    fast = [i for i in ids if i.rsplit(".", 1)[-1] not in SLOW_METHODS]
    groups = [fast[n::FAST_GROUPS] for n in range(FAST_GROUPS)]
    return [g for g in slow + groups if g]


@pytest.fixture(scope="module")
def suite_results() -> dict[str, dict[str, str]]:
    ids = _list_ids()
    results: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        procs = []
        for n, group in enumerate(_partition(ids)):
            out = Path(tmp, f"part{n}.json")
            procs.append(
                (
                    out,
                    group,
                    subprocess.Popen(
                        _runner("--out", str(out), *group),
                        stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT,
                        env=_env(),
                    ),
                )
            )
        for out, group, proc in procs:
            try:
                output, _ = proc.communicate(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                output, _ = proc.communicate()
            if proc.returncode != 0 or not out.exists():
                text = output.decode(errors="replace")[-3000:]
                for test_id in group:
                    results[test_id] = {"outcome": "error", "detail": f"runner exited {proc.returncode}: {text}"}
                continue
            results.update(json.loads(out.read_text())["results"])
    missing = set(ids) - set(results)
    for test_id in missing:
        results[test_id] = {"outcome": "error", "detail": "no result"}
    return results


def test_stdlib_test_suite_passes(suite_results: dict[str, dict[str, str]]) -> None:
    bad = {
        test_id: r
        for test_id, r in suite_results.items()
        if r["outcome"] not in ("pass", "skip", "expected_failure") and test_id not in KNOWN_FAILURES
    }
    report = "\n\n".join(f"{test_id}: {r['outcome']}\n{r['detail']}" for test_id, r in sorted(bad.items()))
    assert not bad, f"{len(bad)} stdlib test(s) failed against {TARGET_NAME}:\n{report}"


def test_known_failures_are_current(suite_results: dict[str, dict[str, str]]) -> None:
    stale = [t for t in KNOWN_FAILURES if suite_results.get(t, {}).get("outcome") in (None, "pass")]
    assert not stale, f"KNOWN_FAILURES entries that now pass or do not exist: {stale}"


def test_suite_really_ran(suite_results: dict[str, dict[str, str]]) -> None:
    ran = [t for t, r in suite_results.items() if r["outcome"] != "skip"]
    assert len(ran) >= MIN_RAN, f"only {len(ran)} stdlib tests ran"
    assert any(t.endswith("NewIMAPTests.test_login") for t in ran)
    assert any(t.endswith("TestImaplib.test_Time2Internaldate") for t in ran)
