"""The same realistic workload through stdlib ``imaplib`` and the module under
test, against fresh identical Dovecot mailboxes: every result must be equal."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from testsupport.dovecot import Dovecot, User

from .timebound import RealServerTimeout, close_quietly
from .workload import (
    SOCKET_TIMEOUT,
    TRANSPORTS,
    Recorder,
    check_reference_sanity,
    first_difference,
    normalise,
    run_workload,
)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_workload(
    transport: str, dovecot: Dovecot, reference_module: ModuleType, target_module: ModuleType
) -> None:
    reference = run_workload(reference_module, dovecot, dovecot.new_user(), transport)
    check_reference_sanity(reference)
    target = run_workload(target_module, dovecot, dovecot.new_user(), transport)
    diff = first_difference(reference.steps, target.steps)
    assert diff is None, diff


# --------------------------------------------------------------------------
# Smaller scenarios, each run once per module and compared.


Scenario = Callable[[ModuleType, Dovecot, User, Recorder], None]


def compare(
    scenario: Scenario, dovecot: Dovecot, reference: ModuleType, target: ModuleType
) -> list[tuple[str, Any]]:
    """Run *scenario* with both modules (fresh user each); assert equal
    normalised steps; return the reference steps."""
    results: list[list[tuple[str, Any]]] = []
    for module in (reference, target):
        user = dovecot.new_user()
        rec = Recorder(module)
        timed_out = False
        try:
            scenario(module, dovecot, user, rec)
        except RealServerTimeout:
            timed_out = True
            raise
        finally:
            close_quietly(rec.conn, timed_out=timed_out)
        results.append(normalise(rec.steps, user))
    diff = first_difference(results[0], results[1])
    assert diff is None, diff
    return results[0]


def _ok(steps: list[tuple[str, Any]], label: str) -> Any:
    outcome = dict(steps)[label]
    assert "ret" in outcome, outcome
    return outcome["ret"]


def _raised(steps: list[tuple[str, Any]], label: str) -> dict[str, Any]:
    outcome = dict(steps)[label]
    assert "exc" in outcome, outcome
    exc: dict[str, Any] = outcome["exc"]
    return exc


def test_login_cram_md5(
    dovecot: Dovecot, reference_module: ModuleType, target_module: ModuleType
) -> None:
    if "cram-md5" not in dovecot.features:
        pytest.skip("this Dovecot does not accept CRAM-MD5 with plaintext passwords")

    def scenario(module: ModuleType, server: Dovecot, user: User, rec: Recorder) -> None:
        rec.conn = rec.call(
            "IMAP4()", module.IMAP4, server.host, server.plain_port, timeout=SOCKET_TIMEOUT
        )
        rec.note("capabilities", rec.conn.capabilities)
        rec.call("login_cram_md5", rec.conn.login_cram_md5, user.name, user.password)
        rec.cmd("select")
        rec.cmd("logout")
        # wrong password
        rec.conn = rec.call(
            "IMAP4()", module.IMAP4, server.host, server.plain_port, timeout=SOCKET_TIMEOUT
        )
        rec.call("login_cram_md5 bad", rec.conn.login_cram_md5, user.name, "wrong")
        rec.cmd("logout")

    steps = compare(scenario, dovecot, reference_module, target_module)
    assert _ok(steps, "login_cram_md5")[0] == "OK"
    assert _raised(steps, "login_cram_md5 bad")["raise"] == "IMAP4.error"


@pytest.mark.parametrize("authobject_returns", ["bytes", "str"])
def test_authenticate_plain(
    authobject_returns: str,
    dovecot: Dovecot,
    reference_module: ModuleType,
    target_module: ModuleType,
) -> None:
    def scenario(module: ModuleType, server: Dovecot, user: User, rec: Recorder) -> None:
        challenges: list[Any] = []

        def auth(challenge: bytes) -> bytes | str:
            challenges.append(challenge)
            text = f"\0{user.name}\0{user.password}"
            return text.encode() if authobject_returns == "bytes" else text

        rec.conn = rec.call(
            "IMAP4_SSL()", module.IMAP4_SSL, server.host, server.tls_port, timeout=SOCKET_TIMEOUT
        )
        rec.call("authenticate PLAIN", rec.conn.authenticate, "PLAIN", auth)
        rec.note("challenges", challenges)
        rec.note("state", rec.conn.state)
        rec.cmd("authenticate", "PLAIN", auth)  # again, in AUTH state -> error
        rec.cmd("list")
        rec.cmd("logout")
        # LOGIN mechanism, two challenges
        rec.conn = rec.call(
            "IMAP4()", module.IMAP4, server.host, server.plain_port, timeout=SOCKET_TIMEOUT
        )
        answers = iter([user.name, user.password])
        seen: list[Any] = []

        def login_mech(challenge: bytes) -> str:
            seen.append(challenge)
            return next(answers)

        rec.call("authenticate LOGIN", rec.conn.authenticate, "LOGIN", login_mech)
        rec.note("LOGIN challenges", seen)
        rec.cmd("logout")
        # a failing authenticator and a bad password
        rec.conn = rec.call(
            "IMAP4()", module.IMAP4, server.host, server.plain_port, timeout=SOCKET_TIMEOUT
        )
        rec.call(
            "authenticate bad",
            rec.conn.authenticate,
            "PLAIN",
            lambda _c: f"\0{user.name}\0nope".encode(),
        )
        rec.call("authenticate unknown mech", rec.conn.authenticate, "X-NOPE", lambda _c: b"")
        rec.cmd("logout")

    steps = compare(scenario, dovecot, reference_module, target_module)
    assert _ok(steps, "authenticate PLAIN")[0] == "OK"
    assert _ok(steps, "authenticate LOGIN")[0] == "OK"
    assert _raised(steps, "authenticate bad")["raise"] == "IMAP4.error"


def test_login_failures(
    dovecot: Dovecot, reference_module: ModuleType, target_module: ModuleType
) -> None:
    def scenario(module: ModuleType, server: Dovecot, user: User, rec: Recorder) -> None:
        rec.conn = rec.call(
            "IMAP4()", module.IMAP4, server.host, server.plain_port, timeout=SOCKET_TIMEOUT
        )
        rec.cmd("login", user.name, "wrong")
        rec.cmd("login", "nosuchuser", "x")
        rec.cmd("select")  # NONAUTH -> error
        rec.cmd("login", user.name, user.password)
        rec.cmd("login", user.name, user.password)  # AUTH -> error
        rec.cmd("logout")

    steps = compare(scenario, dovecot, reference_module, target_module)
    assert _raised(steps, "login('nosuchuser', 'x')")["raise"] == "IMAP4.error"


def test_context_manager_and_timeouts(
    dovecot: Dovecot, reference_module: ModuleType, target_module: ModuleType
) -> None:
    def scenario(module: ModuleType, server: Dovecot, user: User, rec: Recorder) -> None:
        with module.IMAP4(server.host, server.plain_port, timeout=7.5) as conn:
            rec.conn = conn
            rec.note("timeout", conn.sock.gettimeout())
            rec.cmd("login", user.name, user.password)
            rec.cmd("select")
        rec.note("state after with", conn.state)
        with module.IMAP4_SSL(server.host, server.tls_port, timeout=3) as conn:
            rec.conn = conn
            rec.note("ssl timeout", conn.sock.gettimeout())
            rec.cmd("logout")
        rec.note("state after with ssl", conn.state)
        rec.call("timeout=0", module.IMAP4, server.host, server.plain_port, timeout=0)

    compare(scenario, dovecot, reference_module, target_module)


# --------------------------------------------------------------------------
# Certificate verification failures surface as the same ssl exceptions.


def _localhost_is_loopback() -> bool:
    try:
        infos = socket.getaddrinfo("localhost", None, socket.AF_INET)
    except OSError:
        return False
    return any(info[4][0] == "127.0.0.1" for info in infos)


@pytest.mark.parametrize("how", ["IMAP4_SSL", "starttls"])
@pytest.mark.parametrize("failure", ["untrusted", "hostname"])
def test_verification_failure(
    how: str,
    failure: str,
    dovecot: Dovecot,
    reference_module: ModuleType,
    target_module: ModuleType,
) -> None:
    if failure == "hostname" and not _localhost_is_loopback():
        pytest.skip("'localhost' does not resolve to 127.0.0.1 here")

    def scenario(module: ModuleType, server: Dovecot, user: User, rec: Recorder) -> None:
        if failure == "untrusted":
            host = server.host
            ctx = ssl.create_default_context()  # system CAs only
        else:
            host = "localhost"  # not in the certificate (IP:127.0.0.1 and imaplib-c.test)
            ctx = server.client_context()
        if how == "IMAP4_SSL":
            rec.call(
                "IMAP4_SSL()",
                module.IMAP4_SSL,
                host,
                server.tls_port,
                ssl_context=ctx,
                timeout=SOCKET_TIMEOUT,
            )
            return
        conn = rec.call("IMAP4()", module.IMAP4, host, server.plain_port, timeout=SOCKET_TIMEOUT)
        rec.conn = conn
        rec.call("starttls", conn.starttls, ssl_context=ctx)
        rec.note("_tls_established", getattr(conn, "_tls_established", None))
        rec.call("shutdown", conn.shutdown)

    steps = compare(scenario, dovecot, reference_module, target_module)
    label = "IMAP4_SSL()" if how == "IMAP4_SSL" else "starttls"
    exc = _raised(steps, label)
    assert exc["raise"] == "ssl.SSLCertVerificationError", exc
