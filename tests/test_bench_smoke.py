"""Smoke test of the benchmark suite in bench/.

Every scenario runs at a tiny size through stock imaplib, imaplib_c (when it is
importable) and both floors, over plain TCP and TLS, with the suite's result
checks on (counts, byte totals, CRCs, exact return types).  Also checks that the
checks catch wrong answers, that the debug=5 log capture of stdlib and imaplib_c
agree, the Dovecot rows (when Dovecot is installed) and the ``bench/run.py``
command line.  No timing assertions.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import client as bc
from bench import scenarios as sc
from bench.harness import ReplayServer, bench_dovecot, imaplib_c_importable, run_client
from testsupport.dovecot import Dovecot, missing_requirements

SCALE = 0.002
IMPLS = ("stdlib", "imaplib_c", "floor", "keepfloor")
HAVE_C = imaplib_c_importable()


def _skip_missing(impl: str) -> None:
    if impl == "imaplib_c" and not HAVE_C:
        pytest.skip("imaplib_c is not importable (build it with setup.py build_ext --inplace)")


@pytest.fixture(scope="module")
def replay() -> Iterator[ReplayServer]:
    with ReplayServer(SCALE, list(sc.SCENARIOS), tls=True) as srv:
        yield srv


def _expect_ok(r: dict[str, Any]) -> None:
    assert r["ok"], r["errors"]
    assert r["cpu"] >= 0 and r["wall"] > 0 and r["peak_kib"] >= 0
    assert isinstance(r["faults"], int) and r["faults"] >= 0


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("scenario", sc.SCENARIOS)
def test_scenario_results_are_correct(
    replay: ReplayServer, scenario: str, impl: str, tls: bool
) -> None:
    _skip_missing(impl)
    r = run_client(replay.params(impl, scenario, tls))
    _expect_ok(r)
    sizes = sc.make_sizes(SCALE)
    if scenario == "append":
        assert r["latency"]["n"] == sizes.append
    elif scenario == "append-delack":
        assert r["latency"]["n"] == sizes.append_delack


def test_delayed_ack_server_stalls_two_write_appends(replay: ReplayServer) -> None:
    """The append-delack server must reproduce the Nagle/delayed-ACK stall of stock imaplib."""
    r = run_client(replay.params("stdlib", "append-delack", False))
    _expect_ok(r)
    assert r["latency"]["stalls_30ms"] >= 1, r["latency"]


@pytest.mark.parametrize("field", ["items_crc", "literal_crc", "literal_bytes", "items", "tuples"])
def test_wrong_expected_digest_fails(replay: ReplayServer, field: str) -> None:
    p = replay.params("stdlib", "headers", False)
    p["expected"] = dict(p["expected"], **{field: p["expected"][field] + 1})
    r = run_client(p)
    assert not r["ok"]
    assert any(e.startswith(field + ":") for e in r["errors"]), r["errors"]


@pytest.mark.parametrize("impl", ["floor", "keepfloor"])
def test_floors_detect_wrong_byte_counts(replay: ReplayServer, impl: str) -> None:
    p = replay.params(impl, "bodies", False)
    key = "body_len" if impl == "floor" else "literal_bytes"
    p["expected"] = dict(p["expected"], **{key: p["expected"][key] - 1})
    assert not run_client(p)["ok"]


def _fetch_data(n: int = 3) -> tuple[list[Any], sc.Expected]:
    _body, exp = sc.build(
        "FETCH 1:3 (RFC822)",
        "OK Fetch completed.",
        sc.body_responses(n),
    )
    data: list[Any] = []
    for i in range(1, n + 1):
        m = sc.message(i)
        data += [(b"%d (RFC822 {%d}" % (i, len(m)), m), b")"]
    return data, exp


def test_check_accepts_the_exact_imaplib_shape() -> None:
    data, exp = _fetch_data()
    assert bc.check_imaplib_fetch("OK", data, exp) == []


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.__setitem__(0, list(d[0])),  # list instead of tuple
        lambda d: d.__setitem__(0, (d[0][0], bytearray(d[0][1]))),  # bytearray literal
        lambda d: d.__setitem__(1, memoryview(b")")),  # memoryview trailer
        lambda d: d.__setitem__(1, b") "),  # different bytes
        lambda d: d.pop(),  # missing item
        lambda d: d.__setitem__(2, (d[2][0], d[2][1][:-1] + b"X")),  # corrupted literal
    ],
)
def test_check_rejects_wrong_types_and_values(mutate: Any) -> None:
    data, exp = _fetch_data()
    mutate(data)
    assert bc.check_imaplib_fetch("OK", data, exp) != []


def test_check_rejects_wrong_typ() -> None:
    data, exp = _fetch_data()
    assert bc.check_imaplib_fetch(b"OK", data, exp) != []
    assert bc.check_imaplib_fetch("OK", tuple(data), exp) != []


def _capture(srv: ReplayServer, impl: str, scenario: str) -> list[str]:
    p = srv.params(impl, scenario, False)
    p.update(debug5=True, capture_log=True, seed=7)
    r = run_client(p)
    _expect_ok(r)
    log: list[str] = r["log"]
    assert log
    return log


@pytest.mark.parametrize("scenario", ["debug5", "headers", "append"])
def test_debug5_log_capture_is_deterministic(replay: ReplayServer, scenario: str) -> None:
    assert _capture(replay, "stdlib", scenario) == _capture(replay, "stdlib", scenario)


@pytest.mark.parametrize("scenario", ["debug5", "headers", "search", "append"])
def test_debug5_log_lines_identical_to_stdlib(replay: ReplayServer, scenario: str) -> None:
    _skip_missing("imaplib_c")
    assert _capture(replay, "imaplib_c", scenario) == _capture(replay, "stdlib", scenario)


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    missing = missing_requirements(tls=False)
    if missing:
        pytest.skip("not installed: " + ", ".join(missing))
    sizes = sc.make_sizes(SCALE)
    with bench_dovecot(max(sizes.headers, sizes.bodies)) as dv:
        yield dv


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("scenario", sc.DOVECOT_SCENARIOS)
def test_dovecot_rows(dovecot: Dovecot, scenario: str, impl: str) -> None:
    _skip_missing(impl)
    exp = sc.build_scenario(scenario, sc.make_sizes(SCALE), keep_body=False)[1]
    p = {
        "impl": impl,
        "scenario": scenario,
        "host": dovecot.host,
        "port": dovecot.plain_port,
        "tls": False,
        "scale": SCALE,
        "expected": exp.to_json(),
        "server_cpu": True,
    }
    r = run_client(p)
    _expect_ok(r)
    assert r.get("server_cpu") is not None and r["server_cpu"] >= 0


def test_run_py_command_line(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "run.py"),
            "--size-scale",
            str(SCALE),
            "--repeat",
            "1",
            "--scenarios",
            "meta,large,append",
            "--dovecot",
            "off",
            "--quiet",
            "--rst",
            "--json",
            str(out),
        ],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "=====" in proc.stdout and "meta" in proc.stdout
    payload = json.loads(out.read_text())
    names = {t["name"] for t in payload["targets"]}
    assert "meta: >= 25x faster than stdlib" in names
    assert "large: peak memory <= 1.2x data" in names
    assert any(line.startswith("a fresh 4 KiB page costs") for line in payload["setup"])
    for row in payload["rows"]:
        assert all(run["ok"] for run in row["runs"]), row
    again = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--load", str(out), "--markdown"],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "| plain | meta | stdlib |" in again.stdout
