"""Split everyday.tsv into dev and test halves (seeded shuffle, committed outputs), and draw the
second-pass sample (a seeded 10% of all sentences, texts only) for the agreement check.

    python benchmarks/everyday/split.py            # writes dev.tsv, test.tsv, second_pass_sample.txt
"""
from __future__ import annotations

import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261203


def main() -> int:
    with open(os.path.join(HERE, "everyday.tsv"), encoding="utf-8") as handle:
        lines = [line for line in handle if line.strip()]
    order = list(range(len(lines)))
    random.Random(SEED).shuffle(order)
    half = len(order) // 2
    for name, part in (("dev.tsv", sorted(order[:half])), ("test.tsv", sorted(order[half:]))):
        with open(os.path.join(HERE, name), "w", encoding="utf-8") as handle:
            handle.writelines(lines[i] for i in part)
    sample = sorted(random.Random(SEED + 1).sample(range(len(lines)), round(len(lines) * 0.1)))
    with open(os.path.join(HERE, "second_pass_sample.txt"), "w", encoding="utf-8") as handle:
        handle.writelines(lines[i].split("\t")[0] + "\n" for i in sample)
    print(f"dev {half}, test {len(lines) - half}, second-pass sample {len(sample)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
