"""``python -m imaplib_c backup`` and ``restore``: options, connection, login,
progress and error reporting (the work itself is in ``_backup.py``).

Secrets (password, OAuth2 token) are read here and go only into LOGIN or
AUTHENTICATE: they are never printed, and no debug output is turned on.
"""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from . import _backup
from ._backup import BackupError, Progress, Stats
from ._backup_store import FORMATS, StoreError
from ._capabilities import offered

PROG = "python -m imaplib_c"


class CliError(Exception):
    """An expected failure: printed as one line, exit status 1, no traceback."""


# ---------------------------------------------------------------- options


def _common(parser: argparse.ArgumentParser) -> None:
    conn = parser.add_argument_group("connection")
    conn.add_argument("--host", required=True, help="IMAP server name or address")
    conn.add_argument("--port", type=int, help="port (default 993 with --ssl, else 143)")
    tls = conn.add_mutually_exclusive_group()
    tls.add_argument(
        "--ssl", dest="tls", action="store_const", const="ssl", help="implicit TLS (the default)"
    )
    tls.add_argument("--starttls", dest="tls", action="store_const", const="starttls")
    tls.add_argument(
        "--plain",
        dest="tls",
        action="store_const",
        const="plain",
        help="no TLS at all: the password crosses the network in clear",
    )
    conn.add_argument("--cafile", help="trust the certificates in this PEM file")
    conn.add_argument(
        "--insecure", action="store_true", help="do not verify the server's certificate"
    )
    conn.add_argument("--timeout", type=float, default=60.0, help="socket timeout (s)")
    conn.add_argument(
        "--compress",
        choices=("auto", "yes", "no"),
        default="auto",
        help="COMPRESS=DEFLATE when offered; auto: not to a loopback address",
    )
    auth = parser.add_argument_group("authentication")
    auth.add_argument("--user", required=True)
    auth.add_argument("--password-file", help="read the password from this file")
    auth.add_argument(
        "--password-env",
        metavar="NAME",
        help="read the password from this environment variable (default IMAP_PASSWORD if set)",
    )
    auth.add_argument("--oauth2-token-file", help="XOAUTH2 with the access token in this file")
    auth.add_argument(
        "--oauth2-token-command", help="XOAUTH2 with the token this shell command prints"
    )
    parser.add_argument(
        "--mailbox",
        action="append",
        metavar="NAME",
        help="only this mailbox (repeatable; default: all)",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")
    parser.set_defaults(tls="ssl")


def parser_for(command: str) -> argparse.ArgumentParser:
    if command == "backup":
        parser = argparse.ArgumentParser(
            prog=f"{PROG} backup",
            description="Copy mailboxes to a local Maildir or mbox, incrementally: "
            "a second run fetches only the messages that are new.",
        )
        parser.add_argument("--dest", required=True, help="backup directory")
        parser.add_argument("--format", choices=FORMATS, default="maildir")
    else:
        parser = argparse.ArgumentParser(
            prog=f"{PROG} restore",
            description="Upload a backup made by 'backup' into the mailboxes of the "
            "same names (created as needed), with flags and INTERNALDATE.",
        )
        parser.add_argument("--source", required=True, help="backup directory")
    _common(parser)
    return parser


# ---------------------------------------------------------------- connection


def tls_context(args: argparse.Namespace) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=args.cafile)
    if args.insecure:
        sys.stderr.write(
            f"{PROG}: WARNING: --insecure: the server's certificate is NOT verified; "
            "anyone on the path can read the password and the mail\n"
        )
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def connect(args: argparse.Namespace) -> Any:
    import imaplib_c

    port = args.port or (993 if args.tls == "ssl" else 143)
    where = f"{args.host}:{port}"
    try:
        if args.tls == "ssl":
            return imaplib_c.IMAP4_SSL(
                args.host, port, ssl_context=tls_context(args), timeout=args.timeout
            )
        imap = imaplib_c.IMAP4(args.host, port, timeout=args.timeout)
        if args.tls == "starttls":
            imap.starttls(ssl_context=tls_context(args))
        return imap
    except ssl.SSLCertVerificationError as exc:
        raise CliError(
            f"certificate verification failed for {where}: {exc.verify_message}; "
            "use --cafile FILE to trust its certificate (or --insecure)"
        ) from None
    except ssl.SSLError as exc:
        raise CliError(f"TLS error with {where}: {exc}") from None
    except (OSError, imaplib_c.IMAP4.error) as exc:
        raise CliError(f"cannot connect to {where}: {exc}") from None


def read_password(args: argparse.Namespace) -> str:
    if args.password_file:
        try:
            with open(args.password_file, encoding="utf-8") as f:
                return f.readline().rstrip("\r\n")
        except OSError as exc:
            raise CliError(f"cannot read --password-file: {exc.strerror}") from None
    env = args.password_env or ("IMAP_PASSWORD" if "IMAP_PASSWORD" in os.environ else None)
    if env:
        if env not in os.environ:
            raise CliError(f"--password-env: ${env} is not set")
        return os.environ[env]
    if sys.stdin.isatty():
        return getpass.getpass(f"Password for {args.user}@{args.host}: ")
    raise CliError("no password: use --password-file, --password-env NAME or a terminal")


def oauth2_token(args: argparse.Namespace) -> str | None:
    if args.oauth2_token_file:
        try:
            with open(args.oauth2_token_file, encoding="utf-8") as f:
                return f.read().strip()
        except OSError as exc:
            raise CliError(f"cannot read --oauth2-token-file: {exc.strerror}") from None
    if args.oauth2_token_command:
        # A shell command, like mbsync's PassCmd: pipes and quoting work.
        done = subprocess.run(
            args.oauth2_token_command, shell=True, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise CliError(f"--oauth2-token-command failed with status {done.returncode}")
        return done.stdout.strip()
    return None


def xoauth2(user: str, token: str) -> bytes:
    """The SASL XOAUTH2 initial response (imaplib base64-encodes it)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def login(imap: Any, args: argparse.Namespace) -> None:
    token = oauth2_token(args)
    try:
        if token is not None:
            answers = iter([xoauth2(args.user, token)])
            # After a failure the server sends an error challenge: answer it empty.
            imap.authenticate("XOAUTH2", lambda _challenge: next(answers, b""))
        else:
            imap.login(args.user, read_password(args))
    except imap.error as exc:
        raise CliError(f"login failed for {args.user}: {_text(exc)}") from None


def _text(exc: BaseException) -> str:
    arg = exc.args[0] if exc.args else exc
    return arg.decode(errors="replace") if isinstance(arg, bytes) else str(arg)


def is_loopback(imap: Any) -> bool:
    try:
        return ipaddress.ip_address(imap.sock.getpeername()[0]).is_loopback
    except (OSError, ValueError, AttributeError):
        return False


def maybe_compress(imap: Any, mode: str, say: TextIO | None) -> bool:
    """COMPRESS=DEFLATE per --compress.  auto skips a loopback peer: there the
    link is faster than deflate, which would only cost CPU on both ends."""
    compress = getattr(imap, "compress", None)
    if mode == "no" or compress is None or (mode == "auto" and is_loopback(imap)):
        if mode == "yes" and compress is None and say:
            say.write(f"{PROG}: note: this imaplib_c has no compress(); not compressing\n")
        return False
    if not offered(imap, "COMPRESS=DEFLATE"):  # asks again after login if need be
        if mode == "yes" and say:
            say.write(f"{PROG}: note: the server does not offer COMPRESS=DEFLATE\n")
        return False
    try:
        typ, data = compress()
    except imap.error as exc:
        raise CliError(f"COMPRESS failed: {_text(exc)}") from None
    if typ != "OK":  # the link is still uncompressed and usable, but it was asked for
        raise CliError(f"COMPRESS refused: {typ} {data!r}")
    return True


# ---------------------------------------------------------------- progress


def _mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


class TerminalProgress(Progress):
    """A one-line bar redrawn with \\r at most 10 times a second on a terminal;
    elsewhere only the final summary line (none with --quiet)."""

    def __init__(self, verb: str, stream: TextIO, quiet: bool) -> None:
        self.verb = verb
        self.stream = stream
        self.quiet = quiet
        self.bar = not quiet and stream.isatty()
        self.start = time.monotonic()
        self.last = 0.0
        self.name, self.todo, self.done = "", 0, 0
        self.messages, self.bytes = 0, 0
        self.width = 0

    def mailbox(self, name: str, count: int) -> None:
        self.name, self.todo, self.done = name, count, 0
        self.draw(force=True)

    def message(self, size: int) -> None:
        self.done += 1
        self.messages += 1
        self.bytes += size
        self.draw()

    def draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.bar or (not force and now - self.last < 0.1):
            return
        self.last = now
        filled = 20 * self.done // self.todo if self.todo else 20
        rate = self.bytes / max(now - self.start, 1e-3)
        line = (
            f"{self.verb} {self.name[:24]:24} [{'#' * filled}{'.' * (20 - filled)}] "
            f"{self.done}/{self.todo} msgs, {self.messages} total, {_mb(self.bytes)}, "
            f"{_mb(rate)}/s"
        )
        self.stream.write("\r" + line.ljust(self.width))
        self.width = len(line)
        self.stream.flush()

    def finish(self, stats: Stats) -> None:
        if self.bar:
            self.stream.write("\r" + " " * self.width + "\r")
        if not self.quiet:
            rate = stats.bytes / max(stats.seconds, 1e-3)
            self.stream.write(
                f"{self.verb}: {stats.mailboxes} mailboxes, {stats.messages} messages, "
                f"{_mb(stats.bytes)} in {stats.seconds:.1f} s ({_mb(rate)}/s)\n"
            )
        self.stream.flush()


# ---------------------------------------------------------------- main


def _work(command: str, args: argparse.Namespace) -> None:
    imap = connect(args)
    try:
        login(imap, args)
        compressed = maybe_compress(imap, args.compress, None if args.quiet else sys.stderr)
        progress = TerminalProgress(command, sys.stderr, args.quiet)
        if command == "backup":
            _backup.backup(
                imap, args.dest, mailboxes=args.mailbox, fmt=args.format, progress=progress
            )
        else:
            _backup.restore(imap, args.source, mailboxes=args.mailbox, progress=progress)
        if compressed and not args.quiet:
            sock = imap.sock
            sys.stderr.write(
                f"{command}: COMPRESS=DEFLATE: {_mb(sock.bytes_in)} received, "
                f"{_mb(sock.bytes_out)} sent on the wire\n"
            )
    finally:
        try:
            imap.logout()
        except (OSError, imap.error):
            pass  # the error that got us here is the one to report


def main(command: str, argv: Sequence[str]) -> int:
    """``python -m imaplib_c backup|restore ARGS``; the exit status."""
    args = parser_for(command).parse_args(list(argv))
    import imaplib_c

    try:
        _work(command, args)
    except (CliError, BackupError, StoreError) as exc:
        sys.stderr.write(f"{PROG} {command}: error: {exc}\n")
        return 1
    except (imaplib_c.IMAP4.error, OSError, socket.timeout) as exc:
        sys.stderr.write(f"{PROG} {command}: error: {type(exc).__name__}: {_text(exc)}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write(f"\n{PROG} {command}: interrupted (the next run resumes)\n")
        return 130
    return 0
