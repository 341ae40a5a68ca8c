"""backup/restore without a real server: the pieces (names, UID sets, FETCH
parsing, the stores' crash recovery) and XOAUTH2 against a scripted server.
The real-server tests are tests/realserver/test_backup.py."""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from imaplib_c import _backup, _backup_cli, _runner
from imaplib_c._backup_store import (
    MailboxState,
    Message,
    State,
    decode_utf7,
    encode_utf7,
    local_path,
    mboxrd_quote,
    mboxrd_unquote,
    open_writer,
    read_messages,
    text_to_uids,
    uids_to_text,
)
from testsupport.scripted_server import HELLO, Expect, Maybe, ScriptedServer, cmd, send


def test_uid_sets_round_trip() -> None:
    uids = {1, 2, 3, 7, 9, 10, 100}
    assert uids_to_text(uids) == "1:3,7,9:10,100"
    assert text_to_uids(uids_to_text(uids)) == uids
    assert uids_to_text([]) == "" and text_to_uids("") == set()


def test_wanted_set() -> None:
    assert _backup.wanted_set({1, 2, 5}, 8) == "3:4,6:7"
    assert _backup.wanted_set(set(range(1, 8)), 8) == ""
    assert _backup.wanted_set({1, 2}, 0) == "3:*"  # no UIDNEXT from the server
    assert _backup.wanted_set({3}, 2_000_000) == "1:2,4:1999999"


def test_modified_utf7() -> None:
    assert decode_utf7("Archive/&AOk-t&AOk-") == "Archive/été"
    assert decode_utf7("A&-B") == "A&B"
    assert decode_utf7("&Jjo-!") == "☺!"
    for name in ("été", "A&B", "日本語/x", "plain"):
        assert decode_utf7(encode_utf7(name)) == name


def test_local_paths_are_safe() -> None:
    assert local_path("Archive/2024", "/") == "Archive/2024"
    assert local_path("a.b.c", ".") == "a/b/c"
    assert local_path("../x", None) == "%2E./x".replace("/", "%2F")
    assert local_path("cur/new", "/") == "%cur/%new"
    assert local_path(".hidden", "/") == "%2Ehidden"
    assert local_path("100%", "/") == "100%25"


def test_internaldate() -> None:
    assert _backup.parse_internaldate('INTERNALDATE "17-Jul-1996 02:44:25 -0700"') == 837596665
    assert _backup.parse_internaldate('INTERNALDATE " 1-Jan-2000 00:00:00 +0100"') == 946681200


def test_messages_of_fetch_items() -> None:
    head = b'1 (UID 5 FLAGS (\\Seen \\Recent) INTERNALDATE "01-Jan-2000 00:00:00 +0000" BODY[] {3}'
    items: list[Any] = [
        (head, b"abc"),
        b")",
        b"2 (FLAGS (\\Deleted))",  # unsolicited: no literal, skipped
        (b"3 (UID 9 BODY[] {2}", b"de"),
        b' FLAGS (\\Flagged) INTERNALDATE "01-Jan-2000 00:00:01 +0000")',  # after the body
    ]
    got = list(_backup.messages_of(items))
    assert [(m.uid, m.flags, m.internaldate, m.data) for m in got] == [
        (5, ["\\Seen"], 946684800.0, b"abc"),
        (9, ["\\Flagged"], 946684801.0, b"de"),
    ]


def test_mboxrd_quoting_round_trips() -> None:
    data = b"From a\r\n>From b\r\nx From c\r\nFrom\r\n"
    quoted = mboxrd_quote(data)
    assert quoted == b">From a\r\n>>From b\r\nx From c\r\nFrom\r\n"
    assert mboxrd_unquote(quoted) == data


def _msgs(n: int, start: int = 1) -> list[Message]:
    return [
        Message(u, ["\\Seen"] if u % 2 else ["\\Flagged", "\\Answered"], 1e9 + u, b"m%d\r\n" % u)
        for u in range(start, start + n)
    ]


@pytest.mark.parametrize("fmt", ["maildir", "mbox"])
def test_store_recovers_from_a_crash(tmp_path: Path, fmt: str) -> None:
    """Messages stored after the last checkpoint: Maildir finds them again, mbox
    cuts them (and a torn tail) off; either way no duplicate, no loss."""
    state = State(tmp_path, fmt)
    mbox = MailboxState("INBOX", "INBOX", "/", 42)
    state.mailboxes["INBOX"] = mbox
    writer = open_writer(state, mbox)
    for m in _msgs(5):
        writer.add(m)
        mbox.uids.add(m.uid)
    writer.sync(mbox)
    state.save()  # checkpoint: 1..5
    for m in _msgs(3, 6):
        writer.add(m)  # 6..8 stored, the state not saved: then the crash
    writer.close()
    if fmt == "mbox":
        with open(tmp_path / "INBOX.mbox", "ab") as f:
            f.write(b"From imaplib_c@backup torn")
    (tmp_path / "INBOX" / "tmp").mkdir(parents=True, exist_ok=True)
    (tmp_path / "INBOX" / "tmp" / "1.9_42.host").write_bytes(b"half")

    state = State.load(tmp_path, fmt)
    mbox = state.mailboxes["INBOX"]
    assert mbox.uids == {1, 2, 3, 4, 5}
    writer = open_writer(state, mbox)
    expected = {1, 2, 3, 4, 5, 6, 7, 8} if fmt == "maildir" else {1, 2, 3, 4, 5}
    assert mbox.uids == expected  # Maildir: reconciled with cur/
    for m in _msgs(10):
        if m.uid not in mbox.uids:
            writer.add(m)
            mbox.uids.add(m.uid)
    writer.sync(mbox)
    writer.close()
    got = list(read_messages(state, mbox))
    assert [(m.uid, sorted(m.flags), m.internaldate, m.data) for m in got] == [
        (m.uid, sorted(m.flags), m.internaldate, m.data) for m in _msgs(10)
    ]
    if fmt == "maildir":
        assert not [p for p in (tmp_path / "INBOX" / "tmp").iterdir()]


def test_state_refuses_another_format(tmp_path: Path) -> None:
    State(tmp_path, "mbox").save()
    with pytest.raises(Exception, match="holds a mbox backup"):
        State.load(tmp_path, "maildir")
    assert json.loads((tmp_path / ".imaplib_c-backup.json").read_text())["format"] == "mbox"


class _FakeImap:
    error = RuntimeError

    def __init__(self, caps: tuple[str, ...], peer: str, has_compress: bool = True) -> None:
        self.capabilities = caps
        self.calls: list[str] = []
        self.sock = self
        self.peer = peer
        if has_compress:
            self.compress = lambda: self.calls.append("COMPRESS") or ("OK", [b"done"])

    def getpeername(self) -> tuple[str, int]:
        return (self.peer, 993)

    state = "AUTH"

    def _get_capabilities(self) -> None:  # imaplib's: CAPABILITY, then the attribute
        self.calls.append("CAPABILITY")
        self.capabilities = tuple(self.capabilities)


@pytest.mark.parametrize(
    ("mode", "peer", "caps", "has", "used"),
    [
        ("auto", "127.0.0.1", ("COMPRESS=DEFLATE",), True, False),  # loopback: not worth it
        ("auto", "::1", ("COMPRESS=DEFLATE",), True, False),
        ("auto", "192.0.2.7", ("COMPRESS=DEFLATE",), True, True),
        ("auto", "192.0.2.7", ("IMAP4REV1",), True, False),  # not offered
        ("yes", "127.0.0.1", ("COMPRESS=DEFLATE",), True, True),
        ("no", "192.0.2.7", ("COMPRESS=DEFLATE",), True, False),
        ("yes", "192.0.2.7", ("COMPRESS=DEFLATE",), False, False),  # no compress() yet
    ],
)
def test_compress_decision(mode: str, peer: str, caps: tuple, has: bool, used: bool) -> None:
    imap = _FakeImap(caps, peer, has)
    assert _backup_cli.maybe_compress(imap, mode, io.StringIO()) is used
    assert ("COMPRESS" in imap.calls) is used


def test_help_and_dispatch(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        _runner.main(["backup", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--dest" in out and "--oauth2-token-command" in out and "--compress" in out
    assert _runner.main(["--help"]) == 0
    assert "backup --host HOST" in capsys.readouterr().out


def _oauth_script(sasl: bytes, ok: bool) -> list[Any]:
    done = [send(b"{tag} OK logged in")] if ok else [
        send(b"+ " + base64.b64encode(b'{"status":"401"}')),
        Expect(b""),
        send(b"{tag} NO [AUTHENTICATIONFAILED] invalid token"),
    ]
    script = [
        *HELLO[:2],
        send(b"* CAPABILITY IMAP4rev1 AUTH=XOAUTH2", b"{tag} OK done"),
        cmd("AUTHENTICATE XOAUTH2"),
        send(b"+ "),
        Expect(base64.b64encode(sasl)),
        *done,
    ]
    if ok:
        script += [
            Maybe(cmd("CAPABILITY"), send(b"* CAPABILITY IMAP4rev1", b"{tag} OK done")),
            cmd('LIST "" "*"'),
            send(b'* LIST (\\HasNoChildren) "/" INBOX', b"{tag} OK done"),
            cmd('EXAMINE "INBOX"'),
            send(
                b"* 0 EXISTS",
                b"* OK [UIDVALIDITY 7] ok",
                b"* OK [UIDNEXT 1] ok",
                b"{tag} OK [READ-ONLY] done",
            ),
            cmd("CLOSE"),
            send(b"{tag} OK done"),
        ]
    return [*script, cmd("LOGOUT"), send(b"* BYE bye", b"{tag} OK done")]


@pytest.mark.parametrize("ok", [True, False])
def test_xoauth2_sends_the_sasl_string(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ok: bool
) -> None:
    token = "ya29.secret-token"
    sasl = b"user=me@example.org\x01auth=Bearer ya29.secret-token\x01\x01"
    (tmp_path / "token").write_text(token + "\n")
    with ScriptedServer(_oauth_script(sasl, ok)) as server:
        status = _backup_cli.main(
            "backup",
            ["--host", server.host, "--port", str(server.port), "--plain",
             "--user", "me@example.org", "--oauth2-token-file", str(tmp_path / "token"),
             "--dest", str(tmp_path / "dest")],
        )
    err = capsys.readouterr().err
    assert status == (0 if ok else 1), err
    assert token not in err
    if not ok:
        assert "login failed for me@example.org" in err and "Traceback" not in err


def test_token_command(tmp_path: Path) -> None:
    args = _backup_cli.parser_for("backup").parse_args(
        ["--host", "h", "--user", "u", "--dest", "d", "--oauth2-token-command", "echo  tok | tr a-z A-Z"]
    )
    assert _backup_cli.oauth2_token(args) == "TOK"


def test_connection_refused_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    status = _backup_cli.main(
        "backup", ["--host", "127.0.0.1", "--port", str(port), "--plain", "--user", "u",
                   "--password-env", "NO_SUCH_VAR_X", "--dest", os.devnull]
    )
    err = capsys.readouterr().err
    assert status == 1 and "cannot connect to 127.0.0.1:" in err and "Traceback" not in err


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_is_rate_limited_and_summarised() -> None:
    tty = _Tty()
    progress = _backup_cli.TerminalProgress("backup", tty, quiet=False)
    progress.mailbox("INBOX", 1000)
    for _ in range(1000):
        progress.message(100)  # far faster than 10 a second
    progress.finish(_backup.Stats(1, 1000, 100_000, 10, 0.5))
    out = tty.getvalue()
    assert out.count("\r") <= 4  # the first draw, the clearing, the summary's
    assert out.endswith("backup: 1 mailboxes, 1000 messages, 0.1 MB in 0.5 s (0.2 MB/s)\n")
    pipe = io.StringIO()  # not a terminal: only the summary
    progress = _backup_cli.TerminalProgress("backup", pipe, quiet=False)
    progress.mailbox("INBOX", 3)
    progress.message(5)
    progress.finish(_backup.Stats(1, 1, 5, 1, 0.1))
    assert pipe.getvalue().count("\n") == 1 and "\r" not in pipe.getvalue()
    quiet = _Tty()
    progress = _backup_cli.TerminalProgress("backup", quiet, quiet=True)
    progress.mailbox("INBOX", 3)
    progress.finish(_backup.Stats())
    assert quiet.getvalue() == ""
