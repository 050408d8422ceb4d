"""What each word of the neutral-tone lexicon (pinyin_edge/neutral.tsv) wins and costs, on dev sets and
training data only: the default bundle with and without the lexicon, label by label.

Per word (a label counts for the lexicon word whose segment covers it): the net labels it wins on the
everyday dev half, and the net labels it costs on CPP dev and g2pL dev (both label in citation tone:
衣服 fu2); plus the g2pL train labels inside the word that disagree with its reading, a larger sample of
the same convention (no model needed: the lexicon word decides there). ``expected cost`` is what the
word is expected to cost CPP test and g2pL test (CPP dev, plus g2pL train and dev scaled to one split:
(train + dev) / 4); a word whose expected cost exceeds its everyday dev wins is listed as a drop.

    python benchmarks/everyday/neutral_tradeoff.py [--data ../shared/data] [--table FILE] [--bundle default]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def sets(data: str):
    from pinyin_edge.data import read_cpp, read_sentence_tsv

    return {"everyday": read_sentence_tsv(os.path.join(HERE, "dev.tsv")),
            "cpp": read_cpp(os.path.join(data, "polyphone", "cpp", "dev.sent")),
            "g2pl": read_cpp(os.path.join(data, "polyphone", "g2pl", "dev.sent"))}


def predict(data: str, table: str, bundle: str, out: str) -> None:
    """Predictions of every set with ``table`` as the lexicon (a fresh process: the tables load once)."""
    from pinyin_edge import neutral

    neutral.PATH = table
    from pinyin_edge.runtime.g2p import G2P

    g2p = G2P(model=None if bundle == "default" else bundle)
    got = {name: g2p.pinyin_batch([ex.text for ex in ds], style="tone3") for name, ds in sets(data).items()}
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(got, handle, ensure_ascii=False)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    parser.add_argument("--table", default=None, help="the lexicon to weigh (default: the shipped one)")
    parser.add_argument("--bundle", default="default")
    parser.add_argument("--predict", nargs=2, metavar=("TABLE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path.insert(0, ROOT)
    if args.predict:
        predict(args.data, args.predict[0], args.bundle, args.predict[1])
        return 0
    from pinyin_edge import neutral
    from pinyin_edge.data import read_cpp

    table = os.path.abspath(args.table or neutral.PATH)
    with tempfile.TemporaryDirectory() as tmp:
        empty = os.path.join(tmp, "empty.tsv")
        open(empty, "w").close()
        runs = []
        for name, lexicon in (("without", empty), ("with", table)):
            out = os.path.join(tmp, f"{name}.json")
            subprocess.run([sys.executable, __file__, "--data", args.data, "--bundle", args.bundle,
                            "--predict", lexicon, out], check=True)
            with open(out, encoding="utf-8") as handle:
                runs.append(json.load(handle))
    neutral.PATH = table
    from pinyin_edge.dictionaries import dictionaries
    from pinyin_edge.runtime.phrases import phrase_words

    lexicon = neutral.read_lexicon(dictionaries().chars)

    def word_at(text, spans, offset):
        """(the lexicon word whose segment covers ``offset``, its start), else (None, 0)."""
        return next(((text[s:e], s) for s, e in spans if s <= offset < e and text[s:e] in lexicon), (None, 0))

    net = {name: Counter() for name in ("everyday", "cpp", "g2pl")}
    outside = Counter()
    for name, ds in sets(args.data).items():
        for ex, before, after in zip(ds, runs[0][name], runs[1][name]):
            spans = None
            for offset, gold in ex.labels:
                change = (after[offset] == gold) - (before[offset] == gold)
                if change:
                    spans = spans if spans is not None else phrase_words(ex.text)
                    word, _ = word_at(ex.text, spans, offset)
                    if word is None:
                        outside[name] += change
                    else:
                        net[name][word] += change
    train = Counter()
    for ex in read_cpp(os.path.join(args.data, "polyphone", "g2pl", "train.sent")):
        spans = phrase_words(ex.text)
        for offset, gold in ex.labels:
            word, start = word_at(ex.text, spans, offset)
            if word and lexicon[word].split(" ")[offset - start] != gold:
                train[word] += 1
    print("| word | readings | everyday dev | CPP dev | g2pL dev | g2pL train disagreeing | expected cost | verdict |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    words = set().union(*net.values(), train)
    drops = []
    for word in sorted(words, key=lambda w: (net["everyday"][w], w)):
        cost = -net["cpp"][word] + (train[word] - net["g2pl"][word]) / 4
        verdict = "drop" if cost > net["everyday"][word] else "keep"
        if verdict == "drop":
            drops.append(word)
        print(f"| {word} | {lexicon[word]} | {net['everyday'][word]:+d} | {net['cpp'][word]:+d} | "
              f"{net['g2pl'][word]:+d} | {train[word]} | {cost:.2f} | {verdict} |")
    print(f"\nlabels changed outside lexicon words: {dict(outside)}")
    print(f"drops ({len(drops)}): {' '.join(sorted(drops))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
