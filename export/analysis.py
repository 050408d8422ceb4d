"""Recipe analyses on the CPP dev selection slice (never a test set). Each prints accuracy over the
slice's labels, deciding through the runtime's decision policy (the bundle's phrase policy and
exceptions) unless told otherwise.

    python export/analysis.py ensemble BUNDLE [--dev runs/data/dev_cpp.tsv]
        our candidate probabilities x g2pM's ^ w, for several w: what a g2pM teacher could add
    python export/analysis.py priors BUNDLE --cpp-train runs/data/gold_cpp.tsv --train runs/data/gold_train.tsv
        label-shift correction toward CPP's reading priors: tau x log(p_cpp / p_train) added to the logits
    python export/analysis.py gold-only BUNDLE --checkpoint CKPT --train GOLD.tsv...
        which polyphones the model should decide: on pypinyin's own phrases (each alone, the model
        deciding), the model against pypinyin's default reading, by whether gold labels taught the
        character and by how many labels (gold + weak) it was trained on. Not the dev slice: its
        characters are nearly all gold ones. BUNDLE must decide every trained polyphone (no --gold-from).
    python export/analysis.py context BUNDLE --labelled DEV... --text CORPUS... [--contexts 4 6 8 12]
        how much text the model must read around the characters it decides: per context, accuracy on
        the labelled files, the share of model decisions on unlabelled text that differ from whole
        windows, the tokens run per text and the p50 time per text at batch 1
"""
from __future__ import annotations

import argparse
import collections
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from pinyin_edge.data import Example, read_labelled
from pinyin_edge.runtime.policy import DecisionPolicy
from pinyin_edge.runtime.predictor import Predictor

# (text, offset, candidates, the model's log-probabilities over them) -> the scores a choice is made on
Adjust = Callable[[str, int, Tuple[str, ...], np.ndarray], np.ndarray]


class Rescored:
    """The bundle's model as the runtime decision policy's scorer, each choice made on ``adjust``'s
    scores instead of the model's own."""

    def __init__(self, predictor: Predictor, adjust: Adjust):
        self.predictor, self.adjust = predictor, adjust

    def best_readings(self, texts: Sequence[str], skip=None) -> List[Dict[int, str]]:
        out = []
        for text, scored in zip(texts, self.predictor.probabilities(texts, skip=skip)):
            chosen = {}
            for offset, p in scored.items():
                cands = self.predictor.candidates(text[offset])
                chosen[offset] = cands[int(np.argmax(self.adjust(text, offset, cands, np.log(p + 1e-12))))]
            out.append(chosen)
        return out


def accuracy(predictor: Predictor, examples: Sequence[Example], adjust: Adjust, phrases: bool = True) -> float:
    """The share of labels read right, deciding as the runtime does (the bundle's policy; with
    ``phrases`` False the model decides every polyphone it knows), the model's choices by ``adjust``."""
    policy = DecisionPolicy.from_manifest(predictor.manifest, phrases=None if phrases else False)
    scorer = Rescored(predictor, adjust)
    right = total = 0
    for start in range(0, len(examples), 64):
        batch = examples[start:start + 64]
        for example, decisions in zip(batch, policy.decide([e.text for e in batch], scorer)):
            right += sum(decisions.readings[offset] == gold for offset, gold in example.labels)
            total += len(example.labels)
    return right / max(1, total)


def ensemble(predictor: Predictor, examples: Sequence[Example]) -> None:
    from pinyin_edge.training.teachers import G2pMScorer

    g2pm = G2pMScorer()
    theirs: Dict[tuple, np.ndarray] = {}  # (text, offset) -> g2pM's log-probabilities (0: it does not decide)

    def log_probs(text: str, offset: int, cands: Tuple[str, ...]) -> np.ndarray:
        if (text, offset) not in theirs:
            offsets = predictor.decidable_offsets(text).tolist()
            found = g2pm.candidate_probs(text, offsets, [predictor.candidates(text[o]) for o in offsets])
            for o, p in zip(offsets, found):
                theirs[text, o] = np.zeros(len(predictor.candidates(text[o]))) if p is None else np.log(p + 1e-12)
        return theirs[text, offset]

    for phrases in (True, False):
        row = []
        for w in (0, 0.25, 0.5, 1, 2, 4, 100):
            def adjust(text, offset, cands, ours, w=w):
                return ours + w * log_probs(text, offset, cands)
            row.append(f"w={w}: {100 * accuracy(predictor, examples, adjust, phrases):.2f}")
        print("with phrase policy" if phrases else "model only        ", "  ".join(row))


def priors(predictor: Predictor, examples: Sequence[Example], cpp_train: str, train: Sequence[str]) -> None:
    def counts(paths):
        table = collections.defaultdict(collections.Counter)
        for path in paths:
            for char, reading in read_labelled(path).labelled_pairs():
                table[char][reading] += 1
        return table
    cpp, mixed = counts([cpp_train]), counts(train)

    def log_prior(table, char: str, cands: Tuple[str, ...], alpha: float) -> np.ndarray:
        seen = table.get(char, {})
        total = sum(seen.values()) + alpha * len(cands)
        return np.log([(seen.get(c, 0) + alpha) / total for c in cands])
    for alpha in (0.5, 1.0, 3.0):
        row = []
        for tau in (0, 0.1, 0.3, 0.5, 1.0):
            def adjust(text, offset, cands, ours, tau=tau, alpha=alpha):
                char = text[offset]
                return ours + tau * (log_prior(cpp, char, cands, alpha) - log_prior(mixed, char, cands, alpha))
            row.append(f"tau={tau}: {100 * accuracy(predictor, examples, adjust):.2f}")
        print(f"alpha {alpha}", "  ".join(row))


def gold_only(bundle: str, checkpoint: str, gold_files: Sequence[str], per_char: int = 30) -> None:
    import json
    import os

    from pinyin_edge import G2P
    from pinyin_edge.dictionaries import dictionaries
    from pinyin_edge.exporters.policy import gold_decided

    with open(os.path.join(checkpoint, "polyphone.json"), encoding="utf-8") as handle:
        trained = json.load(handle)["trained_counts"]
    golden = set(gold_decided(gold_files, trained)[0])
    tables = dictionaries()
    g2p = G2P(bundle, phrases=False)  # the model decides every polyphone it knows
    items: Dict[str, list] = collections.defaultdict(list)
    for word, value in sorted(tables.words.items()):
        for offset, reading in tables.word_readings(word):
            char = word[offset]
            if char in trained and g2p.predictor.is_decidable(char) and len(items[char]) < per_char:
                items[char].append((word, offset, reading))
    words = sorted({w for rows in items.values() for w, _, _ in rows})
    read = dict(zip(words, g2p.pinyin_batch(words)))
    bins = ((1, 5), (5, 20), (20, 50), (50, 100), (100, None))
    stats: Dict[tuple, list] = collections.defaultdict(lambda: [0, 0, 0, set()])
    for char, rows in items.items():
        n = trained[char]
        span = next(b for b in bins if n >= b[0] and (b[1] is None or n < b[1]))
        key = ("gold" if char in golden else "weak only", span)
        for word, offset, reading in rows:
            stat = stats[key]
            stat[0] += 1
            stat[1] += read[word][offset] == reading
            stat[2] += tables.char_readings(char)[0] == reading
            stat[3].add(char)
    print("taught by    labels     chars  phrases  model%  default%")
    for (taught, (lo, hi)), (n, model, default, chars) in sorted(stats.items()):
        span = f"{lo}-{hi - 1}" if hi else f"{lo}+"
        print(f"{taught:<12} {span:<10} {len(chars):>5}  {n:>7}  {100 * model / n:6.1f}  {100 * default / n:8.1f}")


def context_sweep(bundle: str, labelled: Sequence[str], texts: Sequence[str], contexts: Sequence[int],
                  max_texts: int = 3000) -> None:
    import time

    from pinyin_edge import G2P
    from pinyin_edge.data import read_many

    g2p = G2P(bundle)
    predictor = g2p.predictor
    examples = read_many(list(labelled)).examples
    corpus: List[str] = []
    for path in texts:
        with open(path, encoding="utf-8") as handle:
            corpus.extend(line.strip() for _, line in zip(range(max_texts // len(texts)), handle) if line.strip())

    def run(context):
        predictor.context = context
        read = g2p.pinyin_batch([ex.text for ex in examples])
        correct = sum(read[i][offset] == gold for i, ex in enumerate(examples) for offset, gold in ex.labels)
        decided = predictor.best_readings(corpus)
        tokens = sum(w.length + 2 for w in predictor.plan(corpus))
        times = []
        for text in corpus[:1000]:
            began = time.perf_counter()
            g2p.pinyin(text)
            times.append(time.perf_counter() - began)
        return correct, decided, tokens, 1000 * float(np.median(times))

    total = sum(len(ex.labels) for ex in examples)
    _, whole, _, _ = run(None)
    print(f"{total} labels in {', '.join(labelled)}; {len(corpus)} unlabelled texts "
          f"({sum(len(d) for d in whole)} model decisions)")
    print("context  accuracy  changed   tokens  p50 ms")
    for context in [None] + list(contexts):
        correct, decided, tokens, p50 = run(context)
        changed = sum(a[o] != b[o] for a, b in zip(whole, decided) for o in a)
        name = "whole" if context is None else str(context)
        print(f"{name:>7}  {100 * correct / total:8.2f}  {changed:7d}  {tokens:7d}  {p50:6.3f}", flush=True)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("analysis", choices=("ensemble", "priors", "gold-only", "context"))
    parser.add_argument("bundle")
    parser.add_argument("--dev", default="runs/data/dev_cpp.tsv", help="the selection slice")
    parser.add_argument("--cpp-train", help="priors: CPP's gold training part")
    parser.add_argument("--train", nargs="+", help="priors, gold-only: every gold training file, as the model saw them")
    parser.add_argument("--checkpoint", help="gold-only: the bundle's checkpoint (its trained label counts)")
    parser.add_argument("--labelled", nargs="+", help="context: labelled held-out files")
    parser.add_argument("--text", nargs="+", help="context: unlabelled text files (one text per line)")
    parser.add_argument("--contexts", nargs="+", type=int, default=[4, 6, 8, 12, 16])
    args = parser.parse_args(argv)
    if args.analysis == "context":
        if not (args.labelled and args.text):
            parser.error("context needs --labelled and --text")
        context_sweep(args.bundle, args.labelled, args.text, args.contexts)
        return
    if args.analysis == "gold-only":
        if not (args.checkpoint and args.train):
            parser.error("gold-only needs --checkpoint and --train")
        gold_only(args.bundle, args.checkpoint, args.train)
        return
    if args.analysis == "priors" and not (args.cpp_train and args.train):
        parser.error("priors needs --cpp-train and --train")
    predictor = Predictor(args.bundle)
    examples = read_labelled(args.dev).examples
    print(f"{sum(len(e.labels) for e in examples)} labels on {args.dev}")
    if args.analysis == "ensemble":
        ensemble(predictor, examples)
    else:
        priors(predictor, examples, args.cpp_train, args.train)


if __name__ == "__main__":
    main()
