"""Prove that the C sources form a one-way graph in the declared layer order.

The architecture: module -> types -> engine -> reader -> core, with small
utilities underneath and no circles (the file map is at the top of
csrc/binding/module.c).  This script checks it from the objects themselves,
not from what the headers claim:

* the call graph: every .c of csrc/binding/ and csrc/core/ is compiled to an
  object (``cc -c``, the interpreter's include directories from sysconfig,
  ``-Icsrc/core -Icsrc/binding``) in a temporary directory, ``nm`` lists each
  object's defined and undefined external symbols, and each undefined symbol
  that another object defines is an edge from the file that uses it to the
  file that defines it (functions and data alike, e.g. a PyMethodDef table);
* the include graph: each ``#include "..."`` between files under csrc/.

Both graphs must be free of cycles, and every edge must go to a file of the
same layer or of a layer below it (LAYER_ORDER, FILE_LAYER); every file must
be in the table (and every file in the table must exist).  A file includes
the headers whose names it uses, and only those (compat.h, which brings
Python.h, aside).

Usage: ``python3 tools/c_layers.py [--cc CC] [--nm NM] [--quiet]``.  Prints the
graph; exits 1 on a problem, 2 when the tools are missing or a source does
not compile.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
CSRC = ROOT / "csrc"
INCLUDE_DIRS = ("core", "binding")  # -Icsrc/core -Icsrc/binding, in that order

# The layers, top first: a file may use its own layer and those below it.
LAYER_ORDER: tuple[str, ...] = (
    "module",  # the extension module: init, _bind(), _guard()
    "types",  # the Engine type and the `guarded` descriptor
    "engine",  # completing commands: _get_tagged_response, the command path
    "response",  # reading one response: the driver, its handlers, its lines
    "store",  # filing untagged responses, the BYE check, messages, line log
    "reader",  # the receive buffer over sock.recv_into / file
    "context",  # the engine context and the command guard's owner
    "debug",  # the interaction log ring, _mesg/_log/print_log
    "util",  # module state, interned names, errors, call helpers
    "compat",  # C-API shims
    "core",  # plain C, no Python.h
)

# File (relative to csrc/) -> layer.  Headers sit in the layer of what they
# declare.
FILE_LAYER: dict[str, str] = {
    "binding/module.c": "module",
    "binding/imap4.c": "types",
    "binding/imap4.h": "types",
    "binding/guard.c": "types",
    "binding/guard.h": "types",
    "binding/imap4_engine.c": "engine",
    "binding/engine.h": "engine",
    "binding/imap4_command.c": "engine",
    "binding/command.h": "engine",
    "binding/imap4_response.c": "response",
    "binding/imap4_line.c": "response",
    "binding/response.h": "response",
    "binding/imap4_store.c": "store",
    "binding/store.h": "store",
    "binding/imap4_reader.c": "reader",
    "binding/reader.h": "reader",
    "binding/context.c": "context",
    "binding/context.h": "context",
    "binding/busy.c": "context",
    "binding/busy.h": "context",
    "binding/imap4_debug.c": "debug",
    "binding/debug.h": "debug",
    "binding/state.c": "util",
    "binding/state.h": "util",
    "binding/util.c": "util",
    "binding/util.h": "util",
    "binding/object.h": "util",
    "binding/compat.h": "compat",
    "core/imapc_cmd.c": "core",
    "core/imapc_cmd.h": "core",
    "core/imapc_framer.c": "core",
    "core/imapc_framer.h": "core",
    "core/imapc_rbuf.c": "core",
    "core/imapc_rbuf.h": "core",
    "core/imapc_resp.c": "core",
    "core/imapc_resp.h": "core",
}


class Edge(NamedTuple):
    """src uses dst (both relative to csrc/) because of `why`."""

    src: str
    dst: str
    why: str


class CompileError(Exception):
    """A source did not compile (stderr of the compiler)."""


def sources(suffix: str) -> list[Path]:
    """The files of csrc/core and csrc/binding ending in `suffix`."""
    return sorted(p for d in INCLUDE_DIRS for p in (CSRC / d).glob("*" + suffix))


def rel(path: Path) -> str:
    return path.relative_to(CSRC).as_posix()


def python_includes() -> list[str]:
    dirs: list[str] = []
    for key in ("include", "platinclude"):
        d = sysconfig.get_paths().get(key)
        if d and d not in dirs:
            dirs.append(d)
    return dirs


def compile_objects(cc: str, outdir: Path) -> dict[str, Path]:
    """Every .c compiled to an object in outdir: {file: object}."""
    flags = ["-c", "-std=c11", "-O0", "-w"]
    incs = [f"-I{d}" for d in python_includes()] + [f"-I{CSRC / d}" for d in INCLUDE_DIRS]
    objs: dict[str, Path] = {}
    for src in sources(".c"):
        obj = outdir / (rel(src).replace("/", "__") + ".o")
        cmd = [cc, *flags, *incs, str(src), "-o", str(obj)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise CompileError(f"{' '.join(cmd)}\n{out.stderr}")
        objs[rel(src)] = obj
    return objs


def read_symbols(nm: str, obj: Path) -> tuple[set[str], set[str]]:
    """(defined, undefined) external symbols of an object, from `nm -P -g`."""
    out = subprocess.run(
        [nm, "-P", "-g", str(obj)], capture_output=True, text=True, check=True
    ).stdout
    defined: set[str] = set()
    undefined: set[str] = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        # U: undefined; w/v without a value: an undefined weak reference
        if kind == "U" or (kind in ("w", "v") and len(parts) == 2):
            undefined.add(name)
        else:
            defined.add(name)
    return defined, undefined


def link_edges(symbols: dict[str, tuple[set[str], set[str]]]) -> list[Edge]:
    """file -> file for each undefined symbol another file defines."""
    owner: dict[str, str] = {}
    for f, (defined, _) in sorted(symbols.items()):
        for s in defined:
            owner.setdefault(s, f)
    edges = []
    for f, (_, undefined) in sorted(symbols.items()):
        for s in sorted(undefined):
            dst = owner.get(s)
            if dst is not None and dst != f:
                edges.append(Edge(f, dst, s))
    return edges


def symbol_edges(cc: str, nm: str) -> list[Edge]:
    """The call (and data reference) graph between the C files."""
    with tempfile.TemporaryDirectory(prefix="c_layers-") as tmp:
        objs = compile_objects(cc, Path(tmp))
        return link_edges({f: read_symbols(nm, o) for f, o in objs.items()})


INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.MULTILINE)


def include_edges() -> list[Edge]:
    """#include "x" between files under csrc/, resolved as the compiler does:
    the including file's directory first, then -Icsrc/core -Icsrc/binding."""
    edges = []
    for path in sources(".c") + sources(".h"):
        for name in INCLUDE_RE.findall(path.read_text()):
            for d in (path.parent, *(CSRC / i for i in INCLUDE_DIRS)):
                target = d / name
                if target.is_file():
                    edges.append(Edge(rel(path), rel(target.resolve()), "#include"))
                    break
    return edges


# Comments and string/char literals, blanked before looking for names.
NOISE_RE = re.compile(r"/\*.*?\*/|//[^\n]*|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'", re.DOTALL)
# What a header declares: macros, typedef names, extern data, functions
# (the name before "(" on a line that starts at column 0).
DECL_RES = (
    re.compile(r"^#\s*define\s+(\w+)", re.MULTILINE),
    re.compile(r"^\}\s*(\w+)\s*;", re.MULTILINE),
    re.compile(r"^typedef\b[^;{]*\b(\w+)\s*;", re.MULTILINE),
    re.compile(r"^extern\b[^;(]*?\b(\w+)\s*(?:\[\s*\])?\s*;", re.MULTILINE),
    re.compile(r"^(?!typedef\b|extern\b|#)(?:[A-Za-z_][\w \t*]*?[ \t*])?(\w+)\s*\(", re.MULTILINE),
)
# Headers included for what they bring along rather than for their names.
BASE_HEADERS = ("binding/compat.h",)  # Python.h


def declared(path: Path) -> set[str]:
    """The names a header declares."""
    code = NOISE_RE.sub(" ", path.read_text())
    names = {name for rx in DECL_RES for name in rx.findall(code)}
    # not the include guard, nor a local macro (X of an X-macro list)
    local = re.findall(r"^#\s*(?:ifndef|undef)\s+(\w+)", code, re.MULTILINE)
    return names - set(local)


def names_used(path: Path) -> set[str]:
    """The identifiers in a file's code (not in comments, strings, #include)."""
    return set(re.findall(r"\w+", NOISE_RE.sub(" ", INCLUDE_RE.sub(" ", path.read_text()))))


def include_problems(includes: Sequence[Edge]) -> list[str]:
    """Include what you use, and only that: a file includes a header iff it
    uses a name the header declares (compat.h, which brings Python.h, is
    exempt)."""
    headers = {rel(h): declared(h) for h in sources(".h")}
    direct: dict[str, set[str]] = {}
    for e in includes:
        direct.setdefault(e.src, set()).add(e.dst)
    problems = []
    for path in sources(".c") + sources(".h"):
        f = rel(path)
        used = names_used(path)
        for h, names in sorted(headers.items()):
            if h == f or h in BASE_HEADERS:
                continue
            uses = sorted(names & used)
            if h in direct.get(f, set()) and not uses:
                problems.append(f"unused include: {f} includes {h} and uses none of its names")
            elif uses and h not in direct.get(f, set()):
                problems.append(f"missing include: {f} uses {', '.join(uses)} of {h}")
    return problems


def merge(edges: Iterable[Edge]) -> dict[tuple[str, str], list[str]]:
    """(src, dst) -> the reasons, sorted."""
    out: dict[tuple[str, str], list[str]] = {}
    for e in edges:
        out.setdefault((e.src, e.dst), []).append(e.why)
    return {k: sorted(set(v)) for k, v in sorted(out.items())}


def find_cycles(edges: Iterable[Edge]) -> list[list[str]]:
    """The strongly connected components with more than one file (Tarjan)."""
    graph: dict[str, list[str]] = {}
    for e in edges:
        graph.setdefault(e.src, []).append(e.dst)
        graph.setdefault(e.dst, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def check(
    edges: Sequence[Edge],
    layers: dict[str, str] | None = None,
    order: Sequence[str] = LAYER_ORDER,
) -> list[str]:
    """The problems of a graph: cycles, upward edges, files without a layer."""
    layers = FILE_LAYER if layers is None else layers
    rank = {name: i for i, name in enumerate(order)}  # 0 is the top
    problems = []
    merged = merge(edges)
    for comp in find_cycles(edges):
        inside = [
            f"{s} -> {d} ({', '.join(why)})"
            for (s, d), why in merged.items()
            if s in comp and d in comp
        ]
        problems.append("cycle: " + " <-> ".join(comp) + "\n    " + "\n    ".join(inside))
    for f in sorted({f for e in edges for f in (e.src, e.dst)}):
        if layers.get(f) not in rank:
            problems.append(f"no layer: {f} (add it to FILE_LAYER in tools/c_layers.py)")
    for (s, d), why in merged.items():
        ls, ld = layers.get(s), layers.get(d)
        if ls in rank and ld in rank and rank[ld] < rank[ls]:
            problems.append(f"upward: {s} [{ls}] -> {d} [{ld}] ({', '.join(why)})")
    return problems


def table_problems() -> list[str]:
    """Every source file has a layer, and every file of the table exists."""
    files = {rel(p) for p in sources(".c") + sources(".h")}
    return [
        f"no layer: {f} (add it to FILE_LAYER in tools/c_layers.py)"
        for f in sorted(files - set(FILE_LAYER))
    ] + [f"no such file: {f} (in FILE_LAYER)" for f in sorted(set(FILE_LAYER) - files)]


def render(
    title: str,
    edges: Sequence[Edge],
    nodes: Iterable[str] = (),
    layers: dict[str, str] | None = None,
) -> str:
    """The graph, one file per line in layer order with what it uses."""
    layers = FILE_LAYER if layers is None else layers
    rank = {name: i for i, name in enumerate(LAYER_ORDER)}
    merged = merge(edges)
    files = sorted(
        {f for e in edges for f in (e.src, e.dst)} | set(nodes),
        key=lambda f: (rank.get(layers.get(f, ""), len(rank)), f),
    )
    lines = [title]
    for f in files:
        outs = [(d, why) for (s, d), why in merged.items() if s == f]
        lines.append(f"  [{layers.get(f, '?')}] {f}")
        for d, why in outs:
            detail = "" if why == ["#include"] else f": {', '.join(why)}"
            lines.append(f"      -> {d} [{layers.get(d, '?')}]{detail}")
    return "\n".join(lines)


def tool(name: str, env: str) -> str | None:
    return shutil.which(os.environ.get(env, name))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cc", default=tool("cc", "CC"), help="C compiler (default: $CC or cc)")
    ap.add_argument("--nm", default=tool("nm", "NM"), help="nm (default: $NM or nm)")
    ap.add_argument("--quiet", action="store_true", help="print the problems only")
    args = ap.parse_args(argv)
    if not args.cc or not args.nm:
        print("c_layers: needs a C compiler (cc) and nm", file=sys.stderr)
        return 2
    try:
        calls = symbol_edges(args.cc, args.nm)
    except CompileError as exc:
        print(f"c_layers: compile failed:\n{exc}", file=sys.stderr)
        return 2
    includes = include_edges()
    if not args.quiet:
        objects = [rel(p) for p in sources(".c")]
        print(render("call graph (nm: file -> file that defines what it uses):", calls, objects))
        print(render("include graph:", includes))
    problems = table_problems() + check(calls) + check(includes) + include_problems(includes)
    for p in problems:
        print(p)
    if problems:
        print(f"c_layers: {len(problems)} problem(s)")
        return 1
    print("c_layers: ok (no cycle, no upward edge, every file placed, includes as used)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
