"""Every public call form gives the outputs recorded in tests/regression/expected.json.gz."""
import gzip
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "regression"))
import fixture  # noqa: E402


@pytest.fixture(scope="module")
def expected():
    with gzip.open(fixture.EXPECTED, "rt", encoding="utf-8") as handle:
        return json.load(handle)


@pytest.mark.parametrize("model", ["default", "fast"])
def test_outputs_unchanged(expected, model):
    got = json.loads(json.dumps(fixture.compute(model), ensure_ascii=False))
    assert set(got) == set(expected[model])
    corpus = fixture.texts()
    for form, outputs in expected[model].items():
        if form.startswith("cli/"):
            assert got[form] == outputs, form
            continue
        for text, want, have in zip(corpus, outputs, got[form]):
            assert have == want, f"{form}: {text!r}"
