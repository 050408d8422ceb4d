"""The conformance data: 5,000 texts the project makes, and what the Python runtime reads for them.

    python js/test/conformance.py --bundle default --out FILE.json

Texts (deterministic, seeded): the regression texts and the everyday benchmark's sentences as they
are; joined into long texts that cross window boundaries; mixed with Latin words, digits, other
scripts, emoji, characters outside the BMP, spaces and control characters; the bundle's word-exception
phrases alone and in context, and 一/不 in context. The texts go in batches (as the JavaScript test calls them) and each
batch is read by ``pinyin_batch`` (tone3, tone, normal; the first 200 texts in every style too) and
``annotate_batch``.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COUNT = 5000
BATCH = 25
STYLES = ("tone3", "tone", "normal")
EVERY_STYLE_BATCHES = 8  # the first 200 texts are also read in every other style
ODD = ["A", "İstanbul", "ÀÉÎ", "ß", "Ω", "Привет", "١٢٣", "こんにちは", "カタカナ", "한국어", "😀", "👍🏽",
       "🇨🇳", "𠀀", "𪚥", "𰻞", "\u200b", "\u200d", "\ufeff", "\ufffd", "\u0000", "\u0007", "\ue000", "\t", "\n",
       "\r\n", "\u3000", " ", "  ", "，", "。", "、", "！", "？", "“", "”", "《", "》", "…", "—", "·",
       "(", ")", "[", "]", "#", "@", "%", "&", "+", "-", "_", "/", "\\", "~", "`", "'", "\"", "〇",
       "Ａ", "ｂ", "１２", "Ⅻ", "½", "é", "e\u0301", "ǖ", "Ǘ", "iPhone15", "COVID-19", "3.14", "2024年",
       "v2", "http://a.cn/x?y=1", "a@b.com", "OK", "hello world", "Mr.", "ABC123xyz", "𝐀𝐁", "ﬁ",
       "\u0085", "\u2028", "\u00ad", "\u0300", "\U000e0001", "\U0010fffd", "丨", "乂", "兀", "㐀", "龘", "﨎"]
SANDHI = ["一", "不", "一一", "第一", "一百", "看一看", "不是", "不对", "一个", "统一", "一天", "不好",
          "一样", "一起", "万一", "十一", "一二三", "不不不", "一不小心"]


def _sentences(path: str, column: bool) -> list:
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        rows = [line.rstrip("\n") for line in handle if line.strip()]
    return [row.split("\t")[0] for row in rows] if column else rows


def make_texts(word_exceptions, count: int = COUNT, seed: int = 24) -> list:
    rng = random.Random(seed)
    base = _sentences("tests/regression/texts.txt", False) + _sentences("benchmarks/everyday/everyday.tsv", True)
    texts = list(base) + [""]
    words = sorted(word_exceptions)

    def sentence() -> str:
        return rng.choice(base)

    makers = [
        lambda: "".join(sentence() for _ in range(rng.randint(2, 6))),  # a paragraph
        lambda: "".join(sentence() for _ in range(rng.randint(30, 120))),  # long: crosses windows
        lambda: "\n".join(sentence() for _ in range(rng.randint(3, 12))),
        lambda: _mixed(rng, sentence()),
        lambda: _mixed(rng, sentence() + sentence()),
        lambda: "".join(rng.choice(ODD) for _ in range(rng.randint(1, 12))),  # no Chinese, or little
        lambda: _spliced(rng, sentence(), rng.choice(words) if words else "行"),
        lambda: rng.choice(words) if words else "行",  # a word exception's word alone
        lambda: _spliced(rng, sentence(), rng.choice(SANDHI)),
        lambda: sentence()[rng.randint(0, 5):][:rng.randint(1, 8)],  # fragments
        lambda: " ".join(sentence()),  # every character spaced out
    ]
    while len(texts) < count:
        texts.append(rng.choice(makers)())
    return texts[:count]


def _mixed(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 6)):
        chars.insert(rng.randint(0, len(chars)), rng.choice(ODD))
    return "".join(chars)


def _spliced(rng: random.Random, text: str, piece: str) -> str:
    at = rng.randint(0, len(text))
    return text[:at] + piece + text[at:]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", default="default", help="the model bundle (a folder, or default / fast)")
    parser.add_argument("--out", required=True, help="the JSON file to write")
    args = parser.parse_args(argv)
    sys.path.insert(0, ROOT)
    from pinyin_edge import G2P
    from pinyin_edge.readings import STYLE_NAMES

    started = time.perf_counter()
    g2p = G2P(args.bundle)
    texts = make_texts(g2p.manifest.phrase_word_exceptions)
    batches = []
    for start in range(0, len(texts), BATCH):
        chunk = texts[start:start + BATCH]
        entry = {"texts": chunk}
        for style in STYLES:
            entry[style] = g2p.pinyin_batch(chunk, style=style)
        if start // BATCH < EVERY_STYLE_BATCHES:
            entry["other_styles"] = {style: g2p.pinyin_batch(chunk, style=style)
                                     for style in STYLE_NAMES if style not in STYLES}
        entry["annotate"] = [[[a.reading, a.source, [list(c) for c in a.candidates]] for a in annotated]
                             for annotated in g2p.annotate_batch(chunk)]
        batches.append(entry)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump({"bundle": args.bundle, "styles": list(STYLES), "batches": batches}, handle, ensure_ascii=False)
    os.replace(tmp, args.out)
    chars = sum(len(t) for t in texts)
    print(f"{len(texts)} texts ({chars} characters) read by the Python runtime in "
          f"{time.perf_counter() - started:.1f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
