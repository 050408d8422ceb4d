"""The runner of pypinyin's own suite (tests/pypinyin_suite/run.py, called by CI): its verdicts and
its list of expected failures. The suite itself runs there, not here (it fetches pypinyin's sdist)."""
import importlib.util
import os

import pytest

_spec = importlib.util.spec_from_file_location(
    "pypinyin_suite_run", os.path.join(os.path.dirname(__file__), "pypinyin_suite", "run.py"))
run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)


def test_the_committed_list_is_well_formed():
    expected = run.read_expected()
    assert expected["pypinyin"] == set()  # pypinyin must pass its own suite
    assert expected["dropin"] and expected["converter"]
    with open(run.EXPECTED, encoding="utf-8") as handle:
        rows = [line.rstrip("\n").split("\t") for line in handle if line.strip() and not line.startswith("#")]
    assert len({row[1] for row in rows}) == len(rows)  # one line per test
    assert all(len(row) == 6 and all(field.strip() for field in row) for row in rows)


def test_verdicts():
    outcomes = {"a": "passed", "b": "failed", "c": "failed", "d": "skipped", "e": "passed"}
    assert run.judge("dropin", outcomes, {"b", "e"}) == (["c"], ["e"])  # c unexpected, e listed but passes
    assert run.judge("dropin", outcomes, {"b", "c"}) == ([], [])
    assert run.judge("pypinyin", outcomes, {"b", "c"}) == (["b", "c"], [])  # the baseline has no excuses


def test_a_malformed_line_is_refused(tmp_path):
    bad = tmp_path / "expected.txt"
    bad.write_text("dropin\ttest_x.py::test_y\n", encoding="utf-8")
    with pytest.raises(run.SuiteError, match="expected routes"):
        run.read_expected(str(bad))
    bad.write_text("elsewhere\tt\tw\tp\to\tv\n", encoding="utf-8")
    with pytest.raises(run.SuiteError, match="unknown route"):
        run.read_expected(str(bad))
