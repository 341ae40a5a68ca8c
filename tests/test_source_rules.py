"""Source lint for csrc/ (the msgspec cpylint idea, house style §3.8).

* The core (csrc/core/) never includes Python.h or
  mentions any Python C-API name: it must build and run without Python.
* No ``PyModule_AddObject(`` (steals only on success: the classic leak /
  double-decref).  The one sanctioned use is inside the
  ``PyModule_AddObjectRef`` back-port in compat.h.
* No ``PyDict_GetItem(`` or ``PyDict_GetItemString(`` (they hide errors from
  __hash__/__eq__ and MemoryError).
* A borrowed dictionary item is never dereferenced: ``PyDict_GetItemWithError``
  only tests presence (``... != NULL``); items are read with ``dict_get_ref``
  (compat.h: a strong reference, which another thread cannot free under us),
  whose pre-3.13 body is the one other use.
* Every ``busy_enter(`` is paired with ``busy_leave(`` in the same function
  (or macro pair), with no ``return`` in between.
* The files form a one-way graph in the declared layer order (module -> types
  -> engine -> reader -> ... -> core), proved from the compiled objects by
  tools/c_layers.py; and that checker does report an upward edge or a cycle.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
CSRC = ROOT / "csrc"
ALL = sorted(CSRC.glob("*/*.[ch]"))
CORE = sorted(p for p in ALL if p.parent.name == "core")


def strip_c(text: str) -> str:
    """Comments and string/char literals blanked out (newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (min(j, n) - i - 1) + (c if j < n else ""))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def units(code: str) -> list[tuple[str, int, str]]:
    """(name, line, body) for each top-level brace block and each #define."""
    res = []
    for m in re.finditer(r"^#\s*define\s+(\w+)(?:[^\n]*\\\n)*[^\n]*", code, re.MULTILINE):
        res.append((m.group(1), code.count("\n", 0, m.start()) + 1, m.group(0)))
    no_macros = re.sub(
        r"^#[^\n]*(?:\\\n[^\n]*)*",
        lambda m: re.sub(r"[^\n]", " ", m.group(0)),
        code,
        flags=re.MULTILINE,
    )
    depth, start = 0, None
    for i, c in enumerate(no_macros):
        if c == "{":
            if depth == 0:
                start = i
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0 and start is not None:
                head = no_macros[max(0, start - 300) : start]
                names = re.findall(r"(\w+)\s*\([^;{}]*\)\s*$", head)
                res.append(
                    (
                        names[-1] if names else "?",
                        code.count("\n", 0, start) + 1,
                        no_macros[start : i + 1],
                    )
                )
                start = None
    return res


def test_core_files_found() -> None:
    names = {p.name for p in CORE}
    assert "imapc_framer.h" in names and len(CORE) >= 4, names


@pytest.mark.parametrize("path", CORE, ids=[p.name for p in CORE])
def test_core_has_no_python(path: Path) -> None:
    text = path.read_text()
    code = strip_c(text)
    assert not re.search(r"^\s*#\s*include\s*[<\"]Python\.h", text, re.MULTILINE), (
        f"{path.name} includes Python.h"
    )
    hits = re.findall(r"\b(Py[A-Z_]\w*|_Py\w+|PY_\w+)\b", code)
    assert not hits, f"{path.name} uses Python C-API names: {sorted(set(hits))}"
    includes = re.findall(r'^\s*#\s*include\s*([<"][^>"]+[>"])', text, re.MULTILINE)
    core_headers = {f'"{p.name}"' for p in CORE if p.suffix == ".h"}
    for inc in includes:
        assert inc in core_headers or inc.startswith("<"), f"{path.name} includes {inc}"


def _hits(pattern: str) -> list[tuple[Path, int, str]]:
    out = []
    for p in ALL:
        code = strip_c(p.read_text())
        for m in re.finditer(pattern, code):
            ln = code.count("\n", 0, m.start()) + 1
            out.append((p, ln, p.read_text().splitlines()[ln - 1].strip()))
    return out


def test_no_PyModule_AddObject() -> None:
    bad = []
    for p, ln, src in _hits(r"\bPyModule_AddObject\s*\("):
        if p.name == "compat.h":
            # allowed only as the body of the PyModule_AddObjectRef shim
            unit = [u for u in units(strip_c(p.read_text())) if u[1] <= ln]
            if unit and unit[-1][0] == "PyModule_AddObjectRef":
                continue
        bad.append(f"{p.name}:{ln}: {src}")
    assert not bad, "PyModule_AddObject( is banned (use PyModule_AddObjectRef):\n" + "\n".join(bad)


def test_no_PyDict_GetItem() -> None:
    bad = [f"{p.name}:{ln}: {src}" for p, ln, src in _hits(r"\bPyDict_GetItem\s*\(")]
    assert not bad, "PyDict_GetItem( hides errors; use PyDict_GetItemWithError:\n" + "\n".join(bad)


def test_no_PyDict_GetItemString() -> None:
    bad = [f"{p.name}:{ln}: {src}" for p, ln, src in _hits(r"\bPyDict_GetItemString\s*\(")]
    assert not bad, "PyDict_GetItemString( hides errors; use dict_get_ref:\n" + "\n".join(bad)


def _call_end(code: str, open_paren: int) -> int:
    """Index just after the parenthesis that closes the one at open_paren."""
    depth = 0
    for i in range(open_paren, len(code)):
        depth += {"(": 1, ")": -1}.get(code[i], 0)
        if depth == 0:
            return i + 1
    raise AssertionError("unbalanced parentheses")


def test_borrowed_dict_items_only_tested_for_presence() -> None:
    bad = []
    for p in ALL:
        code = strip_c(p.read_text())
        for m in re.finditer(r"\bPyDict_GetItemWithError\s*\(", code):
            ln = code.count("\n", 0, m.start()) + 1
            after = code[_call_end(code, m.end() - 1) :].lstrip()
            in_shim = p.name == "compat.h" and any(
                name == "dict_get_ref" and start <= ln <= start + body.count("\n")
                for name, start, body in units(code)
            )
            if not after.startswith("!= NULL") and not in_shim:
                bad.append(f"{p.name}:{ln}: {p.read_text().splitlines()[ln - 1].strip()}")
    assert not bad, "borrowed dict item used; read it with dict_get_ref:\n" + "\n".join(bad)


def test_borrowed_dict_rule_sees_something() -> None:
    """The rule above must have calls to look at (presence tests in context.c)."""
    assert _hits(r"\bPyDict_GetItemWithError\s*\(")


def _guard_units() -> list[tuple[Path, str, int, str]]:
    res = []
    for p in ALL:
        for name, ln, body in units(strip_c(p.read_text())):
            res.append((p, name, ln, body))
    return res


def test_busy_guard_balanced() -> None:
    problems = []
    units_ = _guard_units()
    # Macros that enter / leave the guard (ENGINE_BEGIN / ENGINE_END style).
    enter_macros = {n for p, n, ln, b in units_ if b.startswith("#") and "busy_enter(" in b}
    leave_macros = {n for p, n, ln, b in units_ if b.startswith("#") and "busy_leave(" in b}
    for p, name, ln, body in units_:
        if body.startswith("#"):
            continue
        if name in ("busy_enter", "busy_leave"):
            continue
        where = f"{p.name}:{ln} {name}()"
        enters = len(re.findall(r"\bbusy_enter\s*\(", body))
        leaves = len(re.findall(r"\bbusy_leave\s*\(", body))
        menters = sum(len(re.findall(rf"\b{m}\b", body)) for m in enter_macros)
        mleaves = sum(len(re.findall(rf"\b{m}\b", body)) for m in leave_macros)
        if enters != leaves or menters != mleaves:
            problems.append(
                f"{where}: busy_enter {enters} / busy_leave {leaves}, "
                f"macro enter {menters} / leave {mleaves}"
            )
            continue
        # No return between entering (after the failed-enter exit) and leaving.
        for m in re.finditer(r"\bbusy_enter\s*\([^;]*;", body):
            rest = body[m.end() :]
            stop = re.search(r"\bbusy_leave\s*\(", rest)
            if stop and re.search(r"\breturn\b", rest[: stop.start()]):
                problems.append(f"{where}: return between busy_enter and busy_leave")
        for mac in enter_macros:
            for m in re.finditer(rf"\b{mac}\b", body):
                rest = body[m.end() :]
                stop = re.search(r"\b({})\b".format("|".join(leave_macros)), rest)
                if stop and re.search(r"\breturn\b", rest[: stop.start()]):
                    problems.append(f"{where}: return between {mac} and its end macro")
    for mac in enter_macros:
        body = next(b for p, n, ln, b in units_ if n == mac)
        if "busy_leave(" not in body and not leave_macros:
            problems.append(f"macro {mac} enters the guard and nothing leaves it")
    assert not problems, "\n".join(problems)


def test_busy_guard_rules_see_something() -> None:
    """The guard check is not vacuous: it found the guarded functions."""
    guarded = [
        n
        for p, n, ln, b in _guard_units()
        if not b.startswith("#") and ("busy_enter(" in b or "ENGINE_BEGIN" in b)
    ]
    assert len(guarded) >= 3, guarded


# ---------------------------------------------------------------- layers


def _c_layers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("c_layers", ROOT / "tools" / "c_layers.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # NamedTuple looks its module up
    spec.loader.exec_module(mod)
    return mod


def test_c_layers_one_way() -> None:
    """tools/c_layers.py passes on the tree: no cycle, no upward edge."""
    if shutil.which("cc") is None or shutil.which("nm") is None:
        pytest.skip("needs cc and nm")
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "c_layers.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    # not vacuous: the objects were read and the edges found
    for edge in (
        "-> binding/imap4.c [types]: imap4_add_type",
        "-> binding/imap4_reader.c [reader]: ",
        "-> binding/util.c [util]: ",
        "-> core/imapc_rbuf.c [core]: ",
    ):
        assert edge in out.stdout, out.stdout


def test_c_layers_reports_upward_edges_and_cycles() -> None:
    """The checker can fail: an upward edge, a cycle, an unplaced file."""
    cl = _c_layers()
    edge = cl.Edge
    real = cl.include_edges()
    assert real and cl.check(real) == []
    up = edge("binding/imap4_reader.c", "binding/imap4_engine.c", "engine_mesg")
    problems = cl.check([*real, up])
    assert problems == [
        "upward: binding/imap4_reader.c [reader] -> binding/imap4_engine.c [engine] (engine_mesg)"
    ]
    down = edge("binding/imap4_engine.c", "binding/imap4_reader.c", "reader_select")
    problems = cl.check([down, up])
    assert any(
        p.startswith("cycle: binding/imap4_engine.c <-> binding/imap4_reader.c") for p in problems
    ), problems
    assert any(p.startswith("upward:") for p in problems), problems
    # a cycle inside one layer is still a cycle
    same = [
        edge("binding/imap4_engine.c", "binding/imap4_command.c", "x"),
        edge("binding/imap4_command.c", "binding/imap4_engine.c", "y"),
    ]
    assert [p.split("\n")[0] for p in cl.check(same)] == [
        "cycle: binding/imap4_command.c <-> binding/imap4_engine.c"
    ]
    assert cl.check([edge("binding/new.c", "binding/util.c", "z")]) == [
        "no layer: binding/new.c (add it to FILE_LAYER in tools/c_layers.py)"
    ]


def test_c_layers_include_rule() -> None:
    """Include what you use: the tree passes, an extra or missing include fails."""
    cl = _c_layers()
    real = cl.include_edges()
    assert cl.include_problems(real) == []
    extra = cl.Edge("binding/imap4_debug.c", "binding/reader.h", "#include")
    unused = "unused include: binding/imap4_debug.c includes binding/reader.h"
    assert cl.include_problems([*real, extra]) == [f"{unused} and uses none of its names"]
    dropped = [e for e in real if (e.src, e.dst) != ("binding/imap4_debug.c", "binding/util.h")]
    problems = cl.include_problems(dropped)
    assert len(problems) == 1 and problems[0].startswith(
        "missing include: binding/imap4_debug.c uses call_method"
    ), problems


def _function_lengths(path: Path) -> list[tuple[int, str]]:
    """(lines, signature) of every function defined at file scope (brace on its
    own line, the house style)."""
    lines = path.read_text().split("\n")
    out, i = [], 0
    while i < len(lines):
        if lines[i] == "{" and i > 0:
            j = lines.index("}", i)
            out.append((j - i + 1, lines[i - 1].strip()))
            i = j
        i += 1
    return out


def test_binding_functions_fit_in_a_head() -> None:
    """No function in the binding is over 80 lines (the issue's bound)."""
    binding = sorted((ROOT / "csrc" / "binding").glob("*.c"))
    assert len(binding) >= 8
    long = [(p.name, n, sig) for p in binding for n, sig in _function_lengths(p) if n > 80]
    assert not long, long
    assert max(n for p in binding for n, _ in _function_lengths(p)) > 40  # it measures
