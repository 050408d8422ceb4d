import numpy as np
import pytest
from conftest import expected_reading

from pinyin_edge.runtime.predictor import Predictor, split_runs, window_spans


def assert_same(a, b):
    """Two predict() answers agree: same offsets, same ranking, probabilities equal to 1e-5."""
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert sorted(x) == sorted(y)
        for offset in x:
            assert [r for r, _ in x[offset]] == [r for r, _ in y[offset]]
            np.testing.assert_allclose([p for _, p in x[offset]], [p for _, p in y[offset]], rtol=1e-5)


@pytest.fixture(scope="module")
def predictor(bundle):
    return Predictor(bundle)


@pytest.fixture(scope="module")
def small(small_window_bundle):
    return Predictor(small_window_bundle)


def test_decidable(predictor):
    assert predictor.is_decidable("行") and predictor.is_decidable("长")
    assert not predictor.is_decidable("乐")   # in the candidates, but [UNK] in the vocabulary
    assert not predictor.is_decidable("的")   # not in the candidates
    assert not predictor.is_decidable("银")   # one reading
    assert predictor.decidable_offsets("银行行长的乐").tolist() == [1, 2, 3]


def test_ranked_probabilities(predictor):
    (result,) = predictor.predict(["银行行长"])
    assert sorted(result) == [1, 2, 3]
    assert [ranked[0][0] for _, ranked in sorted(result.items())] == ["hang2", "hang2", "zhang3"]
    for offset, ranked in result.items():
        probs = [p for _, p in ranked]
        assert probs == sorted(probs, reverse=True)
        assert abs(sum(probs) - 1) < 1e-6
        assert {r for r, _ in ranked} == set(predictor.candidates("银行行长"[offset]))


def test_best_readings_are_predicts_first_entries(predictor):
    texts = ["银行行长", "长大了", "行", "", "重新看一本书，行不行"]
    for ranked, best in zip(predictor.predict(texts), predictor.best_readings(texts)):
        assert sorted(ranked) == sorted(best)
        for offset in ranked:
            assert best[offset] == ranked[offset][0][0]


def test_skip_leaves_offsets_out(predictor):
    texts = ["银行行长", "银行行长"]
    full, skipped = predictor.best_readings(texts, skip=[None, {1, 3}])
    assert sorted(full) == [1, 2, 3] and sorted(skipped) == [2]
    assert skipped[2] == full[2]
    with pytest.raises(ValueError):
        predictor.best_readings(texts, skip=[None])


def test_queries_limit_what_is_scored(predictor):
    (result,) = predictor.predict(["银行行长"], queries=[[2, 0]])
    assert list(result) == [2]
    with pytest.raises(IndexError):
        predictor.predict(["行"], queries=[[5]])


def test_window_spans_cover_every_token_once():
    for n in (1, 13, 14, 15, 40, 101):
        spans = window_spans(n, 14, 3)
        cores = [i for _, _, cs, ce in spans for i in range(cs, ce)]
        assert cores == list(range(n))
        for start, end, cs, ce in spans:
            assert end - start <= 14 and start <= cs < ce <= end
            assert cs - start >= 3 or start == 0
            assert end - ce >= 3 or end == n


def test_only_windows_with_polyphones_run(small):
    text = "银行" + "我你" * 200          # one polyphone, at the start of a long text
    windows = small.plan([text])
    assert len(windows) == 1 and windows[0].offsets.tolist() == [1]
    assert small.plan(["我你" * 200]) == []
    assert small.predict(["我你" * 200]) == [{}]


def test_batches_respect_limits(small_window_bundle):
    predictor = Predictor(small_window_bundle, batch_size=3, batch_tokens=40)
    texts = ["银行行长" * n for n in (1, 5, 9, 2, 30)]
    windows = predictor.plan(texts)
    batches = list(predictor._batches(windows))
    assert sum(len(b) for b in batches) == len(windows)
    for batch in batches:
        assert len(batch) <= 3
        assert len(batch) * (max(w.length for w in batch) + 2) <= 40
    lengths = [w.length for b in batches for w in b]
    assert lengths == sorted(lengths)       # length bucketing
    assert_same(predictor.predict(texts), Predictor(small_window_bundle).predict(texts))


def _cost(lengths, runs, run_cost):
    return sum(run_cost + (end - start) * lengths[end - 1] for start, end in runs)


@pytest.mark.parametrize("lengths,max_batch,max_tokens", [
    ([5] * 10 + [100], 64, 16384),
    ([3, 4, 5, 30, 31, 31, 60, 126, 126], 64, 16384),
    ([10] * 10, 3, 16384),
    ([10, 20, 40, 80], 64, 100),
    ([7], 1, 7),
])
def test_split_runs_covers_in_order_within_limits(lengths, max_batch, max_tokens):
    runs = split_runs(lengths, max_batch, max_tokens, run_cost=16)
    assert [i for s, e in runs for i in range(s, e)] == list(range(len(lengths)))
    for start, end in runs:
        assert end - start <= max_batch
        assert end - start == 1 or (end - start) * lengths[end - 1] <= max_tokens


def test_split_runs_cuts_where_padding_costs_more_than_a_run():
    lengths = [5] * 10 + [100]
    assert split_runs(lengths, 64, 16384, run_cost=16) == [(0, 10), (10, 11)]
    assert split_runs(lengths, 64, 16384, run_cost=10**6) == [(0, 11)]  # runs dear: one padded run
    assert split_runs([5, 6], 64, 16384, run_cost=16) == [(0, 2)]       # one token of padding: kept


def test_split_runs_is_optimal_on_small_inputs():
    """Against every way to cut a short ascending list (no limits binding)."""
    import itertools
    import random

    rng = random.Random(1)
    for _ in range(30):
        lengths = sorted(rng.randint(1, 60) for _ in range(rng.randint(1, 7)))
        n = len(lengths)
        best = min(_cost(lengths, [(a, b) for a, b in zip((0,) + cuts, cuts + (n,))], 16)
                   for k in range(n) for cuts in itertools.combinations(range(1, n), k))
        assert _cost(lengths, split_runs(lengths, 64, 16384, run_cost=16), 16) == best


def test_split_runs_rejects_unsorted_lengths():
    assert split_runs([], 4, 100) == []
    with pytest.raises(ValueError):
        split_runs([5, 3], 4, 100)


def test_boundary_polyphone_reads_as_in_short_text(small, predictor):
    """行 placed on every side of every window boundary reads as it does in a short text."""
    filler = "我你"
    for pos in range(0, 40):
        for left, right in (("银", "我"), ("我", "业"), ("你", "长"), ("我", "你")):
            text = (filler * 30)[:pos] + left + "行" + right + (filler * 30)
            offset = pos + 1
            want = expected_reading(left, "行", right)
            (got,) = small.predict([text])
            assert got[offset][0][0] == want, (pos, left, right)
            (short,) = predictor.predict([left + "行" + right])
            assert short[1][0][0] == want
            np.testing.assert_allclose([p for _, p in got[offset]], [p for _, p in short[1]], rtol=1e-5)


def test_long_text_many_windows(small, wide_bundle):
    unit = "银行行长说行业重新了解。我走在长路上，"
    text = unit * 40
    windows = small.plan([text])
    assert len(windows) > 20
    assert_same(small.predict([text]), Predictor(wide_bundle).predict([text]))


def test_bad_margin(small_window_bundle):
    with pytest.raises(ValueError):
        Predictor(small_window_bundle, margin=7)


def test_context_narrows_windows_and_splits_far_queries(bundle):
    """With a context, each window holds its queries plus ``context`` tokens on each side; queries
    further apart than two contexts get windows of their own; readings stay those of short texts."""
    narrow = Predictor(bundle, context=2)
    filler = "我你" * 10
    text = filler + "银行" + filler + "行长" + filler   # 行 at 21, 行 at 42, 长 at 43
    windows = narrow.plan([text])
    assert [(w.start, w.end, w.offsets.tolist()) for w in windows] == [(19, 24, [21]), (40, 46, [42, 43])]
    (got,) = narrow.predict([text])
    for offset in (21, 42, 43):
        want = expected_reading(text[offset - 1], text[offset], text[offset + 1])
        assert got[offset][0][0] == want, offset
    assert_same([got], Predictor(bundle, context=None).predict([text]))
    close = "我银行我长我"  # queries 2 and 4 lie within two contexts: one window
    assert [(w.start, w.end) for w in narrow.plan([close])] == [(0, 6)]


def test_context_comes_from_the_manifest_unless_given(bundle_copy):

    from conftest import rewrite_bundle

    from pinyin_edge.bundle import BundleError

    assert Predictor(bundle_copy).context is None
    rewrite_bundle(bundle_copy, manifest=lambda data: data.update(context=3))
    assert Predictor(bundle_copy).context == 3
    assert Predictor(bundle_copy, context=None).context is None
    assert Predictor(bundle_copy, context=5).context == 5
    for bad in (0, -1, True, "8"):
        with pytest.raises(ValueError, match="context"):
            Predictor(bundle_copy, context=bad)
        rewrite_bundle(bundle_copy, manifest=lambda data: data.update(context=bad))
        with pytest.raises(BundleError, match="context"):
            Predictor(bundle_copy)
