"""Long texts in pieces (runtime/stream.py): the same outputs as the whole text converted at once.

Exactness needs a graph whose rows do not depend on each other, so the comparisons run on the
shipped default bundle requantized by exporters.requantize (float head); pieces are made small
(300 characters) so that texts of a few thousand characters are cut many times.
"""
import json
import os
import random

import pytest

from pinyin_edge import G2P
from pinyin_edge.bundle import default_bundle_dir
from pinyin_edge.runtime import stream

HERE = os.path.dirname(os.path.abspath(__file__))


def _texts(count, seed, lo=2500, hi=7000):
    with open(os.path.join(HERE, "regression", "texts.txt"), encoding="utf-8") as handle:
        base = [t for t in handle.read().split("\n") if t]
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        size, parts = rng.randint(lo, hi), []
        while sum(map(len, parts)) < size:
            parts += [rng.choice(base), rng.choice(["", "", " ", "\n"])]
        out.append("".join(parts)[:size])
    return out


@pytest.fixture(scope="module")
def bundle():
    return default_bundle_dir()  # batch-invariant (requantized): a piece reads as in the whole text


def _whole(monkeypatch, call):
    monkeypatch.setattr(stream, "PIECE_CHARS", 1 << 30)
    got = call()
    monkeypatch.setattr(stream, "PIECE_CHARS", 300)
    return got


def test_pieces_partition_the_text(bundle, monkeypatch):
    g2p = G2P(model=bundle)
    for text in _texts(3, seed=1) + ["行" * 5000]:  # the last: no breaker at all, cut anyway
        got = list(stream.g2p_pieces(g2p, text, piece_chars=300))
        assert len(got) > 3
        assert got[0].start == got[0].keep_from == 0 and got[-1].keep_to == got[-1].end == len(text)
        for before, after in zip(got, got[1:]):
            assert before.keep_to == after.keep_from
        assert all(p.start <= p.keep_from < p.keep_to <= p.end for p in got)


@pytest.mark.parametrize("options", [{}, {"context": None}, {"phrases": False},
                                     {"overrides": {"银行": "yin2 xing2", "。长": "chang2", "行,": "xing2"}}])
def test_same_readings_as_the_whole_text(bundle, monkeypatch, options):
    g2p = G2P(model=bundle, **options)
    texts = _texts(3, seed=2)
    whole = _whole(monkeypatch, lambda: [g2p.pinyin(t, heteronym=True, tone_sandhi=True) for t in texts])
    assert [g2p.pinyin(t, heteronym=True, tone_sandhi=True) for t in texts] == whole
    assert g2p.pinyin_batch(["行长"] + texts, style="tone")[1:] == \
        _whole(monkeypatch, lambda: g2p.pinyin_batch(texts, style="tone"))


def test_annotate_and_parts(bundle, monkeypatch):
    g2p = G2P(model=bundle)
    text = _texts(1, seed=3)[0]
    whole = _whole(monkeypatch, lambda: g2p.annotate(text))
    assert g2p.annotate(text) == whole  # offsets are the whole text's
    parts = list(g2p.iter_pinyin(text))
    assert len(parts) > 5
    # plain readings against the whole text's plain readings (the memo decides those, not annotate's)
    assert [item for part in parts for item in part] == _whole(monkeypatch, lambda: g2p.pinyin(text))


def test_pure_han_without_breakers_is_cut_anyway(bundle, monkeypatch):
    g2p = G2P(model=bundle)
    text = "".join(c for c in "".join(_texts(2, seed=4)) if "\u4e00" <= c <= "\u9fff")
    got = g2p.pinyin(text)
    assert len(got) == len(text)
    whole = _whole(monkeypatch, lambda: g2p.pinyin(text))
    assert sum(a != b for a, b in zip(got, whole)) <= len(text) // 1000  # cut without a breaker: rare


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_convert_writes_long_lines_in_parts(bundle, monkeypatch, fmt):
    from click.testing import CliRunner

    from pinyin_edge.cli import main

    lines = [t.replace("\n", " ").replace("\r", " ") for t in _texts(2, seed=5)] + ["银行行长"]
    stdin = "\n".join(lines) + "\n"
    runner = CliRunner()
    whole = _whole(monkeypatch, lambda: runner.invoke(main, ["convert", "--model", bundle, "--format", fmt],
                                                      input=stdin))
    got = runner.invoke(main, ["convert", "--model", bundle, "--format", fmt], input=stdin)
    assert got.exit_code == whole.exit_code == 0
    assert got.output == whole.output
    if fmt == "json":
        assert [json.loads(line)["text"] for line in got.output.splitlines()] == lines
