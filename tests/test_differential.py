"""Differential sessions: stdlib ``imaplib`` vs the module under test.

Each session is a server script plus a list of client calls.  It is played
once through the stdlib and once through the module under test, both after
the same ``random.seed()`` (so the tag prefix is the same), and the two runs
must agree on every return value (exact types), every exception (class
position, name, ``str`` and ``args``), the attributes after each call, the
debug messages and the bytes put on the wire.  Every session runs with whole
and with chunked server output.

A call is a Python expression evaluated with ``M`` (the instance), ``mod``
(the module), ``run`` and a few helpers in scope; walrus assignments persist
between calls of a session.
"""

from __future__ import annotations

import base64
import datetime
import random
import re
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Union
from unittest import mock

import pytest
from conftest import STDLIB, TARGET_IS_STDLIB, load_target
from imaplib_features import rereads_cut_literal
from outcomes import as_eof, describe_exc, typed

from testsupport.scripted_server import (
    Close,
    Expect,
    ExpectRaw,
    ExpectRe,
    Maybe,
    ScriptedServer,
    Send,
    Step,
    cmd,
    cmd_any,
    cmd_re,
    send,
)

ATTRS = (
    "state",
    "tagnum",
    "tagpre",
    "capabilities",
    "untagged_responses",
    "tagged_commands",
    "welcome",
    "continuation_response",
    "is_readonly",
    "utf8_enabled",
    "_encoding",
    "PROTOCOL_VERSION",
    "literal",
)

Call = Union[str, tuple[str, Callable[["Run"], Any]]]


@dataclass
class Session:
    name: str
    scripts: list[list[Step]]
    calls: list[Call]
    ctor: str = "mod.IMAP4('127.0.0.1', run.port)"
    seed: int = 20240611
    debug: int | None = None  # set on the instance after construction
    debug_ctor: int | None = None  # module Debug + recording subclass


@dataclass
class Run:
    mod: ModuleType
    port: int = 0
    M: Any = None
    notes: list[str] = field(default_factory=list)
    mesgs: list[str] = field(default_factory=list)
    ns: dict[str, Any] = field(default_factory=dict)

    def mesg(self, s: object, secs: object = None) -> None:
        self.mesgs.append(f"{typed(s)} secs={'None' if secs is None else 'set'}")

    def auth(self, *replies: object) -> Callable[[bytes], object]:
        """An authobject that records the challenges and returns ``replies``."""
        it = iter(replies)

        def callback(data: bytes) -> object:
            self.notes.append(f"challenge {typed(data)}")
            return next(it)

        return callback


@dataclass
class Result:
    events: list[str]
    wire: list[bytes]
    server_errors: list[str]


def _snapshot(M: Any) -> str:
    out = []
    for name in ATTRS:
        try:
            value = getattr(M, name)
        except AttributeError as exc:
            out.append(f"{name}=<AttributeError {exc}>")
        else:
            out.append(f"{name}={typed(value)}")
    return "  " + "; ".join(out)


def _value(run: Run, value: object) -> str:
    if value is run.M and value is not None:
        return "<self>"
    return typed(value)


def _evaluate(run: Run, call: Call) -> tuple[str, object]:
    if isinstance(call, str):
        return call, eval(call, run.ns)
    label, fn = call
    return label, fn(run)


def play(mod: ModuleType, session: Session, chunked: bool) -> Result:
    run = Run(mod=mod)
    run.ns.update(
        mod=mod,
        run=run,
        datetime=datetime,
        LONG=LONG_AUTH,
        Counter=Counter,
        relay_command=relay_command,
    )
    events: list[str] = []
    saved_commands = dict(mod.Commands)
    server = ScriptedServer(*session.scripts, chunked=chunked, seed=len(session.name))
    run.port = server.port
    try:
        random.seed(session.seed)
        try:
            if session.debug_ctor is not None:
                sub = type(
                    "RecordingIMAP4",
                    (mod.IMAP4,),
                    {"_mesg": lambda self, s, secs=None: run.mesg(s, secs)},
                )
                run.ns["mod"] = _ModProxy(mod, sub)
                with mock.patch.object(mod, "Debug", session.debug_ctor):
                    run.M = eval(session.ctor, run.ns)
                run.ns["mod"] = mod
            else:
                run.M = eval(session.ctor, run.ns)
        except Exception as exc:  # noqa: BLE001 - recorded and compared
            events.append("ctor: " + describe_exc(mod.IMAP4, exc))
        else:
            events.append("ctor: ok")
            events.append(_snapshot(run.M))
        run.ns["M"] = run.M
        if run.M is not None:
            if session.debug is not None:
                run.M._mesg = run.mesg
                run.M.debug = session.debug
            for call in session.calls:
                label = call if isinstance(call, str) else call[0]
                try:
                    label, value = _evaluate(run, call)
                except Exception as exc:  # noqa: BLE001 - recorded and compared
                    events.append(f"{label}: " + describe_exc(mod.IMAP4, exc))
                else:
                    events.append(f"{label}: -> {_value(run, value)}")
                events.append(_snapshot(run.M))
    finally:
        if run.M is not None:
            try:
                run.M.shutdown()
            except Exception:  # noqa: BLE001, S110 - best-effort cleanup
                pass
        server.stop()
        mod.Commands.clear()
        mod.Commands.update(saved_commands)
    events.extend(f"note: {n}" for n in run.notes)
    events.extend(f"mesg: {m}" for m in run.mesgs)
    return Result(events, [bytes(c.received) for c in server.connections], server.errors)


class _ModProxy:
    """The module, except that ``IMAP4`` is a recording subclass."""

    def __init__(self, mod: ModuleType, sub: type) -> None:
        self._mod = mod
        self.IMAP4 = sub

    def __getattr__(self, name: str) -> Any:
        return getattr(self._mod, name)


# ---------------------------------------------------------------------------
# Script building blocks

CAPS = (
    b"IMAP4rev1 AUTH=PLAIN AUTH=CRAM-MD5 ENABLE UTF8=ACCEPT UIDPLUS MOVE QUOTA ACL"
    b" NAMESPACE SORT THREAD=REFERENCES ANNOTATEMORE ID"
)


def capability(caps: bytes = CAPS) -> list[Step]:
    return [cmd("CAPABILITY"), send(b"* CAPABILITY " + caps, b"{tag} OK CAPABILITY completed")]


def refresh(caps: bytes = CAPS) -> Maybe:
    """A CAPABILITY exchange that only some imaplibs start.  After LOGIN or
    AUTHENTICATE, those with _refresh_capabilities() (e.g. Debian sid's
    3.13.18, 3.14, 3.15) ask unless a CAPABILITY response or code came with the
    OK; after a greeting with a [CAPABILITY] code, only the older ones ask."""
    return Maybe(*capability(caps))


def hello(caps: bytes = CAPS, greeting: bytes = b"* OK IMAP4rev1 Service Ready") -> list[Step]:
    if b"[CAPABILITY " in greeting.upper():
        return [send(greeting), refresh(caps)]
    return [send(greeting), *capability(caps)]


def ok(command: str | bytes | ExpectRe, *untagged: bytes, text: bytes = b"completed") -> list[Step]:
    expect = command if isinstance(command, ExpectRe) else cmd(command)
    return [expect, send(*untagged, b"{tag} OK " + text)]


def login(caps: bytes = CAPS, code: bool = False) -> list[Step]:
    """LOGIN; with ``code``, the OK carries the capabilities (imaplibs that
    refresh them after LOGIN take them from it), else a CAPABILITY exchange may
    follow (a script that calls capability() next needs ``code``)."""
    if code:
        return ok('LOGIN user "pass"', text=b"[CAPABILITY " + caps + b"] LOGIN completed")
    return [*ok('LOGIN user "pass"', text=b"LOGIN completed"), refresh(caps)]


def fetch(message_set: str, parts: str) -> ExpectRe:
    """FETCH with message parts as given or, as imaplibs with _fetch_parts()
    send them, in parentheses."""
    return cmd_any(f"FETCH {message_set} {parts}", f"FETCH {message_set} ({parts})")


def select(mailbox: str = "INBOX") -> list[Step]:
    return ok(
        f"SELECT {mailbox}",
        b"* 3 EXISTS",
        b"* 0 RECENT",
        b"* FLAGS (\\Answered \\Seen \\Deleted)",
        b"* OK [UIDVALIDITY 42] UIDs valid",
        text=b"[READ-WRITE] SELECT completed",
    )


def logout() -> list[Step]:
    return ok("LOGOUT", b"* BYE IMAP4rev1 Server logging out", text=b"LOGOUT completed")


LOGIN = "M.login('user', 'pass')"
SELECT = "M.select()"
LOGOUT = "M.logout()"


def b64(data: bytes) -> bytes:
    return base64.b64encode(data)


CRAM_CHALLENGE = b"+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ="
CRAM_ANSWER = b"dGltIGYxY2E2YmU0NjRiOWVmYTFjY2E2ZmZkNmNmMmQ5ZjMy"
LONG_AUTH = b"x" * 100

SESSIONS: list[Session] = [
    # -- greetings ---------------------------------------------------------
    Session(
        "greeting_ok_basic",
        [[*hello(), *ok("NOOP"), *ok("CAPABILITY", b"* CAPABILITY IMAP4rev1 X-FOO"), *logout()]],
        ["M.noop()", "M.capability()", "M.capabilities", LOGOUT],
    ),
    Session(
        "greeting_ok_with_code",
        [[*hello(greeting=b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready"), *logout()]],
        ["M.welcome", "M.response('OK')", "M.response('CAPABILITY')", LOGOUT],
    ),
    Session(
        "greeting_preauth",
        [
            [
                *hello(greeting=b"* PREAUTH [CAPABILITY IMAP4rev1] logged in as user"),
                *select(),
                *logout(),
            ]
        ],
        ["M.state", SELECT, "M.response('PREAUTH')", LOGOUT],
    ),
    Session("greeting_bye", [[send(b"* BYE [UNAVAILABLE] go away")]], []),
    Session("greeting_continuation", [[send(b"+ hello there")]], []),
    Session("greeting_garbage", [[send(b"garbage here")]], []),
    Session("greeting_empty_eof", [[Close()]], []),
    Session(
        "greeting_no_capability_response",
        [[send(b"* OK hi"), cmd("CAPABILITY"), send(b"{tag} OK no capabilities for you")]],
        [],
    ),
    Session("greeting_not_imap4", [hello(caps=b"IMAP2 FOO")], []),
    Session(
        "greeting_imap4_only",
        [[*hello(caps=b"imap4 idle"), *logout()]],
        ["M.PROTOCOL_VERSION", "M.capabilities", LOGOUT],
    ),
    # -- login / authenticate ---------------------------------------------
    Session(
        "login_quoting",
        [
            [
                *hello(),
                # imaplibs with _astring(): _quote() takes bytes (before: TypeError, nothing sent)
                Maybe(cmd('LOGIN u "p"'), send(b"{tag} NO [AUTHENTICATIONFAILED] no")),
                # ... and the user name is an astring (quoted when it has a space)
                cmd_any('LOGIN user name "pa\\"ss\\\\word"', 'LOGIN "user name" "pa\\"ss\\\\word"'),
                send(b"{tag} OK LOGIN completed"),
                refresh(),
                *logout(),
            ]
        ],
        [
            "M.login('u', b'p')",
            "M.login('user name', 'pa\"ss\\\\word')",
            "M.login('a', 'b')",
            LOGOUT,
        ],
    ),
    Session(
        "login_no_then_ok",
        [
            [
                *hello(),
                cmd('LOGIN user "wrong"'),
                send(b"{tag} NO [AUTHENTICATIONFAILED] Authentication failed."),
                *login(),
                *ok("LOGOUT", text=b"bye without BYE"),
            ]
        ],
        ["M.login('user', 'wrong')", LOGIN, LOGOUT],
    ),
    Session(
        "login_bad",
        [[*hello(), cmd('LOGIN user "x"'), send(b"{tag} BAD [CLIENTBUG] syntax"), *logout()]],
        ["M.login('user', 'x')", "M.response('CLIENTBUG')", LOGOUT],
    ),
    Session(
        "authenticate_multi_step",
        [
            [
                *hello(),
                cmd("AUTHENTICATE PLAIN"),
                send(b"+ "),
                Expect(b64(b"\x00user\x00pass")),
                send(b"* CAPABILITY IMAP4rev1 INTERIM", b"+ " + b64(b"second challenge")),
                Expect(b64(LONG_AUTH)),
                send(b"+"),
                Expect(b64("é".encode())),
                send(b"{tag} OK [CAPABILITY IMAP4rev1 AFTER] authenticated"),
                *logout(),
            ]
        ],
        [
            "M.authenticate('plain', run.auth(b'\\x00user\\x00pass', LONG, 'é'))",
            "M.continuation_response",
            "M.response('CAPABILITY')",
            "M.capabilities",
            LOGOUT,
        ],
    ),
    Session(
        "authenticate_cancel",
        [
            [
                *hello(),
                cmd("AUTHENTICATE XOAUTH2"),
                send(b"+ eyJzdGF0dXMiOiI0MDEifQ=="),
                Expect(b"*"),
                send(b"{tag} NO [AUTHENTICATIONFAILED] cancelled \xff"),
                *logout(),
            ]
        ],
        ["M.authenticate('XOAUTH2', run.auth(None))", "M.state", LOGOUT],
    ),
    Session(
        "authenticate_refused",
        [
            [
                *hello(),
                cmd("AUTHENTICATE METHOD"),
                send(b"{tag} NO unrecognized authentication type"),
                cmd("AUTHENTICATE OTHER"),
                send(b"{tag} BAD unknown mechanism"),
                *logout(),
            ]
        ],
        [
            "M.authenticate('METHOD', run.auth(b'x'))",
            "M.authenticate('other', run.auth(b'x'))",
            LOGOUT,
        ],
    ),
    Session(
        "login_cram_md5_str",
        [
            [
                *hello(),
                cmd("AUTHENTICATE CRAM-MD5"),
                send(CRAM_CHALLENGE),
                Expect(CRAM_ANSWER),
                send(b"{tag} OK CRAM-MD5 successful"),
                refresh(),
                *logout(),
            ]
        ],
        ["M.login_cram_md5('tim', 'tanstaaftanstaaf')", "M.user", "M.password", LOGOUT],
    ),
    Session(
        "login_cram_md5_bytes",
        [
            [
                *hello(),
                cmd("AUTHENTICATE CRAM-MD5"),
                send(CRAM_CHALLENGE),
                Expect(CRAM_ANSWER),
                send(b"{tag} NO nope"),
                *logout(),
            ]
        ],
        ["M.login_cram_md5('tim', b'tanstaaftanstaaf')", "M.state", LOGOUT],
    ),
    # -- select / examine --------------------------------------------------
    Session(
        "select_read_write",
        [
            [
                *hello(),
                *login(),
                *ok(
                    "SELECT INBOX",
                    b"* 172 EXISTS",
                    b"* 1 RECENT",
                    b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft [test])",
                    b"* OK [PERMANENTFLAGS (\\Deleted \\Seen [test] \\*)] Limited",
                    b"* OK [UNSEEN 12] Message 12 is first unseen",
                    b"* OK [UIDVALIDITY 3857529045] UIDs valid",
                    b"* OK [UIDNEXT 4392] Predicted next UID",
                    text=b"[READ-WRITE] SELECT completed",
                ),
                *ok("CLOSE"),
                *logout(),
            ]
        ],
        [
            LOGIN,
            SELECT,
            "M.response('PERMANENTFLAGS')",
            "M.response('uidvalidity')",
            "M.recent()",
            "M.response('EXISTS')",
            "M.response('FLAGS')",
            "M.response('READ-WRITE')",
            "M.close()",
            LOGOUT,
        ],
    ),
    Session(
        "select_read_only_unrequested",
        [
            [
                *hello(),
                *login(),
                *ok("SELECT INBOX", b"* 2 EXISTS", text=b"[READ-ONLY] SELECT completed"),
                *ok("EXAMINE INBOX", b"* 2 EXISTS", text=b"[READ-ONLY] EXAMINE completed"),
                *ok("NOOP"),
                *logout(),
            ]
        ],
        [LOGIN, SELECT, "M.noop()", "M.select('INBOX', True)", "M.is_readonly", "M.noop()", LOGOUT],
    ),
    Session(
        "select_no_and_examine",
        [
            [
                *hello(),
                *login(),
                cmd("SELECT Trash"),
                send(b"* 9 EXISTS", b"{tag} NO [NONEXISTENT] no such mailbox"),
                *ok('EXAMINE "My Box"', text=b"[READ-ONLY] done"),
                *ok("NOOP", b"* OK [READ-ONLY] still"),
                *ok("UNSELECT"),
                *logout(),
            ]
        ],
        [
            LOGIN,
            "M.select('Trash')",
            "M.select('\"My Box\"', readonly=True)",
            "M.noop()",
            "M.unselect()",
            LOGOUT,
        ],
    ),
    Session(
        "readonly_mid_session",
        [
            [
                *hello(),
                *login(),
                *select(),
                *ok("NOOP", b"* OK [READ-ONLY] now read-only"),
                *select(),
                *logout(),
            ]
        ],
        [LOGIN, SELECT, "M.noop()", "M.noop()", "M.expunge()", SELECT, LOGOUT],
    ),
    # -- fetch -------------------------------------------------------------
    Session(
        "fetch_literals",
        [
            [
                *hello(),
                *login(),
                *select(),
                *ok(
                    "FETCH 1:3 (UID RFC822 BODY[HEADER])",
                    b"* 1 FETCH (UID 7 RFC822 {5}\r\nhello BODY[HEADER] {3}\r\nabc)",
                    b"* 2 FETCH (FLAGS (\\Seen))",
                    b"* 3 FETCH (UID 9 RFC822 {12}\r\nline1\r\nline2 BODY[HEADER] {0}\r\n)",
                    b"* 4 EXISTS",
                ),
                *logout(),
            ]
        ],
        [
            LOGIN,
            SELECT,
            "M.fetch('1:3', '(UID RFC822 BODY[HEADER])')",
            "M.response('EXISTS')",
            LOGOUT,
        ],
    ),
    Session(
        "fetch_literal_edge_cases",
        [
            [
                *hello(),
                *login(),
                *select(),
                *ok(
                    fetch("1", "BODY[]"),
                    b"* 1 FETCH (BODY[] {27}\r\n* 2 FETCH {5}\r\nX1 OK hi\r\n\r\n)",
                    b"* 1 FETCH (BODY[1] {2}\r\nab BODY[2] {2}\r\ncd BODY[3] {1}\r\n{)",
                    b"* 2 FETCH (BODY[] {0}\r\n)",
                    b"* 3 FETCH (X {3}\r\n{3} Y {3}\r\n{3})",
                ),
                # bytes message parts: _fetch_parts() raises TypeError before sending
                Maybe(*ok("FETCH 2 (FLAGS)", b"* 2 FETCH {4}\r\nabcd")),
                *logout(),
            ]
        ],
        [LOGIN, SELECT, "M.fetch('1', 'BODY[]')", "M.fetch(b'2', b'(FLAGS)')", LOGOUT],
    ),
    Session(
        "fetch_no_and_bad",
        [
            [
                *hello(),
                *login(),
                *select(),
                fetch("9", "BODY[]"),
                send(b"* 1 FETCH (FLAGS ())", b"{tag} NO no such message"),
                fetch("x", "BODY[]"),
                send(b"{tag} BAD invalid sequence"),
                *ok(fetch("1", "FLAGS"), b"* 1 FETCH (FLAGS (\\Seen))"),
                *logout(),
            ]
        ],
        [
            LOGIN,
            SELECT,
            "M.fetch('9', 'BODY[]')",
            "M.fetch('x', 'BODY[]')",
            "M.fetch('1', 'FLAGS')",
            LOGOUT,
        ],
    ),
    Session(
        "uid_commands",
        [
            [
                *hello(),
                *login(),
                *select(),
                *ok(
                    "UID FETCH 1:* (FLAGS)",
                    b"* 1 FETCH (UID 5 FLAGS ())",
                    b"* 2 FETCH (UID 6 FLAGS (\\Seen))",
                ),
                *ok("UID SEARCH ALL", b"* SEARCH 5 6"),
                *ok("UID STORE 5 +FLAGS (\\Seen)", b"* 1 FETCH (UID 5 FLAGS (\\Seen))"),
                *ok("UID COPY 5 Trash", text=b"[COPYUID 38505 5 12] done"),
                *ok("UID MOVE 6 Archive", b"* OK [COPYUID 38505 6 13] moved", b"* 2 EXPUNGE"),
                *ok("UID EXPUNGE 1:3", b"* 1 EXPUNGE"),
                *ok("UID SORT (DATE) UTF-8 ALL", b"* SORT 6 5"),
                *ok("UID THREAD REFERENCES UTF-8 ALL", b"* THREAD (5)(6)"),
                *logout(),
            ]
        ],
        [
            LOGIN,
            "M.uid('FETCH', '1:*', '(FLAGS)')",
            SELECT,
            "M.uid('fetch', '1:*', '(FLAGS)')",
            "M.uid('search', None, 'ALL')",
            "M.uid('STORE', '5', '+FLAGS', '(\\\\Seen)')",
            "M.uid('COPY', '5', 'Trash')",
            "M.response('COPYUID')",
            "M.uid('MOVE', '6', 'Archive')",
            "M.uid('EXPUNGE', '1:3')",
            "M.uid('SORT', '(DATE)', 'UTF-8', 'ALL')",
            "M.uid('THREAD', 'REFERENCES', 'UTF-8', 'ALL')",
            "M.uid('bogus', '1')",
            LOGOUT,
        ],
    ),
    Session(
        "search_sort_thread",
        [
            [
                *hello(),
                *login(),
                *select(),
                *ok("SEARCH ALL", b"* SEARCH 1 2 3"),
                *ok("SEARCH CHARSET UTF-8 SUBJECT x", b"* SEARCH"),
                *ok("SEARCH UNSEEN"),
                cmd("SEARCH BOGUS"),
                send(b"* SEARCH 1", b"{tag} NO [BADCHARSET (UTF-8)] bad"),
                *ok("SORT (DATE) UTF-8 ALL", b"* SORT 3 1 2"),
                *ok("SORT (REVERSE DATE) US-ASCII ALL", b"* SORT 2 1 3"),
                *ok("THREAD REFERENCES UTF-8 ALL", b"* THREAD (1)(2 3)"),
                *logout(),
            ]
        ],
        [
            LOGIN,
            SELECT,
            "M.search(None, 'ALL')",
            "M.search('UTF-8', 'SUBJECT', b'x')",
            "M.search(None, 'UNSEEN')",
            "M.search(None, 'BOGUS')",
            "M.response('BADCHARSET')",
            "M.sort('DATE', 'UTF-8', 'ALL')",
            "M.sort('(REVERSE DATE)', 'US-ASCII', 'ALL')",
            "M.thread('REFERENCES', 'UTF-8', 'ALL')",
            LOGOUT,
        ],
    ),
    Session(
        "list_lsub_literals",
        [
            [
                *hello(),
                *login(),
                *ok(
                    'LIST "" *',
                    b'* LIST () "/" {7}\r\nfoo bar',
                    b'* LIST (\\HasNoChildren) "/" INBOX',
                ),
                *ok('LIST "" %', b'* LIST (\\Noselect) "/" ""'),
                *ok('LSUB "" *', b'* LSUB () "." directoryA'),
                cmd("LIST foo bar"),
                send(b"{tag} NO list failed"),
                *logout(),
            ]
        ],
        [LOGIN, "M.list()", "M.list('\"\"', '%')", "M.lsub()", "M.list('foo', 'bar')", LOGOUT],
    ),
    Session(
        "status_store_copy_expunge",
        [
            [
                *hello(),
                *login(),
                *ok("STATUS INBOX (MESSAGES UNSEEN)", b"* STATUS INBOX (MESSAGES 231 UNSEEN 3)"),
                *select(),
                *ok("STORE 1 +FLAGS (\\Seen)", b"* 1 FETCH (FLAGS (\\Seen))"),
                *ok("STORE 1:2 FLAGS (\\Seen \\Deleted)", b"* 1 FETCH (FLAGS (\\Seen \\Deleted))"),
                *ok("STORE 1 +FLAGS.SILENT (\\Seen)"),
                cmd("COPY 1:3 Trash"),
                send(b"{tag} NO [TRYCREATE] no mailbox"),
                *ok("EXPUNGE", b"* 3 EXPUNGE", b"* 3 EXPUNGE", b"* 5 EXPUNGE"),
                *ok("EXPUNGE"),
                *logout(),
            ]
        ],
        [
            LOGIN,
            "M.status('INBOX', '(MESSAGES UNSEEN)')",
            SELECT,
            "M.store('1', '+FLAGS', '\\\\Seen')",
            "M.store('1:2', 'FLAGS', '(\\\\Seen \\\\Deleted)')",
            "M.store('1', '+FLAGS.SILENT', '(\\\\Seen)')",
            "M.copy('1:3', 'Trash')",
            "M.response('TRYCREATE')",
            "M.expunge()",
            "M.expunge()",
            LOGOUT,
        ],
    ),
    Session(
        "append_variants",
        [
            [
                *hello(),
                *login(),
                cmd("APPEND INBOX (\\Seen) {10}"),
                send(b"+ Ready for literal data"),
                ExpectRaw(b"a\r\nb\r\nc\r\nd\r\n"),
                send(b"{tag} OK [APPENDUID 38505 3955] APPEND completed"),
                cmd('APPEND INBOX (\\Seen \\Flagged) "01-Jan-2000 00:00:00 +0000" {1}'),
                send(b"+ go"),
                ExpectRaw(b"x\r\n"),
                send(b"{tag} OK done"),
                cmd('APPEND Sent "02-Jan-2020 03:04:05 +0000" {3}'),
                send(b"+"),
                ExpectRaw(b"y\r\n\r\n"),
                send(b"{tag} OK done"),
                cmd_re(
                    rb'APPEND INBOX "\d\d-[A-Z][a-z][a-z]-\d{4} \d\d:\d\d:\d\d [+-]\d{4}" \{0\}'
                ),
                send(b"+ go"),
                ExpectRaw(b"\r\n"),
                send(b"{tag} OK done"),
                cmd_re(
                    rb'APPEND INBOX "\d\d-[A-Z][a-z][a-z]-\d{4} \d\d:\d\d:\d\d [+-]\d{4}" \{1\}'
                ),
                send(b"+ go"),
                ExpectRaw(b"z\r\n"),
                send(b"{tag} OK done"),
                cmd("APPEND INBOX {1}"),
                send(b"+ go"),
                ExpectRaw(b"0\r\n"),
                send(b"{tag} OK done"),
                cmd("APPEND Nope {1}"),
                send(b"{tag} NO [TRYCREATE] no such mailbox"),
                cmd("APPEND Bad {1}"),
                send(b"{tag} BAD go away"),
                *logout(),
            ]
        ],
        [
            LOGIN,
            "M.append('INBOX', '\\\\Seen', None, b'a\\nb\\rc\\r\\nd')",
            "M.response('APPENDUID')",
            "M.append(None, '(\\\\Seen \\\\Flagged)', '\"01-Jan-2000 00:00:00 +0000\"', b'x')",
            "M.append('Sent', '', datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc), b'y\\n')",
            "M.append('INBOX', None, 1700000000, b'')",
            "M.append('INBOX', None, (2021, 3, 4, 5, 6, 7, 0, 0, -1), bytearray(b'z'))",
            "M.append('INBOX', None, 0, b'0')",
            "M.append('INBOX', None, None, 'str message')",
            "M.append('INBOX', None, 3j, b'x')",
            "M.append('Nope', None, None, b'x')",
            "M.append('Bad', None, None, b'x')",
            LOGOUT,
        ],
    ),
    # -- quota / acl / namespace / annotations ------------------------------
    Session(
        "quota",
        [
            [
                *hello(),
                *login(),
                *ok("GETQUOTAROOT INBOX", b'* QUOTAROOT INBOX ""', b'* QUOTA "" (STORAGE 10 512)'),
                *ok('GETQUOTA ""', b'* QUOTA "" (STORAGE 10 512)'),
                *ok('SETQUOTA "" (STORAGE 512)', b'* QUOTA "" (STORAGE 10 512)'),
                *ok("GETQUOTAROOT Other"),
                cmd("GETQUOTAROOT Bad"),
                send(b"{tag} NO quota not supported"),
                *logout(),
            ]
        ],
        [
            LOGIN,
            "M.getquotaroot('INBOX')",
            "M.getquota('\"\"')",
            "M.setquota('\"\"', '(STORAGE 512)')",
            "M.getquotaroot('Other')",
            "M.getquotaroot('Bad')",
            LOGOUT,
        ],
    ),
    Session(
        "acl",
        [
            [
                *hello(),
                *login(),
                *ok("GETACL INBOX", b"* ACL INBOX user lrswi other lr"),
                *ok("SETACL INBOX user lrs"),
                *ok("MYRIGHTS INBOX", b"* MYRIGHTS INBOX lrs"),
                *ok("DELETEACL INBOX user"),
                cmd("GETACL Nope"),
                send(b"{tag} NO no such mailbox"),
                *logout(),
            ]
        ],
        [
            LOGIN,
            "M.getacl('INBOX')",
            "M.setacl('INBOX', 'user', 'lrs')",
            "M.myrights('INBOX')",
            "M.deleteacl('INBOX', 'user')",
            "M.getacl('Nope')",
            LOGOUT,
        ],
    ),
    Session(
        "namespace_annotation",
        [
            [
                *hello(),
                *login(),
                *ok("NAMESPACE", b'* NAMESPACE (("" "/")) NIL (("#shared/" "/"))'),
                *ok(
                    'GETANNOTATION INBOX "/comment" "value.priv"',
                    b'* ANNOTATION INBOX "/comment" ("value.priv" {5}\r\nhello)',
                ),
                *ok(
                    'SETANNOTATION INBOX "/comment" ("value.priv" "y")',
                    b'* ANNOTATION INBOX "/comment" ()',
                ),
                *logout(),
            ]
        ],
        [
            LOGIN,
            "M.namespace()",
            "M.getannotation('INBOX', '\"/comment\"', '\"value.priv\"')",
            "M.setannotation('INBOX', '\"/comment\"', '(\"value.priv\" \"y\")')",
            LOGOUT,
        ],
    ),
    # -- simple commands ----------------------------------------------------
    Session(
        "check_close_unselect",
        [
            [
                *hello(),
                *login(),
                *select(),
                *ok("CHECK"),
                cmd("CLOSE"),
                send(b"{tag} NO close failed"),
                *select(),
                *ok("UNSELECT"),
                *logout(),
            ]
        ],
        [
            LOGIN,
            SELECT,
            "M.check()",
            "M.close()",
            "M.state",
            SELECT,
            "M.unselect()",
            "M.unselect()",
            LOGOUT,
        ],
    ),
    Session(
        "noop_unsolicited",
        [
            [
                *hello(),
                *login(),
                *select(),
                *ok(
                    "NOOP",
                    b"* 4 EXISTS",
                    b"* 1 RECENT",
                    b"* 2 FETCH (FLAGS (\\Seen))",
                    b"* 3 EXPUNGE",
                    b"* OK [ALERT] system going down",
                    b"* NO [X-WARN x]y] disk almost full",
                    b"* BAD junk",
                    b"* 5 X-CUSTOM",
                    b"* X-FOO",
                ),
                *ok("NOOP", b"* 5 RECENT"),
                *ok("NOOP"),
                *logout(),
            ]
        ],
        [
            LOGIN,
            SELECT,
            "M.noop()",
            "M.response('ALERT')",
            "M.response('X-WARN')",
            "M.recent()",
            "M.recent()",
            "M.recent()",
            "M.response('fetch')",
            "M.response('X-FOO')",
            LOGOUT,
        ],
    ),
    Session(
        "xatom_registers_command",
        [
            [
                *hello(),
                *ok("XFOO arg1 arg2"),
                *ok("NOOP"),
                *login(),
                *ok("XBAR"),
                cmd("XBAZ"),
                send(b"{tag} BAD unknown command"),
                *logout(),
            ]
        ],
        [
            "M.xatom('xfoo', 'arg1', 'arg2')",
            "mod.Commands.get('XFOO')",
            "M.xatom('NOOP')",
            "M.XFOO",
            LOGIN,
            "M.xatom('XFOO')",
            "M.xatom('XBAR')",
            "mod.Commands.get('XBAR')",
            "M.xatom('XBAZ')",
            LOGOUT,
        ],
    ),
    Session(
        "enable_utf8",
        [
            [
                *hello(),
                *login(),
                *ok("ENABLE UTF8=ACCEPT", b"* ENABLED UTF8=ACCEPT"),
                # The UTF8 (...) wrapping inside the literal, or (RFC 6855) around it.
                Maybe(
                    cmd("APPEND INBOX {20}"),
                    send(b"+ go"),
                    ExpectRaw(b"UTF8 (Subject: \xc3\xbc\r\n)\r\n"),
                    send(b"{tag} OK done"),
                ),
                Maybe(
                    cmd("APPEND INBOX UTF8 (~{13}"),
                    send(b"+ go"),
                    ExpectRaw(b"Subject: \xc3\xbc\r\n)\r\n"),
                    send(b"{tag} OK done"),
                ),
                *ok(
                    cmd_any(
                        "SELECT \xc3\x9cn\xc3\xaf".encode("latin-1"),
                        'SELECT "\xc3\x9cn\xc3\xaf"'.encode("latin-1"),
                    ),
                    b"* 1 EXISTS",
                    b"* OK [X-\xc3\xa9] caf\xc3\xa9",
                ),
                *ok("SEARCH SUBJECT \xc3\xbc".encode("latin-1"), b"* SEARCH 1"),
                *logout(),
            ]
        ],
        [
            LOGIN,
            "M.enable('UTF8=ACCEPT')",
            "M.response('ENABLED')",
            "M.append('INBOX', None, None, 'Subject: ü\\n'.encode())",
            "M.select('Ünï')",
            "M.search('UTF-8', 'ALL')",
            "M.search(None, 'SUBJECT', 'ü')",
            "M.untagged_responses.copy()",
            LOGOUT,
        ],
    ),
    Session(
        "enable_errors",
        [
            [
                *hello(),
                *login(),
                cmd("ENABLE CONDSTORE"),
                send(b"{tag} NO not today"),
                *ok("ENABLE utf8=accept"),
                *logout(),
            ]
        ],
        [
            "M.enable('UTF8=ACCEPT')",
            LOGIN,
            "M.enable('CONDSTORE')",
            "M.enable('utf8=accept')",
            "M._encoding",
            LOGOUT,
        ],
    ),
    Session(
        "enable_not_supported",
        [[*hello(caps=b"IMAP4rev1"), *login(caps=b"IMAP4rev1"), *logout()]],
        ["M.enable('UTF8=ACCEPT')", LOGIN, "M.enable('UTF8=ACCEPT')", LOGOUT],
    ),
    Session(
        "misc_tagged_commands",
        [
            [
                *hello(),
                *login(code=True),
                *ok("CAPABILITY", b"* CAPABILITY IMAP4rev1 NEW"),
                *ok("PROXYAUTH bob"),
                cmd("RENAME a b"),
                send(b"{tag} BAD [CLIENTBUG] syntax"),
                *ok("CREATE x"),
                cmd("DELETE x"),
                send(b"{tag} NO [INUSE] busy"),
                *ok("SUBSCRIBE x"),
                *ok("UNSUBSCRIBE x"),
                *select(),
                *ok("PARTIAL 1 BODY[] 0 10", b"* 1 FETCH (BODY[]<0> {10}\r\n0123456789)"),
                *logout(),
            ]
        ],
        [
            LOGIN,
            "M.capability()",
            "M.capabilities",
            "M.proxyauth('bob')",
            "M.rename('a', 'b')",
            "M.create('x')",
            "M.delete('x')",
            "M.subscribe('x')",
            "M.unsubscribe('x')",
            SELECT,
            "M.partial('1', 'BODY[]', '0', '10')",
            LOGOUT,
        ],
    ),
    Session(
        "state_errors",
        [[*hello(), *ok("FETCH 1 (FLAGS)", b"* 1 FETCH (FLAGS ())"), *logout()]],
        [
            "M.select()",
            "M.fetch('1', '(FLAGS)')",
            "M.check()",
            "M.uid('SEARCH', 'ALL')",
            "M.getacl('INBOX')",
            "setattr(M, 'literal', b'stale')",
            "M.close()",
            "M.literal",
            "setattr(M, 'state', 'SELECTED')",
            "M.fetch('1', '(FLAGS)')",
            "setattr(M, 'state', 'WEIRD')",
            "M.noop()",
            LOGOUT,
        ],
    ),
    # -- runs: untagged responses already buffered, read back to back --------
    # (the engine reads them without going round _get_tagged_response's loop;
    # whatever that loop would have seen between two of them must still count)
    Session(
        "run_bye_inside",
        [
            [
                *hello(),
                *login(),
                *select(),
                fetch("1:4", "FLAGS"),
                send(
                    b"* 1 FETCH (FLAGS (\\Seen))",
                    b"* 2 FETCH (FLAGS ())",
                    b"* BYE [ALERT] going down",
                    b"* 3 FETCH (FLAGS ())",
                    b"{tag} OK FETCH done",
                ),
                Close(),
            ]
        ],
        [LOGIN, SELECT, "M.fetch('1:4', '(FLAGS)')", "M.response('FETCH')"],
    ),
    Session(
        "run_mixed_types_and_codes",
        [
            [
                *hello(),
                *login(),
                *select(),
                fetch("1:3", "(FLAGS UID)"),
                send(
                    b"* 4 EXISTS",
                    b"* 1 FETCH (FLAGS () UID 7)",
                    b"* 1 RECENT",
                    b"* OK [UIDNEXT 9] predicted",
                    b"* 2 FETCH (FLAGS (\\Seen) UID 8)",
                    b"* FLAGS (\\Seen \\Draft)",
                    b"* NO [ALERT] disk almost full",
                    b"* 3 FETCH (FLAGS () UID 9)",
                    b"* 5 EXPUNGE",
                    b"* X-ODD",
                    b"* 3 FETCH",
                    b"{tag} OK FETCH done",
                ),
                *logout(),
            ]
        ],
        [
            LOGIN,
            SELECT,
            "M.fetch('1:3', '(FLAGS UID)')",
            "M.response('UIDNEXT')",
            "M.response('ALERT')",
            "M.response('X-ODD')",
            LOGOUT,
        ],
    ),
    Session(
        "run_literals_between_lines",
        [
            [
                *hello(),
                *login(),
                *select(),
                fetch("1:4", "(UID BODY[])"),
                send(
                    b"* 1 FETCH (UID 1 BODY[] {5}\r\nhello)",
                    b"* 2 FETCH (UID 2)",
                    b"* 3 FETCH (UID 3 BODY[] {0}\r\n FLAGS ())",
                    b"* 4 FETCH (UID 4 BODY[HEADER] {4}\r\nab\r\n BODY[TEXT] {2}\r\nxy)",
                    b"* 5 FETCH (UID 5)",
                    b"{tag} OK FETCH done",
                ),
                *logout(),
            ]
        ],
        [LOGIN, SELECT, "M.fetch('1:4', '(UID BODY[])')", LOGOUT],
    ),
    Session(
        "run_unexpected_line_inside",
        [
            [
                *hello(),
                *login(),
                *select(),
                fetch("1:2", "FLAGS"),
                send(
                    b"* 1 FETCH (FLAGS ())",
                    b"* 2 FETCH (FLAGS ())",
                    b"?? garbage",
                    b"{tag} OK done",
                ),
                Close(),
            ]
        ],
        [LOGIN, SELECT, "M.fetch('1:2', '(FLAGS)')", "M.response('FETCH')"],
    ),
    Session(
        "run_with_python_in_between",
        [
            [
                *hello(),
                *login(),
                *select(),
                fetch("1:3", "FLAGS"),
                send(
                    b"* 1 FETCH (FLAGS ())",
                    b"* 2 FETCH (FLAGS ())",
                    b"* 7 EXISTS",
                    b"* 3 FETCH (FLAGS ())",
                    b"{tag} OK FETCH done",
                ),
                fetch("4", "FLAGS"),
                send(b"* 4 FETCH (FLAGS ())", b"* 5 FETCH (FLAGS ())", b"{tag} OK FETCH done"),
                *logout(),
            ]
        ],
        [
            LOGIN,
            SELECT,
            # a list of the user's: its append is Python code, run between lines,
            # and it files every EXISTS it sees under FETCH too
            (
                "M.untagged_responses.__setitem__('FETCH', type('Rec', (list,), {'__module__': 'rec', "
                "'append': lambda self, x: (list.append(self, x), "
                "M.untagged_responses.setdefault('SEEN', []).append(len(self)))})())"
            ),
            "M.fetch('1:3', '(FLAGS)')",
            "M.untagged_responses",
            # an _append_untagged of the instance's: called for each response
            "setattr(M, '_append_untagged', lambda typ, dat: run.notes.append(f'{typ} {dat!r}'))",
            "M.fetch('4', '(FLAGS)')",
            "delattr(M, '_append_untagged')",
            LOGOUT,
        ],
    ),
    Session(
        "run_python_completes_the_command",
        [
            [
                *hello(),
                *login(),
                *select(),
                fetch("1:3", "FLAGS"),
                send(
                    b"* 1 FETCH (FLAGS ())",
                    b"* 2 FETCH (FLAGS ())",
                    b"* 3 FETCH (FLAGS ())",
                    b"{tag} OK FETCH done",
                ),
                Close(),
            ]
        ],
        [
            LOGIN,
            SELECT,
            # Python code run for the second response completes the command:
            # _get_tagged_response returns right after that response
            (
                "M.untagged_responses.__setitem__('FETCH', type('Rec', (list,), {'__module__': 'rec', "
                "'append': lambda self, x: (list.append(self, x), [M.tagged_commands.__setitem__(k, "
                "('OK', [b'early'])) for k in list(M.tagged_commands) if len(self) == 2])})())"
            ),
            "M.fetch('1:3', '(FLAGS)')",
            "M.untagged_responses",
        ],
    ),
    # -- BYE and protocol violations ------------------------------------------
    Session(
        "bye_mid_command",
        [
            [
                *hello(),
                cmd("NOOP"),
                send(b"* BYE [ALERT] server shutting down", b"{tag} OK NOOP done"),
                *ok("NOOP"),
                *ok("NOOP"),
                *logout(),
            ]
        ],
        ["M.noop()", "M.noop()", "M.response('BYE')", "M.noop()", LOGOUT],
    ),
    Session(
        "bye_then_eof",
        [[*hello(), cmd("NOOP"), send(b"* BYE autologout; idle too long"), Close()]],
        ["M.noop()", "M.untagged_responses.get('BYE')"],
    ),
    Session(
        "logout_with_bye_before_tag",
        [
            [
                *hello(),
                cmd("LOGOUT"),
                send(b"* BYE bye", b"* BYE second"),
                send(b"{tag} OK LOGOUT done"),
            ]
        ],
        [LOGOUT, "M.state", "M.noop()"],
    ),
    Session(
        "logout_ok_only",
        [[*hello(), *ok("LOGOUT", text=b"LOGOUT completed, no BYE")]],
        [LOGOUT, "M.state", "M.logout()"],
    ),
    Session(
        "unknown_tag",
        [
            [
                *hello(),
                cmd("NOOP"),
                send(b"{prefix}99 OK weird"),
                cmd("NOOP"),
                send(b"{tag} OK fine"),
                *logout(),
            ]
        ],
        ["M.noop()", "M.noop()", LOGOUT],
    ),
    Session(
        "lowercase_untagged_and_missing_text",
        [
            [
                *hello(),
                cmd("NOOP"),
                send(b"* ok hello"),
                cmd("NOOP"),
                send(b"* 3 exists"),
                cmd("NOOP"),
                send(b"{tag} OK"),
                cmd("NOOP"),
                send(b"{tag} OK "),
                cmd("NOOP"),
                send(b"{tag} ok fine"),
                cmd("NOOP"),
                send(b"*  OK double space", b"{tag} OK done"),
                *logout(),
            ]
        ],
        ["M.noop()", "M.noop()", "M.noop()", "M.noop()", "M.noop()", "M.noop()", LOGOUT],
    ),
    Session("lf_only_line", [[*hello(), cmd("NOOP"), Send(b"* 1 EXISTS\n")]], ["M.noop()"]),
    Session("eof_mid_line", [[*hello(), cmd("NOOP"), Send(b"* 2 EXI"), Close()]], ["M.noop()"]),
    Session(
        "eof_at_line_boundary",
        [[*hello(), cmd("NOOP"), send(b"* 2 EXISTS"), Close()]],
        ["M.noop()"],
    ),
    Session(
        "eof_mid_literal",
        [
            [
                *hello(),
                *login(),
                *select(),
                fetch("1", "BODY[]"),
                Send(b"* 1 FETCH (BODY[] {10}\r\nabc"),
                Close(),
            ]
        ],
        [LOGIN, SELECT, "M.fetch('1', 'BODY[]')"],
    ),
    Session(
        "greeting_lf_only",
        [[Send(b"* OK hi\n")]],
        [],
    ),
    Session(
        "capability_lf_only",
        [[send(b"* OK hi"), cmd("CAPABILITY"), Send(b"* CAPABILITY IMAP4rev1\n{tag} OK done\r\n")]],
        [],
    ),
    # -- Python protocol: context manager, __getattr__ -------------------------
    Session(
        "context_manager",
        [[*hello(), *login(), *logout()]],
        [
            "M.__enter__()",
            LOGIN,
            "M.__exit__(None, None, None)",
            "M.state",
            "M.__exit__(None, None, None)",
        ],
    ),
    Session(
        "context_manager_with_error",
        [[*hello(), cmd("LOGOUT"), send(b"* BYE", b"{tag} OK")]],
        [("with M: raise ValueError", lambda run: _with_raise(run.M)), "M.state"],
    ),
    Session(
        "getattr_aliases",
        [
            [
                *hello(),
                *ok("NOOP"),
                *login(),
                *ok("SELECT INBOX", b"* 1 EXISTS"),
                *ok("UID SEARCH ALL"),
                *logout(),
            ]
        ],
        [
            "M.NOOP()",
            "M.LOGIN('user', 'pass')",
            "M.SELECT()",
            "M.UID('SEARCH', 'ALL')",
            "M.MOVE",
            "M.EXAMINE",
            "M.nonexistent",
            "hasattr(M, 'sslobj')",
            "hasattr(M, 'Select')",
            "M.LOGOUT()",
        ],
    ),
    # -- debug output -------------------------------------------------------------
    Session(
        "debug5",
        [
            [
                *hello(),
                *login(),
                *ok(
                    "SELECT INBOX",
                    b"* 2 EXISTS",
                    b"* OK [PERMANENTFLAGS (\\Seen [x])] ok",
                    text=b"[READ-WRITE] done",
                ),
                *ok(fetch("1", "BODY[]"), b"* 1 FETCH (BODY[] {3}\r\nabc)"),
                *ok("SEARCH ALL", b"* SEARCH 1 2"),
                cmd("NOOP"),
                send(b"* NO warn", b"* BAD hmm", b"{tag} OK ok"),
                *ok("NOOP"),
                *logout(),
            ]
        ],
        [
            LOGIN,
            SELECT,
            "M.fetch('1', 'BODY[]')",
            "M.search(None, 'ALL')",
            "M.noop()",
            "M.recent()",
            LOGOUT,
        ],
        debug_ctor=5,
    ),
    Session(
        "debug4_instance",
        [
            [
                *hello(),
                *login(),
                cmd("APPEND INBOX {3}"),
                send(b"+ go"),
                ExpectRaw(b"abc\r\n"),
                send(b"{tag} OK done"),
                *ok(fetch("1", "BODY[]"), b"* 1 FETCH (BODY[] {3}\r\nabc)"),
                *logout(),
            ]
        ],
        [
            LOGIN,
            "M.append('INBOX', None, None, b'abc')",
            "setattr(M, 'state', 'SELECTED')",
            "M.fetch('1', 'BODY[]')",
            LOGOUT,
        ],
        debug=4,
    ),
    Session(
        "debug3_noop_dump",
        [
            [
                *hello(),
                *ok("NOOP", b"* 3 EXISTS", b"* 1 FETCH (BODY[] {2}\r\nab)"),
                *ok("NOOP"),
                *logout(),
            ]
        ],
        ["M.noop()", "M.noop()", LOGOUT],
        debug_ctor=3,
    ),
    Session(
        "debug1_abort_print_log",
        [
            [
                *hello(),
                cmd("NOOP"),
                send(b"* NO [ALERT] careful", b"* BAD oops", b"{tag} OK fine"),
                *login(),
                cmd("NOOP"),
                send(b"what is this"),
            ]
        ],
        ["M.noop()", LOGIN, "M.noop()", "M.print_log()"],
        debug_ctor=1,
    ),
    Session(
        "dump_ur",
        [[*hello(), *ok("NOOP", b"* 3 EXISTS", b"* 1 FETCH (BODY[] {2}\r\nab)"), *logout()]],
        [
            "M.noop()",
            "M._dump_ur({})",
            "M._dump_ur({'READ-WRITE': [b'']})",
            "M._dump_ur(M.untagged_responses)",
            "M._dump_ur({'A': [b'x', (b'y', b'z')], 'B': ['s', None, 1]})",
            LOGOUT,
        ],
        debug=0,
    ),
    # -- internal methods used by third-party code ---------------------------------
    Session(
        "internal_methods",
        [
            [
                *hello(greeting=b"* PREAUTH welcome back"),
                *ok("NOOP"),
                *ok("ID NIL", b'* ID ("name" "x")'),
                cmd("APPEND INBOX {3}"),
                send(b"+ ok"),
                ExpectRaw(b"abc\r\n"),
                send(b"{tag} OK appended"),
                *ok("CAPABILITY", b"* CAPABILITY IMAP4rev1 LATER"),
                *logout(),
            ]
        ],
        [
            "(t := M._command('NOOP'))",
            "M.tagged_commands.copy()",
            "M._command_complete('NOOP', t)",
            "M._new_tag()",
            "M._quote('a\"b\\\\c')",
            "M._quote(b'x')",
            "M._untagged_response('OK', [b'x'], 'FOO')",
            "M._untagged_response('NO', [b'x'], 'FOO')",
            "M._append_untagged('FOO', None)",
            "M._append_untagged('FOO', b'x')",
            "M._untagged_response('OK', [b'x'], 'FOO')",
            "M._simple_command('ID', 'NIL')",
            "mod.Commands.__setitem__('ID', ('NONAUTH', 'AUTH', 'SELECTED'))",
            "M._simple_command('ID', 'NIL')",
            "M.response('ID')",
            "setattr(M, 'literal', b'abc')",
            "M._simple_command('APPEND', 'INBOX')",
            "M._get_capabilities()",
            "M.capabilities",
            "M._check_bye()",
            "M._match(M.tagre, M.tagpre + b'5 OK hi')",
            "M.mo.groups()",
            "M._match(mod.Untagged_response, b'nope')",
            "M.mo",
            "M.socket() is M.sock",
            LOGOUT,
        ],
    ),
    Session(
        "bad_argument_types",
        # M.create(None): imaplibs with _astring() raise TypeError before sending
        [
            [
                *hello(greeting=b"* PREAUTH hi"),
                *ok("CREATE x"),
                *ok("SEARCH ALL"),
                Maybe(*ok("CREATE")),
                *logout(),
            ]
        ],
        [
            "M.create(5)",
            "M.create('ünï')",
            "M.tagnum",
            "M.create(bytearray(b'x'))",
            "setattr(M, 'state', 'SELECTED')",
            "M.search(None, memoryview(b'ALL'))",
            "M.create(None)",
            LOGOUT,
        ],
    ),
    Session(
        "untagged_status_shapes",
        [
            [
                *hello(),
                *ok(
                    "NOOP",
                    b"* 5 EXISTS",
                    b"* 5 FOO bar baz",
                    b"* 0 RECENT",
                    b"* OK [READ-WRITE]",
                    b"* OK [X-A] ",
                    b"* NO [TRYCREATE]",
                    b"* OK [UNCLOSED text",
                    b"* BYE-NOT bye",
                    b"* CAPABILITY",
                ),
                *logout(),
            ]
        ],
        [
            "M.noop()",
            "M.untagged_responses.copy()",
            "M.response('capability')",
            "M.recent()",
            LOGOUT,
        ],
    ),
    Session(
        "timeout_argument",
        [[*hello(), *logout()]],
        ["M.sock.gettimeout()", LOGOUT],
        ctor="mod.IMAP4('127.0.0.1', run.port, timeout=7)",
    ),
    Session(
        "timeout_zero",
        [],
        [],
        ctor="mod.IMAP4('127.0.0.1', run.port, timeout=0)",
    ),
]


def _big_fetch() -> bytes:
    rng = random.Random(5)
    out = b""
    for n in range(1, 201):
        body = bytes(
            rng.choice(b"ab\r\n{}()[]* 0123456789\xff") for _ in range(rng.randint(0, 300))
        )
        out += b"* %d FETCH (UID %d RFC822 {%d}\r\n%s FLAGS (\\Seen))\r\n" % (n, n, len(body), body)
    big = (b"0123456789abcdef" * 65536 + b"\r\n") * 2
    out += b"* 201 FETCH (BODY[] {%d}\r\n%s)\r\n" % (len(big), big)
    return out


LARGE_FETCH: list[Step] = [
    *hello(greeting=b"* PREAUTH ready"),
    *ok("SELECT INBOX", b"* 201 EXISTS"),
    cmd("FETCH 1:* (UID RFC822 FLAGS)"),
    Send(_big_fetch()),
    send(b"{tag} OK FETCH completed"),
    *logout(),
]

SESSIONS += [
    Session(
        "fetch_large",
        [LARGE_FETCH],
        [SELECT, "len(M.fetch('1:*', '(UID RFC822 FLAGS)')[1])", LOGOUT],
    ),
    Session(
        "fetch_large_content",
        [LARGE_FETCH],
        [SELECT, "M.fetch('1:*', '(UID RFC822 FLAGS)')", LOGOUT],
    ),
    Session(
        "authenticate_callback_raises",
        [[*hello(), cmd("AUTHENTICATE PLAIN"), send(b"+ "), Close()]],
        ["M.authenticate('PLAIN', run.auth())", "M.tagged_commands.copy()", "M.literal"],
    ),
    Session(
        "custom_literator",
        [
            [
                *hello(greeting=b"* PREAUTH hi"),
                cmd("XSTREAM"),
                send(b"+ one"),
                Expect(b"1:b'one'"),
                send(b"+ two"),
                Expect(b"2:b'two'"),
                send(b"{tag} OK streamed"),
                cmd("APPEND INBOX {11}"),
                send(b"+ go"),
                ExpectRaw(b"plain bytes\r\n"),
                send(b"{tag} OK done"),
                *logout(),
            ]
        ],
        [
            "mod.Commands.__setitem__('XSTREAM', ('AUTH',))",
            "setattr(M, 'literal', Counter().step)",
            "M._simple_command('XSTREAM')",
            "setattr(M, 'literal', bytearray(b'plain bytes'))",
            "M._simple_command('APPEND', 'INBOX')",
            "setattr(M, 'literal', lambda data: b'x')",
            "M._simple_command('APPEND', 'INBOX')",
            "M.literal",
            LOGOUT,
        ],
    ),
]


def loose(name: bytes, *untagged: bytes) -> list[Step]:
    return [cmd_re(re.escape(name) + rb"( .*)?"), send(*untagged, b"{tag} OK " + name.lower())]


SESSIONS += [
    Session(
        "bytes_and_odd_arguments",
        [
            [
                *hello(greeting=b"* PREAUTH ready"),
                *loose(b"EXAMINE", b"* 1 EXISTS"),
                # Bytes flags, sort criteria and status names: imaplibs with
                # _set_quote() raise TypeError before sending these four.
                Maybe(*loose(b"STORE", b"* 1 FETCH (FLAGS (\\Seen))")),
                Maybe(
                    cmd_re(rb"APPEND .*"),
                    send(b"+ go"),
                    ExpectRaw(b"x\r\n"),
                    send(b"{tag} OK appended"),
                ),
                Maybe(*loose(b"SORT", b"* SORT 1")),
                Maybe(*loose(b"STATUS", b"* STATUS INBOX (MESSAGES 1)")),
                *loose(b"LIST", b'* LIST () "/" INBOX'),
                *loose(b"COPY"),
                *loose(b"SEARCH", b"* SEARCH 1"),
                *loose(b"SETACL"),
                # rename('a', None): _astring(None) raises TypeError.
                Maybe(*loose(b"RENAME")),
                # store(..., '') and sort('', ...): IndexError in older imaplibs,
                # sent as "()" by those with _set_quote().
                Maybe(*loose(b"STORE")),
                Maybe(*loose(b"SORT")),
                *loose(b"LOGIN"),
                refresh(),
                *logout(),
            ]
        ],
        [
            "M.select(b'INBOX', 1)",
            "M.store('1', '+FLAGS', b'\\\\Seen')",
            "M.append('INBOX', b'\\\\Seen', None, b'x')",
            "M.sort(b'DATE', 'UTF-8', 'ALL')",
            "M.status(b'INBOX', b'(MESSAGES)')",
            "M.list(b'\"\"', b'*')",
            "M.copy(b'1', b'Trash')",
            "M.search(None, b'ALL', 'UNSEEN')",
            "M.fetch('1', ['FLAGS'])",
            "M.setacl(b'INBOX', 'u', b'lr')",
            "M.rename('a', None)",
            "M.store('1', '+FLAGS', '')",
            "M.sort('', 'UTF-8', 'ALL')",
            "M.enable('X')",
            "setattr(M, 'state', 'NONAUTH')",
            "M.login(b'user', 'pw')",
            LOGOUT,
        ],
    ),
]


RELAY = (
    "import os, socket, sys, threading\n"
    "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n"
    "def pump():\n"
    "    while True:\n"
    "        d = s.recv(65536)\n"
    "        if not d:\n"
    "            break\n"
    "        sys.stdout.buffer.write(d)\n"
    "        sys.stdout.buffer.flush()\n"
    "    sys.stdout.close()\n"
    "threading.Thread(target=pump, daemon=True).start()\n"
    "while True:\n"
    "    d = os.read(0, 65536)\n"
    "    if not d:\n"
    "        break\n"
    "    s.sendall(d)\n"
    "s.shutdown(socket.SHUT_WR)\n"
    "os._exit(0)\n"
)


def relay_command(port: int) -> str:
    """A shell command that connects its stdin/stdout to the scripted server."""
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(RELAY)} {port}"


SESSIONS += [
    Session(
        "stream_basic",
        [
            [
                *hello(),
                *login(),
                *ok("SELECT INBOX", b"* 2 EXISTS"),
                *ok(
                    fetch("1", "BODY[]"),
                    b"* 1 FETCH (BODY[] {12}\r\nhello\r\nworld)",
                    b"* 3 EXISTS",
                ),
                *ok("NOOP", b"* OK " + b"x" * 1_100_000),
                *logout(),
            ]
        ],
        [
            LOGIN,
            SELECT,
            "M.fetch('1', 'BODY[]')",
            "M.noop()",
            "len(M.response('OK')[1][0])",
            "M.host",
            "M.sock",
            LOGOUT,
        ],
        ctor="mod.IMAP4_stream(relay_command(run.port))",
    ),
]


class Counter:
    """A literator: a bound method answering each continuation."""

    def __init__(self) -> None:
        self.n = 0

    def step(self, data: bytes) -> bytes:
        self.n += 1
        return b"%d:%s" % (self.n, repr(data).encode())


def _with_raise(M: Any) -> None:
    with M:
        raise ValueError("inside with")


SESSION_IDS = [s.name for s in SESSIONS]


def test_session_count() -> None:
    assert len(SESSIONS) >= 45
    assert len(set(SESSION_IDS)) == len(SESSION_IDS)


# 3.9's _dump_ur fails on bytes values (bpo-26543): there stdlib leaves the
# script early, and the target must fail the same way.
DUMP_UR_BYTES_UNSAFE = {"debug5", "debug3_noop_dump", "dump_ur"}

# Sessions whose server closes the connection inside a literal.  An imaplib
# that keeps what read() returned in its own buffer (3.14, 3.15) reads the
# partial literal again as the next line ("socket error: unterminated line:
# b'abc'"); imaplib_c reports "socket error: EOF" there, as the earlier
# imaplibs do (README, deliberate differences).  Everything else is compared.
CUT_LITERAL = {"eof_mid_literal"}


def expected_events(session: Session, events: list[str]) -> list[str]:
    """The events imaplib_c must produce, given stdlib's."""
    if session.name not in CUT_LITERAL or not rereads_cut_literal(STDLIB) or TARGET_IS_STDLIB:
        return events
    out = [as_eof(event) for event in events]
    assert out != events, "the documented difference did not show"
    return out


@pytest.mark.parametrize("chunked", [False, True], ids=["whole", "chunked"])
@pytest.mark.parametrize("session", SESSIONS, ids=SESSION_IDS)
def test_session(session: Session, chunked: bool) -> None:
    target = load_target()
    ref = play(STDLIB, session, chunked)
    if not (sys.version_info < (3, 10) and session.name in DUMP_UR_BYTES_UNSAFE):
        assert ref.server_errors == [], (
            f"script bug: stdlib deviates from the script: {ref.server_errors}"
        )
    got = play(target, session, chunked)
    assert got.events == expected_events(session, ref.events)
    assert got.wire == ref.wire
    assert got.server_errors == ref.server_errors


# -- the scripted server itself ------------------------------------------------------


@pytest.mark.usefixtures("no_thread_leak")
def test_server_reports_deviation_without_hanging() -> None:
    server = ScriptedServer([*hello(), *ok("NOOP")], timeout=5)
    M = STDLIB.IMAP4("127.0.0.1", server.port)
    with pytest.raises(STDLIB.IMAP4.abort):
        M.capability()  # not in the script: the server closes the connection
    M.shutdown()
    server.stop()
    assert len(server.errors) == 1 and "CAPABILITY" in server.errors[0]
    assert server.received.endswith(b"1 CAPABILITY\r\n")


@pytest.mark.usefixtures("no_thread_leak")
def test_server_records_wire_and_echoes_tags() -> None:
    with ScriptedServer([*hello(), *ok("NOOP", b"* 1 EXISTS"), *logout()], chunked=True) as server:
        M = STDLIB.IMAP4("127.0.0.1", server.port)
        assert M.noop() == ("OK", [b"completed"])
        M.logout()
    tags = server.connections[0].tags
    assert [t[len(M.tagpre) :] for t in tags] == [b"0", b"1", b"2"]
    assert server.received == b"".join(
        t + c for t, c in zip(tags, [b" CAPABILITY\r\n", b" NOOP\r\n", b" LOGOUT\r\n"])
    )


@pytest.mark.usefixtures("no_thread_leak")
def test_server_without_client_stops() -> None:
    server = ScriptedServer([*hello()], timeout=0.5)
    server.stop()
    assert server.errors == ["connection 0: client never connected"]


@pytest.mark.usefixtures("no_thread_leak")
@pytest.mark.parametrize("ask", [False, True], ids=["skipped", "played"])
def test_server_maybe_step(ask: bool) -> None:
    """A Maybe is played when the client's next line matches its first step,
    else that line is left for the next step; either way the script is kept."""
    script = [*hello(), refresh(b"IMAP4rev1 AGAIN"), *ok("NOOP"), *logout()]
    with ScriptedServer(script) as server:
        M = STDLIB.IMAP4("127.0.0.1", server.port)
        if ask:
            assert M.capability() == ("OK", [b"IMAP4rev1 AGAIN"])
        assert M.noop() == ("OK", [b"completed"])
        M.logout()
    want = [b"CAPABILITY", *([b"CAPABILITY"] if ask else []), b"NOOP", b"LOGOUT"]
    assert [line.split()[1] for line in server.connections[0].lines] == want


@pytest.mark.usefixtures("no_thread_leak")
def test_server_maybe_step_does_not_hide_deviations() -> None:
    server = ScriptedServer([*hello(), refresh(), *ok("NOOP")], timeout=5)
    M = STDLIB.IMAP4("127.0.0.1", server.port)
    with pytest.raises(STDLIB.IMAP4.abort):
        M.login("u", "p")  # neither the optional CAPABILITY nor the NOOP
    M.shutdown()
    server.stop()
    assert len(server.errors) == 1 and "LOGIN" in server.errors[0] and "NOOP" in server.errors[0]
