"""Add phrase word exceptions to a bundle that already exists: the graph is copied unchanged.

    python -m pinyin_edge.exporters.repolicy BUNDLE --out DIR --word-exceptions-from GOLD.tsv ...

``pinyin-edge export --word-exceptions-from`` does the same from a checkpoint. This is for a bundle
whose checkpoint is gone (the shipped ones, session 9): word exceptions are policy in the manifest,
not weights. The positions of characters the bundle reads from its dictionary (fixed readings) are
not excepted, so what they read stays as it was; a fresh export may differ there (it decides the
fixed readings after the exceptions). The manifest records what was added, when, from which bundle.
Measure the result before shipping it (``export/model_card.py``): nothing here checks accuracy.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import List, Sequence

from ..bundle import BundleError, load_bundle, write_bundle
from .policy import set_word_exceptions


def add_word_exceptions(bundle: str, out: str, paths: Sequence[str], min_count: int = 1,
                        min_disagreement: float = 0.5) -> int:
    """Write ``bundle`` with word exceptions learnt from ``paths`` to ``out``; returns how many phrases."""
    manifest, graph = load_bundle(bundle)
    if not manifest.phrases:
        raise BundleError(f"{bundle}: the model decides every polyphone (no phrase policy): "
                          "word exceptions would change nothing")
    if manifest.phrase_word_exceptions:
        raise BundleError(f"{bundle}: already has {len(manifest.phrase_word_exceptions)} word exceptions "
                          f"(metrics.phrase_word_exceptions); start from a bundle without them")
    set_word_exceptions(manifest, paths, min_count, min_disagreement)
    manifest.metrics["phrase_word_exceptions"]["added_to"] = {
        "graph_sha256": manifest.graph_sha256,
        "date": time.strftime("%Y-%m-%d")}
    write_bundle(out, manifest, graph)
    return len(manifest.phrase_word_exceptions)


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle")
    parser.add_argument("--out", required=True, help="bundle directory to write (not BUNDLE itself)")
    parser.add_argument("--word-exceptions-from", nargs="+", required=True, metavar="FILE",
                        help="the labelled gold files the bundle's weights learnt from")
    parser.add_argument("--min-count", type=int, default=1)
    parser.add_argument("--min-disagreement", type=float, default=0.5)
    args = parser.parse_args(argv)
    if os.path.abspath(args.out) == os.path.abspath(args.bundle):
        parser.error("--out must differ from BUNDLE: measure the new bundle before replacing the old one")
    missing = [p for p in args.word_exceptions_from if not os.path.isfile(p)]
    if missing:
        parser.error(f"no such file: {', '.join(missing)}")
    try:
        count = add_word_exceptions(args.bundle, args.out, args.word_exceptions_from, args.min_count,
                                    args.min_disagreement)
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.out}: {count} phrases with word exceptions; graph unchanged", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
