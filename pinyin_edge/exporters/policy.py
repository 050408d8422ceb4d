"""The runtime's decision policy, measured on labelled training data and recorded in the bundle.

pypinyin's phrase dictionary decides the polyphones inside its phrases (``Manifest.phrases``), but
for some characters its conventions are not the data's: it reads 陂 pi2 in phrases where CPP reads
bei1, 倒 dao3 where the data reads dao4. :func:`phrase_exceptions` finds the characters whose phrase
readings the labels contradict often enough; the runtime lets the model decide them everywhere.

:func:`gold_decided` keeps the model to the polyphones gold labels taught it. A polyphone it learnt from
weak labels alone learnt pypinyin's reading (the weak labels came from pypinyin's dictionary, or from a
teacher that did), and the dictionary reads it better than the model's imitation: on pypinyin's own
phrases, 98.3% against 98.7% for such characters seen 100+ times, 50.8% against 84.0% for those seen
under 5 (`export/README.md`). 〇 in dates and traditional characters (發, 題) were the visible cases.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Sequence, Tuple


def phrase_disagreement(paths: Sequence[str]) -> Dict[str, Tuple[int, int]]:
    """char -> (labels inside a dictionary phrase, how many of them the phrase reads otherwise)."""
    from ..data import read_many
    from ..runtime.phrases import phrase_readings

    counts: Dict[str, Tuple[int, int]] = {}
    for example in read_many(list(paths)):
        found = phrase_readings(example.text)
        for offset, reading in example.labels:
            if offset in found:
                char = example.text[offset]
                seen, wrong = counts.get(char, (0, 0))
                counts[char] = (seen + 1, wrong + (found[offset] != reading))
    return counts


def phrase_exceptions(paths: Sequence[str], decided: Iterable[str], min_count: int = 5,
                      min_disagreement: float = 0.3) -> Tuple[List[str], Dict[str, List[int]]]:
    """(characters the model should decide inside phrases too, their [labels, contradicted] counts).

    Only characters the model decides (``decided``) qualify; each needs ``min_count`` labels inside
    phrases, of which at least ``min_disagreement`` read otherwise than the phrase."""
    decided = set(decided)
    counts = phrase_disagreement(paths)
    chosen = sorted(c for c, (seen, wrong) in counts.items()
                    if c in decided and seen >= min_count and wrong / seen >= min_disagreement)
    return chosen, {c: list(counts[c]) for c in chosen}


def gold_decided(paths: Sequence[str], decided: Iterable[str]) -> Tuple[List[str], Dict[str, int]]:
    """(the ``decided`` characters that the gold files ``paths`` label, label count per character)."""
    from ..data import read_many

    counts: Dict[str, int] = {}
    for example in read_many(list(paths)):
        for offset, _ in example.labels:
            char = example.text[offset]
            counts[char] = counts.get(char, 0) + 1
    kept = sorted(c for c in set(decided) if counts.get(c))
    return kept, {c: counts[c] for c in kept}
