"""The memo: readings the model always gave a polyphone in a local context, read without a model run."""
import os

import pytest
from conftest import expected_reading, rewrite_bundle

from pinyin_edge.bundle import MEMO_ANY, MEMO_EDGE, BundleError


class Counting:
    """An onnxruntime session wrapper that counts runs (the real session answers)."""

    def __init__(self, session):
        self.session, self.runs = session, 0

    def run(self, *args, **kwargs):
        self.runs += 1
        return self.session.run(*args, **kwargs)


def counted(model, **kwargs):
    from pinyin_edge import G2P

    g2p = G2P(model=model, **{"phrases": False, **kwargs})
    g2p.predictor.session = Counting(g2p.predictor.session)
    return g2p


def with_memo(bundle_copy, memo):
    rewrite_bundle(bundle_copy, manifest=lambda data: data.update(memo=memo))
    return bundle_copy


def test_a_memo_key_decides_without_a_model_run_and_only_for_plain_readings(bundle_copy):
    # the fixture model reads 行 xing2 between 我 and 走; the memo here says hang2 (a memo built from
    # this model never would: it shows the memo, not the model, decided)
    assert expected_reading("我", "行", "走") == "xing2"
    g2p = counted(with_memo(bundle_copy, {"hang2": "我行走"}))
    assert g2p.pinyin("我行走")[1] == "hang2" and g2p.predictor.session.runs == 0
    note = g2p.annotate("我行走")[1]  # ranked readings need the model's probabilities
    assert (note.reading, note.source) == ("xing2", "model") and g2p.predictor.session.runs == 1
    # another context is the model's; a text with one memoised and one other polyphone runs once
    assert g2p.pinyin("你行走")[1] == "xing2" and g2p.predictor.session.runs == 2
    got = g2p.pinyin("我行走重新")
    assert (got[1], got[3]) == ("hang2", "chong2") and g2p.predictor.session.runs == 3


def test_memo_keys_back_off_to_one_side_and_read_the_text_edges(bundle_copy):
    memo = {"hang2": f"{MEMO_EDGE}行{MEMO_EDGE}" + f"你行{MEMO_ANY}", "zhang3": f"{MEMO_ANY}长天"}
    g2p = counted(with_memo(bundle_copy, memo))
    assert g2p.pinyin("行") == ["hang2"]                     # both edges
    assert g2p.pinyin("你行我")[1] == "hang2"                 # left neighbour alone
    assert g2p.pinyin("我长天")[1] == "zhang3"                # right neighbour alone
    assert g2p.predictor.session.runs == 0
    assert g2p.pinyin("行走")[0] == "xing2" and g2p.predictor.session.runs == 1  # no key: the model


def test_a_malformed_memo_is_refused(bundle_copy):
    from pinyin_edge import G2P

    for memo, message in (({"hang2": "我行走你"}, "3 characters each"), ({"xx9": "我行走"}, "does not match"),
                          ({"hang2": "我好走"}, "好 does not have that candidate"), ({"hang2": 3}, "expected string")):
        rewrite_bundle(bundle_copy, manifest=lambda data: data.update(memo=memo))
        with pytest.raises(BundleError, match=message):
            G2P(model=bundle_copy)


def test_repolicy_builds_a_memo_that_agrees_with_the_model(bundle, tmp_path):
    from click.testing import CliRunner

    from pinyin_edge import G2P
    from pinyin_edge.bundle import load_bundle
    from pinyin_edge.cli import main

    # with phrases on, the model decides 行 in 我行/你行我, 好 after 很/长/天, 一 before 天, 了 in 你好了
    common = ["我行", "你行我", "银行很好", "行长好", "一天好"]
    texts = common * 4 + ["你好了"] * 2
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(texts + ["一天好了"]) + "\n", encoding="utf-8")
    bench = tmp_path / "bench.sent"
    bench.write_text("一天好▁了▁\n", encoding="utf-8")  # a benchmark sentence: its line is not read
    out = str(tmp_path / "memo")
    result = CliRunner().invoke(main, ["repolicy", bundle, "--out", out, "--context", "3", "--memo-from", str(corpus),
                                       "--memo-exclude", str(bench), "--memo-min-count", "4",
                                       "--memo-min-side-count", "5"])
    assert result.exit_code == 0 and "memo keys" in result.stdout, result.output
    manifest, _ = load_bundle(out)
    before, _ = load_bundle(bundle)
    assert manifest.context == 3 and manifest.graph_sha256 == before.graph_sha256
    keys = {memo[k:k + 3]: r for r, memo in manifest.memo.items() for k in range(0, len(memo), 3)}
    assert keys[f"我行{MEMO_EDGE}"] == "xing2" and keys[f"{MEMO_ANY}好{MEMO_EDGE}"] == "hao3"  # 12 times
    assert f"我行{MEMO_ANY}" not in keys and f"好了{MEMO_EDGE}" not in keys   # 4 of 5, 2 of 4 needed
    assert manifest.metrics["memo"]["texts"] == len(texts)            # the benchmark line was left out
    plain, memoised = G2P(model=bundle), counted(out, phrases=True)
    for text in common:
        assert memoised.pinyin(text) == plain.pinyin(text), text
    assert memoised.predictor.session.runs == 0                       # every position was in the memo
    assert memoised.pinyin("你好了") == plain.pinyin("你好了") and memoised.predictor.session.runs == 1
    # a second memo on top, or nothing to change: one line, no traceback
    for args, message in (([out, "--out", str(tmp_path / "twice"), "--memo-from", str(corpus)], "already has a memo"),
                          ([bundle, "--out", str(tmp_path / "none")], "nothing to change")):
        result = CliRunner().invoke(main, ["repolicy", *args])
        lines = result.stderr.strip().splitlines()
        assert result.exit_code != 0 and len(lines) == 1 and message in lines[0], result.stderr
    assert not os.path.exists(tmp_path / "twice")


def test_a_key_under_two_readings_takes_the_first_reading(bundle_copy):
    g2p = counted(with_memo(bundle_copy, {"xing2": "我行走", "hang2": "我行走"}))
    assert g2p.pinyin("我行走")[1] == "hang2" and g2p.predictor.session.runs == 0  # hang2 < xing2
