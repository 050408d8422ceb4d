"""Check the everyday set and print its figures: format, size, polyphone coverage, and the agreement
between the first labels and the independent second pass over a 10% sample.

    python benchmarks/everyday/check.py
"""
from __future__ import annotations

import os
import sys
from collections import Counter, defaultdict

from pinyin_edge.data import read_sentence_tsv
from pinyin_edge.readings import is_han

HERE = os.path.dirname(os.path.abspath(__file__))


def labels(path):
    """text -> list of readings, one per Han character (every character must be labelled)."""
    dataset = read_sentence_tsv(path)
    out = {}
    for ex in dataset:
        han = [i for i, ch in enumerate(ex.text) if is_han(ch)]
        if [o for o, _ in ex.labels] != han:
            raise SystemExit(f"{ex.source}: not every Han character is labelled")
        if ex.text in out:
            raise SystemExit(f"{ex.source}: duplicate sentence {ex.text}")
        out[ex.text] = [r for _, r in ex.labels]
    return out


def main() -> int:
    gold = labels(os.path.join(HERE, "everyday.tsv"))
    dev, test = labels(os.path.join(HERE, "dev.tsv")), labels(os.path.join(HERE, "test.tsv"))
    if set(dev) & set(test) or set(dev) | set(test) != set(gold):
        raise SystemExit("dev.tsv and test.tsv must partition everyday.tsv")
    chars = sum(len(r) for r in gold.values())
    print(f"sentences {len(gold)} (dev {len(dev)}, test {len(test)}), Han characters {chars}")

    with open(os.path.join(HERE, "polyphones.tsv"), encoding="utf-8") as handle:
        poly = [line.split("\t")[1] for line in handle.read().splitlines()[1:]]
    sentences, readings = Counter(), defaultdict(Counter)
    for text, rs in gold.items():
        han = [ch for ch in text if is_han(ch)]
        for ch in set(han):
            sentences[ch] += 1
        for ch, r in zip(han, rs):
            readings[ch][r] += 1
    for k in (1, 3, 5):
        print(f"frequent polyphones in >= {k} sentences: {sum(sentences[c] >= k for c in poly)}/{len(poly)}")
    multi = [c for c in poly if len(readings[c]) > 1]
    print(f"frequent polyphones labelled with two or more readings: {len(multi)}/{len(poly)}")
    low = [f"{c}{sentences[c]}" for c in poly if sentences[c] < 3]
    if low:
        print("in fewer than 3 sentences:", " ".join(low))

    with open(os.path.join(HERE, "prelabel.tsv"), encoding="utf-8") as handle:
        pre = [line.rstrip("\n").split("\t") for line in handle if line.strip()]
    all_agree = sum(a == b == c for _, a, b, c in pre)
    print(f"pre-labels: the three systems agree on every character of {all_agree}/{len(pre)} sentences")
    changed = Counter()
    for text, *systems in pre:
        cols = [s.split() for s in systems]
        for k, reading in enumerate(gold[text]):
            votes = Counter(c[k] for c in cols)
            top, n = votes.most_common(1)[0]
            majority = top if n >= 2 else cols[0][k]
            changed["disagreement"] += len(votes) > 1
            changed["gold differs from the majority"] += reading != majority
            changed["gold differs from all three"] += all(c[k] != reading for c in cols)
    for key, n in changed.items():
        print(f"pre-labels: characters with {key}: {n}" if key == "disagreement" else f"pre-labels: {key}: {n}")

    second = labels(os.path.join(HERE, "second_pass.tsv"))
    same_chars = total_chars = same_sents = 0
    diffs = []
    for text, rs in second.items():
        first = gold[text]
        agree = [a == b for a, b in zip(first, rs)]
        same_chars += sum(agree)
        total_chars += len(agree)
        same_sents += all(agree)
        han = [ch for ch in text if is_han(ch)]
        diffs.extend(f"{text}: {han[i]} first {first[i]} second {rs[i]}"
                     for i, ok in enumerate(agree) if not ok)
    print(f"second pass: {len(second)} sentences, {total_chars} characters; agreement per character "
          f"{same_chars}/{total_chars} = {same_chars / total_chars:.2%}, per sentence "
          f"{same_sents}/{len(second)} = {same_sents / len(second):.2%}")
    for line in diffs:
        print("  ", line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
