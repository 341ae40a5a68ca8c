"""Process and server plumbing shared by bench/run.py and tests/test_bench_smoke.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from bench import scenarios as sc
from testsupport.dovecot import Dovecot
from testsupport.loopback import HOST, make_cert

REPO = Path(__file__).resolve().parent.parent

if TYPE_CHECKING:
    from typing_extensions import Self


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (
        os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""
    )
    env.pop("PYTHONTRACEMALLOC", None)
    return env


def imaplib_c_importable(python: str = sys.executable) -> bool:
    r = subprocess.run(
        [python, "-c", "import imaplib_c"],
        check=False,
        cwd=REPO,
        env=child_env(),
        capture_output=True,
    )
    return r.returncode == 0


class ReplayServer:
    """The replay server in its own process (``python -m bench.replay_server``)."""

    def __init__(
        self, scale: float, scenarios: list[str], tls: bool, python: str = sys.executable
    ) -> None:
        self.scale = scale
        self.scenarios = scenarios
        self.tls = tls
        self.python = python
        self.proc: subprocess.Popen[bytes] | None = None
        self.tmp: tempfile.TemporaryDirectory[str] | None = None
        self.cafile: str | None = None
        self.ports: dict[str, int] = {}
        self.expected: dict[str, dict[str, Any]] = {}
        self.pid = 0

    def __enter__(self) -> Self:
        cmd = [
            self.python,
            "-m",
            "bench.replay_server",
            "--size-scale",
            repr(self.scale),
            "--scenarios",
            ",".join(self.scenarios),
        ]
        if self.tls:
            self.tmp = tempfile.TemporaryDirectory(prefix="imaplib-bench-tls-")
            cert, key = make_cert(self.tmp.name)
            self.cafile = str(cert)
            cmd += ["--cert", str(cert), "--key", str(key)]
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, env=child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.__exit__(None, None, None)
            raise RuntimeError("replay server did not start")
        info = json.loads(line)
        self.ports = info["ports"]
        self.expected = info["expected"]
        self.pid = info["pid"]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.proc is not None:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.proc = None
        if self.tmp is not None:
            self.tmp.cleanup()
            self.tmp = None

    def params(self, impl: str, scenario: str, tls: bool) -> dict[str, Any]:
        return {
            "impl": impl,
            "scenario": scenario,
            "host": HOST,
            "port": self.ports["tls" if tls else "plain"],
            "tls": tls,
            "cafile": self.cafile,
            "scale": self.scale,
            "expected": self.expected.get(scenario),
            "server_cpu": True,
        }


def bench_dovecot(n_messages: int, cpus: set[int] | None = None) -> Dovecot:
    """A private Dovecot for the Dovecot rows, not started yet (use it as a
    context manager): user ``sc.USER`` whose INBOX holds ``sc.message(i)`` as
    UID i for i in 1..n, written as maildir files; plain TCP only, because
    with TLS ``imap-login`` would proxy every byte and take server CPU."""
    dv = Dovecot(tls=False, pool_size=0, features=("no-auth-delay",), cpus=cpus)
    try:
        dv.add_user(sc.USER, sc.PASSWORD, (sc.message(i) for i in range(1, n_messages + 1)))
    except BaseException:
        dv.stop()
        raise
    return dv


def run_client(
    params: dict[str, Any], python: str = sys.executable, timeout: float | None = None
) -> dict[str, Any]:
    """Run one client in a fresh interpreter; return its JSON result.

    A client that crashes, prints no result or runs longer than ``timeout``
    (default: 120 s, more for big ``scale``) gives a failed result instead.
    """
    if timeout is None:
        timeout = 120 + 120 * float(params.get("scale", 1.0))
    failed = {"impl": params["impl"], "scenario": params["scenario"], "ok": False}
    try:
        r = subprocess.run(
            [python, "-m", "bench.client", json.dumps(params)],
            check=False,
            cwd=REPO,
            env=child_env(),
            capture_output=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {**failed, "errors": [f"client timed out after {timeout:.0f} s"]}
    lines = r.stdout.decode("utf-8", "replace").strip().splitlines()
    if r.returncode != 0 or not lines:
        err = r.stderr.decode("utf-8", "replace")[-2000:]
        return {**failed, "errors": [f"client exited {r.returncode}: {err}"]}
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except ValueError:
        return {**failed, "errors": [f"client printed no JSON result: {lines[-1][:200]!r}"]}
    return result


__all__ = [
    "REPO",
    "ReplayServer",
    "bench_dovecot",
    "child_env",
    "imaplib_c_importable",
    "run_client",
    "sc",
]
