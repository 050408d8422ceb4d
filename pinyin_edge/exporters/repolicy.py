"""Change the policy of a bundle that already exists: the graph is copied unchanged.

    pinyin-edge repolicy BUNDLE --out DIR [--word-exceptions-from GOLD.tsv ...] [--context N]
                                          [--memo-from TEXT.txt ...]

``pinyin-edge export --word-exceptions-from`` does the same from a checkpoint. This is for a bundle
whose checkpoint is gone (the shipped ones): word exceptions, the context width and the memo are policy
in the manifest, not weights. The positions of characters the bundle reads from its dictionary (fixed
readings) are not excepted, so what they read stays as it was; a fresh export may differ there (it
decides the fixed readings after the exceptions). The memo is built last, from the model's decisions
under the new policy (see :mod:`~pinyin_edge.runtime.memo`). The manifest records what was changed,
when, from which bundle. Measure the result before shipping it (``pinyin-edge card``): nothing here
checks accuracy.
"""
from __future__ import annotations

import os
import time
from typing import Callable, NamedTuple, Optional, Sequence, Union

from ..bundle import BundleError, data_record, load_bundle, valid_context, write_bundle
from .policy import benchmark_sentences, memo_contexts, memo_table, set_word_exceptions

KEEP = "keep"


class MemoSettings(NamedTuple):
    """Where the memo's texts come from and which contexts it keeps (see :func:`memo_table`)."""

    paths: Sequence[str]
    exclude: Sequence[str] = ()  # benchmark sentence files (X.sent) whose sentences are never read
    min_count: int = 5
    min_side_count: int = 50
    min_share: float = 1.0


def add_word_exceptions(bundle: str, out: str, paths: Sequence[str], min_count: int = 1,
                        min_disagreement: float = 0.5) -> int:
    """Write ``bundle`` with word exceptions learnt from ``paths`` to ``out``; returns how many phrases."""
    return repolicy(bundle, out, paths, min_count, min_disagreement)["word_exceptions"]


def repolicy(bundle: str, out: str, word_exceptions_from: Sequence[str] = (), min_count: int = 1,
             min_disagreement: float = 0.5, context: Union[int, None, str] = KEEP,
             memo: Optional[MemoSettings] = None, log: Optional[Callable[[str], None]] = None) -> dict:
    """Write ``bundle`` to ``out`` with word exceptions from ``word_exceptions_from`` (if any), the
    ``context`` (``KEEP``: the bundle's) and a memo (if ``memo``); returns what was done."""
    if os.path.abspath(out) == os.path.abspath(bundle):
        raise ValueError("--out must differ from BUNDLE: measure the new bundle before replacing the old one")
    if context != KEEP and not valid_context(context):
        raise ValueError(f"context must be a positive number of tokens or None, not {context!r}")
    manifest, graph = load_bundle(bundle)
    date = {"graph_sha256": manifest.graph_sha256, "date": time.strftime("%Y-%m-%d")}
    done = {"word_exceptions": len(manifest.phrase_word_exceptions), "context": manifest.context, "memo": 0}
    if manifest.memo:
        raise BundleError(f"{bundle}: already has a memo; start from a bundle without one")
    if word_exceptions_from:
        if not manifest.phrases:
            raise BundleError(f"{bundle}: the model decides every polyphone (no phrase policy): "
                              "word exceptions would change nothing")
        if manifest.phrase_word_exceptions:
            raise BundleError(f"{bundle}: already has {len(manifest.phrase_word_exceptions)} word exceptions "
                              f"(metrics.phrase_word_exceptions); start from a bundle without them")
        set_word_exceptions(manifest, word_exceptions_from, min_count, min_disagreement)
        manifest.metrics["phrase_word_exceptions"]["added_to"] = dict(date)
        done["word_exceptions"] = len(manifest.phrase_word_exceptions)
    if context != KEEP and context != manifest.context:
        manifest.metrics["context"] = {"from": manifest.context, "to": context, **date}
        manifest.context = done["context"] = context
    write_bundle(out, manifest, graph)
    if memo is not None:
        contexts, texts = memo_contexts(out, memo.paths, benchmark_sentences(memo.exclude), log=log)
        manifest.memo = memo_table(contexts, memo.min_count, memo.min_side_count, memo.min_share)
        done["memo"] = sum(len(keys) // 3 for keys in manifest.memo.values())
        manifest.metrics["memo"] = {
            "from": data_record(memo.paths), "texts": texts, "excluded": data_record(memo.exclude),
            "min_count": memo.min_count, "min_side_count": memo.min_side_count, "min_share": memo.min_share,
            "keys": done["memo"], **date}
        write_bundle(out, manifest, graph)
    return done
