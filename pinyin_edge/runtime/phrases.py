"""The phrase dictionary as a decision source: pypinyin's phrases (read-only use of its tables) merged
with the project's neutral-tone lexicon (:mod:`pinyin_edge.neutral`), as :mod:`pinyin_edge.dictionaries`
compiles them.

A polyphone inside a multi-character phrase of the dictionary (segmented by pypinyin's own
maximum-matching segmenter, over the merged words) takes the phrase's reading: on held-out CPP dev this
beat the model on those characters (93.3% -> 95.5% overall), and the model then only decides what no
phrase covers.
"""
from __future__ import annotations

from typing import Collection, Dict, List, Mapping, NamedTuple, Optional, Sequence, Set, Tuple

from ..dictionaries import PhraseTable, dictionaries
from ..readings import ReadingError, is_han, normalize


def phrase_words(text: str, words: Optional[PhraseTable] = None) -> List[Tuple[int, int]]:
    """``(start, end)`` of every multi-character word in the segmentation of ``text`` (over ``words``;
    default: the compiled dictionaries' phrases).

    The same forward maximum matching as ``pypinyin.seg.mmseg.seg.cut`` (strict mode: the longest
    phrase-table key that starts here), on offsets rather than sliced remainders and on the compiled
    tables (pypinyin's words and the lexicon's); tests check that the two agree over the same words.
    pypinyin's quirk is kept: where the rest of the text begins some key but holds no word from its
    first character, the rest is read character by character."""
    if words is None:
        words = dictionaries().words
    n = len(text)
    seconds = words.seconds
    if n > 1 and text[1] in seconds.get(text[0], "") and text in words:  # a whole word (a word list's entry)
        return [(0, n)]
    text = words.encodable(text)
    prefixes_of, longest = words.prefixes_of, words.longest  # the trie, called directly: the hot loop
    found: List[Tuple[int, int]] = []
    i = 0
    last_start = n - 1  # a phrase has two characters or more
    while i < n:
        if i == last_start or text[i + 1] not in seconds.get(text[i], ""):  # no phrase begins here
            i += 1
            continue
        keys = prefixes_of(text[i:i + longest])
        last = i + len(keys[-1]) if keys else 0
        if last:
            if last - i > 1:
                found.append((i, last))
            i = last
        elif words.leads_to_phrase(text[i:]):
            break
        else:
            i += 1
    return found


WORD_CACHE_SIZE = 1 << 16  # phrases whose parsed readings the process keeps
_WORD_READINGS: Dict[str, Tuple[Tuple[int, str], ...]] = {}

WordExceptions = Mapping[str, Collection[int]]  # phrase -> positions in it that the phrase does not decide


class PhraseAnalysis(NamedTuple):
    """One segmentation of a text: ``found`` (offset -> reading inside a dictionary phrase),
    ``excepted`` (offsets a bundle's word exceptions take from their phrase), ``crossed`` (offsets a
    greedy word decides although another segmentation would read them otherwise) and ``alone`` (the
    excepted offsets of a text that is one dictionary word: the word's reading is contested there,
    not dropped)."""

    found: Dict[int, str]
    excepted: Set[int]
    crossed: Set[int]
    alone: Set[int]


def phrase_analysis(text: str, word_exceptions: Optional[WordExceptions] = None) -> PhraseAnalysis:
    tables = dictionaries()
    found: Dict[int, str] = {}
    excepted: Set[int] = set()
    words = phrase_words(text)
    cache = _WORD_READINGS
    for start, end in words:
        word = text[start:end]
        readings = cache.get(word)
        if readings is None:
            readings = tables.word_readings(word)
            if len(cache) < WORD_CACHE_SIZE:  # bounded, whatever a server is fed
                cache[word] = readings
        if start:
            for i, reading in readings:
                found[start + i] = reading
        else:
            found.update(readings)
        if word_exceptions and word in word_exceptions:
            excepted.update(start + i for i in word_exceptions[word])
    crossed: Set[int] = set()
    alone: Set[int] = set()
    for start, end in words:
        if end < len(text):  # a word at the end has nothing crossing it
            crossed.update(crossed_offsets(text, start, end, found, tables))
    if excepted and len(words) == 1 and words[0] == (0, len(text)):
        # a word given alone: its dictionary reading stands unless the model is confident otherwise
        alone |= excepted
        excepted = set()
    return PhraseAnalysis(found, excepted, crossed, alone)


def phrase_lookup(text: str, word_exceptions: Optional[WordExceptions] = None) -> Tuple[Dict[int, str], Set[int]]:
    """(:func:`phrase_readings` of ``text``, the offsets a bundle's word exceptions take from their
    phrase), from one segmentation of the text."""
    analysis = phrase_analysis(text, word_exceptions)
    return analysis.found, analysis.excepted


def crossed_offsets(text: str, start: int, end: int, found: Mapping[int, str], tables) -> List[int]:
    """Offsets whose reading the greedy word ``text[start:end]`` decides although another dictionary
    word crosses its end (为人|民 against 人民): the part before the crossing word reads otherwise in
    the other segmentation, and inside the crossing word the two phrases may differ. ``tables``:
    the compiled dictionaries ``found`` came from (the exporter's are pypinyin's phrases alone)."""
    if end >= len(text):
        return []
    words = tables.words
    for p in range(start + 1, end):
        last = words.longest_at(text, p) if words.may_start(text, p) else 0
        if last > end:
            other = dict(tables.word_readings(text[p:last]))
            return list(range(start, p)) + [o for o in range(p, last) if other.get(o - p) != found.get(o)]
    return []


def phrase_readings(text: str) -> Dict[int, str]:
    """offset -> canonical reading for every character inside a multi-character dictionary phrase
    whose reading there is unambiguous."""
    return phrase_lookup(text)[0]


def deciding_phrases(found: Optional[Dict[int, str]], excepted: Collection[int] = ()) -> Dict[int, str]:
    """Of a text's phrase readings (``found``; None or empty with phrases off), those that decide:
    not the ``excepted`` offsets (positions in the bundle's word exceptions: phrases whose reading
    there the labelled data contradicts, which the model decides)."""
    if not found:
        return {}
    if excepted:
        return {o: r for o, r in found.items() if o not in excepted}
    return found


def fallback_reading(offset: int, phrase: Dict[int, str], candidates: Sequence[str]) -> str:
    """A polyphone no model decides: its phrase's reading inside a dictionary phrase, else the
    character's first (pypinyin's default) reading. ``phrase`` is :func:`phrase_readings` of the text.
    What pypinyin's sentence-level conversion gives, at a fraction of its cost."""
    got = phrase.get(offset)
    return got if got in candidates else candidates[0]


def sentence_readings(text: str) -> List[Optional[str]]:
    """pypinyin's sentence-level answer, one canonical reading per character (None for a character
    without one). pypinyin segments each run of Han characters with its phrase table; should its
    whole-text output ever not align one item per character, each Han run is converted on its own,
    and then each character."""
    from pypinyin import Style, lazy_pinyin

    def convert(piece: str) -> List[str]:
        return lazy_pinyin(piece, style=Style.TONE3, neutral_tone_with_five=True, errors=lambda s: list(s))

    raw = convert(text)
    if len(raw) != len(text):
        raw = []
        start = 0
        while start < len(text):
            end = start + 1
            while end < len(text) and is_han(text[end]) == is_han(text[start]):
                end += 1
            piece = text[start:end]
            got = convert(piece) if is_han(text[start]) else list(piece)
            raw.extend(got if len(got) == len(piece) else [convert(c)[0] for c in piece])
            start = end
    out: List[Optional[str]] = []
    for char, item in zip(text, raw):
        try:
            out.append(normalize(item) if is_han(char) else None)
        except ReadingError:
            out.append(None)
    return out
