"""Build the imaplib_c extension.

Environment switches (all off by default):
  IMAPLIB_C_WERROR=1    -Werror (CI turns it on)
  IMAPLIB_C_SANITIZE=1  ASan + UBSan build for the sanitizer test run
  IMAPLIB_C_DEBUG=1     -O0 -g with assertions
"""
import os
from glob import glob

from setuptools import Extension, setup

compile_args = ["-std=c11", "-Wall", "-Wextra", "-Wno-missing-field-initializers",
                "-Wno-cast-function-type", "-fvisibility=hidden"]
link_args: list[str] = []
undef: list[str] = []
if os.environ.get("IMAPLIB_C_WERROR") == "1":
    compile_args.append("-Werror")
if os.environ.get("IMAPLIB_C_DEBUG") == "1":
    compile_args += ["-O0", "-g"]
    undef.append("NDEBUG")
if os.environ.get("IMAPLIB_C_SANITIZE") == "1":
    san = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
           "-fno-omit-frame-pointer", "-g", "-O1"]
    compile_args += san
    link_args += san

setup(
    ext_modules=[
        Extension(
            "imaplib_c._imaplib_c",
            sources=sorted(glob("csrc/*.c")),
            depends=sorted(glob("csrc/*.h")),
            include_dirs=["csrc"],
            extra_compile_args=compile_args,
            extra_link_args=link_args,
            undef_macros=undef,
        )
    ],
)
