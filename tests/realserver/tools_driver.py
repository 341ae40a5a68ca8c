"""Drive IMAPClient or imap_tools against the test Dovecot and write every
result to a JSON file.

Run by tests/realserver/test_tools.py in a subprocess, either directly (stdlib
``imaplib``) or as ``python -m imaplib_c run tools_driver.py ...`` (the tools
then import imaplib_c as ``imaplib``).  Self-contained on purpose: it only
needs the standard library and the tool under test.

    tools_driver.py TOOL TRANSPORT CONFIG_JSON OUT_JSON

CONFIG_JSON holds host, plain_port, tls_port, cafile, user, password.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.policy
import email.utils
import imaplib
import json
import re
import ssl
import sys
import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

TZ = dt.timezone(dt.timedelta(hours=2))


def make_messages(n: int = 40) -> list[bytes]:
    out = []
    for i in range(1, n + 1):
        msg = EmailMessage(policy=email.policy.SMTP)
        msg["From"] = ["Alice Example <alice@example.org>", "Bob <bob@example.net>"][i % 2]
        msg["To"] = "Carol Çelik <carol@example.com>"
        msg["Subject"] = f"Grüße {i}" if i % 6 == 0 else f"thread {i // 4} item {i}"
        msg["Date"] = email.utils.format_datetime(
            dt.datetime(2020, 3, 1, 8, 0, tzinfo=dt.timezone.utc) + dt.timedelta(hours=9 * i)
        )
        msg["Message-ID"] = f"<tool{i}@imaplib-c.test>"
        if i % 4:
            msg["References"] = f"<tool{i // 4 * 4}@imaplib-c.test>"
        text = f"Hello {i}\nline two of message {i}\n" + "filler text " * (i * 7) + "\n"
        msg.set_content(text)
        if i % 3 == 0:
            msg.add_alternative(f"<p>Hello <b>{i}</b></p>", subtype="html")
        if i % 5 == 0:
            msg.add_attachment(
                bytes(range(256)) * (i * 3),
                maintype="application",
                subtype="octet-stream",
                filename=f"file{i}.bin",
            )
        for k, part in enumerate(msg.walk()):
            if part.is_multipart():
                part.set_boundary(f"=_b{k}_{i}")
        out.append(msg.as_bytes())
    return out


# --------------------------------------------------------------------------
# Serialisation: exact, including container types, so that a tuple where a
# list is expected (or a bytes subclass) shows up as a difference.


def jsonable(obj: Any) -> Any:
    if obj is None or isinstance(obj, (bool, int, float)) and type(obj) in (bool, int, float):
        return obj
    if type(obj) is str:
        return obj
    if isinstance(obj, (bytes, bytearray)):
        return {"bytes": obj.decode("latin-1"), "type": type(obj).__name__}
    if isinstance(obj, dt.datetime):
        return {"datetime": obj.isoformat(), "tz": repr(obj.utcoffset())}
    if isinstance(obj, dt.date):
        return {"date": obj.isoformat()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {
            "dataclass": type(obj).__name__,
            "fields": {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)},
        }
    if isinstance(obj, dict):
        items = [[jsonable(k), jsonable(v)] for k, v in obj.items()]
        return {"dict": type(obj).__name__, "items": sorted(items, key=repr)}
    if isinstance(obj, (list, tuple)):
        out: dict[str, Any] = {type(obj).__name__: [jsonable(x) for x in obj]}
        extra = {k: jsonable(v) for k, v in vars(obj).items()} if hasattr(obj, "__dict__") else {}
        if extra:
            out["attrs"] = extra
        return out
    if isinstance(obj, (set, frozenset)):
        return {type(obj).__name__: sorted((jsonable(x) for x in obj), key=repr)}
    if isinstance(obj, str):  # str subclass
        return {"str": str(obj), "type": type(obj).__name__}
    if isinstance(obj, int):  # int subclass / enum
        return {"int": int(obj), "type": type(obj).__name__}
    return {"repr": re.sub(r" at 0x[0-9a-fA-F]+", "", repr(obj)), "type": type(obj).__name__}


def exception_name(exc: BaseException) -> str:
    cls = type(exc)
    for name in ("readonly", "abort", "error"):
        if cls is getattr(imaplib.IMAP4, name):
            return f"imaplib.IMAP4.{name}"
    return f"{cls.__module__}.{cls.__qualname__}"


class Steps:
    def __init__(self, user: str, password: str) -> None:
        self.items: list[Any] = []
        self.secrets = [(password, "<password>"), (user, "<user>")]

    def scrub(self, obj: Any) -> Any:
        """Replace server-chosen values (UIDVALIDITY, timings) and the
        per-run user name and password, in the JSON form of a result."""
        if isinstance(obj, dict):
            if "items" in obj and "dict" in obj:
                items = []
                for key, value in obj["items"]:
                    name = key.get("bytes") if isinstance(key, dict) else key
                    if name == "UIDVALIDITY":
                        value = "<UIDVALIDITY>"
                    items.append([self.scrub(key), self.scrub(value)])
                return {"dict": obj["dict"], "items": items}
            return {k: self.scrub(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.scrub(x) for x in obj]
        if isinstance(obj, str):
            obj = re.sub(r"\b(APPENDUID|COPYUID|UIDVALIDITY) \d+", r"\1 <N>", obj)
            obj = re.sub(r"\(\d+\.\d+ \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\)", "(<t> secs)", obj)
            for secret, marker in self.secrets:
                obj = obj.replace(secret, marker)
            return obj
        return obj

    def add(self, label: str, value: Any) -> None:
        self.items.append([label, self.scrub(jsonable(value))])

    def call(self, label: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the failure is the result
            self.items.append([label, self.scrub({"raise": exception_name(exc), "str": str(exc)})])
            return None
        self.add(label, result)
        return result


# --------------------------------------------------------------------------
# IMAPClient


def run_imapclient(cfg: dict[str, Any], transport: str, steps: Steps) -> None:
    import imapclient
    from imapclient import IMAPClient

    steps.add("imapclient uses", imapclient.imapclient.imaplib.__name__)
    ctx = ssl.create_default_context(cafile=cfg["cafile"])
    host = cfg["host"]

    def connect() -> IMAPClient:
        if transport == "ssl":
            return IMAPClient(host, port=cfg["tls_port"], ssl=True, ssl_context=ctx, timeout=30)
        client = IMAPClient(host, port=cfg["plain_port"], ssl=False, timeout=30)
        if transport == "starttls":
            steps.call("starttls", client.starttls, ctx)
        return client

    c = steps.call("connect", connect)
    if c is None:
        return
    steps.add("welcome", c.welcome)
    steps.add("imap class", [type(c._imap).__name__, isinstance(c._imap, imaplib.IMAP4)])
    steps.call("capabilities", c.capabilities)
    steps.call("login", c.login, cfg["user"], cfg["password"])
    caps = steps.call("capabilities after login", c.capabilities) or ()
    steps.call("id_", c.id_, {"name": "imaplib-c-tests"})
    steps.call("namespace", c.namespace)
    steps.call("list_folders", c.list_folders)
    for name in ("Work", "Work/Sub", "Archive", "Temp", "Grüße"):
        steps.call(f"create_folder {name}", c.create_folder, name)
    steps.call("create_folder dup", c.create_folder, "Work")
    steps.call("rename_folder", c.rename_folder, "Temp", "Temp2")
    steps.call("folder_exists", c.folder_exists, "Temp2")
    steps.call("delete_folder", c.delete_folder, "Temp2")
    steps.call("subscribe_folder", c.subscribe_folder, "Work")
    steps.call("list_sub_folders", c.list_sub_folders)
    steps.call("list_folders Work", c.list_folders, "Work")
    steps.call("xlist_folders", c.xlist_folders)
    steps.call("find_special_folder", c.find_special_folder, imapclient.imapclient.SENT)

    messages = make_messages()
    for i, msg in enumerate(messages[:30], start=1):
        flags = [(), (imapclient.SEEN,), (imapclient.FLAGGED, b"$Label1"), (imapclient.ANSWERED,)][
            i % 4
        ]
        when = dt.datetime(2021, 5, 1, 10, 0, tzinfo=TZ) + dt.timedelta(days=i)
        steps.call(f"append {i}", c.append, "INBOX", msg, flags=flags, msg_time=when)
    if b"MULTIAPPEND" in caps:
        batch = [
            {"msg": m, "flags": (imapclient.SEEN,), "date": dt.datetime(2022, 1, k + 1, tzinfo=TZ)}
            for k, m in enumerate(messages[30:36])
        ]
        steps.call("multiappend", c.multiappend, "Work", batch)
    steps.call("folder_status", c.folder_status, "INBOX")
    steps.call("select_folder", c.select_folder, "INBOX")
    steps.call("search ALL", c.search, ["ALL"])
    steps.call("search subject", c.search, ["SUBJECT", "thread 3"])
    steps.call("search or", c.search, ["OR", "FROM", "alice", "FLAGGED"])
    steps.call("search since", c.search, ["SINCE", dt.date(2021, 5, 15)])
    steps.call("search utf8", c.search, ["SUBJECT", "Grüße"], charset="UTF-8")
    steps.call("search str", c.search, "UNSEEN")
    steps.call("search bad", c.search, ["NOPE"])
    uids = c.search(["ALL"])
    steps.call(
        "fetch parsed",
        c.fetch,
        uids,
        ["ENVELOPE", "FLAGS", "RFC822.SIZE", "INTERNALDATE", "BODYSTRUCTURE", "UID"],
    )
    steps.call("fetch bodies", c.fetch, uids[:12], ["BODY.PEEK[]", "BODY.PEEK[HEADER]"])
    steps.call("fetch partial", c.fetch, uids[:5], ["BODY.PEEK[TEXT]<0.20>"])
    steps.call("fetch modifiers", c.fetch, uids[:3], ["FLAGS"], modifiers=["CHANGEDSINCE 1"])
    steps.call("get_flags", c.get_flags, uids[:10])
    steps.call("add_flags", c.add_flags, uids[:4], [imapclient.FLAGGED])
    steps.call("remove_flags", c.remove_flags, uids[2:6], [imapclient.SEEN])
    steps.call("set_flags", c.set_flags, uids[6:8], [b"$Custom", imapclient.DRAFT])
    steps.call("get_gmail_labels", c.get_gmail_labels, uids[:1])
    if b"SORT" in caps:
        steps.call("sort", c.sort, ["REVERSE", "DATE"])
        steps.call("sort subject", c.sort, "SUBJECT", ["NOT", "DELETED"])
    if b"THREAD=REFERENCES" in caps:
        steps.call("thread", c.thread)
    steps.call("copy", c.copy, uids[:5], "Archive")
    steps.call("move", c.move, uids[5:8], "Archive")
    steps.call("delete_messages", c.delete_messages, uids[8:10])
    steps.call("expunge", c.expunge)
    if b"UIDPLUS" in caps:
        steps.call("delete_messages 2", c.delete_messages, uids[10:11])
        steps.call("uid_expunge", c.uid_expunge, uids[10:11])
    steps.call("get_quota_root", c.get_quota_root, "INBOX")
    steps.call("getacl", c.getacl, "INBOX")
    steps.call("noop", c.noop)
    steps.call("unselect_folder", c.unselect_folder)
    steps.call("select_folder readonly", c.select_folder, "Archive", readonly=True)
    steps.call(
        "fetch archive",
        lambda: c.fetch(c.search(), ["FLAGS", "BODY.PEEK[HEADER.FIELDS (SUBJECT)]"]),
    )
    steps.call("close_folder", c.close_folder)

    # IDLE, woken up by an APPEND from a second connection
    steps.call("select_folder idle", c.select_folder, "INBOX")
    steps.call("idle", c.idle)
    other = connect()
    other.login(cfg["user"], cfg["password"])
    other.append("INBOX", messages[39], msg_time=dt.datetime(2023, 3, 3, tzinfo=TZ))
    seen: list[Any] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(b"EXISTS" in repr(r).encode() for r in seen):
        seen.extend(c.idle_check(timeout=5))
    seen.extend(c.idle_check(timeout=0.3))  # anything sent in a second packet
    steps.add("idle_check", sorted(seen, key=repr))
    steps.call("idle_done", c.idle_done)
    other.logout()
    steps.call("search after idle", c.search, ["ALL"])
    steps.call("logout", c.logout)


# --------------------------------------------------------------------------
# imap_tools


def message_facts(msg: Any) -> dict[str, Any]:
    return {
        "uid": msg.uid,
        "subject": msg.subject,
        "from": msg.from_,
        "to": msg.to,
        "date": msg.date,
        "date_str": msg.date_str,
        "flags": msg.flags,
        "size": msg.size,
        "size_rfc822": msg.size_rfc822,
        "text": msg.text,
        "html": msg.html,
        "headers": msg.headers,
        "attachments": [(a.filename, a.content_type, a.size, a.payload) for a in msg.attachments],
        "obj bytes": msg.obj.as_bytes(),
    }


def run_imap_tools(cfg: dict[str, Any], transport: str, steps: Steps) -> None:
    import imap_tools
    from imap_tools import AND, OR, MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessageFlags

    steps.add("imap_tools uses", vars(imap_tools.mailbox)["imaplib"].__name__)
    steps.add("_MAXLINE", vars(imaplib)["_MAXLINE"])
    ctx = ssl.create_default_context(cafile=cfg["cafile"])
    host = cfg["host"]

    def connect() -> Any:
        if transport == "ssl":
            return MailBox(host, cfg["tls_port"], timeout=30, ssl_context=ctx)
        if transport == "starttls":
            return MailBoxStartTls(host, cfg["plain_port"], timeout=30, ssl_context=ctx)
        return MailBoxUnencrypted(host, cfg["plain_port"], timeout=30)

    mb = steps.call("connect", connect)
    if mb is None:
        return
    steps.add("client class", type(mb.client).__name__)
    steps.call(
        "login", lambda: mb.login(cfg["user"], cfg["password"], initial_folder="INBOX").login_result
    )
    steps.call("folder.list", mb.folder.list)
    for name in ("Work", "Work/Sub", "Archive", "Temp"):
        steps.call(f"folder.create {name}", mb.folder.create, name)
    steps.call("folder.exists", mb.folder.exists, "Temp")
    steps.call("folder.rename", mb.folder.rename, "Temp", "Temp2")
    steps.call("folder.delete", mb.folder.delete, "Temp2")
    steps.call("folder.delete missing", mb.folder.delete, "Temp2")
    steps.call("folder.subscribe", mb.folder.subscribe, "Work", True)
    steps.call("folder.list subscribed", mb.folder.list, subscribed_only=True)
    steps.call("folder.status", mb.folder.status, "INBOX")
    steps.call("folder.get", mb.folder.get)

    messages = make_messages()
    flag_sets: list[Any] = [None, [MailMessageFlags.SEEN], (MailMessageFlags.FLAGGED, "$Label1")]
    for i, msg in enumerate(messages[:30], start=1):
        when = dt.datetime(2021, 5, 1, 10, 0, tzinfo=TZ) + dt.timedelta(days=i)
        steps.call(f"append {i}", mb.append, msg, "INBOX", dt=when, flag_set=flag_sets[i % 3])
    steps.call("folder.set", mb.folder.set, "INBOX")
    steps.call("numbers", mb.numbers)
    steps.call("uids", mb.uids)
    steps.call("uids criteria", mb.uids, AND(subject="thread 3"))
    steps.call("uids or", mb.uids, OR(from_="alice", flagged=True))
    steps.call("uids date", mb.uids, AND(date_gte=dt.date(2020, 3, 3)))
    steps.call("uids utf8", mb.uids, AND(subject="Grüße"), charset="utf8")
    steps.call("uids sort", mb.uids, "ALL", sort="DATE")
    steps.call(
        "fetch bulk",
        lambda: [message_facts(m) for m in mb.fetch(mark_seen=False, bulk=True)],
    )
    steps.call(
        "fetch one by one",
        lambda: [message_facts(m) for m in mb.fetch(AND(seen=False), mark_seen=False, limit=8)],
    )
    steps.call(
        "fetch headers_only reverse",
        lambda: [
            (m.uid, m.subject, m.headers)
            for m in mb.fetch(headers_only=True, reverse=True, mark_seen=False)
        ],
    )
    uids = mb.uids()
    steps.call("flag", lambda: list(mb.flag(uids[:5], MailMessageFlags.FLAGGED, True)))
    steps.call("unflag", lambda: list(mb.flag(uids[2:4], MailMessageFlags.SEEN, False)))
    steps.call("copy", mb.copy, uids[:6], "Work")
    steps.call("move", mb.move, uids[6:9], "Archive")
    steps.call("delete", mb.delete, uids[9:11])
    steps.call("expunge", mb.expunge)
    steps.call(
        "fetch flags",
        lambda: [(m.uid, m.flags) for m in mb.fetch(mark_seen=False, headers_only=True)],
    )
    steps.call("folder.status Work", mb.folder.status, "Work")

    # IDLE, woken up by an APPEND from a second connection
    steps.call("idle.start", mb.idle.start)
    other = connect()
    other.login(cfg["user"], cfg["password"])
    other.append(messages[39], "INBOX", dt=dt.datetime(2023, 3, 3, tzinfo=TZ))
    seen: list[bytes] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(b"EXISTS" in r for r in seen):
        seen.extend(mb.idle.poll(timeout=5))
    seen.extend(mb.idle.poll(timeout=0.3))
    steps.add("idle.poll", sorted(seen))
    steps.call("idle.stop", mb.idle.stop)
    other.logout()
    steps.call("uids after idle", mb.uids)
    steps.call("logout", mb.logout)


def main(argv: list[str]) -> int:
    tool, transport, config, out = argv
    cfg = json.loads(config)
    steps = Steps(cfg["user"], cfg["password"])
    steps.add("imaplib module", [imaplib.__name__, sys.modules["imaplib"].__name__])
    if tool == "imapclient":
        run_imapclient(cfg, transport, steps)
    elif tool == "imap_tools":
        run_imap_tools(cfg, transport, steps)
    else:
        raise SystemExit(f"unknown tool {tool!r}")
    with open(out, "w") as f:
        json.dump(steps.items, f, indent=1, ensure_ascii=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
