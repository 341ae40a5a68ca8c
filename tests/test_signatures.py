"""Signatures and keyword calls: the module under test against the running
interpreter's own ``imaplib``.

* Every function of the stdlib module (module-level functions, ``_paren_depth``
  and ``__getattr__`` where the version has them, and every method found in
  the class dicts along the MRO of ``IMAP4``, ``IMAP4_SSL``, ``IMAP4_stream``,
  ``Idler`` (3.14+) and ``_Authenticator``) must have the same
  ``inspect.signature`` under the same name in the module under test, one test
  id per (class, name).
* ``IMAP4.error``/``abort``/``readonly`` are the stdlib's own classes and
  ``IMAP4`` derives from the stdlib's ``IMAP4``.
* Calls with keyword arguments give the same results (exact types), the same
  exceptions (class, ``str``, ``args``) and the same bytes on the wire, module
  functions directly and methods against a scripted loopback server.

The reference is ``imaplib_c._stdlib`` when the package has it, else the
interpreter's ``imaplib`` (loaded from the stdlib directory if
``sys.modules['imaplib']`` is something else, e.g. imaplib_c installed in its
place by ``python -m imaplib_c run``).  With ``IMAPLIB_C_TARGET=imaplib`` every
test compares the stdlib with itself and must pass (a check of this file).
"""

from __future__ import annotations

import contextlib
import datetime
import importlib
import importlib.util
import inspect
import io
import os
import random
import re
import shlex
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import FunctionType, ModuleType
from typing import Any

import pytest
from conftest import TARGET_NAME, load_target
from outcomes import describe_exc, typed

from testsupport.scripted_server import Expect, ExpectRaw, ScriptedServer, Send, Step, cmd_re, send

# ---------------------------------------------------------------------------
# The two modules


def _target_or_none() -> ModuleType | None:
    try:
        return load_target()
    except ImportError:
        return None


def _is_stdlib_imaplib(mod: object, path: str) -> bool:
    file = getattr(mod, "__file__", None)
    return isinstance(file, str) and os.path.realpath(file) == os.path.realpath(path)


def load_stdlib() -> ModuleType:
    """The interpreter's own imaplib, never the module under test."""
    target = _target_or_none()
    std = getattr(target, "_stdlib", None)
    if isinstance(std, ModuleType) and hasattr(std, "IMAP4"):
        return std
    path = os.path.join(sysconfig.get_paths()["stdlib"], "imaplib.py")
    mod = sys.modules.get("imaplib")
    if mod is None:
        mod = importlib.import_module("imaplib")
    if _is_stdlib_imaplib(mod, path):
        return mod
    # sys.modules['imaplib'] is another module (imaplib_c installed in its
    # place): load a private copy of the stdlib file.
    spec = importlib.util.spec_from_file_location("_imaplib_stdlib_reference", path)
    assert spec is not None and spec.loader is not None, path
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


STD = load_stdlib()


def target() -> ModuleType:
    try:
        return load_target()
    except ImportError as exc:
        pytest.fail(f"cannot import module under test {TARGET_NAME!r}: {exc}")


# ---------------------------------------------------------------------------
# Signatures


def _defined_here(obj: object) -> bool:
    return getattr(obj, "__module__", None) == STD.__name__


def _module_functions() -> list[str]:
    return sorted(
        name
        for name, value in vars(STD).items()
        if isinstance(value, FunctionType) and _defined_here(value)
    )


def _module_classes() -> list[str]:
    return sorted(
        name
        for name, value in vars(STD).items()
        if isinstance(value, type) and _defined_here(value)
    )


def _class_members(cls: type) -> tuple[list[str], list[str]]:
    """(functions, properties) of ``cls``, over its MRO (``object`` excluded)."""
    functions, properties = set(), set()
    for klass in cls.__mro__:
        if klass is object:
            continue
        for name in vars(klass):
            raw = inspect.getattr_static(cls, name)
            if isinstance(raw, (FunctionType, staticmethod, classmethod)):
                functions.add(name)
            elif isinstance(raw, property):
                properties.add(name)
    return sorted(functions), sorted(properties)


CLASSES = _module_classes()
FUNCTIONS = _module_functions()
METHOD_IDS: list[tuple[str, str]] = []
PROPERTY_IDS: list[tuple[str, str]] = []
for _cls_name in CLASSES:
    _functions, _properties = _class_members(getattr(STD, _cls_name))
    METHOD_IDS += [(_cls_name, _name) for _name in _functions]
    PROPERTY_IDS += [(_cls_name, _name) for _name in _properties]


def _signature(obj: object, label: str) -> str:
    try:
        return str(inspect.signature(obj))  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        pytest.fail(f"{label}: no signature ({type(exc).__name__}: {exc})")


def _target_attr(owner: object, owner_label: str, name: str) -> Any:
    try:
        return getattr(owner, name)
    except AttributeError:
        pytest.fail(f"{owner_label} has no attribute {name!r} (imaplib has it)")


def test_reference_is_stdlib() -> None:
    path = os.path.join(sysconfig.get_paths()["stdlib"], "imaplib.py")
    assert _is_stdlib_imaplib(STD, path), (STD, getattr(STD, "__file__", None))
    assert STD is not _target_or_none() or TARGET_NAME == "imaplib"
    assert {"IMAP4", "IMAP4_stream"} <= set(CLASSES)
    assert {"Int2AP", "ParseFlags", "Internaldate2tuple", "Time2Internaldate"} <= set(FUNCTIONS)
    assert len(METHOD_IDS) > 150


@pytest.mark.parametrize("name", FUNCTIONS)
def test_module_function_signature(name: str) -> None:
    mod = target()
    expected = _signature(getattr(STD, name), f"imaplib.{name}")
    got = _signature(_target_attr(mod, TARGET_NAME, name), f"{TARGET_NAME}.{name}")
    assert got == expected, f"{TARGET_NAME}.{name}{got} != imaplib.{name}{expected}"


@pytest.mark.parametrize("cls_name", CLASSES)
def test_class_signature(cls_name: str) -> None:
    """The constructor: ``inspect.signature(cls)``."""
    tcls = _target_attr(target(), TARGET_NAME, cls_name)
    expected = _signature(getattr(STD, cls_name), f"imaplib.{cls_name}")
    got = _signature(tcls, f"{TARGET_NAME}.{cls_name}")
    assert got == expected, f"{TARGET_NAME}.{cls_name}{got} != imaplib.{cls_name}{expected}"


@pytest.mark.parametrize(("cls_name", "name"), METHOD_IDS, ids=[f"{c}.{n}" for c, n in METHOD_IDS])
def test_method_signature(cls_name: str, name: str) -> None:
    tcls = _target_attr(target(), TARGET_NAME, cls_name)
    label = f"{cls_name}.{name}"
    expected = _signature(getattr(getattr(STD, cls_name), name), f"imaplib.{label}")
    got = _signature(
        _target_attr(tcls, f"{TARGET_NAME}.{cls_name}", name), f"{TARGET_NAME}.{label}"
    )
    assert got == expected, f"{TARGET_NAME}.{label}{got} != imaplib.{label}{expected}"


@pytest.mark.parametrize(
    ("cls_name", "name"), PROPERTY_IDS, ids=[f"{c}.{n}" for c, n in PROPERTY_IDS]
)
def test_property(cls_name: str, name: str) -> None:
    """A stdlib property (3.14+: ``IMAP4.file``) is a data descriptor on the
    class under test too, settable exactly when the stdlib's is."""
    tcls = _target_attr(target(), TARGET_NAME, cls_name)
    std_prop = inspect.getattr_static(getattr(STD, cls_name), name)
    try:
        got = inspect.getattr_static(tcls, name)
    except AttributeError:
        pytest.fail(f"{TARGET_NAME}.{cls_name} has no class attribute {name!r} (imaplib: property)")
    assert hasattr(type(got), "__get__") and hasattr(type(got), "__set__"), (
        f"{TARGET_NAME}.{cls_name}.{name} is {got!r}, not a data descriptor"
    )
    if isinstance(got, property):
        assert (got.fset is None) == (std_prop.fset is None), "setter differs"


# ---------------------------------------------------------------------------
# Class hierarchy


@pytest.mark.parametrize("kind", ["error", "abort", "readonly"])
def test_exceptions_are_stdlib_classes(kind: str) -> None:
    mod = target()
    got = getattr(mod.IMAP4, kind)
    assert got is getattr(STD.IMAP4, kind), f"{TARGET_NAME}.IMAP4.{kind} is {got!r}"
    for sub in ("IMAP4_SSL", "IMAP4_stream"):
        if hasattr(mod, sub):
            assert getattr(getattr(mod, sub), kind) is getattr(STD.IMAP4, kind), sub


@pytest.mark.parametrize(
    ("sub", "base"),
    [
        ("IMAP4_SSL", f"{TARGET_NAME}.IMAP4"),
        ("IMAP4_stream", f"{TARGET_NAME}.IMAP4"),
        ("IMAP4", "imaplib.IMAP4"),
        ("IMAP4_SSL", "imaplib.IMAP4"),
        ("IMAP4_stream", "imaplib.IMAP4"),
    ],
)
def test_subclass(sub: str, base: str) -> None:
    mod = target()
    if sub == "IMAP4_SSL" and not hasattr(STD, "IMAP4_SSL"):
        pytest.skip("no ssl module")
    base_cls = (STD if base.startswith("imaplib.") else mod).IMAP4
    sub_cls = getattr(mod, sub)
    assert issubclass(sub_cls, base_cls), f"{sub_cls.__mro__} does not include {base}"


# ---------------------------------------------------------------------------
# Module functions called with keyword arguments


@pytest.fixture
def fixed_tz() -> Iterator[None]:
    """A fixed local time zone (with DST) for the date functions."""
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset() is not available")
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "EST+05EDT,M3.2.0,M11.1.0"
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


EDT = datetime.timezone(datetime.timedelta(hours=-4))

# (label, function, keyword arguments); labels are the test ids.
FUNCTION_CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("Int2AP-1234", "Int2AP", {"num": 1234}),
    ("Int2AP-0", "Int2AP", {"num": 0}),
    ("Int2AP-65535", "Int2AP", {"num": 65535}),
    ("Int2AP-bad-keyword", "Int2AP", {"number": 1}),
    ("Int2AP-no-args", "Int2AP", {}),
    ("ParseFlags", "ParseFlags", {"resp": b"1 (FLAGS (\\Seen \\Deleted))"}),
    ("ParseFlags-none", "ParseFlags", {"resp": b"1 (UID 7)"}),
    (
        "Internaldate2tuple",
        "Internaldate2tuple",
        {"resp": b'1 (INTERNALDATE "01-Jan-2020 10:00:00 +0000")'},
    ),
    (
        "Internaldate2tuple-bare",
        "Internaldate2tuple",
        {"resp": b'INTERNALDATE "01-Jan-2020 10:00:00 +0000"'},
    ),
    ("Internaldate2tuple-garbage", "Internaldate2tuple", {"resp": b"garbage"}),
    ("Time2Internaldate-0", "Time2Internaldate", {"date_time": 0}),
    ("Time2Internaldate-float", "Time2Internaldate", {"date_time": 1_700_000_000.75}),
    (
        "Time2Internaldate-tuple",
        "Time2Internaldate",
        {"date_time": (2020, 7, 1, 10, 0, 0, 2, 183, -1)},
    ),
    (
        "Time2Internaldate-aware",
        "Time2Internaldate",
        {"date_time": datetime.datetime(2020, 7, 1, 10, 0, 0, tzinfo=EDT)},
    ),
    (
        "Time2Internaldate-quoted",
        "Time2Internaldate",
        {"date_time": '"01-Jan-2020 10:00:00 +0000"'},
    ),
    ("Time2Internaldate-bad-str", "Time2Internaldate", {"date_time": "yesterday"}),
    ("Time2Internaldate-bad-type", "Time2Internaldate", {"date_time": [1, 2]}),
]
if "_paren_depth" in FUNCTIONS:
    FUNCTION_CALLS += [
        ("_paren_depth", "_paren_depth", {"data": b"(a (b) {3}", "depth": 1}),
        ("_paren_depth-default", "_paren_depth", {"data": b"x)"}),
    ]


def _outcome(mod: ModuleType, fn: Any, kwargs: dict[str, Any]) -> str:
    try:
        value = fn(**kwargs)
    except Exception as exc:  # noqa: BLE001 - recorded and compared
        return describe_exc(mod.IMAP4, exc)
    return "-> " + typed(value)


@pytest.mark.usefixtures("fixed_tz")
@pytest.mark.parametrize(
    ("label", "name", "kwargs"), FUNCTION_CALLS, ids=[c[0] for c in FUNCTION_CALLS]
)
def test_module_function_keyword_call(label: str, name: str, kwargs: dict[str, Any]) -> None:
    mod = target()
    expected = _outcome(STD, getattr(STD, name), kwargs)
    got = _outcome(mod, _target_attr(mod, TARGET_NAME, name), kwargs)
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    assert got == expected, f"{name}({args}):\n  imaplib: {expected}\n  {TARGET_NAME}: {got}"


# ---------------------------------------------------------------------------
# Methods called with keyword arguments, against a scripted server

CAPS = b"IMAP4rev1 ENABLE UTF8=ACCEPT QUOTA ACL NAMESPACE SORT THREAD=REFERENCES IDLE"
CAPS_CODE = b"[CAPABILITY " + CAPS + b"]"
SNAPSHOT = ("state", "untagged_responses", "is_readonly", "utf8_enabled", "_encoding")
SEED = 20240611


def _hello(greeting: bytes) -> list[Step]:
    return [
        send(greeting),
        cmd_re(rb"CAPABILITY"),
        send(b"* CAPABILITY " + CAPS, b"{tag} OK CAPABILITY completed"),
    ]


def _ok(pattern: bytes, *untagged: bytes, text: bytes = b"completed") -> list[Step]:
    """A tagged command whose text matches ``pattern`` (the exact bytes are
    compared between the modules, so the script accepts each version's
    quoting) answered with ``untagged`` lines and a tagged OK."""
    return [cmd_re(pattern), send(*untagged, b"{tag} OK " + text)]


LOGOUT = _ok(rb"LOGOUT", b"* BYE logging out", text=b"LOGOUT completed")
SELECT = _ok(
    rb"SELECT INBOX",
    b"* 3 EXISTS",
    b"* 0 RECENT",
    b"* FLAGS (\\Seen \\Deleted)",
    b"* OK [UIDVALIDITY 42] UIDs valid",
    text=b"[READ-WRITE] SELECT completed",
)
MESSAGE = b"Subject: hi\r\n\r\nbody\r\n"
CRAM_CHALLENGE = b"+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ="
CRAM_ANSWER = b"dGltIGYxY2E2YmU0NjRiOWVmYTFjY2E2ZmZkNmNmMmQ5ZjMy"

# A relay for IMAP4_stream: its stdin/stdout to the scripted server.
RELAY = (
    "import os, socket, sys, threading\n"
    "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n"
    "def pump():\n"
    "    while True:\n"
    "        d = s.recv(65536)\n"
    "        if not d:\n"
    "            break\n"
    "        os.write(1, d)\n"
    "    os.close(1)\n"
    "threading.Thread(target=pump, daemon=True).start()\n"
    "while True:\n"
    "    d = os.read(0, 65536)\n"
    "    if not d:\n"
    "        break\n"
    "    s.sendall(d)\n"
    "s.shutdown(socket.SHUT_WR)\n"
    "os._exit(0)\n"
)


@dataclass
class KwCase:
    """``calls`` are expressions evaluated with ``M``, ``mod``, ``port``,
    ``re``, ``stderr`` (a StringIO that ``sys.stderr`` points to) in scope;
    walrus assignments persist between the calls of a case.  The script is
    played after the greeting and CAPABILITY and followed by LOGOUT."""

    name: str
    script: list[Step]
    calls: list[str]
    preauth: bool = True
    ctor: str = "mod.IMAP4('127.0.0.1', port)"
    logout: bool = True


KW_CASES: list[KwCase] = [
    # constructors
    KwCase("IMAP4-keywords", [], [], ctor="mod.IMAP4(host='127.0.0.1', port=port, timeout=10)"),
    KwCase(
        "IMAP4_stream-keywords",
        [],
        ["M.host", "M.sock"],
        ctor="mod.IMAP4_stream(command=relay)",
    ),
    # authentication
    KwCase(
        "login",
        _ok(rb"LOGIN user .*", text=CAPS_CODE + b" LOGIN completed"),
        ["M.login(user='user', password='pass')"],
        preauth=False,
    ),
    KwCase(
        "authenticate",
        [
            cmd_re(rb"AUTHENTICATE PLAIN"),
            send(b"+ "),
            Expect(b"AHVzZXIAcGFzcw=="),
            send(b"{tag} OK " + CAPS_CODE + b" authenticated"),
        ],
        ["M.authenticate(mechanism='PLAIN', authobject=lambda data: b'\\0user\\0pass')"],
        preauth=False,
    ),
    KwCase(
        "login_cram_md5",
        [
            cmd_re(rb"AUTHENTICATE CRAM-MD5"),
            send(CRAM_CHALLENGE),
            Expect(CRAM_ANSWER),
            send(b"{tag} OK " + CAPS_CODE + b" CRAM-MD5 successful"),
        ],
        ["M.login_cram_md5(user='tim', password='tanstaaftanstaaf')"],
        preauth=False,
    ),
    # the calls the brief names
    KwCase(
        "enable",
        _ok(rb"ENABLE .*", b"* ENABLED UTF8=ACCEPT"),
        ["M.enable(capability='UTF8=ACCEPT')"],
    ),
    KwCase("response", [], ["M.response(code='OK')", "M.response(code='PREAUTH')"]),
    KwCase(
        "getquotaroot",
        _ok(
            rb"GETQUOTAROOT .*",
            b'* QUOTAROOT INBOX ""',
            b'* QUOTA "" (STORAGE 10 512)',
        ),
        ["M.getquotaroot(mailbox='INBOX')"],
    ),
    KwCase(
        "select-readonly",
        _ok(rb"EXAMINE .*", b"* 2 EXISTS", b"* 0 RECENT", text=b"[READ-ONLY] EXAMINE completed"),
        ["M.select(mailbox='INBOX', readonly=True)"],
    ),
    KwCase(
        "fetch",
        [*SELECT, *_ok(rb"FETCH 1 .*", b"* 1 FETCH (FLAGS (\\Seen))")],
        ["M.select()", "M.fetch(message_set='1', message_parts='(FLAGS)')"],
    ),
    KwCase(
        "search",
        [*SELECT, *_ok(rb"SEARCH ALL", b"* SEARCH 1 2 3")],
        ["M.select()", "M.search(None, 'ALL')"],
    ),
    KwCase("read", [Send(b"xyz")], ["M.read(size=3)"]),
    KwCase("send", [Expect(b"X1 XNOOP")], ["M.send(data=b'X1 XNOOP\\r\\n')"]),
    # other public methods with their keyword names
    KwCase(
        "list",
        _ok(rb"LIST .*", b'* LIST (\\HasNoChildren) "/" INBOX'),
        ["M.list(directory='', pattern='*')"],
    ),
    KwCase(
        "lsub",
        _ok(rb"LSUB .*", b'* LSUB () "/" INBOX'),
        ["M.lsub(directory='', pattern='*')"],
    ),
    KwCase(
        "status",
        _ok(rb"STATUS INBOX .*", b"* STATUS INBOX (MESSAGES 3)"),
        ["M.status(mailbox='INBOX', names='(MESSAGES)')"],
    ),
    KwCase(
        "store",
        [*SELECT, *_ok(rb"STORE 1 .*", b"* 1 FETCH (FLAGS (\\Seen))")],
        ["M.select()", "M.store(message_set='1', command='+FLAGS', flags='(\\\\Seen)')"],
    ),
    KwCase(
        "copy",
        [*SELECT, *_ok(rb"COPY 1 .*")],
        ["M.select()", "M.copy(message_set='1', new_mailbox='Archive')"],
    ),
    KwCase("create", _ok(rb"CREATE .*"), ["M.create(mailbox='Archive')"]),
    KwCase("delete", _ok(rb"DELETE .*"), ["M.delete(mailbox='Archive')"]),
    KwCase("rename", _ok(rb"RENAME .*"), ["M.rename(oldmailbox='Archive', newmailbox='Old')"]),
    KwCase("subscribe", _ok(rb"SUBSCRIBE .*"), ["M.subscribe(mailbox='Old')"]),
    KwCase("unsubscribe", _ok(rb"UNSUBSCRIBE .*"), ["M.unsubscribe(mailbox='Old')"]),
    KwCase(
        "getacl",
        _ok(rb"GETACL .*", b"* ACL INBOX user lrswipcda"),
        ["M.getacl(mailbox='INBOX')"],
    ),
    KwCase(
        "myrights",
        _ok(rb"MYRIGHTS .*", b"* MYRIGHTS INBOX lrs"),
        ["M.myrights(mailbox='INBOX')"],
    ),
    KwCase("setacl", _ok(rb"SETACL .*"), ["M.setacl(mailbox='INBOX', who='other', what='lr')"]),
    KwCase("deleteacl", _ok(rb"DELETEACL .*"), ["M.deleteacl(mailbox='INBOX', who='other')"]),
    KwCase(
        "getquota",
        _ok(rb"GETQUOTA .*", b'* QUOTA "" (STORAGE 10 512)'),
        ["M.getquota(root='\"\"')"],
    ),
    KwCase(
        "setquota",
        _ok(rb"SETQUOTA .*", b'* QUOTA "" (STORAGE 10 1024)'),
        ["M.setquota(root='\"\"', limits='(STORAGE 1024)')"],
    ),
    KwCase(
        "getannotation",
        _ok(rb"GETANNOTATION .*", b'* ANNOTATION INBOX "/comment" ("value.shared" "hi")'),
        ["M.getannotation(mailbox='INBOX', entry='\"/comment\"', attribute='\"value.shared\"')"],
    ),
    KwCase("proxyauth", _ok(rb"PROXYAUTH .*"), ["M.proxyauth(user='other')"]),
    KwCase(
        "append",
        [
            cmd_re(rb"APPEND INBOX .*\{%d\}" % len(MESSAGE)),
            send(b"+ go ahead"),
            ExpectRaw(MESSAGE + b"\r\n"),
            send(b"{tag} OK [APPENDUID 42 7] APPEND completed"),
        ],
        ["M.append(mailbox='INBOX', flags='(\\\\Seen)', date_time=DATE, message=MESSAGE)"],
    ),
    KwCase(
        "partial",
        [*SELECT, *_ok(rb"PARTIAL 1 .*", b"* 1 FETCH (BODY[]<0> {5}\r\nhello)")],
        ["M.select()", "M.partial(message_num='1', message_part='BODY[]', start='0', length='5')"],
    ),
    KwCase(
        "uid",
        [*SELECT, *_ok(rb"UID SEARCH.*", b"* SEARCH 7")],
        ["M.select()", "M.uid(command='SEARCH')"],
    ),
    KwCase("xatom", _ok(rb"XNOOP.*"), ["M.xatom(name='XNOOP')"]),
    KwCase(
        "starttls-unsupported",
        [],
        ["M.starttls(ssl_context=None)"],
    ),
    # private methods tools call with keywords
    KwCase(
        "_simple_command",
        _ok(rb"NOOP", b"* 4 EXISTS"),
        ["M._simple_command(name='NOOP')"],
    ),
    KwCase(
        "_command-_command_complete",
        _ok(rb"NOOP", b"* 4 EXISTS"),
        ["(tag := M._command(name='NOOP'))", "M._command_complete(name='NOOP', tag=tag)"],
    ),
    KwCase(
        "_get_tagged_response",
        _ok(rb"NOOP"),
        ["(tag := M._command('NOOP'))", "M._get_tagged_response(tag=tag, expect_bye=False)"],
    ),
    KwCase(
        "_untagged_response",
        _ok(rb"NOOP", b"* 4 EXISTS"),
        [
            "M.noop()",
            "M._untagged_response(typ='OK', dat=[b'x'], name='EXISTS')",
            "M._untagged_response(typ='NO', dat=[b'y'], name='MISSING')",
        ],
    ),
    KwCase(
        "_append_untagged",
        [],
        ["M._append_untagged(typ='X-FOO', dat=b'bar')", "M.response(code='X-FOO')"],
    ),
    KwCase("_get_response", [send(b"* 5 EXISTS")], ["M._get_response()", "M.response('EXISTS')"]),
    KwCase("_get_line", [send(b"* 6 RECENT")], ["M._get_line()"]),
    KwCase(
        "_match",
        [],
        ["M._match(cre=re.compile(rb'(\\d+) (\\w+)'), s=b'12 EXISTS')", "M.mo.groups()"],
    ),
    KwCase("_quote", [], ["M._quote(arg='a\"b\\\\c')"]),
    KwCase("_log-_mesg", [], ["M._log(line='hello')", "M._mesg(s='hi', secs=0.0)", "stderr"]),
    KwCase(
        "_dump_ur",
        [],
        ["M._dump_ur(untagged_resp_dict={'A': ['x', 'y']})", "STAMP.sub('T', stderr.getvalue())"],
    ),
    KwCase("_check_bye", [], ["M._check_bye()"]),
]
if hasattr(STD.IMAP4, "idle"):  # 3.14+: IDLE with the keyword of its signature
    KW_CASES.append(
        KwCase(
            "idle",
            [
                cmd_re(rb"IDLE"),
                send(b"+ idling"),
                send(b"* 4 EXISTS"),
                Expect(b"DONE"),
                send(b"{tag} OK IDLE terminated"),
            ],
            ["idle_all(M, duration=0.5)"],
        )
    )
KW_IDS = [c.name for c in KW_CASES]


def _idle_all(M: Any, duration: float) -> list[Any]:
    with M.idle(duration=duration) as idler:
        return list(idler)


STAMP = re.compile(r"\d\d:\d\d\.\d\d")


@dataclass
class KwResult:
    events: list[str]
    wire: list[bytes]
    server_errors: list[str]


def _snapshot(M: Any) -> str:
    out = []
    for name in SNAPSHOT:
        try:
            out.append(f"{name}={typed(getattr(M, name))}")
        except AttributeError as exc:
            out.append(f"{name}=<AttributeError {exc}>")
    return "  " + "; ".join(out)


def play_kw(mod: ModuleType, case: KwCase) -> KwResult:
    greeting = b"* PREAUTH ready" if case.preauth else b"* OK ready"
    script = [*_hello(greeting), *case.script, *(LOGOUT if case.logout else [])]
    server = ScriptedServer(script, timeout=5)
    saved_commands = dict(mod.Commands)
    stderr = io.StringIO()
    ns: dict[str, Any] = {
        "mod": mod,
        "port": server.port,
        "re": re,
        "stderr": stderr,
        "STAMP": STAMP,
        "idle_all": _idle_all,
        "MESSAGE": MESSAGE,
        "DATE": '"01-Jan-2020 10:00:00 +0000"',
        "relay": f"{shlex.quote(sys.executable)} -c {shlex.quote(RELAY)} {server.port}",
    }
    events: list[str] = []
    M = None
    try:
        with contextlib.redirect_stderr(stderr):
            random.seed(SEED)
            try:
                M = eval(case.ctor, ns)  # the cases above
            except Exception as exc:  # noqa: BLE001 - recorded and compared
                events.append("ctor: " + describe_exc(mod.IMAP4, exc))
                return KwResult(events, [], [])
            ns["M"] = M
            events.append("ctor: ok")
            events.append(_snapshot(M))
            for call in [*case.calls, *(["M.logout()"] if case.logout else [])]:
                try:
                    value = eval(call, ns)  # the cases above
                except Exception as exc:  # noqa: BLE001 - recorded and compared
                    events.append(f"{call}: " + describe_exc(mod.IMAP4, exc))
                else:
                    shown = "<self>" if value is M else typed(value)
                    if isinstance(value, io.StringIO):
                        shown = repr(STAMP.sub("T", value.getvalue()))
                    events.append(f"{call}: -> {shown}")
                events.append(_snapshot(M))
    finally:
        if M is not None:
            with contextlib.suppress(Exception):
                M.shutdown()
        server.stop()
        mod.Commands.clear()
        mod.Commands.update(saved_commands)
    return KwResult(events, [bytes(c.received) for c in server.connections], server.errors)


def _first_difference(ref: list[str], got: list[str]) -> str:
    for i, (a, b) in enumerate(zip(ref, got)):
        if a != b:
            return f"event {i}:\n  imaplib:   {a}\n  {TARGET_NAME}: {b}"
    return f"imaplib has {len(ref)} events, {TARGET_NAME} {len(got)}"


@pytest.mark.usefixtures("fixed_tz")
@pytest.mark.parametrize("case", KW_CASES, ids=KW_IDS)
def test_method_keyword_call(case: KwCase) -> None:
    mod = target()
    ref = play_kw(STD, case)
    assert ref.server_errors == [], f"script bug: imaplib deviates from it: {ref.server_errors}"
    got = play_kw(mod, case)
    assert got.events == ref.events, _first_difference(ref.events, got.events)
    assert got.wire == ref.wire, f"bytes on the wire differ: {ref.wire!r} != {got.wire!r}"
    assert got.server_errors == ref.server_errors


def test_keyword_cases_cover_the_brief() -> None:
    text = "\n".join(c for case in KW_CASES for c in case.calls)
    for call in (
        "enable(capability=",
        "response(code=",
        "getquotaroot(mailbox=",
        "select(mailbox='INBOX', readonly=True)",
        "fetch(message_set=",
        "search(None, 'ALL')",
        "read(size=3)",
        "send(data=",
    ):
        assert call in text, call
    assert len(set(KW_IDS)) == len(KW_IDS)
