"""IMAP4.fetch_stream: the streamed, pipelined FETCH (imaplib_c/_fetch_stream.py).

A small mailbox server on 127.0.0.1 answers SELECT, NOOP, UID SEARCH and UID FETCH
from an in-memory mailbox as commands arrive (so the client may pipeline), records
how many commands were in flight at once, and can be told to fail one batch, send
BYE or EXPUNGE a message in the middle.  The reference for what the stream yields is
imaplib_c's own ``uid('FETCH', ...)``, whose data matches stdlib imaplib's (the
differential suite).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from testsupport.mailbox_server import Mailbox, MailboxServer, message

pytestmark = pytest.mark.usefixtures("only_extension")


@pytest.fixture
def box() -> Mailbox:
    return Mailbox()


@pytest.fixture
def imap(target: Any, box: Mailbox) -> Iterator[Any]:
    server = MailboxServer(box)
    m = target.IMAP4("127.0.0.1", server.port)
    m.state = "SELECTED"
    yield m
    try:
        m.shutdown()
    except OSError:
        pass


def reference(uids: list[int]) -> list[Any]:
    out: list[Any] = []
    for seq, u in enumerate(uids, 1):
        m = message(u)
        out += [(b"%d (UID %d BODY[] {%d}" % (seq, u, len(m)), m), b")"]
    return out


@pytest.mark.parametrize(("batch", "window"), [(1, 1), (7, 3), (100, 4), (1000, 2)])
def test_stream_yields_what_fetch_returns(imap: Any, box: Mailbox, batch: int, window: int) -> None:
    got = list(imap.fetch_stream("1:*", "(UID BODY[])", batch=batch, window=window))
    assert got == reference(box.uids)
    assert got == imap.uid("FETCH", "1:*", "(UID BODY[])")[1]
    batches = -(-len(box.uids) // batch)
    assert box.fetches == batches + 1  # and the reference fetch
    assert 1 <= box.max_in_flight <= window + 1


def test_pipelined(imap: Any, box: Mailbox) -> None:
    list(imap.fetch_stream("1:*", "(UID BODY[])", batch=5, window=4))
    assert box.max_in_flight >= 2  # commands went out before the answers came


def test_uid_sets_and_sequence_sets(imap: Any, box: Mailbox) -> None:
    box.uids = [3, 4, 5, 9, 20, 21]
    assert list(imap.fetch_stream("2:3", "(UID BODY[])", batch=1)) == reference(box.uids)[2:6]
    got = list(imap.fetch_stream("9:21", "(UID BODY[])", uid=True))
    heads = [h for h, _ in got[::2]]
    assert heads == [
        b"%d (UID %d BODY[] {%d}" % (q, u, len(message(u))) for q, u in [(4, 9), (5, 20), (6, 21)]
    ]


def test_no_for_one_batch_raises_after_the_others(imap: Any, box: Mailbox) -> None:
    box.fail_uid = 30
    got: list[Any] = []
    with pytest.raises(imap.error, match="FETCH command error: NO"):
        got.extend(imap.fetch_stream("1:*", "(UID BODY[])", batch=10, window=3))
    # Batches 1-2 before the NO, 4-5 already in flight with it; 6 on never sent.
    ref = reference(box.uids)
    assert got == ref[: 2 * 20] + ref[3 * 20 : 5 * 20]
    assert box.fetches == 5
    assert imap.noop()[0] == "OK"  # still in step


def test_bye_mid_stream_aborts(imap: Any, box: Mailbox) -> None:
    box.bye_after = 2
    with pytest.raises(imap.abort):
        list(imap.fetch_stream("1:*", "(UID BODY[])", batch=10, window=1))


def test_expunge_during_the_stream(imap: Any, box: Mailbox) -> None:
    box.expunge_after = 1
    want = reference(list(range(1, 100)))  # UID 100 is gone before its batch
    got = list(imap.fetch_stream("1:*", "(UID BODY[])", batch=25, window=1))
    assert got == want
    assert imap.untagged_responses.get("EXPUNGE") == [b"100"]


def test_closed_early_stays_in_step(imap: Any, box: Mailbox) -> None:
    it = imap.fetch_stream("1:*", "(UID BODY[])", batch=10, window=4)
    first = [next(it) for _ in range(3)]
    assert first == reference(box.uids)[:3]
    it.close()
    assert imap.noop()[0] == "OK"
    assert "FETCH" not in imap.untagged_responses


def test_other_command_mid_stream(imap: Any, box: Mailbox) -> None:
    it = imap.fetch_stream("1:*", "(UID BODY[])", batch=10, window=4)
    got = [next(it) for _ in range(5)]
    assert imap.noop()[0] == "OK"  # reads the batches in flight meanwhile
    got += list(it)
    assert got == reference(box.uids)


def test_select_mid_stream_is_a_clear_error(imap: Any, box: Mailbox) -> None:
    it = imap.fetch_stream("1:*", "(UID BODY[])", batch=10, window=4)
    next(it)
    imap.untagged_responses = {}  # what select() does
    with pytest.raises(imap.error, match="replaced untagged_responses"):
        list(it)
    assert imap.noop()[0] == "OK"


def test_bad_arguments(imap: Any) -> None:
    with pytest.raises(ValueError):
        next(imap.fetch_stream("1:*", "(BODY[])", window=0))


def test_uid_set_compression() -> None:
    from imaplib_c._fetch_stream import _uid_set

    assert _uid_set([1, 2, 3, 7, 9, 10]) == "1:3,7,9:10"
    assert _uid_set([5]) == "5"
    assert re.fullmatch(r"1:1000", _uid_set(list(range(1, 1001))))
