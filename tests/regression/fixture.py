"""The behaviour regression fixture: every public call form over tests/regression/texts.txt.

``python tests/regression/fixture.py --write`` records the current outputs into expected.json.gz;
tests/test_regression.py recomputes them and requires identical results. Record only when a change
of outputs is intended (and say why in the commit).
"""
from __future__ import annotations

import gzip
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TEXTS = os.path.join(HERE, "texts.txt")
EXPECTED = os.path.join(HERE, "expected.json.gz")

ALL_STYLES = ("tone3", "tone", "tone2", "normal", "initials", "first_letter", "finals", "finals_tone",
              "finals_tone2", "finals_tone3", "bopomofo", "bopomofo_first", "cyrillic", "cyrillic_first",
              "wadegiles")
OVERRIDES = {"银行": "yin2 xing2", "长": "chang2", "重庆": "zhong4 qing4"}


def texts():
    with open(TEXTS, encoding="utf-8") as handle:
        return [""] + handle.read().split("\n")[:-1]


def _annotation(items):
    return [[a.char, a.offset, a.reading, [[r, round(p, 4)] for r, p in a.candidates], a.source]
            for a in items]


def compute(model: str):
    """name of a call form -> list of outputs, one per text."""
    from click.testing import CliRunner
    from pypinyin import Style
    from pypinyin.core import Pinyin

    from pinyin_edge import G2P, EdgeConverter, lazy_pinyin, pinyin
    from pinyin_edge.cli import main

    corpus = texts()
    g2p = G2P(model=model)
    styles = ALL_STYLES if model == "default" else ("tone3", "tone", "normal", "bopomofo")
    out = {}
    for style in styles:
        out[f"pinyin/{style}"] = [g2p.pinyin(t, style=style) for t in corpus]
    out["pinyin/heteronym"] = [g2p.pinyin(t, heteronym=True) for t in corpus]
    out["pinyin/heteronym/tone"] = [g2p.pinyin(t, style="tone", heteronym=True) for t in corpus]
    out["pinyin/tone_sandhi"] = [g2p.pinyin(t, tone_sandhi=True) for t in corpus]
    out["pinyin_batch"] = g2p.pinyin_batch(corpus)
    out["pinyin_batch/tone/sandhi"] = g2p.pinyin_batch(corpus, style="tone", tone_sandhi=True)
    out["annotate"] = [_annotation(g2p.annotate(t)) for t in corpus]
    out["readings"] = [g2p.readings(t) for t in corpus]
    with_overrides = G2P(model=model, overrides=OVERRIDES)
    out["overrides"] = [with_overrides.pinyin(t) for t in corpus]
    out["compat/lazy_pinyin"] = [lazy_pinyin(t, g2p=g2p) for t in corpus]
    out["compat/lazy_pinyin/tone3/sandhi"] = [lazy_pinyin(t, style=Style.TONE3, tone_sandhi=True, g2p=g2p)
                                              for t in corpus]
    out["compat/pinyin"] = [pinyin(t, g2p=g2p) for t in corpus]
    out["compat/pinyin/heteronym"] = [pinyin(t, heteronym=True, g2p=g2p) for t in corpus]
    out["compat/pinyin/tone2/v"] = [pinyin(t, style=Style.TONE2, v_to_u=True, neutral_tone_with_five=True,
                                           g2p=g2p) for t in corpus]
    out["compat/converter"] = [Pinyin(EdgeConverter(g2p=g2p)).lazy_pinyin(t) for t in corpus]
    lines = [t for t in corpus if "\n" not in t and "\r" not in t]
    stdin = "\n".join(lines) + "\n"
    runner = CliRunner()
    for fmt in ("text", "json"):
        result = runner.invoke(main, ["convert", "--model", model, "--format", fmt], input=stdin)
        out[f"cli/convert/{fmt}"] = [result.exit_code, result.output]
    return out


def compute_all():
    return {model: compute(model) for model in ("default", "fast")}


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/regression/fixture.py --write")
    got = json.loads(json.dumps(compute_all(), ensure_ascii=False))
    with gzip.open(EXPECTED, "wt", encoding="utf-8") as handle:
        json.dump(got, handle, ensure_ascii=False, sort_keys=True)
    print(f"wrote {EXPECTED} ({os.path.getsize(EXPECTED)} bytes)")
