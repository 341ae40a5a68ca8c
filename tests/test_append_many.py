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


def test_without_literal_plus_one_by_one(target: Any) -> None:
    box = Mailbox()
    m = connect(target, box)
    try:
        assert m.append_many("INBOX", MESSAGES[:6]) == [ok(i) for i in range(1, 7)]
        assert box.continuations == 6 and box.max_in_flight == 1
    finally:
        m.shutdown()


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
