#!/usr/bin/env python3
"""Generate csrc/core/tests/cases_gen.h: C test tables whose expected values come
from CPython itself (imaplib's compiled regexes), so the C tests need no
Python but encode its answers.

    python3 csrc/core/tests/gen_cases.py            # rewrite cases_gen.h
    python3 csrc/core/tests/gen_cases.py --check    # exit 1 if it is stale

tests/test_core_c.py runs the --check form.
"""

from __future__ import annotations

import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import imaplib_oracle as oracle

OUT = os.path.join(HERE, "cases_gen.h")

# (tagpre, line) pairs, by theme.  Lines are what _get_line returns: no CRLF.
T = b"ABCD"
LINES: list[tuple[bytes, bytes]] = []


def add(*lines: bytes, tagpre: bytes = T) -> None:
    LINES.extend((tagpre, ln) for ln in lines)


# -- tagged: TAGPRE digits SP [A-Z]+ SP text -------------------------------
add(
    b"ABCD1 OK done",
    b"ABCD1 OK ",
    b"ABCD1 OK",
    b"ABCD12 NO [TRYCREATE] no mailbox",
    b"ABCD1 ok done",
    b"ABCD1  OK x",
    b"ABCD OK x",
    b"ABCDx1 OK x",
    b"ABCD1 OK-X y",
    b"ABCD1 O1 x",
    b"ABCD0007 BAD  two spaces",
    b"ABCD1 OK \xff\x80",
    b"ABCD1 OK a\nb",
    b"ABCD1 OK\n",
    b"ABCD1 OK \n",
    b"ABCD1\nOK x",
    b"ABC1 OK x",
    b"ABCD123456789012345678901 OK x",
    b"ABCD1 OK \x00nul",
    b"ABCD1 BYE",
    b"ABCD\xd9\xa1 OK x",
    b"ABCD1 OK [READ-WRITE] SELECT completed",
)
add(b"PPPP1 OK x", b"ABCD1 OK x", tagpre=b"PPPP")
add(b"B9 OK x", b"B OK x", tagpre=b"B")
# -- untagged: "* " [A-Z-]+ [SP text] --------------------------------------
add(
    b"* OK",
    b"* OK ",
    b"* OK IMAP4rev1 ready",
    b"* ok lower",
    b"* Ok",
    b"*OK",
    b"* ",
    b"*",
    b"*  OK",
    b"* -",
    b"* --- x",
    b"* CAPABILITY IMAP4rev1 IDLE",
    b"* OK[ALERT] x",
    b"* OK\tx",
    b"* BYE\n",
    b"* BYE \nx",
    b"* OK \xc3\xa9t\xc3\xa9",
    b"* OK\x00",
    b"* OK \x00 nul",
    b'* LIST () "/" {7}',
    b"* X-GM-EXT-1 foo",
    b"* A1 x",
)
# -- untagged status: "* " digits SP [A-Z-]+ [SP text] ---------------------
add(
    b"* 1 FETCH",
    b"* 1 FETCH ",
    b"* 1 FETCH (FLAGS (\\Seen))",
    b"* 12 EXISTS",
    b"* 1 fetch",
    b"* 1  FETCH",
    b"* 1FETCH",
    b"* 1 ",
    b"* 1",
    b"* 01 EXPUNGE",
    b"* 99999999999999999999999 EXISTS",
    b"* 1 FETCH (BODY[] {5}",
    b"* 1 FETCH \n{5}",
    b"* \xd9\xa1 FETCH x",
    b"* 1 -",
    b"* 1 FETCH\x00",
)
# -- continuation -----------------------------------------------------------
add(b"+", b"+ ", b"+abc", b"+ go ahead", b"+  two", b"+ \n", b"+\n x", b"+ YWJj\x00", b"++", b" +")
# -- unexpected -------------------------------------------------------------
add(b"", b" ", b"\n", b"\x00", b"\xff", b"hello", b"OK", b"- x", b"#", b"\r", b"ABCD")
# -- literal announcements (applied to dat) ---------------------------------
add(
    b"{5}",
    b"{}",
    b"{12a}",
    b"{a12}",
    b"x {0}",
    b"{5}\n",
    b"{5}\n\n",
    b"{5}x",
    b"{5} ",
    b"ab\n{5}",
    b"ab{5}\n",
    b"{{5}",
    b"{5}}",
    b"{-5}",
    b"{+5}",
    b"{5+}",
    b"~{5}",
    b"{ 5}",
    b"{18446744073709551615}",
    b"{18446744073709551616}",
    b"{99999999999999999999999999}",
    b"{000000000000000000000000000007}",
    b"1 (BODY[] {5}",
    b"x{1}{2}",
    b"{1{2}",
    b"\xff{3}",
    b"\x00{3}",
    b"{\xd9\xa1}",
    b"}",
    b"{",
    b"{}}",
    b"{1}\r",
)
# -- response codes (dat of OK/NO/BAD) ---------------------------------------
add(
    b"[READ-WRITE]",
    b"[READ-WRITE] SELECT completed",
    b"[UIDVALIDITY 42] ok",
    b"[PERMANENTFLAGS (\\Seen \\*)] Limited",
    b"[A] x]",
    b"[A b] c] d",
    b"[A b",
    b"[A",
    b"[]",
    b"[ A]",
    b"[a]",
    b"[A-B]",
    b"[A1]",
    b"[A ]",
    b"[A  ]",
    b"[A ]]",
    b"[A b]\n]",
    b"[A \n]",
    b"[ALERT]x",
    b" [ALERT]",
    b"[X-GM-LABELS (\\Inbox [a])] done",
    b"[A \xff]",
    b"[A \x00]",
    b"[-]",
    b"[A]\n",
)
# -- FETCH items as the classifier, literal and code patterns meet them: FLAGS --
add(
    b"1 (FLAGS (\\Seen \\Deleted))",
    b"FLAGS ()",
    b"FLAGS (",
    b"FLAGS (a",
    b"FLAGS (a)",
    b"FLAGS (a) FLAGS (b)",
    b"FLAGS (a) FLAGS (b",
    b"FLAGS (a FLAGS (b)",
    b"x FLAGS (a\nb)",
    b"x\nFLAGS (a)",
    b"FLAGS (a\n) FLAGS (b\n)",
    b"FLAGS(a)",
    b"flags (a)",
    b"FLAGS  (a)",
    b"FLAGS (\xff\x00)",
    b"FLAGS (()",
    b"FLAGS (a)\nFLAGS (b)",
    b"FLAGS (FLAGS (x))",
)
# -- ... and INTERNALDATE -----------------------------------------------------
ID = b'INTERNALDATE "17-Jul-1996 02:44:25 -0700"'
add(
    ID,
    b"1 (" + ID + b")",
    b'INTERNALDATE " 1-Jan-2000 00:00:00 +0000"',
    b'INTERNALDATE "01-Jan-2000 00:00:00 +0000"',
    b'INTERNALDATE "31-Dec-9999 23:59:59 +2359"',
    b'INTERNALDATE "00-Jan-0000 00:00:00 +0000"',
    b'INTERNALDATE "39-Feb-2024 99:99:99 -9999"',
    b'INTERNALDATE "40-Jan-2000 00:00:00 +0000"',
    b'INTERNALDATE "1-Jan-2000 00:00:00 +0000"',
    b'INTERNALDATE "01-jan-2000 00:00:00 +0000"',
    b'INTERNALDATE "01-JAN-2000 00:00:00 +0000"',
    b'INTERNALDATE "01-Foo-2000 00:00:00 +0000"',
    b'INTERNALDATE "01-Jan-2000 00:00:00 0000"',
    b'INTERNALDATE "01-Jan-2000 00:00:00 +0000',
    b'INTERNALDATE "01-Jan-2000  0:00:00 +0000"',
    b"INTERNALDATE 01-Jan-2000 00:00:00 +0000",
    b'INTERNALDATE "01-Jan-20O0 00:00:00 +0000"',
    b'INTERNALDATE "01-Jan-2000 00:00:00 *0000"',
    b'INTERNALDATE "01-Jan-2000 00:00:00 +00000"',
    b'x\nINTERNALDATE "01-Jan-2000 00:00:00 +0000"',
    b'INTERNALDATE "01-Jan-2000 00:00:00 +0000"\n',
    b'INTERNALDATE "01-Jan-2000 00:00:00 +0000" INTERNALDATE "02-Feb-2001 01:01:01 -0100"',
    b'INTERNALDATE "02-Feb-2001 01:01:01 -0100" INTERNALDATE "bad"',
    b'INTERNALDATE "01-Jan-2000 00:00:00 +0000"\nINTERNALDATE "02-Feb-2001 01:01:01 -0100"',
    b'INTERNALDATE "01-Jan-2000 00:00:00 +0000 INTERNALDATE "02-Feb-2001 01:01:01 -0100"',
    b'INTERNALDATE "' + b"01-Jan-2000 00:00:00 +0000"[:-1],
)
for mon in (
    b"Jan",
    b"Feb",
    b"Mar",
    b"Apr",
    b"May",
    b"Jun",
    b"Jul",
    b"Aug",
    b"Sep",
    b"Oct",
    b"Nov",
    b"Dec",
    b"Xyz",
):
    add(b'INTERNALDATE "15-' + mon + b'-2021 12:34:56 +0530"')
add(b"* 3 FETCH (UID 7 FLAGS (\\Seen) " + ID + b" RFC822.SIZE 44 BODY[] {44}")

# -- pseudo-random lines over a small alphabet of the patterns' pieces -------
PIECES = [
    b"*",
    b" ",
    b"+",
    b"ABCD",
    b"1",
    b"12",
    b"OK",
    b"FETCH",
    b"-",
    b"[",
    b"]",
    b"{",
    b"}",
    b"5",
    b"FLAGS (",
    b")",
    b"(",
    b"\n",
    b"\r",
    b"\x00",
    b"\xff",
    b"a",
    b'INTERNALDATE "',
    b'17-Jul-1996 02:44:25 -0700"',
    b"READ-WRITE",
    b"\\Seen",
]
rng = random.Random(20240611)
for _ in range(400):
    ln = b"".join(rng.choice(PIECES) for _ in range(rng.randint(0, 12)))
    add(ln)


def c_string(b: bytes) -> str:
    out = []
    prev_hex = False
    for c in b:
        ch = chr(c)
        if ch in '\\"':
            out.append("\\" + ch)
            prev_hex = False
        elif 0x20 <= c < 0x7F and not (prev_hex and ch in "0123456789abcdefABCDEF") and ch != "?":
            out.append(ch)
            prev_hex = False
        else:
            out.append(f"\\x{c:02x}")
            prev_hex = True
    return '"' + "".join(out) + '"'


def render() -> str:
    w = [
        f"/* cases_gen.h - GENERATED by csrc/core/tests/gen_cases.py from CPython {sys.version.split()[0]}'s imaplib.",
        " * Do not edit: change gen_cases.py and rerun it.  Expected strings are the",
        " * renderings of describe.h computed with imaplib's own compiled regexes. */",
        "#ifndef IMAPC_CASES_GEN_H",
        "#define IMAPC_CASES_GEN_H",
        "",
        "#include <stddef.h>",
        "",
        "typedef struct { const char *tagpre; const char *line; size_t len; const char *want; } gen_line_case;",
        "",
        "static const gen_line_case gen_line_cases[] = {",
    ]
    seen = set()
    for tagpre, ln in LINES:
        if (tagpre, ln) in seen:
            continue
        seen.add((tagpre, ln))
        want = oracle.describe_all(ln, tagpre)
        w.append(
            f"    {{{c_string(tagpre)}, {c_string(ln)}, {len(ln)},\n"
            f"     {c_string(want.encode('ascii'))}}},"
        )
    w += ["};", "", "#endif", ""]
    return "\n".join(w)


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        with open(OUT, encoding="ascii") as f:
            old = f.read()
        # The Python version in the banner line does not matter.
        strip = lambda s: s.split("\n", 1)[1]
        if strip(old) != strip(text):
            print("cases_gen.h is stale: run python3 csrc/core/tests/gen_cases.py", file=sys.stderr)
            return 1
        return 0
    with open(OUT, "w", encoding="ascii") as f:
        f.write(text)
    print(f"wrote {OUT}: {text.count(chr(10) + '     ')} line cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
