#!/usr/bin/env bash
# fuzz-binding.sh - libFuzzer on the binding's handlers (needs clang).
#
#   tools/fuzz-binding.sh [SECONDS] [libFuzzer args...]
#
# Builds, in a temporary directory, the extension with ASan + UBSan and
# libFuzzer's coverage (IMAPLIB_C_SANITIZE=1 IMAPLIB_C_FUZZ=1, CC=clang)
# and csrc/binding/fuzz/fuzz_binding.c, which embeds this Python and runs
# csrc/binding/fuzz/binding_harness.py on every input: imaplib_c's engine
# against the interpreter's imaplib over the same stream, split at chosen
# points, with each hook overridden in turn.  The corpus is
# csrc/binding/fuzz/corpus (new inputs go to $WORK/new); findings are
# written as $WORK/crash-*.  SECONDS defaults to 60.  Environment: PYTHON
# (default python3), CLANG (default clang), WORK (default a temp dir),
# JOBS (parallel fuzzing jobs, default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
PYTHON=${PYTHON:-python3}
CLANG=${CLANG:-clang}
SECONDS_TO_RUN=${1:-60}
shift || true
WORK=${WORK:-$(mktemp -d /tmp/imaplib-c-fuzz-binding.XXXXXX)}
mkdir -p "$WORK/lib" "$WORK/new" "$REPO/csrc/binding/fuzz/corpus"

# The package with an instrumented engine, outside the working tree.
rm -rf "$WORK/lib/imaplib_c"
cp -r imaplib_c "$WORK/lib/"
rm -f "$WORK/lib/imaplib_c/"_imaplib_c*.so
CC=$CLANG LDSHARED="$CLANG -shared" IMAPLIB_C_SANITIZE=1 IMAPLIB_C_FUZZ=1 \
    "$PYTHON" setup.py -q build_ext --build-lib "$WORK/lib" --build-temp "$WORK/tmp" --force

read -r INC LIBDIR LDLIB < <("$PYTHON" - <<'PY'
import sysconfig as s
print(s.get_paths()["include"], s.get_config_var("LIBDIR"), s.get_config_var("LDLIBRARY"))
PY
)
LIBNAME=${LDLIB#lib}
LIBNAME=${LIBNAME%.so*}
LIBNAME=${LIBNAME%.a}
"$CLANG" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$INC" csrc/binding/fuzz/fuzz_binding.c -o "$WORK/fuzz_binding" \
    -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -l"$LIBNAME" -lm -ldl -lpthread

export PYTHONPATH="$WORK/lib:$REPO/csrc/binding/fuzz"
export PYTHONMALLOC=malloc ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
PAR=()
if [ "${JOBS:-1}" -gt 1 ]; then PAR=(-jobs="$JOBS" -workers="$JOBS"); fi
"$WORK/fuzz_binding" -max_total_time="$SECONDS_TO_RUN" -max_len=2048 -timeout=20 \
    -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1 "${PAR[@]}" \
    -artifact_prefix="$WORK/" "$@" "$WORK/new" "$REPO/csrc/binding/fuzz/corpus"
echo "fuzz-binding: work directory $WORK"
