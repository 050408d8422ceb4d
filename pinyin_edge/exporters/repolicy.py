"""Add phrase word exceptions to a bundle that already exists: the graph is copied unchanged.

    pinyin-edge repolicy BUNDLE --out DIR --word-exceptions-from GOLD.tsv ...

``pinyin-edge export --word-exceptions-from`` does the same from a checkpoint. This is for a bundle
whose checkpoint is gone (the shipped ones): word exceptions are policy in the manifest,
not weights. The positions of characters the bundle reads from its dictionary (fixed readings) are
not excepted, so what they read stays as it was; a fresh export may differ there (it decides the
fixed readings after the exceptions). The manifest records what was added, when, from which bundle.
Measure the result before shipping it (``pinyin-edge card``): nothing here checks accuracy.
"""
from __future__ import annotations

import os
import time
from typing import Sequence

from ..bundle import BundleError, load_bundle, write_bundle
from .policy import set_word_exceptions


def add_word_exceptions(bundle: str, out: str, paths: Sequence[str], min_count: int = 1,
                        min_disagreement: float = 0.5) -> int:
    """Write ``bundle`` with word exceptions learnt from ``paths`` to ``out``; returns how many phrases."""
    if os.path.abspath(out) == os.path.abspath(bundle):
        raise ValueError("--out must differ from BUNDLE: measure the new bundle before replacing the old one")
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
