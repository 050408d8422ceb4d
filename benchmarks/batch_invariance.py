"""Does every text read the same alone and in a batch? Counts over labelled or plain text files.

    python benchmarks/batch_invariance.py --model BUNDLE DATA... [--sizes 1 7 64] [--json OUT]

Each text is converted alone (``G2P.pinyin``), then the texts are shuffled (seed: the batch size)
and converted in batches of each size (``G2P.pinyin_batch``); a text counts as differing when any
reading differs. ``DATA``: CPP-style ``X.sent`` (markers removed), ``.tsv`` or one text a line.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from typing import Dict, List, Sequence


def read_texts(paths: Sequence[str]) -> List[str]:
    from pinyin_edge.data import iter_corpus, read_labelled

    texts: List[str] = []
    for path in paths:
        if path.endswith((".sent", ".tsv")):
            texts.extend(ex.text for ex in read_labelled(path, skip_bad=True))
        else:
            texts.extend(iter_corpus([path]))
    return texts


def check(g2p, texts: Sequence[str], sizes: Sequence[int]) -> Dict[str, Dict[str, object]]:
    alone = [g2p.pinyin(t) for t in texts]
    out = {}
    for size in sizes:
        order = list(range(len(texts)))
        random.Random(size).shuffle(order)
        differ: List[int] = []
        for start in range(0, len(order), size):
            chunk = order[start:start + size]
            for i, got in zip(chunk, g2p.pinyin_batch([texts[i] for i in chunk])):
                if got != alone[i]:
                    differ.append(i)
        out[str(size)] = {"texts": len(texts), "same": len(texts) - len(differ), "differ": len(differ),
                          "examples": [texts[i] for i in sorted(differ)[:5]]}
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", nargs="+")
    parser.add_argument("--model", default=None, help="bundle directory or bundled name (default: default)")
    parser.add_argument("--sizes", nargs="+", type=int, default=[1, 7, 64])
    parser.add_argument("--json", dest="json_out", default=None, help="also write the counts here")
    args = parser.parse_args(argv)
    from pinyin_edge import G2P

    began = time.time()
    g2p = G2P(model=args.model)
    result = {"model": args.model or "default", "data": args.data,
              "sizes": check(g2p, read_texts(args.data), args.sizes)}
    result["seconds"] = round(time.time() - began, 1)
    for size, counts in result["sizes"].items():
        print(f"batches of {size}: {counts['same']}/{counts['texts']} same, {counts['differ']} differ")
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as handle:
            json.dump(result, handle, ensure_ascii=False, indent=1)
    return 1 if any(c["differ"] for c in result["sizes"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
