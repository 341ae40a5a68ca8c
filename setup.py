"""Build the imaplib_c extension.

Environment switches (all off by default):
  IMAPLIB_C_WERROR=1    warnings are errors (CI turns it on); also makes a
                        failed build of the extension fatal
  IMAPLIB_C_SANITIZE=1  ASan + UBSan build for the sanitizer test run
  IMAPLIB_C_FUZZ=1      with SANITIZE and clang: coverage for libFuzzer
  IMAPLIB_C_DEBUG=1     -O0 -g with assertions

Without a working compiler (or on an interpreter other than CPython) the
package installs without the extension and imaplib_c is the interpreter's
own imaplib (``imaplib_c.accelerated`` is False).
"""

from __future__ import annotations

import os
import platform
from glob import glob
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ON = {"1", "yes", "true"}
WERROR = os.environ.get("IMAPLIB_C_WERROR", "").lower() in ON
DEBUG = os.environ.get("IMAPLIB_C_DEBUG", "").lower() in ON
SANITIZE = os.environ.get("IMAPLIB_C_SANITIZE", "").lower() in ON
FUZZ = os.environ.get("IMAPLIB_C_FUZZ", "").lower() in ON


def warning_flags() -> list[str]:
    """GCC/Clang warnings: csrc/cflags.txt, shared with the Makefile."""
    text = (Path(__file__).parent / "csrc" / "cflags.txt").read_text()
    return [line.strip() for line in text.splitlines() if line.strip().startswith("-")]


def unix_flags() -> tuple[list[str], list[str]]:
    compile_args = ["-std=c11", "-fvisibility=hidden", *warning_flags()]
    link_args: list[str] = []
    if WERROR:
        compile_args.append("-Werror")
    if DEBUG:
        compile_args += ["-O0", "-g"]
    if SANITIZE:
        san = [
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=undefined",
            "-fno-omit-frame-pointer",
            "-g",
            "-O1",
        ]
        compile_args += san
        link_args += san
    if FUZZ:  # clang only: libFuzzer's coverage, for tools/fuzz-binding.sh
        compile_args.append("-fsanitize=fuzzer-no-link")
    return compile_args, link_args


def msvc_flags() -> tuple[list[str], list[str]]:
    compile_args = ["/std:c11", "/W3"]
    if WERROR:
        compile_args.append("/WX")
    if DEBUG:
        compile_args += ["/Od", "/Zi"]
    return compile_args, []


class BuildExt(build_ext):
    """Compiler flags chosen by compiler family, not assumed to be GCC's."""

    def build_extensions(self) -> None:
        msvc = self.compiler.compiler_type == "msvc"
        compile_args, link_args = msvc_flags() if msvc else unix_flags()
        for ext in self.extensions:
            ext.extra_compile_args = compile_args
            ext.extra_link_args = link_args
            if DEBUG:
                ext.undef_macros = ["NDEBUG"]
        super().build_extensions()


extensions = []
if platform.python_implementation() == "CPython":
    extensions.append(
        Extension(
            "imaplib_c._imaplib_c",
            sources=sorted(glob("csrc/core/*.c") + glob("csrc/binding/*.c")),
            depends=[*sorted(glob("csrc/*/*.h")), "csrc/cflags.txt"],
            include_dirs=["csrc/core", "csrc/binding"],
            optional=not WERROR,
        )
    )

setup(ext_modules=extensions, cmdclass={"build_ext": BuildExt})
