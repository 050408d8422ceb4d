"""Score systems on the everyday halves: character error rate and sentence accuracy (every Han
character right), strict and with the neutral tone forgiven (a gold ``X5`` matched by any tone of
syllable X, to separate the neutral-tone convention from other errors); and the most common error
types of one system on one half.

    python benchmarks/everyday/measure.py                       # the table (both halves, four systems)
    python benchmarks/everyday/measure.py --errors dev --top 30 # error types of the default bundle on dev
    python benchmarks/everyday/measure.py --errors dev --skip-neutral  # the same, neutral tone forgiven
"""
from __future__ import annotations

import argparse
import os
import sys
from collections import Counter, defaultdict

from pinyin_edge.data import read_sentence_tsv
from pinyin_edge.evaluation.systems import make_system

HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEMS = (("edge (default bundle)", "edge", None), ("edge (fast bundle)", "edge", "fast"),
           ("pypinyin", "pypinyin", None), ("g2pM", "g2pm", None))


def lenient(gold: str, guess: str) -> bool:
    return guess == gold or (gold.endswith("5") and guess[:-1] == gold[:-1])


def score(system, dataset):
    predicted = system.predict([ex.text for ex in dataset])
    chars = wrong = wrong_len = sents = sents_len = 0
    errors = []
    for ex, out in zip(dataset, predicted):
        bad = [(o, g, out[o]) for o, g in ex.labels if out[o] != g]
        bad_len = [b for b in bad if not lenient(b[1], b[2])]
        chars += len(ex.labels)
        wrong += len(bad)
        wrong_len += len(bad_len)
        sents += not bad
        sents_len += not bad_len
        errors.extend((ex.text, o, g, p) for o, g, p in bad)
    n = len(dataset.examples)
    return {"chars": chars, "cer": wrong / chars, "sent": sents / n, "cer_len": wrong_len / chars,
            "sent_len": sents_len / n, "sentences": n}, errors


def context(text: str, offset: int, width: int = 3) -> str:
    return text[max(0, offset - width):offset] + "[" + text[offset] + "]" + text[offset + 1:offset + 1 + width]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--errors", choices=("dev", "test"), help="list error types of the default bundle")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--skip-neutral", action="store_true",
                        help="with --errors: leave out a gold neutral tone read with the right syllable")
    args = parser.parse_args(argv)
    halves = {name: read_sentence_tsv(os.path.join(HERE, f"{name}.tsv")) for name in ("dev", "test")}
    if args.errors:
        _, errors = score(make_system("edge"), halves[args.errors])
        if args.skip_neutral:
            errors = [e for e in errors if not lenient(e[2], e[3])]
        types = Counter((t[o], g, p) for t, o, g, p in errors)
        examples = defaultdict(list)
        for t, o, g, p in errors:
            examples[(t[o], g, p)].append(context(t, o))
        print("| # | char | gold | ours | count | contexts |\n|---|---|---|---|---|---|")
        for rank, ((ch, g, p), n) in enumerate(types.most_common(args.top), 1):
            ctx = "、".join(list(dict.fromkeys(examples[(ch, g, p)]))[:3])
            print(f"| {rank} | {ch} | {g} | {p} | {n} | {ctx} |")
        return 0
    print("| system | half | characters | CER | sentence accuracy | CER, neutral tone forgiven | "
          "sentence accuracy, neutral tone forgiven |\n|---|---|---|---|---|---|---|")
    for label, name, model in SYSTEMS:
        system = make_system(name, model=model)
        for half, dataset in halves.items():
            s, _ = score(system, dataset)
            print(f"| {label} | {half} | {s['chars']} | {s['cer']:.2%} | {s['sent']:.2%} | "
                  f"{s['cer_len']:.2%} | {s['sent_len']:.2%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
