"""The decision policy: who reads each character, whatever model scores the polyphones.

In order:

1. **user**: an override (matched by the caller) always wins;
2. **dictionary (phrases)**: a character inside a multi-character phrase of the phrase dictionary
   (pypinyin's, merged with the project's neutral-tone lexicon: :mod:`pinyin_edge.neutral`; greedy
   forward maximum matching, as pypinyin segments) takes the phrase's reading (measured better than
   the model there, on CPP dev) where it is a polyphone or the phrase reads it
   in the neutral tone, except at the bundle's ``phrase_word_exceptions`` (phrase positions whose
   reading the labelled data contradicts: the model decides there). Two cases are *contested*: the
   model overrules the phrase only when its probability reaches a bar. A phrase position that another
   dictionary word crossing the greedy word's end would read otherwise (``CONTESTED_CONFIDENCE``), and
   a word exception's position when the text is that one word alone (``ALONE_CONFIDENCE``: a word given
   alone reads as the dictionary word unless the model is confident otherwise);
3. **model**: a polyphone the scorer decides (for a bundle: in ``manifest.candidates`` with two or
   more readings and present in its vocabulary) is chosen by the model among its candidates; for a
   plain reading (not ranked), where the bundle's ``memo`` holds the polyphone's local context (see
   :mod:`~pinyin_edge.runtime.memo`), the reading the model always gave there, without a run;
4. **dictionary**: a character in the bundle's ``dictionary`` (one reading, or a polyphone the bundle
   reads one fixed way) takes that reading, a Han character with one reading in pypinyin's dictionary
   takes it; any other polyphone takes its dictionary phrase's reading, else its first (pypinyin's
   default) reading;
5. **none**: any other character (Latin, digits, punctuation, spaces, emoji, a Han character
   pypinyin has no reading for) has no reading.

Then 一 and 不 are read in citation tone whoever decided them but the user (see
:data:`~pinyin_edge.runtime.sandhi.SANDHI_FORMS`).

The scorer is the onnxruntime :class:`~pinyin_edge.runtime.predictor.Predictor`, or any object with
its ``best_readings(texts, skip=...)`` (per text, offset -> the chosen reading of every polyphone it
decides outside ``skip``) and, for ranked decisions, ``predict(texts, skip=...)`` (offset -> readings
ranked with their probabilities).
"""
from __future__ import annotations

from typing import AbstractSet, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

from ..candidates import CandidateTable
from ..readings import is_han
from .memo import Memo
from .phrases import deciding_phrases, fallback_reading, phrase_analysis, phrase_readings
from .sandhi import SANDHI_FORMS, citation_ranked

Ranked = Tuple[Tuple[str, float], ...]

STATIC_CACHE_SIZE = 1 << 16  # characters whose static decision a policy remembers
CONTESTED_CONFIDENCE = 0.9  # the model's probability that overrules a contested phrase reading
ALONE_CONFIDENCE = 0.95  # the same for a word given alone at a word exception (生还 stays huan2: hai2 at 0.93)


def _neutral_of(phrase_reading: str, reading: Optional[str]) -> bool:
    """Is ``phrase_reading`` the light (tone 5) form of ``reading``? A phrase keeps its neutral tones
    (便宜 pian2 yi5) even on characters with one reading of their own."""
    return (reading is not None and phrase_reading[-1] == "5" and reading[-1] != "5"
            and phrase_reading[:-1] == reading[:-1])


class Decisions(NamedTuple):
    """One text's decisions, per character: canonical reading (None: none), source ("user",
    "dictionary", "model", "none") and, when asked for, ranked candidates."""

    readings: List[Optional[str]]
    sources: List[str]
    candidates: Optional[List[Ranked]]


class DecisionPolicy:
    """A bundle's policy (see the module docstring): ``dictionary`` (char -> its fixed reading),
    ``phrases`` (do dictionary phrases decide?), ``phrase_word_exceptions`` and ``memo`` (reading ->
    memo keys, see :mod:`~pinyin_edge.runtime.memo`).
    Immutable but for a bounded per-character cache; one instance can serve many threads."""

    def __init__(self, dictionary: Optional[Mapping[str, str]] = None, phrases: bool = True,
                 phrase_word_exceptions: Optional[Mapping[str, Sequence[int]]] = None,
                 memo: Optional[Mapping[str, str]] = None):
        self.dictionary = dict(dictionary or {})
        self.phrases = bool(phrases)
        self.word_exceptions = dict(phrase_word_exceptions or {})
        self.memo: Optional[Memo] = Memo(memo) if memo else None
        self.table = CandidateTable.lazy_pypinyin()  # converted per character on first use
        # char -> static()'s reading and source, kept as two maps so decide() reads a text with map()
        self.static_readings: Dict[str, Optional[str]] = {}
        self.static_sources: Dict[str, str] = {}
        self.ranked_cache: Dict[Tuple[str, str], Ranked] = {}  # (char, reading) -> _dictionary_ranked
        self.polyphone_cache: Dict[str, bool] = {}  # char -> is_polyphone

    @classmethod
    def from_manifest(cls, manifest, phrases: Optional[bool] = None) -> "DecisionPolicy":
        """The policy a bundle's manifest records; ``phrases`` (None: the manifest's) overrides it."""
        return cls(manifest.dictionary, manifest.phrases if phrases is None else phrases,
                   manifest.phrase_word_exceptions, manifest.memo)

    def static(self, char: str) -> Tuple[Optional[str], str]:
        """What decides ``char`` when no user, phrase or model does: ``(reading, source)``, with
        source ``"fallback"`` for a polyphone that takes its phrase's or default reading (resolved per
        text). Cached per character: it depends on the policy and pypinyin's tables only."""
        source = self.static_sources.get(char)
        if source is not None:
            return self.static_readings[char], source
        if char in self.dictionary:  # one reading, or a polyphone the bundle fixed
            got = (self.dictionary[char], "dictionary")
        elif not is_han(char):
            got = (None, "none")
        else:
            readings = self.table.get(char)
            if len(readings) == 1:  # a bundle without a dictionary: pypinyin's table
                got = (readings[0], "dictionary")
            else:
                got = (None, "fallback" if readings else "none")
        if len(self.static_sources) < STATIC_CACHE_SIZE:  # bounded, whatever a server is fed
            self.static_readings[char], self.static_sources[char] = got
        return got

    def is_polyphone(self, char: str) -> bool:
        """Has ``char`` several readings in pypinyin's table? Cached per character, as :meth:`static`."""
        got = self.polyphone_cache.get(char)
        if got is None:
            got = self.table.is_polyphone(char)
            if len(self.polyphone_cache) < STATIC_CACHE_SIZE:
                self.polyphone_cache[char] = got
        return got

    def decide(self, texts: Sequence[str], scorer, ranked: Union[bool, str] = False,
               users: Optional[Sequence[Mapping[int, str]]] = None) -> List[Decisions]:
        """Per text: its readings (canonical, or None), sources and, when ``ranked``, per character
        the ranked candidates (``ranked="model"``: only where the model decided, ``()`` elsewhere;
        what whole-word readings read). ``users``: per text, offset -> the reading a user override
        gives."""
        no_user: Mapping[int, str] = {}
        users = users if users is not None else [no_user] * len(texts)
        use_phrases, exceptions = self.phrases, self.word_exceptions
        polyphone_cache, is_polyphone = self.polyphone_cache, self.is_polyphone
        found: List[Optional[Dict[int, str]]] = []  # None: not yet looked up
        phrases: List[Dict[int, str]] = []
        contested: List[Optional[Dict[int, float]]] = []
        skip: List[Optional[AbstractSet[int]]] = []
        for text, user in zip(texts, users):
            c = None
            if use_phrases:
                a = phrase_analysis(text, exceptions)
                phrase = deciding_phrases(a.found, a.excepted)
                found.append(a.found)
                # a phrase another segmentation contradicts: the model may overrule it where it is confident
                if a.crossed or a.alone:
                    c = {o: CONTESTED_CONFIDENCE for o in a.crossed if o in phrase and is_polyphone(text[o])}
                    c.update((o, ALONE_CONFIDENCE) for o in a.alone if o in phrase and is_polyphone(text[o]))
                    for o in user:
                        c.pop(o, None)
            else:
                phrase = {}
                found.append(None)
            phrases.append(phrase)
            contested.append(c)
            # the model decides only what no override or uncontested phrase covers
            if user or phrase:
                keys = user.keys() | phrase.keys()
                if c:
                    keys -= c.keys()
                skip.append(keys)
            else:
                skip.append(None)
        # a plain reading takes the memo's where it has the local context (ranked ones need the model)
        memoised: Optional[List[Dict[int, str]]] = None
        if self.memo is not None and not ranked:
            memoised = self.memo.lookup(texts, [(s | c.keys() if s else c.keys()) if c else s
                                                for s, c in zip(skip, contested)])
            skip = [(s | m.keys() if s else m.keys()) if m else s for s, m in zip(skip, memoised)]
        if ranked or any(contested):
            predictions = scorer.predict(texts, skip=skip)
            for i, (pred, c) in enumerate(zip(predictions, contested)):
                if not c:
                    continue
                phrases[i] = phrase = dict(phrases[i])  # found stays whole for the fallbacks
                for offset, confidence in c.items():
                    got = pred.get(offset)
                    if got is None:
                        continue
                    if got[0][0] != phrase[offset] and got[0][1] >= confidence:
                        del phrase[offset]  # the model's reading stands
                    else:
                        del pred[offset]
            if not ranked:
                predictions = [{o: got[0][0] for o, got in pred.items()} if pred else pred for pred in predictions]
        else:
            predictions = scorer.best_readings(texts, skip=skip)
        if memoised is not None:
            predictions = [{**pred, **got} if got else pred for pred, got in zip(predictions, memoised)]
        static_readings, static_sources, static = self.static_readings, self.static_sources, self.static
        all_ranked = ranked is True
        out = []
        for text, user, phrase, pred, text_found in zip(texts, users, phrases, predictions, found):
            sources = list(map(static_sources.get, text))
            if None in sources:  # a character not yet (or, the cache full, never) cached
                pairs = [static(c) for c in text]
                readings: List[Optional[str]] = [r for r, _ in pairs]
                sources = [s for _, s in pairs]
            else:
                readings = list(map(static_readings.get, text))
            for offset, got in pred.items():
                readings[offset] = got[0][0] if ranked else got
                sources[offset] = "model"
            from_phrase = []
            for o, reading in phrase.items():
                char = text[o]
                poly = polyphone_cache.get(char)
                if poly is None:
                    poly = is_polyphone(char)
                if poly or (reading[-1] == "5" and _neutral_of(reading, readings[o])):
                    readings[o] = reading
                    sources[o] = "dictionary"
                    from_phrase.append(o)
            for offset, reading in user.items():
                readings[offset] = reading
                sources[offset] = "user"
            if "fallback" in sources:
                if text_found is None:
                    text_found = phrase_readings(text)
                for offset, source in enumerate(sources):
                    if source == "fallback":
                        readings[offset] = fallback_reading(offset, text_found, self.table.get(text[offset]))
                        sources[offset] = "dictionary"
            candidates = None
            if all_ranked:
                candidates = [pred[o] if source == "model" else () if reading is None
                              else self._dictionary_ranked(char, reading) if source == "dictionary"
                              else ((reading, 1.0),)
                              for o, (char, reading, source) in enumerate(zip(text, readings, sources))]
                for offset in from_phrase:
                    candidates[offset] = ((readings[offset], 1.0),)
            elif ranked:
                candidates = [()] * len(text)
                for offset, got in pred.items():
                    if sources[offset] == "model":
                        candidates[offset] = got
            if "一" in text or "不" in text:
                self._citation(text, readings, sources, candidates)
            out.append(Decisions(readings, sources, candidates))
        return out

    @staticmethod
    def _citation(text: str, readings: List[Optional[str]], sources: List[str],
                  candidates: Optional[List[Ranked]]) -> None:
        """一 and 不 in citation tone, whoever decided them but the user (see sandhi.SANDHI_FORMS):
        tone_sandhi then applies the rules to citation readings, and candidates agree with readings."""
        for offset, char in enumerate(text):
            forms = SANDHI_FORMS.get(char)
            if forms and sources[offset] != "user" and readings[offset] is not None:
                readings[offset] = forms.get(readings[offset], readings[offset])
                if candidates is not None:
                    candidates[offset] = citation_ranked(char, candidates[offset])

    def _dictionary_ranked(self, char: str, reading: str) -> Ranked:
        """The dictionary's reading first (1.0), then the character's other readings (0.0)."""
        got = self.ranked_cache.get((char, reading))
        if got is None:
            got = ((reading, 1.0),) + tuple((r, 0.0) for r in self.table.get(char) if r != reading)
            if len(self.ranked_cache) < STATIC_CACHE_SIZE:  # bounded, as the static cache
                self.ranked_cache[(char, reading)] = got
        return got
