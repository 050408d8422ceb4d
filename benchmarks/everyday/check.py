"""Check the everyday set and print its figures: format, size, polyphone coverage, the consistency
check (the first annotator's second pass over a 10% sample) and the independent second pass over the
same sample, with its adjudicated disagreements.

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
        diffs.extend(f"{text}: {han[i]} gold {first[i]} consistency pass {rs[i]}"
                     for i, ok in enumerate(agree) if not ok)
    print(f"consistency pass (same annotator): {len(second)} sentences, {total_chars} characters; agreement per character "
          f"{same_chars}/{total_chars} = {same_chars / total_chars:.2%}, per sentence "
          f"{same_sents}/{len(second)} = {same_sents / len(second):.2%}")
    for line in diffs:
        print("  ", line)
    independent(gold)
    return 0


VERDICTS = ("first pass wrong", "second pass wrong", "debatable")


def independent(gold):
    """Agreement of the independent pass with the first labels, rebuilt from the adjudication table.

    Each disagreement is a row; the gold must hold the second pass's reading where the verdict is
    "first pass wrong" and the first pass's reading otherwise, so the table and the gold cannot drift.
    """
    second = labels(os.path.join(HERE, "independent_pass.tsv"))
    with open(os.path.join(HERE, "independent_pass_disagreements.tsv"), encoding="utf-8") as handle:
        rows = [line.rstrip("\n").split("\t") for line in handle.read().splitlines()[1:] if line.strip()]
    table = {}
    for text, offset, char, first, sec, verdict, _reason in rows:
        offset = int(offset)
        k = [i for i, ch in enumerate(text) if is_han(ch)].index(offset)
        if text[offset] != char or second[text][k] != sec or first == sec or verdict not in VERDICTS:
            raise SystemExit(f"independent_pass_disagreements.tsv: bad row {text} {offset}")
        if gold[text][k] != (sec if verdict == "first pass wrong" else first):
            raise SystemExit(f"independent_pass_disagreements.tsv: gold does not follow the verdict: {text}")
        table[(text, k)] = verdict
    for text, rs in second.items():
        for k, (g, r) in enumerate(zip(gold[text], rs)):
            if g != r and (text, k) not in table:
                raise SystemExit(f"independent pass differs from the gold outside the table: {text} #{k}")
    chars = sum(len(rs) for rs in second.values())
    items = len({text for text, _ in table})
    print(f"independent pass: {len(second)} sentences, {chars} characters; agreement with the first labels "
          f"per character {chars - len(table)}/{chars} = {(chars - len(table)) / chars:.2%}, per sentence "
          f"{len(second) - items}/{len(second)} = {(len(second) - items) / len(second):.2%}")
    counts = Counter(table.values())
    print("independent pass: disagreements by verdict: " + ", ".join(f"{v} {counts[v]}" for v in VERDICTS))


if __name__ == "__main__":
    sys.exit(main())
