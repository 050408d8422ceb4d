"""Whole-word readings: the k most probable readings of a word, with their joint probabilities.

A word is read by the decision policy (:mod:`pinyin_edge.runtime.policy`), which also holds the
word-alone rule (a dictionary word given alone keeps its reading unless the model is confident
otherwise: :data:`~pinyin_edge.runtime.policy.ALONE_CONFIDENCE`). Then:

* a user override or a dictionary decision is certain (probability 1); a model decision contributes
  its candidates' probabilities; a character without a reading stands for itself;
* the readings of the characters are independent given the text, so a word reading's probability is
  the product of its characters', and the k best come from a beam of width k (exact for products of
  independent factors: a prefix outside the k best prefixes has k better completions);
* a style that folds readings together (``normal`` folds tones) sums their probabilities.
"""
from __future__ import annotations

from itertools import repeat
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

from .policy import Decisions, Ranked


class WordReading(NamedTuple):
    """One reading of a whole word: one item per character (styled; a character without a reading
    as itself) and its probability."""

    pinyin: Tuple[str, ...]
    probability: float

    def to_dict(self) -> Dict[str, object]:
        return {"pinyin": list(self.pinyin), "probability": self.probability}


def position_candidates(decisions: Decisions) -> List[Ranked]:
    """Per character (its policy ``decisions``, ranked): the readings it may take with their
    probabilities; ``()`` for a character without a reading."""
    return [ranked if source == "model" else () if source == "none" else ((reading, 1.0),)
            for ranked, reading, source in zip(decisions.candidates or (), decisions.readings, decisions.sources)]


def styled(ranked: Ranked, render: Callable[[str], str]) -> List[Tuple[str, float]]:
    """``ranked`` rendered, readings that render alike merged (probabilities summed), zero dropped,
    best first (ties keep the given order)."""
    merged: Dict[str, float] = {}
    for reading, p in ranked:
        if p > 0.0:
            key = render(reading)
            merged[key] = merged.get(key, 0.0) + p
    return sorted(merged.items(), key=lambda item: -item[1])


def k_best(positions: Sequence[Sequence[Tuple[str, float]]], k: int) -> List[WordReading]:
    """The ``k`` most probable sequences taking one item per position (products of probabilities)."""
    beam: List[Tuple[Tuple[str, ...], float]] = [((), 1.0)]
    for options in positions:
        extended = [(prefix + (item,), p * q) for prefix, p in beam for item, q in options]
        extended.sort(key=lambda pair: -pair[1])
        beam = extended[:k]
    return [WordReading(items, p) for items, p in beam]


def check_k(k) -> int:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive integer, not {k!r}")
    return k


def read_words(words: Sequence[str], decisions: Sequence[Decisions], k: int,
               render: Callable[[str], str]) -> List[List[WordReading]]:
    """Per word, its ``k`` best readings (styled by ``render``) from its ranked policy decisions
    (``ranked="model"`` is enough: only the model's positions have several options)."""
    check_k(k)
    if k == 1:
        return [[best] if best else [] for best in map(best_reading, words, decisions, repeat(render))]
    out = []
    for word, decided in zip(words, decisions):
        positions = [styled(ranked, render) if ranked else [(char, 1.0)]
                     for char, ranked in zip(word, position_candidates(decided))]
        out.append(k_best(positions, k))
    return out


def best_reading(word: str, decided: Decisions, render: Callable[[str], str]) -> Optional[WordReading]:
    """``k_best(positions, 1)`` of :func:`read_words` (None for its empty answer), without building
    every position's options: a beam of width 1 keeps each position's first (most probable) option,
    and a certain position multiplies by 1.0."""
    if "model" not in decided.sources:  # every position certain (a character without a reading as itself)
        return WordReading(tuple([char if reading is None else render(reading)
                                  for char, reading in zip(word, decided.readings)]), 1.0)
    items = []
    p = 1.0
    for char, reading, source, ranked in zip(word, decided.readings, decided.sources, decided.candidates):
        if source == "model":
            options = styled(ranked, render) if ranked else [(char, 1.0)]
            if not options:  # every candidate at probability 0: k_best has no sequence either
                return None
            item, q = options[0]
            items.append(item)
            p = p * q
        elif source == "none":
            items.append(char)
        else:
            items.append(render(reading))
    return WordReading(tuple(items), p)
