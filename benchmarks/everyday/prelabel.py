"""Pre-label sentences with three independent systems, for adjudication.

    python benchmarks/everyday/prelabel.py sentences.txt > prelabel.tsv

Each output line: text, then the Han readings (space-separated) from pypinyin, g2pM and pinyin-edge's
default bundle, tab-separated. Lines where the three agree on every character are candidates for
acceptance after a spot check; every other line, and every occurrence of a frequent polyphone, is
adjudicated by hand (see docs/everyday.md).
"""
from __future__ import annotations

import sys

from pinyin_edge.evaluation.systems import make_system
from pinyin_edge.readings import is_han

SYSTEMS = ("pypinyin", "g2pm", "edge")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: prelabel.py SENTENCES.txt", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as handle:
        texts = [line.rstrip("\n") for line in handle if line.strip()]
    outputs = [make_system(name).predict(texts) for name in SYSTEMS]
    for i, text in enumerate(texts):
        cols = [" ".join(r for ch, r in zip(text, out[i]) if is_han(ch)) for out in outputs]
        print("\t".join([text] + cols))
    return 0


if __name__ == "__main__":
    sys.exit(main())
