"""IMAP IDLE (RFC 2177) as CPython 3.14's imaplib offers it, on every version.

``IMAP4.idle(duration=None)`` returns an :class:`Idler`: a context manager that
sends IDLE and, while it is open, yields the server's untagged responses as
``(type, [data, ...])`` pairs.  This is control flow around the C engine, not
per-line work, so it is written in Python; every byte still goes through the
engine (``_command``, ``_get_response(start_timeout)``, ``_command_complete``).

Responses are captured by giving the connection an instance-level
``_append_untagged`` for the duration of the IDLE: the engine calls an
instance override exactly where imaplib would call the method.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ._temporary_command import temporary_command

if TYPE_CHECKING:
    # Only for type checkers (which always have typing_extensions): the
    # package must import with the standard library alone (issue 9).
    from typing_extensions import Self

_NO_RESPONSE: tuple[str, Any] = ("", None)
_IDLE_STATES = ("AUTH", "SELECTED")


class Idler:
    """Iterable IDLE context manager: start IDLE and produce untagged responses.

    Returned by ``IMAP4.idle()``.  As in CPython, the name and structure of this
    class are subject to change.
    """

    def __init__(self, imap: Any, duration: float | None = None) -> None:
        if "IDLE" not in imap.capabilities:
            raise imap.error("Server does not support IMAP4 IDLE")
        if duration is not None and not imap.sock:
            # IMAP4_stream pipes have no timeouts.
            raise imap.error("duration requires a socket connection")
        self._imap = imap
        self._duration = duration
        self._deadline: float | None = None
        self._tag: bytes | None = None
        self._saved_state: str | None = None

    # -- capture ---------------------------------------------------------

    def _capture(self, typ: str, dat: Any) -> None:
        """Queue an untagged response instead of filing it.

        A response with literals arrives one fragment at a time; fragments
        belong to the previous item while its last fragment is a tuple.
        """
        imap = self._imap
        if dat is None:
            dat = b""
        queue = imap._idle_responses
        if queue and not isinstance(queue[-1][1][-1], bytes):
            queue[-1][1].append(dat)
        else:
            queue.append((typ, [dat]))
        if imap.debug >= 5:
            imap._mesg(f"idle: queue untagged {typ} {dat!r}")

    def _start_capture(self) -> None:
        imap = self._imap
        imap._idle_responses = []
        imap._idle_capture = True
        imap._append_untagged = self._capture

    def _stop_capture(self) -> None:
        imap = self._imap
        imap._idle_capture = False
        imap.__dict__.pop("_append_untagged", None)

    # -- context manager -------------------------------------------------

    def __enter__(self) -> Self:
        imap = self._imap
        if imap.debug >= 4:
            imap._mesg(f"idle start duration={self._duration}")
        # Capture before sending IDLE: responses that arrive before the
        # continuation request are delivered by iteration too.
        self._start_capture()
        try:
            self._tag = _send_idle(imap)
            while True:
                resp = imap._get_response()
                if not resp:
                    break  # the continuation request: the server is idling
                if imap.tagged_commands[self._tag]:
                    typ, data = imap.tagged_commands.pop(self._tag)
                    if typ == "NO":
                        raise imap.error(f"idle denied: {data}")
                    raise imap.abort(f"unexpected status response: {resp}")
            if imap.debug >= 4:
                imap._mesg(f"idle continuation prompt: {imap.continuation_response}")
        except BaseException:
            self._stop_capture()
            raise
        if self._duration is not None:
            self._deadline = time.monotonic() + self._duration
        self._saved_state = imap.state
        imap.state = "IDLING"
        return self

    def __exit__(self, exc_type: object, exc_val: object, exc_tb: object) -> None:
        imap = self._imap
        if imap.debug >= 4:
            imap._mesg("idle done")
        imap.state = self._saved_state
        self._stop_capture()
        # Responses nobody iterated over go where every other response
        # goes, one fragment at a time as the engine would have filed them.
        leftovers = imap._idle_responses
        if leftovers and imap.debug >= 4:
            imap._mesg(f"idle quit with {len(leftovers)} leftover responses")
        while leftovers:
            typ, data = leftovers.pop(0)
            for datum in data:
                imap._append_untagged(typ, datum)
        try:
            imap.send(b"DONE\r\n")
            status, [msg] = imap._command_complete("IDLE", self._tag)
            if imap.debug >= 4:
                imap._mesg(f"idle status: {status} {msg!r}")
        except OSError:
            if not exc_type:
                raise

    # -- iteration -------------------------------------------------------

    def __iter__(self) -> Idler:
        return self

    def _pop(self, timeout: float | None, default: Any = _NO_RESPONSE) -> Any:
        """The next response, or ``default`` if none starts within ``timeout``."""
        imap = self._imap
        if imap.state != "IDLING":
            raise imap.error("_pop() only works during IDLE")
        if imap._idle_responses:
            resp = imap._idle_responses.pop(0)
            if imap.debug >= 4:
                imap._mesg(f"idle _pop({timeout}) de-queued {resp[0]}")
            return resp
        if imap.debug >= 4:
            imap._mesg(f"idle _pop({timeout}) reading")
        if timeout is not None:
            if timeout <= 0:
                return default
            timeout = float(timeout)
        try:
            imap._get_response(timeout)
        except imap._responsetimeout:
            if imap.debug >= 4:
                imap._mesg(f"idle _pop({timeout}) done")
            return default
        resp = imap._idle_responses.pop(0)
        if imap.debug >= 4:
            imap._mesg(f"idle _pop({timeout}) read {resp[0]}")
        return resp

    def __next__(self) -> tuple[str, Any]:
        timeout = None if self._deadline is None else self._deadline - time.monotonic()
        typ, data = self._pop(timeout)
        if not typ:
            if self._imap.debug >= 4:
                self._imap._mesg("idle iterator exhausted")
            raise StopIteration
        return typ, data

    def burst(self, interval: float = 0.1) -> Iterator[tuple[str, Any]]:
        """Yield the next response and all that follow it within ``interval`` seconds."""
        if not self._imap.sock:
            raise self._imap.error("burst() requires a socket connection")
        try:
            yield next(self)
        except StopIteration:
            return
        while True:
            response = self._pop(interval, None)
            if not response:
                return
            yield response


def _send_idle(imap: Any) -> bytes:
    """``imap._command('IDLE')``, with 3.14's state rule where ``Commands`` lacks IDLE.

    Before 3.14 ``Commands`` has no IDLE entry, and tools test for that, so
    the entry exists only while the command is being sent (_temporary_command.py).
    """
    from . import _stdlib

    with temporary_command(_stdlib.Commands, "IDLE", _IDLE_STATES):
        tag: bytes = imap._command("IDLE")
    return tag


def idle(self: Any, duration: float | None = None) -> Idler:
    """Return an iterable IDLE context manager producing untagged responses.

    If ``duration`` is not None, iteration stops after that many seconds.
    """
    return Idler(self, duration)


class _responsetimeout(TimeoutError):
    """No response started within the timeout given to ``_get_response``."""


def install(cls: type) -> None:
    """Give an IMAP4 class whose imaplib has no IDLE the 3.14 one."""
    cls.idle = idle  # type: ignore[attr-defined]
    cls._responsetimeout = _responsetimeout  # type: ignore[attr-defined]
