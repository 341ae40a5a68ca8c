"""Run the interpreter's own ``test.test_imaplib`` against another module.

Usage::

    python tests/run_stdlib_imaplib_tests.py --module imaplib_c --list
    python tests/run_stdlib_imaplib_tests.py --module imaplib_c --out r.json [ID ...]

The module is put into ``sys.modules['imaplib']`` before ``test.test_imaplib``
is imported (in place, so its certificate files are found).  With ``--list``
the test ids are printed as a JSON list; otherwise the given ids (all when
none) are run with unittest and a JSON object ``{"results": {id: {"outcome":
..., "detail": ...}}, "module": ..., "threads_left": n}`` is written to
``--out`` (stdout when omitted).  Outcomes: pass, fail, error, skip,
expected_failure, unexpected_success.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import threading
import unittest
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parent.parent


def load(module_name: str) -> ModuleType:
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from test import support

    support.verbose = 0  # otherwise the fake servers print every line
    mod = importlib.import_module(module_name)
    sys.modules["imaplib"] = mod
    test_module = importlib.import_module("test.test_imaplib")
    if test_module.imaplib is not mod:
        raise RuntimeError("test.test_imaplib did not pick up the replacement module")
    return test_module


def iter_tests(suite: unittest.TestSuite) -> Iterator[unittest.TestCase]:
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from iter_tests(item)
        else:
            yield item


class RecordingResult(unittest.TestResult):
    def __init__(self) -> None:
        super().__init__()
        self.outcomes: dict[str, dict[str, str]] = {}

    def _set(self, test: unittest.TestCase, outcome: str, detail: str = "") -> None:
        previous = self.outcomes.get(test.id())
        if previous and previous["outcome"] in ("fail", "error") and outcome == "pass":
            return  # a failing subtest already marked the test
        self.outcomes[test.id()] = {"outcome": outcome, "detail": detail}

    def addSuccess(self, test: unittest.TestCase) -> None:
        super().addSuccess(test)
        self._set(test, "pass")

    def addFailure(self, test: unittest.TestCase, err: object) -> None:
        super().addFailure(test, err)  # type: ignore[arg-type]
        self._set(test, "fail", self.failures[-1][1])

    def addError(self, test: unittest.TestCase, err: object) -> None:
        super().addError(test, err)  # type: ignore[arg-type]
        self._set(test, "error", self.errors[-1][1])

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        super().addSkip(test, reason)
        self._set(test, "skip", reason)

    def addExpectedFailure(self, test: unittest.TestCase, err: object) -> None:
        super().addExpectedFailure(test, err)  # type: ignore[arg-type]
        self._set(test, "expected_failure")

    def addUnexpectedSuccess(self, test: unittest.TestCase) -> None:
        super().addUnexpectedSuccess(test)
        self._set(test, "unexpected_success")

    def addSubTest(self, test: unittest.TestCase, subtest: unittest.TestCase, err: object) -> None:
        super().addSubTest(test, subtest, err)  # type: ignore[arg-type]
        if err is not None:
            kind = "fail" if issubclass(err[0], test.failureException) else "error"  # type: ignore[index]
            detail = self._exc_info_to_string(err, test)  # type: ignore[arg-type]
            self._set(test, kind, f"{subtest.id()}: {detail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--module", default="imaplib_c")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--out")
    parser.add_argument("ids", nargs="*")
    args = parser.parse_args(argv)

    test_module = load(args.module)
    tests = list(iter_tests(unittest.defaultTestLoader.loadTestsFromModule(test_module)))
    if args.list:
        print(json.dumps([t.id() for t in tests]))
        return 0
    wanted = set(args.ids)
    selected = [t for t in tests if not wanted or t.id() in wanted]
    unknown = wanted - {t.id() for t in tests}
    result = RecordingResult()
    unittest.TestSuite(selected).run(result)
    for test in selected:  # e.g. a failing setUpClass reports on the class
        result.outcomes.setdefault(test.id(), {"outcome": "error", "detail": "test did not report"})
    for test_id in sorted(unknown):
        result.outcomes[test_id] = {"outcome": "error", "detail": "unknown test id"}
    for label, detail in result.errors:  # class/module fixture errors
        if not isinstance(label, unittest.TestCase):
            result.outcomes[str(label)] = {"outcome": "error", "detail": detail}
    report = {
        "module": getattr(test_module.imaplib, "__name__", "?"),
        "results": result.outcomes,
        "threads_left": threading.active_count() - 1,
    }
    text = json.dumps(report, indent=1)
    if args.out:
        Path(args.out).write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
