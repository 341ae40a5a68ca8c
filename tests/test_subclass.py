"""Python subclasses and run-time patching of the module under test.

Real-world code subclasses ``IMAP4`` (overriding transport methods), patches
its class attributes, mutates module globals and replaces instance
attributes.  The engine must honour all of it exactly like the stdlib does.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
from collections.abc import Callable
from types import ModuleType
from typing import Any
from unittest import mock

import pytest
from conftest import REPO_ROOT, STDLIB, TARGET_NAME, load_target
from outcomes import describe_exc, typed

from testsupport.scripted_server import (
    HELLO,
    Detach,
    ExpectRaw,
    ScriptedServer,
    Step,
    cmd,
    cmd_any,
    send,
)

LOGOUT: list[Step] = [cmd("LOGOUT"), send(b"* BYE bye", b"{tag} OK done")]
Body = Callable[[ModuleType, int, list[str]], Any]


def run(
    mod: ModuleType, scripts: list[list[Step]], body: Body
) -> tuple[list[str], list[bytes], list[str]]:
    """Run ``body(mod, port, log)``; return the log (plus outcome) and the wire."""
    log: list[str] = []
    random.seed(99)
    saved = dict(mod.Commands)
    server = ScriptedServer(*scripts)
    try:
        try:
            log.append("-> " + typed(body(mod, server.port, log)))
        except Exception as exc:  # noqa: BLE001 - compared
            log.append(describe_exc(mod.IMAP4, exc))
    finally:
        server.stop()
        mod.Commands.clear()
        mod.Commands.update(saved)
    return log, [bytes(c.received) for c in server.connections], server.errors


def compare(scripts: list[list[Step]], body: Body) -> list[str]:
    target = load_target()
    want = run(STDLIB, scripts, body)
    assert want[2] == [], f"script bug: {want[2]}"
    got = run(target, scripts, body)
    assert got[0] == want[0]
    assert got[1] == want[1]
    assert got[2] == want[2]
    return got[0]


# -- transport overrides -------------------------------------------------------------

FETCH_SESSION: list[Step] = [
    *HELLO,
    cmd("NOOP"),
    send(b"* 1 FETCH (BODY[] {5}\r\nhello BODY[1] {0}\r\n)", b"* 2 EXISTS", b"{tag} OK done"),
    cmd("APPEND INBOX {3}"),
    send(b"+ go"),
    ExpectRaw(b"abc\r\n"),
    send(b"{tag} OK appended"),
    *LOGOUT,
]


def recording_class(mod: ModuleType, log: list[str]) -> type:
    class Recording(mod.IMAP4):  # type: ignore[name-defined,misc]
        def _create_socket(self, timeout: Any = None) -> Any:
            log.append(f"_create_socket {timeout!r}")
            return super()._create_socket(timeout)

        def open(self, host: str = "", port: int = 143, timeout: Any = None) -> None:
            log.append(f"open {host!r} {timeout!r}")
            super().open(host, port, timeout)

        def read(self, size: int) -> bytes:
            data = super().read(size)
            log.append(f"read {size} -> {data!r}")
            return data

        def readline(self) -> bytes:
            line = super().readline()
            log.append(f"readline -> {line!r}")
            return line

        def send(self, data: bytes) -> None:
            log.append(f"send {bytes(data)!r}")
            super().send(data)

        def shutdown(self) -> None:
            log.append("shutdown")
            super().shutdown()

    return Recording


def _session(mod: ModuleType, port: int, log: list[str]) -> Any:
    M = recording_class(mod, log)("127.0.0.1", port)
    M.state = "AUTH"
    return [
        M.noop(),
        M.untagged_responses.copy(),
        M.append("INBOX", None, None, b"abc"),
        M.logout(),
    ]


def test_overrides_are_called() -> None:
    target = load_target()
    log, _, errors = run(target, [FETCH_SESSION], _session)
    assert errors == []
    called = {entry.split()[0] for entry in log if not entry.startswith(("->", "raise"))}
    assert called == {"_create_socket", "open", "read", "readline", "send", "shutdown"}, log


def test_override_call_log_matches_stdlib() -> None:
    compare([FETCH_SESSION], _session)


def test_readline_override_result_is_used() -> None:
    """A subclass that repairs LF-only lines: the engine must use its result."""

    def body(mod: ModuleType, port: int, log: list[str]) -> Any:
        class Repairing(mod.IMAP4):  # type: ignore[name-defined,misc]
            def readline(self) -> bytes:
                line = super().readline()
                if line.endswith(b"\n") and not line.endswith(b"\r\n"):
                    line = line[:-1] + b"\r\n"
                return line

            def read(self, size: int) -> bytes:
                return super().read(size).upper()

        M = Repairing("127.0.0.1", port)
        try:
            return [M.noop(), M.untagged_responses.copy()]
        finally:
            M.shutdown()

    script = [*HELLO, cmd("NOOP"), send(b"* 1 FETCH (X {3}\nabc)\n* 4 EXISTS\n{tag} OK lf only\n")]
    compare([script], body)


def test_send_override_can_rewrite() -> None:
    def body(mod: ModuleType, port: int, log: list[str]) -> Any:
        class Rewriting(mod.IMAP4):  # type: ignore[name-defined,misc]
            def send(self, data: bytes) -> None:
                super().send(bytes(data).replace(b"NOOP", b"CHECK"))

        M = Rewriting("127.0.0.1", port)
        try:
            return M.noop()
        finally:
            M.shutdown()

    compare([[*HELLO, cmd("CHECK"), send(b"{tag} OK checked")]], body)


def test_custom_exception_classes_in_subclass() -> None:
    def body(mod: ModuleType, port: int, log: list[str]) -> Any:
        class Custom(mod.IMAP4):  # type: ignore[name-defined,misc]
            class abort(mod.IMAP4.abort):
                pass

            class error(mod.IMAP4.error):
                pass

        M = Custom("127.0.0.1", port)
        out = []
        for call in (lambda: M.login("a", "b"), M.noop):
            try:
                call()
            except Exception as exc:  # noqa: BLE001 - compared
                out.append(f"{type(exc).__qualname__} {exc}")
        M.shutdown()
        return out

    script = [*HELLO, cmd('LOGIN a "b"'), send(b"{tag} NO denied"), cmd("NOOP"), send(b"garbage")]
    log = compare([script], body)
    assert "Custom.error" in log[0] and "Custom.abort" in log[0]


def test_custom_init_signature() -> None:
    def body(mod: ModuleType, port: int, log: list[str]) -> Any:
        class Custom(mod.IMAP4):  # type: ignore[name-defined,misc]
            def __init__(self, *, where: tuple[str, int], note: str) -> None:
                self.note = note
                super().__init__(where[0], where[1])

        M = Custom(where=("127.0.0.1", port), note="hi")
        try:
            return [M.note, M.state, M.logout()]
        finally:
            M.shutdown()

    compare([[*HELLO, *LOGOUT]], body)


# -- broken construction -----------------------------------------------------------------

PROBES = [
    "noop()", "state", "logout()", "shutdown()", "_new_tag()", "__enter__() is None", "__exit__(None, None, None)",
    "_quote('x')", "response('X')", "socket()", "read(1)", "readline()", "send(b'x')", "_get_response()",
    "print_log()", "_dump_ur({})", "capability()", "select()", "enable('X')", "login('a', 'b')", "uid('FETCH')",
    "xatom('XFOO')", "append('INBOX', None, None, b'x')", "recent()", "_check_bye()", "_get_line()",
    "_untagged_response('OK', [], 'X')", "_append_untagged('X', b'')", "_simple_command('NOOP')",
    "_command_complete('NOOP', b'A1')", "_get_tagged_response(b'A1')", "_get_capabilities()", "_connect()",
    "_mode_utf8()", "_mode_ascii()", "_match(None, b'')", "NOOP()", "__init__('127.0.0.1', 1)",
]  # fmt: skip

PROBE_CODE = textwrap.dedent(
    """
    import importlib, json, sys
    sys.path.insert(0, sys.argv[1])
    mod = importlib.import_module(sys.argv[2])
    probes = json.loads(sys.argv[3])

    class NoInit(mod.IMAP4):
        def __init__(self):
            pass

    out = {}
    for how in ("subclass", "new"):
        for probe in probes:
            obj = NoInit() if how == "subclass" else mod.IMAP4.__new__(mod.IMAP4)
            try:
                value = eval("obj." + probe)
            except Exception as exc:
                out[how + " " + probe] = "raise " + type(exc).__name__
            else:
                out[how + " " + probe] = "ok " + type(value).__name__
    print(json.dumps(out))
    """
)


def _probe(module_name: str) -> dict[str, str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE_CODE, str(REPO_ROOT), module_name, json.dumps(PROBES)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"probe process died ({proc.returncode}): {proc.stderr[-2000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_methods_without_init_do_not_crash() -> None:
    got = _probe(TARGET_NAME)
    want = _probe("imaplib")
    assert got == want


def test_init_called_twice() -> None:
    def body(mod: ModuleType, port: int, log: list[str]) -> Any:
        M = mod.IMAP4("127.0.0.1", port)
        first = (M.tagpre, M.tagnum, M.state)
        M.login("user", "pass")
        old_sock = M.sock
        M.__init__("127.0.0.1", port)
        second = (
            M.tagpre,
            M.tagnum,
            M.state,
            M.untagged_responses,
            M.tagged_commands,
            M.capabilities,
        )
        old_sock.close()
        return [first, second, M.logout()]

    # The [CAPABILITY] code: imaplibs that refresh capabilities after LOGIN
    # take them from it instead of sending CAPABILITY on this connection.
    first = [
        *HELLO,
        cmd('LOGIN user "pass"'),
        send(b"{tag} OK [CAPABILITY IMAP4rev1 X1] logged in"),
        Detach(),
    ]
    second = [
        send(b"* PREAUTH hi"),
        cmd("CAPABILITY"),
        send(b"* CAPABILITY IMAP4rev1 X2", b"{tag} OK ok"),
        *LOGOUT,
    ]
    compare([first, second], body)


# -- class-level patching --------------------------------------------------------------------


def test_patch_open_and_connect_on_class() -> None:
    def body(mod: ModuleType, port: int, log: list[str]) -> Any:
        with (
            mock.patch.object(mod.IMAP4, "open") as open_,
            mock.patch.object(mod.IMAP4, "_connect") as connect_,
        ):
            M = mod.IMAP4("example.invalid", 1234, timeout=3)
        log.append(repr(open_.call_args))
        log.append(repr(connect_.call_args))
        return [
            M.state,
            M.debug,
            M.tagnum,
            M.tagged_commands,
            M.untagged_responses,
            M.continuation_response,
        ]

    compare([], body)


def test_patch_open_redirects() -> None:
    def body(mod: ModuleType, port: int, log: list[str]) -> Any:
        original = mod.IMAP4.open

        def redirect(self: Any, host: str = "", port_: int = 143, timeout: Any = None) -> None:
            log.append(f"open {host} {port_} {timeout}")
            original(self, "127.0.0.1", port, timeout)

        with mock.patch.object(mod.IMAP4, "open", redirect):
            M = mod.IMAP4("example.invalid", 9)
        try:
            return [M.host, M.port == port, M.noop()]
        finally:
            M.shutdown()

    compare([[*HELLO, cmd("NOOP"), send(b"{tag} OK ok")]], body)


def test_patch_connect_wrapper_and_failure_cleanup() -> None:
    def body(mod: ModuleType, port: int, log: list[str]) -> Any:
        original = mod.IMAP4._connect
        shutdown = mod.IMAP4.shutdown

        def failing(self: Any) -> None:
            original(self)
            log.append(f"connected {self.state}")
            raise KeyError("after connect")

        def recording_shutdown(self: Any) -> None:
            log.append("shutdown")
            shutdown(self)

        with (
            mock.patch.object(mod.IMAP4, "_connect", failing),
            mock.patch.object(mod.IMAP4, "shutdown", recording_shutdown),
        ):
            mod.IMAP4("127.0.0.1", port)

    compare([HELLO], body)


# -- module globals ----------------------------------------------------------------------------


def test_commands_writes_are_honoured() -> None:
    def body(mod: ModuleType, port: int, log: list[str]) -> Any:
        M = mod.IMAP4("127.0.0.1", port)
        out = []
        mod.Commands["XLIST"] = ("NONAUTH", "AUTH", "SELECTED")
        out.append(M._simple_command("XLIST", '""', "*"))
        for probe in (lambda: M.XLIST, lambda: M.uid("XLIST")):
            try:
                probe()
            except Exception as exc:  # noqa: BLE001 - compared
                out.append(describe_exc(mod.IMAP4, exc))
        mod.Commands["NOOP"] = ("AUTH",)
        try:
            M.noop()
        except mod.IMAP4.error as exc:
            out.append(str(exc))
        del mod.Commands["CHECK"]
        try:
            M.check()
        except KeyError as exc:
            out.append(f"KeyError {exc}")
        mod.Commands["NOOP"] = ("NONAUTH",)
        out.append(M.noop())
        M.shutdown()
        return out

    script = [
        *HELLO,
        cmd('XLIST "" *'),
        send(b'* XLIST () "/" INBOX', b"{tag} OK x"),
        cmd("NOOP"),
        send(b"{tag} OK done"),
    ]
    compare([[*script[:-1], send(b"{tag} OK ok")]], body)


@pytest.mark.parametrize("how", ["mock.patch", "assignment"])
def test_maxline_patching(how: str) -> None:
    def body(mod: ModuleType, port: int, log: list[str]) -> Any:
        saved = mod._MAXLINE
        if how == "mock.patch":
            with mock.patch.object(mod, "_MAXLINE", 20):
                try:
                    mod.IMAP4("127.0.0.1", port)
                except mod.IMAP4.error as exc:
                    log.append(str(exc))
        else:
            mod._MAXLINE = 20
            try:
                mod.IMAP4("127.0.0.1", port)
            except mod.IMAP4.error as exc:
                log.append(str(exc))
            finally:
                mod._MAXLINE = saved
        assert mod._MAXLINE == saved
        M = mod.IMAP4("127.0.0.1", port)  # the restored limit applies again
        M.shutdown()
        return M.welcome

    long_greeting = [send(b"* OK " + b"x" * 40)]
    compare(
        [
            long_greeting,
            [
                send(b"* OK " + b"x" * 40),
                cmd("CAPABILITY"),
                send(b"* CAPABILITY IMAP4", b"{tag} OK done"),
            ],
        ],
        body,
    )


@pytest.mark.skipif(
    sys.version_info < (3, 10),
    reason="3.9's _dump_ur fails on bytes values (bpo-26543); test_differential covers that",
)
def test_debug_global_and_instance_mesg() -> None:
    def body(mod: ModuleType, port: int, log: list[str]) -> Any:
        class Quiet(mod.IMAP4):  # type: ignore[name-defined,misc]
            def _mesg(self, s: str, secs: Any = None) -> None:
                log.append(f"class {s}")

        with mock.patch.object(mod, "Debug", 3):
            M = Quiet("127.0.0.1", port)
        assert M.debug == 3
        M._mesg = lambda s, secs=None: log.append(f"instance {s}")
        M.debug = 5
        M.noop()
        M.debug = 0
        M.noop()
        del M._mesg
        M.debug = 4
        M.noop()
        M.shutdown()
        return mod.Debug

    script = [
        *HELLO,
        *[step for _ in range(3) for step in (cmd("NOOP"), send(b"* 1 EXISTS", b"{tag} OK done"))],
    ]
    compare([script], body)


# -- instance attributes --------------------------------------------------------------------------


def test_untagged_responses_replaced() -> None:
    def body(mod: ModuleType, port: int, log: list[str]) -> Any:
        M = mod.IMAP4("127.0.0.1", port)
        mine: dict[str, Any] = {"KEEP": [b"me"]}
        M.untagged_responses = mine
        out: list[Any] = [M.noop(), M.untagged_responses is mine, dict(mine)]
        M.untagged_responses = {"READ-ONLY": [b""]}
        try:
            M.noop()
        except mod.IMAP4.readonly as exc:
            out.append(f"readonly {exc}")
        M.is_readonly = True
        out.append(M.noop())
        M.tagged_commands = {}
        out.append(M.noop())
        out.append(M.response("EXISTS"))
        M.shutdown()
        return out

    script = [*HELLO]
    for n in range(3):
        script += [cmd("NOOP"), send(b"* %d EXISTS" % n, b"{tag} OK done")]
    compare([script], body)


def test_state_and_literal_attributes() -> None:
    def body(mod: ModuleType, port: int, log: list[str]) -> Any:
        M = mod.IMAP4("127.0.0.1", port)
        M.state = "SELECTED"
        M.literal = b"xyz"
        out = [M._simple_command("APPEND", "INBOX"), M.literal]
        M._encoding = "latin-1"
        out.append(M.create("caf\xe9"))
        M.shutdown()
        return out

    script = [
        *HELLO,
        cmd("APPEND INBOX {3}"),
        send(b"+ ok"),
        ExpectRaw(b"xyz\r\n"),
        send(b"{tag} OK a"),
        # quoted by imaplibs with _astring()
        cmd_any("CREATE caf\xe9".encode("latin-1"), 'CREATE "caf\xe9"'.encode("latin-1")),
        send(b"{tag} OK c"),
    ]
    compare([script], body)


def test_engine_attributes_as_class_descriptors() -> None:
    """The attributes the engine reads on every command (tagnum, state,
    untagged_responses, ...) are read as object.__getattribute__ reads them:
    a property of a subclass wins over the instance dict, also one added to
    the class between commands; a removed one gives the instance's value
    back; a __getattribute__ of the class is called."""

    def body(mod: ModuleType, port: int, log: list[str]) -> Any:
        class Shifted(mod.IMAP4):  # type: ignore[misc,name-defined]
            @property
            def tagnum(self) -> int:
                return int(self.__dict__.get("_tn", 0)) + 7

            @tagnum.setter
            def tagnum(self, value: int) -> None:
                self.__dict__["_tn"] = value

        M = Shifted("127.0.0.1", port)
        out: list[Any] = [M.noop()]
        Shifted.state = property(lambda self: "BOGUS", lambda self, value: None)
        try:
            M.noop()
        except mod.IMAP4.error as exc:
            out.append(f"error {exc}")
        del Shifted.state
        out.append(M.noop())
        out.append(M.state)

        def patched(self: Any, name: str) -> Any:
            if name == "untagged_responses":
                return {"READ-ONLY": [b""]}
            return object.__getattribute__(self, name)

        Shifted.__getattribute__ = patched  # type: ignore[method-assign,assignment]
        try:
            M.noop()
        except mod.IMAP4.readonly as exc:
            out.append(f"readonly {exc}")
        del Shifted.__getattribute__
        out.append(M.noop())
        M.shutdown()
        return out

    script = [*HELLO]
    for n in range(3):
        script += [cmd("NOOP"), send(b"* %d EXISTS" % n, b"{tag} OK done")]
    log = compare([script], body)
    assert "illegal in state BOGUS" in log[-1] and "READ-ONLY" in log[-1], log


def test_engine_attribute_writes_through_setattr() -> None:
    """The attributes the engine writes (tagnum, literal, continuation_response)
    go through a subclass's __setattr__, in imaplib's order, and through a
    property's setter."""

    def body(mod: ModuleType, port: int, log: list[str]) -> Any:
        watched = ("tagnum", "literal", "continuation_response")

        class Watching(mod.IMAP4):  # type: ignore[misc,name-defined]
            def __setattr__(self, name: str, value: Any) -> None:
                if name in watched:
                    log.append(f"set {name} {value!r}")
                super().__setattr__(name, value)

        M = Watching("127.0.0.1", port)
        M.state = "AUTH"
        out: list[Any] = [M.noop(), M.append("INBOX", None, None, b"abc")]
        del Watching.__setattr__
        Watching.continuation_response = property(
            lambda self: "fixed", lambda self, value: log.append(f"property {value!r}")
        )
        out += [M.append("INBOX", None, None, b"xyz"), M.continuation_response]
        M.shutdown()
        return out

    script = [
        *HELLO,
        cmd("NOOP"),
        send(b"{tag} OK done"),
        cmd("APPEND INBOX {3}"),
        send(b"+ go on"),
        ExpectRaw(b"abc\r\n"),
        send(b"{tag} OK appended"),
        cmd("APPEND INBOX {3}"),
        send(b"+ again"),
        ExpectRaw(b"xyz\r\n"),
        send(b"{tag} OK appended"),
    ]
    log = compare([script], body)
    assert "set literal None" in log and "property b'again'" in log, log
