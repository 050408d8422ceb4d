"""Whole-word readings: the k most probable readings of a word, with their joint probabilities.

A word is read by the decision policy (:mod:`pinyin_edge.runtime.policy`), then:

* **a word alone** that is itself a phrase of pypinyin's dictionary takes the phrase's reading at
  every position the model would decide (the bundle's phrase exceptions exist for running text, where
  context can overturn a phrase), unless the model reads that position otherwise with probability at
  least ``confidence`` (:data:`WORD_CONFIDENCE`);
* a user override or a dictionary decision is certain (probability 1); a model decision contributes
  its candidates' probabilities; a character without a reading stands for itself;
* the readings of the characters are independent given the text, so a word reading's probability is
  the product of its characters', and the k best come from a beam of width k (exact for products of
  independent factors: a prefix outside the k best prefixes has k better completions);
* a style that folds readings together (``normal`` folds tones) sums their probabilities.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from ..dictionaries import dictionaries
from .phrases import deciding_phrases, fallback_reading, phrase_lookup, phrase_readings
from .policy import Decisions, DecisionPolicy, Ranked
from .sandhi import SANDHI_FORMS

# A word alone: the model overrules the word's dictionary phrase only at this probability or above.
# Sentence labels favour the model (words cut from labelled dev sentences, benchmarks/words.py: 97.69%
# at 0.5, 97.46% at 0.95), but many of those disagreements are the labels' conventions against standard
# dictionary readings (调试 tiao2, 供暖 gong1, 作坊 fang5), and a word alone stands for its dictionary
# entry: 0.95 keeps the entries the model doubts alone (生还 hai2 at 0.93, 外行 xing2 at 0.92).
WORD_CONFIDENCE = 0.95


class WordReading(NamedTuple):
    """One reading of a whole word: one item per character (styled; a character without a reading
    as itself) and its probability."""

    pinyin: Tuple[str, ...]
    probability: float

    def to_dict(self) -> Dict[str, object]:
        return {"pinyin": list(self.pinyin), "probability": self.probability}


def position_candidates(word: str, decisions: Decisions, confidence: float = WORD_CONFIDENCE) -> List[Ranked]:
    """Per character of ``word`` (its policy ``decisions``, ranked): the readings it may take with
    their probabilities, after the word-alone rule; ``()`` for a character without a reading."""
    candidates = list(decisions.candidates or ())
    phrase = dict(dictionaries().word_readings(word)) if len(word) > 1 else {}
    for offset, source in enumerate(decisions.sources):
        if source == "model":
            ranked = candidates[offset]
            wanted = phrase.get(offset)
            if wanted is not None and not (ranked[0][0] != wanted and ranked[0][1] >= confidence):
                candidates[offset] = ((wanted, 1.0),)
        elif source != "none":  # user or dictionary: certain
            candidates[offset] = ((decisions.readings[offset], 1.0),)
    return candidates


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
               render: Callable[[str], str], confidence: float = WORD_CONFIDENCE) -> List[List[WordReading]]:
    """Per word, its ``k`` best readings (styled by ``render``) from its ranked policy decisions."""
    check_k(k)
    out = []
    for word, decided in zip(words, decisions):
        positions = [styled(ranked, render) if ranked else [(char, 1.0)]
                     for char, ranked in zip(word, position_candidates(word, decided, confidence))]
        out.append(k_best(positions, k))
    return out


def certain_readings(word: str, policy: DecisionPolicy, scorer) -> Optional[List[Optional[str]]]:
    """The policy's readings of ``word`` alone when neither the model nor an override takes part
    (every polyphone the scorer knows inside a deciding dictionary phrase, every other character
    fixed by the dictionary), else None: a shortcut that skips the scorer's planning, equal to
    :func:`read_words` on the policy's decisions (tests compare them)."""
    if any(c in SANDHI_FORMS for c in word):
        return None
    found: Optional[Dict[int, str]] = None
    deciding: Dict[int, str] = {}
    if policy.phrases:
        found, excepted = phrase_lookup(word, policy.word_exceptions)
        deciding = deciding_phrases(word, found, policy.exceptions, excepted)
    out: List[Optional[str]] = []
    for i, char in enumerate(word):
        if i in deciding:
            if policy.table.is_polyphone(char):
                out.append(deciding[i])
                continue
        elif scorer.is_decidable(char):
            return None
        reading, source = policy.static_cache.get(char) or policy.static(char)
        if source == "fallback":
            if found is None:
                found = phrase_readings(word)
            reading = fallback_reading(i, found, policy.table.get(char))
        out.append(reading)
    return out


def word_readings(words: Sequence[str], policy: DecisionPolicy, scorer, users: Sequence[Mapping[int, str]],
                  k: int, render: Callable[[str], str], confidence: float = WORD_CONFIDENCE
                  ) -> List[List[WordReading]]:
    """Per word, its ``k`` best readings: dictionary words without overrides directly (certain),
    the others through the policy and the scorer, batched."""
    check_k(k)
    out: List[Optional[List[WordReading]]] = [None] * len(words)
    rest: List[int] = []
    for i, (word, user) in enumerate(zip(words, users)):
        got = None if user else certain_readings(word, policy, scorer)
        if got is None:
            rest.append(i)
        else:
            out[i] = [WordReading(tuple(c if r is None else render(r) for c, r in zip(word, got)), 1.0)]
    if rest:
        texts = [words[i] for i in rest]
        decided = policy.decide(texts, scorer, True, [users[i] for i in rest])
        for i, got in zip(rest, read_words(texts, decided, k, render, confidence)):
            out[i] = got
    return out  # type: ignore[return-value]
