"""Module-level helpers and constants, compared with the stdlib module."""

from __future__ import annotations

import datetime
import locale
import os
import pickle
import re
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from conftest import STDLIB, load_target
from outcomes import typed

TZS = ["UTC", "STD-1DST", "MST+07MDT", "EST+05EDT,M3.2.0,M11.1.0", "Asia/Kolkata", "Australia/Lord_Howe", "XXX-0130"]


def outcome(fn: Any, *args: Any) -> str:
    try:
        return "-> " + typed(fn(*args))
    except Exception as exc:  # noqa: BLE001 - compared
        return f"raise {type(exc).__name__} {str(exc)!r} {typed(exc.args)}"


def both(name: str, *args: Any) -> tuple[str, str]:
    target = load_target()
    return outcome(getattr(target, name), *args), outcome(getattr(STDLIB, name), *args)


@pytest.fixture
def tz(request: pytest.FixtureRequest) -> Iterator[str]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield request.param
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()


# -- Int2AP ------------------------------------------------------------------

INT2AP_INPUTS: list[Any] = [
    0, 1, 15, 16, 17, -17, 255, 256, 4096, 4097, 65535, 65536, 2**31, 2**63 + 5, 10**30, -(10**30),
    3.9, -3.9, 0.5, True, False, 1e20,
]


@pytest.mark.parametrize("value", INT2AP_INPUTS, ids=repr)
def test_int2ap(value: Any) -> None:
    got, want = both("Int2AP", value)
    assert got == want


@pytest.mark.parametrize("value", ["12", b"12", None, [1], float("nan"), float("inf"), complex(1, 1)], ids=repr)
def test_int2ap_errors(value: Any) -> None:
    got, want = both("Int2AP", value)
    assert got == want


def test_int2ap_tag_range() -> None:
    target = load_target()
    for n in range(4096, 65536, 97):
        assert target.Int2AP(n) == STDLIB.Int2AP(n)


# -- ParseFlags ----------------------------------------------------------------

PARSEFLAGS_INPUTS: list[Any] = [
    b"1 (FLAGS (\\Seen \\Deleted))",
    b"1 (UID 5 FLAGS (\\Seen) INTERNALDATE x)",
    b"FLAGS ()",
    b"FLAGS (   )",
    b"FLAGS (a  b\tc)",
    b"1 (FLAGS (\\Seen [x]) FLAGS (\\Other))",
    b"flags (\\Seen)",
    b"FLAGS(\\Seen)",
    b"FLAGS (\\Seen",
    b"",
    b"no flags here",
    b"\n FLAGS (x)",
    bytearray(b"FLAGS (\\Seen)"),
    memoryview(b"FLAGS (\\Seen)"),
    "FLAGS (\\Seen)",
    None,
    5,
]


@pytest.mark.parametrize("value", PARSEFLAGS_INPUTS, ids=repr)
def test_parseflags(value: Any) -> None:
    got, want = both("ParseFlags", value)
    assert got == want


# -- Internaldate2tuple ----------------------------------------------------------

INTERNALDATES: list[Any] = [
    b'25 (INTERNALDATE "01-Jan-2000 00:00:00 +0000")',
    b'25 (INTERNALDATE "01-Jan-2000 00:00:00 -0500")',
    b'25 (INTERNALDATE "31-Dec-1999 19:00:00 -0500")',
    b'25 (INTERNALDATE " 1-Jan-2000 12:30:59 +0130")',
    b'INTERNALDATE "02-Jan-1970 00:00:00 +2359"',
    b'INTERNALDATE "10-Mar-2024 01:59:59 -0700"',
    b'INTERNALDATE "10-Mar-2024 03:00:00 -0600"',
    b'INTERNALDATE "03-Nov-2024 01:30:00 -0600"',
    b'INTERNALDATE "03-Nov-2024 01:30:00 -0700"',
    b'INTERNALDATE "29-Feb-2024 23:59:59 +1400"',
    b'INTERNALDATE "18-May-2033 05:33:20 +0200"',
    b'INTERNALDATE "01-Foo-2000 00:00:00 +0000"',
    b'INTERNALDATE "01-jan-2000 00:00:00 +0000"',
    b'INTERNALDATE "1-Jan-2000 00:00:00 +0000"',
    b'INTERNALDATE "01-Jan-2000 00:00:00 +000"',
    b'INTERNALDATE "31-Feb-2000 25:61:61 +9999"',
    b'INTERNALDATE "00-Jan-0000 00:00:00 +0000"',
    b"",
    b"garbage",
    b'x INTERNALDATE "01-Jan-2000 00:00:00 +0000" y INTERNALDATE "02-Jan-2000 00:00:00 +0000"',
    '25 (INTERNALDATE "01-Jan-2000 00:00:00 +0000")',
    None,
]


@pytest.mark.parametrize("tz", TZS, indirect=True)
@pytest.mark.parametrize("value", INTERNALDATES, ids=repr)
def test_internaldate2tuple(tz: str, value: Any) -> None:
    got, want = both("Internaldate2tuple", value)
    assert got == want


def test_internaldate2tuple_returns_struct_time() -> None:
    target = load_target()
    value = target.Internaldate2tuple(b'INTERNALDATE "01-Jan-2000 00:00:00 +0000"')
    assert type(value) is time.struct_time
    assert value == STDLIB.Internaldate2tuple(b'INTERNALDATE "01-Jan-2000 00:00:00 +0000"')


# -- Time2Internaldate -------------------------------------------------------------

UTC = datetime.timezone.utc
TIME2_INPUTS: list[Any] = [
    0,
    1,
    -1,
    1e9,
    1e9 + 0.999,
    2000000000,
    -86400 * 365 * 50,
    True,
    False,
    (2033, 5, 18, 5, 33, 20, -1, -1, -1),
    (2033, 5, 18, 5, 33, 20, -1, -1, 1),
    (2033, 5, 18, 5, 33, 20, -1, -1, 0),
    (2033, 1, 18, 5, 33, 20, -1, -1, -1),
    (2000, 1, 1, 0, 0, 0, 0, 0, 0),
    datetime.datetime(2033, 5, 18, 3, 33, 20, tzinfo=UTC),
    datetime.datetime(2033, 5, 18, 5, 33, 20, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
    datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=1, minutes=30, seconds=7))),
    datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=-9, minutes=-30))),
    datetime.datetime(1, 1, 1, tzinfo=UTC),
    datetime.datetime(2033, 5, 18, 5, 33, 20),
    '"18-May-2033 05:33:20 +0200"',
    '"anything goes"',
    '""',
    '"',
    "18-May-2033 05:33:20 +0200",
    "",
    b'"18-May-2033 05:33:20 +0200"',
    None,
    [2033, 5, 18, 5, 33, 20, 0, 0, 0],
    (2033, 5, 18),
    datetime.date(2033, 5, 18),
    3j,
]


@pytest.mark.parametrize("tz", TZS, indirect=True)
@pytest.mark.parametrize("value", TIME2_INPUTS, ids=repr)
def test_time2internaldate(tz: str, value: Any) -> None:
    got, want = both("Time2Internaldate", value)
    assert got == want


@pytest.mark.parametrize("tz", TZS, indirect=True)
def test_time2internaldate_struct_time(tz: str) -> None:
    for secs in (0, 1e9, 2000000000, 1710054000, 1730613600):
        for value in (time.localtime(secs), time.gmtime(secs)):
            got, want = both("Time2Internaldate", value)
            assert got == want


class _TupleSub(tuple):  # a tuple subclass without tm_gmtoff
    pass


@pytest.mark.parametrize("tz", ["STD-1DST", "UTC"], indirect=True)
def test_time2internaldate_tuple_subclass(tz: str) -> None:
    got, want = both("Time2Internaldate", _TupleSub((2033, 5, 18, 5, 33, 20, -1, -1, -1)))
    assert got == want


def _available_locales() -> list[str]:
    names = ["C", "POSIX", "C.UTF-8", "de_DE.UTF-8", "fr_FR.UTF-8", "de_DE", "fr_FR", "tr_TR.UTF-8", "ja_JP.UTF-8"]
    saved = locale.setlocale(locale.LC_ALL)
    found = []
    try:
        for name in names:
            try:
                locale.setlocale(locale.LC_ALL, name)
            except locale.Error:
                continue
            found.append(name)
    finally:
        locale.setlocale(locale.LC_ALL, saved)
    return found


@pytest.mark.parametrize("loc", _available_locales())
@pytest.mark.parametrize("tz", ["STD-1DST"], indirect=True)
def test_time2internaldate_locale(loc: str, tz: str) -> None:
    saved = locale.setlocale(locale.LC_ALL)
    try:
        locale.setlocale(locale.LC_ALL, loc)
        plus2 = datetime.timezone(datetime.timedelta(hours=2))
        for value in (2000000000, (2033, 5, 18, 5, 33, 20, -1, -1, -1), datetime.datetime(2033, 5, 18, 5, 33, 20, tzinfo=plus2)):
            got, want = both("Time2Internaldate", value)
            assert got == want
            assert got == "-> '\"18-May-2033 05:33:20 +0200\"'"
    finally:
        locale.setlocale(locale.LC_ALL, saved)


# -- constants ------------------------------------------------------------------------

CONSTANTS = ["AllowedVersions", "CRLF", "IMAP4_PORT", "IMAP4_SSL_PORT", "_MAXLINE", "Debug", "Months", "Mon2num",
             "__all__", "__version__", "HAVE_SSL", "DEFAULT_BUFFER_SIZE"]  # fmt: skip


@pytest.mark.parametrize("name", CONSTANTS)
def test_constant(name: str) -> None:
    target = load_target()
    assert typed(getattr(target, name)) == typed(getattr(STDLIB, name))


def test_commands_content_and_order() -> None:
    target = load_target()
    assert type(target.Commands) is dict
    assert list(target.Commands.items()) == list(STDLIB.Commands.items())
    for states in target.Commands.values():
        assert type(states) is tuple
        assert all(type(s) is str for s in states)


def test_commands_is_one_live_object() -> None:
    # One home: imaplib_c's Commands *is* the interpreter's, which both the
    # inherited methods and the engine read.
    target = load_target()
    assert target.Commands is vars(target)["Commands"]
    assert target.Commands is STDLIB.Commands


def test_settings_have_one_home() -> None:
    target = load_target()
    saved = STDLIB._MAXLINE
    try:
        target._MAXLINE = 123
        assert STDLIB._MAXLINE == 123 and target._MAXLINE == 123
        STDLIB._MAXLINE = 456  # written on the interpreter's module directly
        assert target._MAXLINE == 456
    finally:
        target._MAXLINE = saved
    assert STDLIB._MAXLINE == saved == vars(target)["_MAXLINE"]


REGEXES = ["Continuation", "Flags", "InternalDate", "Literal", "MapCRLF", "Response_code", "Untagged_response",
           "Untagged_status"]  # fmt: skip


@pytest.mark.parametrize("name", REGEXES)
def test_regex_objects(name: str) -> None:
    target = load_target()
    got, want = getattr(target, name), getattr(STDLIB, name)
    assert isinstance(got, re.Pattern)
    assert (got.pattern, got.flags) == (want.pattern, want.flags)


@pytest.mark.parametrize("name", ["_Literal", "_Untagged_status"])
def test_regex_sources(name: str) -> None:
    target = load_target()
    assert typed(getattr(target, name)) == typed(getattr(STDLIB, name))


def test_public_names_present() -> None:
    target = load_target()
    names = [n for n in vars(STDLIB) if not n.startswith("__") or n == "__version__"]
    missing = [n for n in names if not hasattr(target, n)]
    assert not missing


def test_imported_module_names_are_modules() -> None:
    target = load_target()
    for name in ["binascii", "calendar", "errno", "random", "re", "socket", "ssl", "subprocess", "sys", "time"]:
        assert isinstance(getattr(target, name), ModuleType), name
        assert getattr(target, name) is getattr(STDLIB, name)
    for name in ["datetime", "timedelta", "timezone"]:
        assert getattr(target, name) is getattr(STDLIB, name)


def test_exception_hierarchy() -> None:
    target = load_target()
    imap = target.IMAP4
    assert issubclass(imap.error, Exception)
    assert issubclass(imap.abort, imap.error)
    assert issubclass(imap.readonly, imap.abort)
    for kind in ("error", "abort", "readonly"):
        cls = getattr(imap, kind)
        assert cls.__name__ == kind
        assert cls.__qualname__ == f"IMAP4.{kind}"
        assert getattr(target.IMAP4_SSL, kind) is cls
        assert getattr(target.IMAP4_stream, kind) is cls
    assert issubclass(target.IMAP4_SSL, imap)
    assert issubclass(target.IMAP4_stream, imap)


@pytest.mark.parametrize("kind", ["error", "abort", "readonly"])
def test_exceptions_pickle(kind: str) -> None:
    target = load_target()
    exc = getattr(target.IMAP4, kind)("boom", b"x")
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is type(exc)
    assert again.args == ("boom", b"x")


def test_authenticator_helper() -> None:
    target = load_target()
    calls: list[Any] = []

    def mech(data: bytes) -> Any:
        calls.append(data)
        return [b"x" * 100, "é", None, b""][len(calls) - 1]

    got = target._Authenticator(mech)
    want = STDLIB._Authenticator(lambda d: None)
    assert got.mech is mech
    assert got.process(b"") == b64(b"x" * 100)
    assert got.process(None) == b64("é".encode())
    assert got.process(b"Zm9v") == b"*"
    assert got.process(b"") == b""
    assert calls == [b"", b"", b"foo", b""]
    for data in (b"", b"a", b"x" * 47, b"x" * 48, b"x" * 49, b"x" * 1000, "é"):
        assert got.encode(data) == want.encode(data)
    for data in (b"", None, b"Zm9v", b"Zm9vYmFy"):
        assert got.decode(data) == want.decode(data)


def b64(data: bytes) -> bytes:
    import base64

    return base64.b64encode(data)


def test_module_identity() -> None:
    target = load_target()
    assert isinstance(target, ModuleType)
    assert target.__name__ in ("imaplib", "imaplib_c")
