# Type stubs for imaplib_c.  Its classes derive from the running interpreter's
# imaplib (see _classes.py) and its module namespace *is* that imaplib's, so the
# types are the standard library's (typeshed's stdlib/imaplib.pyi, with its
# version branches), plus IDLE where the interpreter's imaplib lacks it.
import imaplib
import sys
from collections.abc import Iterable, Iterator
from imaplib import Commands as Commands
from imaplib import Int2AP as Int2AP
from imaplib import Internaldate2tuple as Internaldate2tuple
from imaplib import ParseFlags as ParseFlags
from imaplib import Time2Internaldate as Time2Internaldate
from re import Pattern
from types import ModuleType
from typing import Any

from typing_extensions import Self

__all__ = [
    "IMAP4",
    "IMAP4_SSL",
    "IMAP4_stream",
    "Int2AP",
    "Internaldate2tuple",
    "ParseFlags",
    "Time2Internaldate",
]

_stdlib: ModuleType
# imaplib_c's own: the distribution's version, whether the C engine is in use
# (and why not), whether its command path is (see _commands_check.py).
package_version: str
accelerated: bool
why_not_accelerated: str
c_commands: bool
_MAXLINE: int
Debug: int
IMAP4_PORT: int
IMAP4_SSL_PORT: int
AllowedVersions: tuple[str, ...]
Continuation: Pattern[bytes]
CRLF: bytes
Flags: Pattern[bytes]
InternalDate: Pattern[bytes]
Literal: Pattern[bytes]
MapCRLF: Pattern[bytes]
Mon2num: dict[bytes, int]
Response_code: Pattern[bytes]
Untagged_response: Pattern[bytes]
Untagged_status: Pattern[bytes]

if sys.version_info >= (3, 14):
    from imaplib import Idler as Idler
else:
    class Idler:
        def __init__(self, imap: IMAP4, duration: float | None = None) -> None: ...
        def __enter__(self) -> Self: ...
        def __exit__(self, exc_type: object, exc_val: object, exc_tb: object) -> None: ...
        def __iter__(self) -> Self: ...
        def __next__(self) -> tuple[str, Any]: ...
        def burst(self, interval: float = 0.1) -> Any: ...

class IMAP4(imaplib.IMAP4):
    deadline: float | None
    if sys.version_info < (3, 14):
        def idle(self, duration: float | None = None) -> Idler: ...

    def fetch_stream(
        self,
        message_set: str,
        message_parts: str,
        *,
        uid: bool = False,
        batch: int = 100,
        window: int = 4,
    ) -> Iterator[bytes | tuple[bytes, bytes]]: ...
    def append_many(
        self,
        mailbox: str,
        messages: Iterable[bytes | tuple[str | None, Any, bytes]],
        flags: str | None = None,
        date_time: Any = None,
        *,
        window: int = 32,
        multiappend: bool | None = None,
    ) -> list[tuple[str, list[Any]]]: ...
    def compress(self) -> tuple[str, list[Any]]: ...

class IMAP4_SSL(imaplib.IMAP4_SSL, IMAP4): ...
class IMAP4_stream(imaplib.IMAP4_stream, IMAP4): ...
