"""Do the engine's command methods do what the interpreter's imaplib does?

The engine restates imaplib's ``_command``, ``_command_complete`` and
``_simple_command`` in C (csrc/binding/imap4_command.c): they are half of the cost of
a small command.  At import both versions run side by side on a battery of
cases (plain commands, arguments of each type, wrong states, READ-ONLY,
literals, a literal refused before its continuation, an AUTHENTICATE-style
literator, a failing send, BAD and BYE completions, the debug log) over a
scripted connection, and every observable result is compared: return values,
exceptions and their messages, bytes sent, log messages and every instance
attribute left behind.  If anything differs (a CPython release changed imaplib), the
package uses the interpreter's methods instead.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

Step = Callable[[Any], Any]


def _probe_class(cls: type, std: ModuleType) -> type:
    class Probe(cls):  # type: ignore[misc,valid-type]
        def __init__(self, steps: list[Step], state: str) -> None:  # no connection
            self.debug = 0
            self.state = state
            self.literal = None
            self.tagged_commands: dict[bytes, Any] = {}
            self.untagged_responses: dict[str, list[Any]] = {}
            self.continuation_response = ""
            self.is_readonly = False
            self.utf8_enabled = False
            self.tagnum = 0
            self._idle_capture = False
            self._mode_ascii()
            self.tagpre = b"PROB"
            self.tagre = std.re.compile(
                rb"(?P<tag>PROB\d+) (?P<type>[A-Z]+) (?P<data>.*)", std.re.ASCII
            )
            self.steps = steps
            self.record: list[Any] = []

        def send(self, data: bytes) -> None:
            self.record.append(("send", bytes(data)))
            if data == b"FAIL\r\n" or data.endswith(b" FAILSEND\r\n"):
                raise OSError("probe send failed")

        def _get_response(self, *args: Any) -> Any:
            if not self.steps:
                raise self.abort("probe: no more responses")
            return self.steps.pop(0)(self)

        def _mesg(self, s: str, secs: Any = None) -> None:
            self.record.append(("mesg", s))

        def _log(self, line: str) -> None:
            self.record.append(("log", line))

    return Probe


def _cont(text: str) -> Step:
    def step(p: Any) -> None:
        p.continuation_response = text

    return step


def _tagged(typ: str, data: bytes) -> Step:
    def step(p: Any) -> bytes:
        tag = p.tagpre + str(p.tagnum - 1).encode()
        p.tagged_commands[tag] = (typ, [data])
        return b"tagged"

    return step


def _untagged(typ: str, data: bytes) -> Step:
    def step(p: Any) -> bytes:
        p.untagged_responses.setdefault(typ, []).append(data)
        return b"untagged"

    return step


class _Answers:
    """An AUTHENTICATE-style literator: a bound method answering continuations."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def process(self, data: str) -> bytes:
        self.seen.append(data)
        return b"answer-%d" % len(self.seen)


# (method, args, state, setup attributes, scripted responses)
def _cases() -> list[tuple[str, tuple[Any, ...], str, dict[str, Any], list[Step]]]:
    ok = _tagged("OK", b"done")
    return [
        ("_simple_command", ("NOOP",), "AUTH", {}, [ok]),
        ("_simple_command", ("SELECT", "INBOX", None, b"x"), "AUTH", {}, [ok]),
        ("_simple_command", ("FETCH", bytearray(b"1"), "(FLAGS)"), "SELECTED", {}, [ok]),
        ("_simple_command", ("LOGIN", "u", "\u00e9"), "NONAUTH", {}, [ok]),
        ("_simple_command", ("SELECT", "IN\r\nBOX"), "AUTH", {}, [ok]),
        ("_simple_command", ("SELECT", b"a\x00"), "AUTH", {}, [ok]),
        ("_simple_command", ("SELECT", 5), "AUTH", {}, [ok]),
        ("_simple_command", ("SELECT", memoryview(b"x")), "AUTH", {}, [ok]),
        ("_simple_command", ("SELECT", "INBOX"), "NONAUTH", {"literal": b"x"}, [ok]),
        ("_simple_command", ("NOSUCH",), "AUTH", {}, [ok]),
        (
            "_simple_command",
            ("NOOP",),
            "AUTH",
            {"untagged_responses": {"OK": [b"a"], "NO": [b"b"], "BAD": [b"c"], "X": [b"d"]}},
            [ok],
        ),
        ("_simple_command", ("NOOP",), "AUTH", {"untagged_responses": {"READ-ONLY": [b""]}}, [ok]),
        (
            "_simple_command",
            ("NOOP",),
            "AUTH",
            {"untagged_responses": {"READ-ONLY": [b""]}, "is_readonly": True},
            [ok],
        ),
        ("_simple_command", ("APPEND", "INBOX"), "AUTH", {"literal": b"abc"}, [_cont("go"), ok]),
        (
            "_simple_command",
            ("APPEND", "INBOX"),
            "AUTH",
            {"literal": b"abc"},
            [_untagged("EXISTS", b"3"), _tagged("NO", b"too big")],
        ),
        (
            "_simple_command",
            ("AUTHENTICATE", "X"),
            "NONAUTH",
            {"literal": _Answers().process},
            [_cont("c1"), _cont("c2"), ok],
        ),
        ("_simple_command", ("NOOP",), "AUTH", {"debug": 4}, [ok]),
        (
            "_simple_command",
            ("APPEND", "INBOX"),
            "AUTH",
            {"debug": 4, "literal": b"ab"},
            [_cont(""), ok],
        ),
        ("_simple_command", ("NOOP",), "AUTH", {"debug": 1}, [ok]),
        (
            "_simple_command",
            ("APPEND", "INBOX"),
            "AUTH",
            {"utf8_enabled": True, "literal": b"\xc3\xa9"},
            [_cont("go"), ok],
        ),
        ("_simple_command", ("NOOP", "FAILSEND"), "AUTH", {}, [ok]),
        ("_simple_command", ("NOOP",), "AUTH", {}, [_tagged("BAD", b"syntax")]),
        ("_simple_command", ("NOOP",), "AUTH", {}, [_tagged("NO", b"no")]),
        ("_simple_command", ("NOOP",), "AUTH", {}, []),
        ("_simple_command", ("NOOP",), "AUTH", {}, [_untagged("BYE", b"going")]),
        ("_simple_command", ("LOGOUT",), "AUTH", {}, [_untagged("BYE", b"bye")]),
        ("_simple_command", ("NOOP",), "AUTH", {"untagged_responses": {"BYE": [b"x"]}}, [ok]),
        ("_command", ("NOOP",), "AUTH", {}, []),
        ("_command", ("CHECK", "x"), "SELECTED", {"tagnum": 41}, []),
        ("_command", ("CHECK", "x"), "SELECTED", {"tagnum": -7}, []),
        ("_command", ("CHECK", "x"), "SELECTED", {"tagnum": 2**70}, []),
        (
            "_simple_command",
            ("APPEND", "INBOX"),
            "AUTH",
            {"literal": bytearray(b"abc"), "tagnum": 10**19},
            [_cont("go"), ok],
        ),
        (
            "_simple_command",
            ("APPEND", "INBOX", "(\\Seen)"),
            "AUTH",
            {"literal": b"abc", "_encoding": "latin-1"},
            [_cont("go"), ok],
        ),
        (
            "_command_complete",
            ("NOOP", b"PROB0"),
            "AUTH",
            {"tagged_commands": {b"PROB0": None}, "tagnum": 1},
            [_untagged("EXISTS", b"1"), _tagged("OK", b"x")],
        ),
        ("_command_complete", ("NOOP", b"PROB7"), "AUTH", {}, []),
    ]


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        return ("ok", call())
    except Exception as exc:  # noqa: BLE001 - the outcome is what is compared
        return ("raised", type(exc).__name__, str(exc))


def _run(probe_cls: type, method: Callable[..., Any], case: Any) -> Any:
    _name, args, state, setup, steps = case
    p = probe_cls(list(steps), state)
    for key, value in setup.items():
        setattr(p, key, value)
    result = _outcome(lambda: method(p, *args))
    left = {k: _plain(v) for k, v in vars(p).items() if k not in ("steps", "record")}
    return result, p.record, left


def _plain(value: Any) -> Any:
    """A comparable snapshot of an attribute (bound methods by name only)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if callable(value) and hasattr(value, "__func__"):
        return ("method", value.__func__.__qualname__)
    return value


def differences(
    cls: type, std: ModuleType, interpreter: dict[str, Callable[..., Any]]
) -> list[tuple[Any, Any, Any]]:
    """The cases where cls's (engine) command methods and `interpreter`'s differ:
    (method and arguments, the engine's outcome, the interpreter's)."""
    probe_cls = _probe_class(cls, std)
    # The interpreter's methods, with the rest of the command path also the
    # interpreter's (its _simple_command calls self._command, ...).
    ref_cls = type("Ref", (probe_cls,), dict(interpreter))
    found = []
    for case, same_case in zip(_cases(), _cases()):  # fresh literators for each run
        name = case[0]
        ours = _run(probe_cls, getattr(cls, name), case)
        theirs = _run(ref_cls, interpreter[name], same_case)
        if ours != theirs:
            found.append(((name, case[1]), ours, theirs))
    return found


def engine_matches(cls: type, std: ModuleType, interpreter: dict[str, Callable[..., Any]]) -> bool:
    """Do cls's (engine) command methods behave as `interpreter`'s on every case?"""
    return not differences(cls, std, interpreter)
