"""Run the installed pypinyin's own test suite three times: as it is, through pinyin_edge's drop-in
functions, and through pypinyin's ``Pinyin`` class with ``EdgeConverter`` (see ``route.py``).

The tests come from pypinyin's source distribution for the installed version, fetched with pip into
``.cache/pypinyin-tests/`` (git-ignored) on first use; ``--sdist FILE`` takes a downloaded one.
Exit status 0 only when pypinyin passes its own suite and every failure of the other two routes is
listed, for that route, in ``expected_failures.txt`` (context decisions, each with both readings and
a verdict); a listed failure that passes is reported, not failed.

    python tests/pypinyin_suite/run.py [--route dropin] [--sdist pypinyin-X.tar.gz]
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib.metadata import version
from typing import Dict, List, Set, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CACHE = os.path.join(ROOT, ".cache", "pypinyin-tests")
EXPECTED = os.path.join(HERE, "expected_failures.txt")
ROUTES = ("pypinyin", "dropin", "converter")


class SuiteError(Exception):
    """The suite could not be fetched or run."""


def fetch_tests(pypinyin_version: str, sdist: str = None) -> str:
    """The folder holding pypinyin's tests for ``pypinyin_version``, fetched and unpacked on first use."""
    folder = os.path.join(CACHE, f"pypinyin-{pypinyin_version}")
    tests = os.path.join(folder, "tests")
    if os.path.isfile(os.path.join(tests, "test_pinyin.py")):
        return tests
    with tempfile.TemporaryDirectory() as tmp:
        if sdist is None:
            proc = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                                   "--no-binary", ":all:", f"pypinyin=={pypinyin_version}", "-d", tmp],
                                  capture_output=True, text=True, stdin=subprocess.DEVNULL)
            found = glob.glob(os.path.join(tmp, "pypinyin-*.tar.gz"))
            if proc.returncode != 0 or not found:
                last = (proc.stderr.strip().splitlines() or ["no sdist downloaded"])[-1]
                raise SuiteError(f"cannot download pypinyin {pypinyin_version}'s sdist: {last}")
            sdist = found[0]
        staging = os.path.join(tmp, "unpacked")
        prefix = f"pypinyin-{pypinyin_version}/"
        with tarfile.open(sdist) as archive:
            members = [m for m in archive.getmembers()
                       if m.isfile() and (m.name.startswith(prefix + "tests/") or m.name == prefix + "LICENSE.txt")]
            if not any(m.name.endswith("/test_pinyin.py") for m in members):
                raise SuiteError(f"{sdist}: no tests for pypinyin {pypinyin_version} in it")
            for member in members:
                if ".." in member.name.split("/"):
                    raise SuiteError(f"{sdist}: unsafe path {member.name!r}")
            safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            archive.extractall(staging, members=members, **safe)
        os.makedirs(CACHE, exist_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.move(os.path.join(staging, prefix.rstrip("/")), folder)
    return tests


def run_route(tests: str, route: str) -> Tuple[Dict[str, str], str]:
    """(test id -> outcome, pytest's summary line) for one route."""
    with tempfile.TemporaryDirectory() as tmp:
        outcomes_file = os.path.join(tmp, "outcomes.jsonl")
        env = dict(os.environ, PINYIN_EDGE_ROUTE=route, PINYIN_EDGE_OUTCOMES=outcomes_file,
                   PYTHONPATH=os.pathsep.join(filter(None, [ROOT, HERE, os.environ.get("PYTHONPATH")])))
        env.setdefault("PINYIN_EDGE_CACHE_DIR", os.path.join(CACHE, "pinyin-edge-cache"))  # git-ignored
        # -s: pypinyin's command-line tests swap sys.stdout themselves
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
                               "-p", "route", "--rootdir", tests, tests],
                              cwd=tests, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        lines = proc.stdout.strip().splitlines()
        summary = lines[-1] if lines else proc.stderr.strip()[-500:]
        if proc.returncode not in (0, 1) or not os.path.exists(outcomes_file):
            raise SuiteError(f"route {route}: pytest exited {proc.returncode}: {summary}\n{proc.stderr[-2000:]}")
        outcomes: Dict[str, str] = {}
        with open(outcomes_file, encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if outcomes.get(record["id"]) != "failed":  # a failed teardown after a passed call fails
                    outcomes[record["id"]] = record["outcome"]
        if proc.returncode == 1 and "failed" not in outcomes.values():
            raise SuiteError(f"route {route}: pytest failed outside any test: {summary}")
    return outcomes, summary


def read_expected(path: str = EXPECTED) -> Dict[str, Set[str]]:
    """route -> test ids listed as expected failures. Lines: ``routes<TAB>test id<TAB>...``."""
    out: Dict[str, Set[str]] = {route: set() for route in ROUTES}
    with open(path, encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 6:
                raise SuiteError(f"{path}:{lineno}: expected routes, test id, words, pypinyin, ours, verdict")
            for route in fields[0].split(","):
                if route not in ROUTES[1:]:
                    raise SuiteError(f"{path}:{lineno}: unknown route {route!r}")
                out[route].add(fields[1])
    return out


def judge(route: str, outcomes: Dict[str, str], expected: Set[str]) -> Tuple[List[str], List[str]]:
    """(unexpected failures, listed failures that passed) of one route's outcomes."""
    failed = {test for test, outcome in outcomes.items() if outcome == "failed"}
    unexpected = sorted(failed - expected) if route != "pypinyin" else sorted(failed)
    fixed = sorted(test for test in expected if outcomes.get(test) == "passed")
    return unexpected, fixed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--route", action="append", choices=ROUTES, help="run only this route (repeatable)")
    parser.add_argument("--sdist", help="pypinyin's sdist (.tar.gz) to take the tests from, instead of pip")
    args = parser.parse_args(argv)
    try:
        tests = fetch_tests(version("pypinyin"), args.sdist)
        expected = read_expected()
        status = 0
        for route in args.route or ROUTES:
            outcomes, summary = run_route(tests, route)
            unexpected, fixed = judge(route, outcomes, expected.get(route, set()))
            listed = sum(1 for t, o in outcomes.items() if o == "failed" and t in expected.get(route, ()))
            print(f"pypinyin {version('pypinyin')} suite, route {route}: {summary} "
                  f"({listed} listed context decisions, {len(unexpected)} unexpected)")
            for test in unexpected:
                print(f"  UNEXPECTED FAILURE [{route}] {test}")
            for test in fixed:
                print(f"  warning: listed failure passes now [{route}] {test}")
            status = status or (1 if unexpected else 0)
        return status
    except SuiteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
