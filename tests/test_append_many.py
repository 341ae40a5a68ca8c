"""IMAP4.append_many: APPEND of many messages, pipelined with LITERAL+ (RFC 7888).

Against the pipelining mailbox server (testsupport/mailbox_server.py): with LITERAL+
the literals go out without continuations and several commands are in flight; without
it each message is one append().  Results come back per message, in order, as
append() returns them; a refused message does not lose the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from testsupport.mailbox_server import Mailbox, MailboxServer

pytestmark = pytest.mark.usefixtures("only_extension")

MESSAGES = [b"Subject: %d\n\nbody %d\n" % (i, i) * (i % 5 + 1) for i in range(40)]
STORED = [m.replace(b"\n", b"\r\n") for m in MESSAGES]  # append() maps line ends


def connect(target: Any, box: Mailbox) -> Any:
    server = MailboxServer(box)
    m = target.IMAP4("127.0.0.1", server.port)
    return m


@pytest.fixture
def session(target: Any) -> Iterator[Any]:
    """Opens a connection to a MailboxServer over a given Mailbox; all are shut
    down at the end of the test."""
    opened: list[Any] = []

    def open_box(box: Mailbox) -> Any:
        opened.append(connect(target, box))
        return opened[-1]

    yield open_box
    for m in opened:
        m.shutdown()


@pytest.fixture
def plus() -> Mailbox:
    return Mailbox(literal_plus=True)


@pytest.fixture
def imap(target: Any, plus: Mailbox) -> Iterator[Any]:
    m = connect(target, plus)
    yield m
    m.shutdown()


def ok(uid: int) -> tuple[str, list[bytes]]:
    return ("OK", [b"[APPENDUID 1 %d] APPEND done" % uid])


def test_pipelined_with_literal_plus(imap: Any, plus: Mailbox) -> None:
    results = imap.append_many("INBOX", MESSAGES, "(\\Seen)", window=8)
    assert results == [ok(i) for i in range(1, 41)]
    assert plus.appended == STORED
    assert plus.continuations == 0
    assert plus.max_in_flight >= 2  # sent before the answers came
    assert imap.untagged_responses.get("APPENDUID")  # filed as append() files it


def test_same_results_as_append_one_by_one(target: Any) -> None:
    a, b = Mailbox(literal_plus=True), Mailbox(literal_plus=True)
    ma, mb = connect(target, a), connect(target, b)
    try:
        many = ma.append_many("INBOX", MESSAGES[:5], None, None)
        ones = [mb.append("INBOX", None, None, m) for m in MESSAGES[:5]]
        assert many == ones and a.appended == b.appended
    finally:
        ma.shutdown()
        mb.shutdown()


def test_without_literal_plus_one_by_one(session: Any) -> None:
    box = Mailbox()
    m = session(box)
    assert m.append_many("INBOX", MESSAGES[:6]) == [ok(i) for i in range(1, 7)]
    assert box.continuations == 6 and box.max_in_flight == 1


def test_refused_message_does_not_lose_the_others(imap: Any, plus: Mailbox) -> None:
    msgs = [*MESSAGES[:3], b"Subject: x\r\n\r\nREJECT-ME\r\n", *MESSAGES[3:6]]
    results = imap.append_many("INBOX", msgs, window=4)
    assert [r[0] for r in results] == ["OK", "OK", "OK", "NO", "OK", "OK", "OK"]
    assert results[3] == ("NO", [b"[OVERQUOTA] refused"])
    assert plus.appended == STORED[:6]
    assert imap.noop()[0] == "OK"


def test_bad_argument_after_some_were_sent(imap: Any, plus: Mailbox) -> None:
    with pytest.raises(TypeError):
        imap.append_many("INBOX", [*MESSAGES[:3], 42], window=8)
    assert plus.appended == STORED[:3]  # the three sent were read
    assert imap.noop()[0] == "OK"


def test_control_characters_refused_as_append_does(imap: Any) -> None:
    with pytest.raises(ValueError):
        imap.append_many("IN\r\nBOX", MESSAGES[:2])
    assert imap.noop()[0] == "OK"


def test_an_instance_override_of_send_is_kept(imap: Any, plus: Mailbox) -> None:
    sent: list[bytes] = []
    original = imap.send

    def send(data: bytes) -> None:
        sent.append(data)
        original(data)

    imap.send = send
    assert [r[0] for r in imap.append_many("INBOX", MESSAGES[:3])] == ["OK"] * 3
    assert imap.send is send  # put back, not deleted
    assert len(sent) == 3  # it carried the three pipelined writes
    assert plus.appended == STORED[:3]


# ---------------------------------------------------------------- MULTIAPPEND


def batch_ok(first: int, last: int) -> tuple[str, list[bytes]]:
    return ("OK", [b"[APPENDUID 1 %d:%d] APPEND done" % (first, last)])


def test_multiappend_without_literal_plus(session: Any) -> None:
    box = Mailbox(multiappend=True)
    m = session(box)
    results = m.append_many("INBOX", MESSAGES[:10], "(\\Seen)", window=4)
    assert results == [batch_ok(1, 4)] * 4 + [batch_ok(5, 8)] * 4 + [batch_ok(9, 10)] * 2
    assert box.messages_per_append == [4, 4, 2]
    assert box.continuations == 10  # one round trip per message, not two
    assert box.appended == STORED[:10]
    # the mailbox is named once; every message carries its flags
    assert box.append_lines[0].split(b" ", 1)[1] == b"APPEND INBOX (\\Seen) {%d}" % len(STORED[0])
    assert box.append_lines[1] == b" (\\Seen) {%d}" % len(STORED[1])
    assert m.noop()[0] == "OK"


def test_multiappend_with_literal_plus_when_asked(session: Any) -> None:
    box = Mailbox(multiappend=True, literal_plus=True)
    m = session(box)
    results = m.append_many("INBOX", MESSAGES[:6], window=3, multiappend=True)
    assert results == [batch_ok(1, 3)] * 3 + [batch_ok(4, 6)] * 3
    assert box.continuations == 0 and box.messages_per_append == [3, 3]
    assert box.appended == STORED[:6]


def test_literal_plus_preferred_over_multiappend(session: Any) -> None:
    box = Mailbox(multiappend=True, literal_plus=True)
    m = session(box)
    assert m.append_many("INBOX", MESSAGES[:5]) == [ok(i) for i in range(1, 6)]
    assert box.messages_per_append == [1] * 5


@pytest.mark.parametrize("literal_plus", [False, True])
def test_refused_multiappend_falls_back_one_by_one(target: Any, literal_plus: bool) -> None:
    box = Mailbox(multiappend=True, literal_plus=literal_plus)
    m = connect(target, box)
    msgs = [*MESSAGES[:2], b"Subject: x\r\n\r\nREJECT-ME\r\n", *MESSAGES[2:5]]
    try:
        results = m.append_many("INBOX", msgs, window=4, multiappend=True)
        assert [r[0] for r in results] == ["OK", "OK", "NO", "OK", "OK", "OK"]
        assert results[2] == ("NO", [b"[OVERQUOTA] refused"])
        assert box.appended == STORED[:5]  # all or nothing, then each alone, in order
        assert box.messages_per_append[0] <= 4 and 1 in box.messages_per_append
        assert m.noop()[0] == "OK"
    finally:
        m.shutdown()


def test_multiappend_asked_but_not_offered(imap: Any, plus: Mailbox) -> None:
    with pytest.raises(imap.error, match="MULTIAPPEND"):
        imap.append_many("INBOX", MESSAGES[:2], multiappend=True)
    assert plus.appended == []


def test_multiappend_refused_by_caller(session: Any) -> None:
    box = Mailbox(multiappend=True)
    m = session(box)
    assert m.append_many("INBOX", MESSAGES[:3], multiappend=False) == [ok(i) for i in range(1, 4)]
    assert box.messages_per_append == [1, 1, 1]


def test_multiappend_bad_argument_sends_what_came_before(session: Any) -> None:
    box = Mailbox(multiappend=True)
    m = session(box)
    with pytest.raises(TypeError):
        m.append_many("INBOX", [*MESSAGES[:3], 42], window=8)
    assert box.appended == STORED[:3]
    assert m.noop()[0] == "OK"


@pytest.mark.parametrize("multiappend", [False, True])
def test_each_message_its_own_flags_and_date(target: Any, multiappend: bool) -> None:
    box = Mailbox(literal_plus=True, multiappend=True)
    m = connect(target, box)
    date = '"01-Jan-2020 10:00:00 +0000"'
    items = [("(\\Seen)", None, MESSAGES[0]), MESSAGES[1], (None, date, MESSAGES[2])]
    try:
        results = m.append_many("INBOX", items, "(\\Flagged)", None, multiappend=multiappend)
        assert [r[0] for r in results] == ["OK"] * 3
        assert box.appended == STORED[:3]
        heads = [line.rsplit(b" {", 1)[0] for line in box.append_lines]
        assert heads[0].endswith(b"APPEND INBOX (\\Seen)")
        assert heads[1].endswith(b"(\\Flagged)") and heads[2].endswith(date.encode())
        assert (b"INBOX" in heads[1]) is not multiappend  # named once per MULTIAPPEND
    finally:
        m.shutdown()
