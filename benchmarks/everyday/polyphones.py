"""The most frequent polyphones of a corpus: Han characters with more than one reading in pypinyin's
character table, counted over every corpus file, most frequent first.

    python benchmarks/everyday/polyphones.py ../shared/data/corpus --top 300 > benchmarks/everyday/polyphones.tsv
"""
from __future__ import annotations

import argparse
import os
import sys
from collections import Counter

from pypinyin.pinyin_dict import pinyin_dict


def polyphones() -> dict:
    """char -> its readings (tone marks as pypinyin stores them), for characters with two or more."""
    out = {}
    for cp, readings in pinyin_dict.items():
        items = [r for r in readings.split(",") if r]
        if len(items) > 1:
            out[chr(cp)] = items
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", help="a folder of UTF-8 text files, or one file")
    parser.add_argument("--top", type=int, default=300)
    args = parser.parse_args(argv)
    table = polyphones()
    paths = ([os.path.join(args.corpus, n) for n in sorted(os.listdir(args.corpus)) if n.endswith(".txt")]
             if os.path.isdir(args.corpus) else [args.corpus])
    counts: Counter = Counter()
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                counts.update(ch for ch in line if ch in table)
    print("rank\tchar\tcount\treadings")
    for rank, (char, n) in enumerate(counts.most_common(args.top), 1):
        print(f"{rank}\t{char}\t{n}\t{','.join(table[char])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
