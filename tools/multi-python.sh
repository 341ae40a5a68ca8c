#!/usr/bin/env bash
# Build imaplib_c for every CPython >= 3.9 under pyenv and run the
# version-independent part of the test suite with each.  The extension
# files carry the ABI tag, so the builds sit side by side in imaplib_c/.
#   tools/multi-python.sh [pytest args]
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
for py in "$HOME"/.pyenv/versions/3.*/bin/python3; do
    ver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    case "$ver" in 3.[0-8]) continue ;; esac
    "$py" -m pip install -q --disable-pip-version-check setuptools pytest >/dev/null 2>&1
    if ! IMAPLIB_C_WERROR=1 "$py" setup.py -q build_ext --inplace >/tmp/imaplib_c-build-$ver.log 2>&1; then
        echo "== $ver: BUILD FAILED (see /tmp/imaplib_c-build-$ver.log)"; status=1; continue
    fi
    echo "== $ver: $("$py" -m pytest -q -p no:cacheprovider \
        tests/test_differential.py tests/test_conformance.py tests/test_hostile.py \
        tests/test_subclass.py tests/test_module_functions.py tests/test_long_lines.py \
        tests/test_starttls_injection.py "$@" 2>&1 | tail -1)"
done
exit $status
