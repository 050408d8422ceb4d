"""The runtime's decision policy, measured on labelled training data and recorded in the bundle.

pypinyin's phrase dictionary decides the polyphones inside its phrases (``Manifest.phrases``), but
for some phrases its conventions are not the data's. :func:`phrase_word_exceptions` finds the phrase
positions whose reading the labels contradict often enough (倒是 dao3 shi4, 胸闷 xiong1 men1, where the
data reads dao4, men4): the model decides there, the phrase still decides elsewhere. Held
out (a student trained without g2pL dev, exceptions learnt without it) they took g2pL dev
from 96.78 to 97.64 (115 labels won, 17 lost) and left the CPP dev slice as it was.

:func:`gold_decided` keeps the model to the polyphones gold labels taught it. A polyphone it learnt from
weak labels alone learnt pypinyin's reading (the weak labels came from pypinyin's dictionary, or from a
teacher that did), and the dictionary reads it better than the model's imitation: on pypinyin's own
phrases, 98.3% against 98.7% for such characters seen 100+ times, 50.8% against 84.0% for those seen
under 5 (docs/tried.md). 〇 in dates and traditional characters (發, 題) were the visible cases.

:func:`fixed_readings` finds the polyphones the model always reads one way: on a sample of unlabelled
text it chose that reading nearly every time, and no gold label outside a deciding phrase reads the
character otherwise (和 he2, 给 gei3, 看 kan4; not 了, which gold reads liao3 outside phrases). The
bundle reads those from its dictionary instead, so the model runs for fewer characters (and fewer
texts at all) at no measured cost in accuracy.
"""
from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ..bundle import data_record

if TYPE_CHECKING:
    from ..bundle import Manifest


def phrase_word_disagreement(paths: Sequence[str]) -> Dict[Tuple[str, int], Tuple[int, int]]:
    """(phrase, position) -> (labels there, how many of them the phrase reads otherwise), comparing
    citation tones (一 and 不's sandhi forms count as their citation reading).

    Measured against pypinyin's phrases alone, without the neutral-tone lexicon: the lexicon sets the
    dictionary's light syllables (衣服 yi1 fu5) against the training labels' citation tones (fu2) on
    purpose, and exceptions learnt against it would hand those positions back to the model.

    A label where another dictionary word crosses the greedy word (系外行星: 外行 against 行星) is not
    counted: the runtime contests the phrase there anyway, and the label says the split was wrong,
    not the word (one such label made 外行 an exception, and 外行 given alone then read xing2)."""
    from ..data import read_many
    from ..dictionaries import compile_dictionaries
    from ..runtime.phrases import crossed_offsets, phrase_words
    from ..runtime.sandhi import citation_tone

    tables = compile_dictionaries(lexicon=False)
    counts: Dict[Tuple[str, int], Tuple[int, int]] = {}
    for example in read_many(list(paths)):
        labelled = dict(example.labels)
        text = example.text
        words = [(start, end, tables.word_readings(text[start:end]))  # one segmentation, as phrase_lookup's
                 for start, end in phrase_words(text, tables.words)]
        found = {start + at: reading for start, _, readings in words for at, reading in readings}
        for start, end, readings in words:
            word = text[start:end]
            crossed = crossed_offsets(text, start, end, found, tables)  # this word's, as the runtime's test
            for at, reading in readings:
                gold = labelled.get(start + at)
                if gold is not None and start + at not in crossed:
                    seen, wrong = counts.get((word, at), (0, 0))
                    counts[(word, at)] = (seen + 1, wrong + (citation_tone(word[at], reading) !=
                                                             citation_tone(word[at], gold)))
    return counts


def phrase_word_exceptions(paths: Sequence[str], decided: Iterable[str], min_count: int = 1,
                           min_disagreement: float = 0.5) -> Tuple[Dict[str, List[int]], Dict[str, List[List[int]]]]:
    """(phrase -> positions the model should decide, phrase -> [[position, labels, contradicted], ...]).

    A position qualifies when the model decides its character (``decided``) and, of at least
    ``min_count`` labels there, at least ``min_disagreement`` read otherwise than the phrase."""
    decided = set(decided)
    words: Dict[str, List[int]] = {}
    counts: Dict[str, List[List[int]]] = {}
    for (word, at), (seen, wrong) in sorted(phrase_word_disagreement(paths).items()):
        if word[at] in decided and seen >= min_count and wrong / seen >= min_disagreement:
            words.setdefault(word, []).append(at)
            counts.setdefault(word, []).append([at, seen, wrong])
    return words, counts


def decided_only(exceptions: Mapping[str, List[int]], decided: Iterable[str]) -> Dict[str, List[int]]:
    """``exceptions`` (phrase -> positions) kept where the model decides the character: anywhere else
    an exception would only swap the phrase's reading for the dictionary's."""
    decided = set(decided)
    kept = {phrase: [at for at in positions if phrase[at] in decided] for phrase, positions in exceptions.items()}
    return {phrase: positions for phrase, positions in kept.items() if positions}


def set_word_exceptions(manifest: "Manifest", paths: Sequence[str], min_count: int,
                        min_disagreement: float) -> None:
    """Learn the phrase word exceptions from the labelled ``paths`` and record them in ``manifest``."""
    words, counts = phrase_word_exceptions(paths, manifest.candidates, min_count, min_disagreement)
    manifest.phrase_word_exceptions = words
    manifest.metrics["phrase_word_exceptions"] = {
        "from": data_record(paths), "min_count": min_count,
        "min_disagreement": min_disagreement,
        "counts": counts}  # phrase -> [[position, labels there, read otherwise], ...]


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


def model_decisions(bundle: str, text_paths: Sequence[str], per_file: int = 3000, batch_size: int = 256,
                    log: Optional[Callable[[str], None]] = None) -> Tuple[Dict[str, Counter], int]:
    """(char -> how often the bundle's model chose each reading, texts read) over the first
    ``per_file`` non-empty lines of each text file, deciding as the runtime does."""
    from ..runtime.g2p import G2P

    g2p = G2P(bundle)
    texts: List[str] = []
    for path in text_paths:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = (line.strip() for line in handle)
            texts.extend(line for _, line in zip(range(per_file), (x for x in lines if x)))
    counts: Dict[str, Counter] = {}
    for start in range(0, len(texts), batch_size):
        for notes in g2p.annotate_batch(texts[start:start + batch_size]):
            for note in notes:
                if note.source == "model":
                    counts.setdefault(note.char, Counter())[note.reading] += 1
        if log and (start // batch_size) % 20 == 19:
            log(f"fixed readings: {start + batch_size}/{len(texts)} texts read")
    return counts, len(texts)


def gold_outside_phrases(paths: Sequence[str], phrases: bool = True,
                         word_exceptions: Optional[Mapping[str, Sequence[int]]] = None) -> Dict[str, Counter]:
    """char -> gold readings (citation tones) of its labels that no deciding phrase covers (with
    ``phrases`` off, none does)."""
    from ..data import read_many
    from ..runtime.phrases import deciding_phrases, phrase_lookup
    from ..runtime.sandhi import citation_tone

    counts: Dict[str, Counter] = {}
    for example in read_many(list(paths)):
        found, excepted = phrase_lookup(example.text, word_exceptions) if phrases else (None, ())
        covered = deciding_phrases(found, excepted)
        for offset, reading in example.labels:
            if offset not in covered:
                char = example.text[offset]
                counts.setdefault(char, Counter())[citation_tone(char, reading)] += 1
    return counts


def fixed_readings(decisions: Mapping[str, Counter], gold: Mapping[str, Counter], min_decisions: int = 100,
                   min_share: float = 0.999) -> Dict[str, Tuple[str, int, int]]:
    """char -> (its fixed reading, model decisions, gold labels) for each character the model read
    ``min_share`` of at least ``min_decisions`` times one way, that no gold label reads otherwise."""
    fixed = {}
    for char, counts in decisions.items():
        total = sum(counts.values())
        if total < min_decisions:
            continue
        reading, count = counts.most_common(1)[0]
        labels = gold.get(char, Counter())
        if count >= min_share * total and labels[reading] == sum(labels.values()):
            fixed[char] = (reading, total, labels[reading])
    return dict(sorted(fixed.items()))


def memo_contexts(bundle: str, text_paths: Sequence[str], exclude: Iterable[str] = (), batch_size: int = 256,
                  log: Optional[Callable[[str], None]] = None) -> Tuple[Dict[str, Counter], int]:
    """(memo key -> how often the bundle's model chose each reading there, texts read) over every
    non-empty line of ``text_paths``, deciding as the runtime does (on the simplified text). Lines that
    hold a sentence of ``exclude`` (benchmark sentences) are not read."""
    from ..bundle import MEMO_ANY, MEMO_EDGE
    from ..runtime.g2p import G2P

    g2p = G2P(bundle)
    if g2p.policy.memo is not None:
        raise ValueError(f"{bundle} already has a memo: build one from a bundle without it")
    excluded = set(exclude)
    texts: List[str] = []
    for path in text_paths:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                line = line.strip()
                if line and not (excluded and any(s in excluded for s in _sentences(line))):
                    texts.append(g2p.simplifier.simplify(line))
    counts: Dict[str, Counter] = {}
    for start in range(0, len(texts), batch_size):
        chunk = texts[start:start + batch_size]
        for text, decisions in zip(chunk, g2p.policy.decide(chunk, g2p.predictor)):
            last = len(text) - 1
            for o, source in enumerate(decisions.sources):
                if source == "model":
                    left = text[o - 1] if o else MEMO_EDGE
                    right = text[o + 1] if o < last else MEMO_EDGE
                    reading = decisions.readings[o]
                    for key in (left + text[o] + right, left + text[o] + MEMO_ANY, MEMO_ANY + text[o] + right):
                        counts.setdefault(key, Counter())[reading] += 1
        if log and (start // batch_size) % 100 == 99:
            log(f"memo: {start + batch_size}/{len(texts)} texts read")
    return counts, len(texts)


def _sentences(line: str) -> List[str]:
    """``line`` and its sentences (cut after 。！？), as benchmark files hold them."""
    parts, start = [line], 0
    for i, char in enumerate(line):
        if char in "。！？":
            parts.append(line[start:i + 1])
            start = i + 1
    parts.append(line[start:])
    return parts


def memo_table(contexts: Mapping[str, Counter], min_count: int, min_side_count: int,
               min_share: float = 1.0) -> Dict[str, str]:
    """reading -> its memo keys (sorted, concatenated): the three-character keys seen ``min_count``
    times or more, the two-character ones (a side left out) ``min_side_count`` times or more, whose
    most frequent reading has ``min_share`` of them."""
    from ..bundle import MEMO_ANY

    keys: Dict[str, List[str]] = {}
    for key, counts in contexts.items():
        total = sum(counts.values())
        if total < (min_side_count if MEMO_ANY in (key[0], key[2]) else min_count):
            continue
        reading, count = max(counts.items(), key=lambda item: (item[1], item[0]))
        if count >= min_share * total:
            keys.setdefault(reading, []).append(key)
    return {reading: "".join(sorted(found)) for reading, found in sorted(keys.items())}


def benchmark_sentences(paths: Sequence[str]) -> List[str]:
    """The sentences of labelled CPP-style ``paths`` (X.sent), their markers removed."""
    out = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            out.extend(line.strip().replace("\u2581", "") for line in handle if line.strip())
    return out
