"""The engine's command path (csrc/binding/imap4_command.c) and APPEND's line-end mapper.

The C ``_command``/``_command_complete``/``_simple_command`` are used only
where imaplib_c/_commands_check.py finds that they do what the interpreter's
own methods do; these tests check that the check holds on this interpreter,
that it can tell a difference, that the package falls back when it does, and
that ``append()``'s C line-end mapping equals imaplib's ``MapCRLF``.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
import textwrap
from types import ModuleType
from typing import Any
from unittest import mock

import pytest
from conftest import REPO_ROOT, STDLIB, TARGET_IS_STDLIB, load_target

from testsupport.scripted_server import HELLO, ExpectRaw, ScriptedServer, cmd, send

pytestmark = pytest.mark.skipif(TARGET_IS_STDLIB, reason="imaplib_c internals")


def _target() -> ModuleType:
    return load_target()


def test_engine_command_path_is_used_on_this_interpreter() -> None:
    mod = _target()
    assert mod._command_differences == []
    assert mod.c_commands is True
    engine = mod._imaplib_c.Engine
    for name in ("_command", "_command_complete", "_simple_command"):
        assert name not in vars(mod.IMAP4), name  # the engine's own, first in the MRO
        assert name in vars(engine), name


def _interpreters() -> dict[str, Any]:
    from imaplib_c import _classes

    return _classes.interpreters_commands(STDLIB)


def test_check_tells_a_different_command_line() -> None:
    from imaplib_c import _commands_check

    mod = _target()
    methods = _interpreters()
    std_command = methods["_command"]

    def _command(self: Any, name: str, *args: Any) -> Any:  # one more space after the name
        return std_command(self, name + " ", *args) if args else std_command(self, name, *args)

    assert _commands_check.engine_matches(mod.IMAP4, STDLIB, methods)
    assert not _commands_check.engine_matches(mod.IMAP4, STDLIB, {**methods, "_command": _command})


def test_check_tells_a_different_error_message() -> None:
    from imaplib_c import _commands_check

    mod = _target()
    methods = _interpreters()
    std_complete = methods["_command_complete"]

    def _command_complete(self: Any, name: str, tag: bytes) -> Any:
        try:
            return std_complete(self, name, tag)
        except self.abort as exc:
            raise self.abort(f"{exc} (changed)") from None

    assert not _commands_check.engine_matches(
        mod.IMAP4, STDLIB, {**methods, "_command_complete": _command_complete}
    )


def test_falls_back_to_the_interpreters_commands_when_they_differ() -> None:
    """An imaplib whose _command differs (as a future release's might): the
    package keeps the interpreter's command path, and it works."""
    code = textwrap.dedent(
        """
        import imaplib, sys
        std = imaplib.IMAP4._command
        def _command(self, name, *args):
            self.__dict__["changed"] = True
            return std(self, name, *args)
        imaplib.IMAP4._command = _command
        import imaplib_c
        print(imaplib_c.c_commands, imaplib_c.IMAP4._command.__wrapped__ is _command)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "True"], out.stderr


def test_append_line_ends_equal_mapcrlf() -> None:
    _target()
    fast = vars(STDLIB)["_imaplib_c_MapCRLF"]
    rnd = random.Random(7)
    for _ in range(5000):
        msg = bytes(rnd.choice(b"ab\r\n") for _ in range(rnd.randrange(16)))
        assert fast.sub(b"\r\n", msg) == STDLIB.MapCRLF.sub(b"\r\n", msg), msg
    big = b"x" * 5000 + b"\n" + b"y\r" * 3000 + b"\r\n"
    assert fast.sub(b"\r\n", big) == STDLIB.MapCRLF.sub(b"\r\n", big)
    # Anything but (CRLF, bytes) is the pattern's own business, errors included.
    assert fast.sub(b"\r\n", bytearray(b"a\nb")) == b"a\r\nb"
    assert fast.sub(b"\r\n", b"a\nb\nc", 1) == b"a\r\nb\nc"
    with pytest.raises(TypeError, match="bytes pattern"):
        fast.sub(b"\r\n", "a\nb")


def test_append_uses_a_replaced_mapcrlf() -> None:
    """A program that replaces imaplib.MapCRLF gets its pattern used, as in imaplib."""
    mod = _target()
    script = [
        *HELLO,
        cmd("APPEND INBOX {6}"),
        send(b"+ go"),
        ExpectRaw(b"a\nb\r\nc\r\n"),
        send(b"{tag} OK appended"),
    ]
    with (
        ScriptedServer(script) as server,
        mock.patch.object(STDLIB, "MapCRLF", re.compile(rb"\r\n|\r")),
    ):
        M = mod.IMAP4("127.0.0.1", server.port)
        M.state = "AUTH"
        assert M.append("INBOX", None, None, b"a\nb\rc") == ("OK", [b"appended"])
        M.shutdown()


def test_append_maps_bare_line_ends_on_the_wire() -> None:
    mod = _target()
    msg = b"Subject: x\n\nbody\rline\r\n"
    want = STDLIB.MapCRLF.sub(b"\r\n", msg)
    script = [
        *HELLO,
        cmd(b"APPEND INBOX {%d}" % len(want)),
        send(b"+ go"),
        ExpectRaw(want + b"\r\n"),
        send(b"{tag} OK appended"),
    ]
    with ScriptedServer(script) as server:
        M = mod.IMAP4("127.0.0.1", server.port)
        M.state = "AUTH"
        assert M.append("INBOX", None, None, msg) == ("OK", [b"appended"])
        M.shutdown()


def test_send_rule_reads_the_interpreters_send() -> None:
    from imaplib_c import _rules

    assert _rules._plain_send(STDLIB) is True

    class Other:
        class IMAP4:
            def send(self, data: bytes) -> None:
                self.sock.sendall(data)  # no audit event: not the send the engine restates

    assert _rules._plain_send(Other) is False  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((), {}),
        (("NOOP",), {"name": "NOOP"}),
        (("NOOP", "a"), {"name": "NOOP"}),
        (("NOOP",), {"foo": 1}),
        ((), {"name": "NOOP", "foo": 1}),
        ((), {"foo": 1, "name": "NOOP"}),
    ],
)
@pytest.mark.parametrize("method", ["_command", "_simple_command"])
def test_name_and_args_refused_as_imaplib_does(
    method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """(name, *args) goes through parse_args: a call imaplib's method refuses
    is refused with the same TypeError, before anything is sent."""
    engine = _target()._imaplib_c.Engine
    with pytest.raises(TypeError) as ours:
        getattr(engine, method)(engine(), *args, **kwargs)
    with pytest.raises(TypeError) as theirs:
        getattr(STDLIB.IMAP4, method)(None, *args, **kwargs)
    # Python names the function by its __qualname__ (IMAP4._command) from 3.10
    assert str(ours.value) == re.sub(r"^IMAP4\.", "", str(theirs.value))
