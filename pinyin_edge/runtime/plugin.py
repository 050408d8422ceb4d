"""A pypinyin converter whose polyphones are read by pinyin-edge's model.

pypinyin's answer stays the base: its segmentation, its phrase entries, its table's readings and their
order, its styles, its ``errors`` handling, its tone sandhi. On top of it, only a character whose
reading pinyin-edge's :class:`G2P` decides by context (``source`` ``"model"``) or by a user override
(``"user"``) changes:

* the model's choice is the best-ranked of its candidates that pypinyin has for that character (its
  table's readings, or the phrase entry's at that position), spelled as pypinyin spells it; a
  reading only the bundle has is never emitted;
* with ``heteronym=True`` the choice comes first, then pypinyin's list in pypinyin's order;
* a phrase loaded with ``pypinyin.load_phrases_dict`` decides the characters it covers, as in
  pypinyin; readings loaded with ``load_single_dict`` are the candidates of their characters;
* 一 and 不 keep pypinyin's tone where the model reads the same syllable (the model reads citation
  tones; pypinyin's phrase table and tone sandhi write the changed tones).

:class:`EdgeConverter` plugs into pypinyin's own class, ``Pinyin(EdgeConverter()).lazy_pinyin(text)``;
there pypinyin hands it one word at a time, so the model's context is that word. :class:`EdgePinyin`
cuts words as pypinyin does but lets the model read the whole text at once.
"""
from __future__ import annotations

import os
import threading
from copy import deepcopy
from functools import lru_cache
from typing import Dict, List, Optional, Tuple

from pypinyin import Style
from pypinyin.constants import PHRASES_DICT, PINYIN_DICT, RE_HANS
from pypinyin.converter import UltimateConverter
from pypinyin.core import Pinyin
from pypinyin.phrases_dict import phrases_dict as _BUILTIN_PHRASES

from ..dictionaries import dictionaries
from ..neutral import read_lexicon
from ..readings import ReadingError, normalize
from ..styles import to_style
from .g2p import G2P
from .phrases import phrase_words
from .sandhi import citation_tone

_shared: Dict[Tuple[Optional[str], int], G2P] = {}
_shared_lock = threading.Lock()

Decision = Tuple[str, Tuple[str, ...]]  # (source, canonical readings best first)


def shared_g2p(model: Optional[str] = None, threads: int = 1) -> G2P:
    """One G2P per (model, threads) for the whole process, built on first use."""
    key = (None if model is None else os.path.abspath(os.fspath(model)), threads)
    g2p = _shared.get(key)
    if g2p is None:
        with _shared_lock:
            g2p = _shared.get(key)
            if g2p is None:
                g2p = G2P(model=model, threads=threads)
                _shared[key] = g2p
    return g2p


@lru_cache(maxsize=65536)
def _canonical(marked: str) -> Optional[str]:
    try:
        return normalize(marked)
    except ReadingError:  # pypinyin spellings with no canonical form (ê̄, m̀): kept, never chosen
        return None


def _spellings(*items) -> Dict[str, str]:
    """canonical reading -> pypinyin's spelling, over pypinyin reading lists (first spelling wins)."""
    out: Dict[str, str] = {}
    for item in items:
        for marked in item:
            canonical = _canonical(marked)
            if canonical is not None and canonical not in out:
                out[canonical] = marked
    return out


def _user_phrase(word: str) -> bool:
    """True for a phrase entry added or replaced with ``load_phrases_dict`` (pypinyin keeps its
    built-in entries in a copy of its module's table, so an entry that is not the module's is the
    user's)."""
    return PHRASES_DICT.get(word) is not _BUILTIN_PHRASES.get(word)


@lru_cache(maxsize=1)
def _lexicon_words() -> frozenset:
    return frozenset(read_lexicon(dictionaries().chars))


def _pypinyin_phrase(word: str) -> bool:
    """True for a word that G2P reads with pypinyin's phrase entry (not the neutral-tone lexicon's)."""
    return word in PHRASES_DICT and word not in _lexicon_words()


class EdgeConverter(UltimateConverter):
    """A pypinyin converter (a :class:`pypinyin.converter.UltimateConverter`) whose context-dependent
    readings come from pinyin-edge: ``Pinyin(EdgeConverter()).lazy_pinyin("银行")``.

    ``g2p``: a :class:`G2P` to use (its overrides apply); else one is built for ``model`` (None = the
    bundled default) on first use and shared. ``v_to_u``, ``neutral_tone_with_five`` and
    ``tone_sandhi`` act as in pypinyin.
    """

    def __init__(self, model=None, g2p: Optional[G2P] = None, threads: int = 1, v_to_u: bool = False,
                 neutral_tone_with_five: bool = False, tone_sandhi: bool = False, **kwargs):
        super().__init__(v_to_u=v_to_u, neutral_tone_with_five=neutral_tone_with_five,
                         tone_sandhi=tone_sandhi, **kwargs)
        self._g2p = g2p
        self._model = model
        self._threads = threads
        self._local = threading.local()  # the decisions of the text being converted, per thread

    @property
    def g2p(self) -> G2P:
        if self._g2p is None:
            self._g2p = shared_g2p(self._model, self._threads)
        return self._g2p

    def decide(self, text: str) -> Dict[int, Decision]:
        """offset -> (source, canonical readings best first) for each character of ``text`` that the
        model or a user override decides."""
        out: Dict[int, Decision] = {}
        # traditional text: pypinyin's phrases (simplified) miss its words, so decisions inside them count
        # (pypinyin's own phrases only: the neutral-tone lexicon's readings are G2P's, not the drop-in's)
        simplified = self.g2p.simplifier.simplify(text)
        in_words = set() if simplified == text else {
            o for s, e in phrase_words(simplified) if _pypinyin_phrase(simplified[s:e]) for o in range(s, e)}
        for ann in self.g2p.annotate(text, style="tone3"):
            if ann.source == "model" or ann.source == "user" or (ann.source == "dictionary" and ann.offset in in_words):
                ranked = (ann.reading,) + tuple(r for r, _ in ann.candidates if r != ann.reading)
                out[ann.offset] = (ann.source, ranked)
        return out

    def convert_words(self, words: List[str], style, heteronym, errors, strict) -> list:
        """pypinyin's ``convert`` for each of ``words`` (consecutive pieces of one text), with the
        model reading the whole text at once."""
        text = "".join(words)
        decided = self.decide(text) if any(RE_HANS.match(w) for w in words) else {}
        local, offset, out = self._local, 0, []
        try:
            for word in words:
                local.pending = (word, {i: decided[offset + i] for i in range(len(word)) if offset + i in decided})
                out.extend(self.convert(word, style, heteronym, errors, strict))
                offset += len(word)
        finally:
            local.pending = None
        return out

    def _decisions(self, phrase: str) -> Dict[int, Decision]:
        pending = getattr(self._local, "pending", None)
        if pending is not None and pending[0] == phrase:
            return pending[1]
        return self.decide(phrase)  # called by pypinyin's own Pinyin: the word is the context

    def _phrase_pinyin(self, phrase, style, heteronym, errors, strict):
        """pypinyin's hook for one Han word: [[reading, ...], ...], one list per character."""
        decided = self._decisions(phrase)
        if phrase in PHRASES_DICT:
            base = deepcopy(PHRASES_DICT[phrase])
            if len(base) != len(phrase):
                return base
            if _user_phrase(phrase):  # the user's phrase decides, but for the user's overrides
                decided = {o: d for o, d in decided.items() if d[0] == "user"}
            return [self._choose(char, item, decided.get(i)) for i, (char, item) in enumerate(zip(phrase, base))]
        out = []
        for i, char in enumerate(phrase):
            items = self._single_pinyin(char, style, heteronym, errors, strict)
            if i in decided and len(items) == 1 and ord(char) in PINYIN_DICT:
                items = [self._choose(char, items[0], decided[i])]
            out.extend(items)
        return out

    def post_convert_style(self, han, orig_pinyin, converted_pinyin, style, strict, **kwargs):
        try:
            return super().post_convert_style(han, orig_pinyin, converted_pinyin, style, strict, **kwargs)
        except TypeError:  # pypinyin's neutral-tone-5 code on a syllable without a vowel (a user's r5)
            if self._neutral_tone_with_five and converted_pinyin and not converted_pinyin[-1].isdigit():
                return converted_pinyin + "5"
            return converted_pinyin

    @staticmethod
    def _choose(char: str, item: List[str], decision: Optional[Decision]) -> List[str]:
        """pypinyin's readings ``item`` for ``char``, with the decided reading first."""
        if decision is None or not item:
            return item
        source, ranked = decision
        table = PINYIN_DICT.get(ord(char), "")
        spelled = _spellings(item, table.split(",") if table else ())
        if source == "user":
            chosen = spelled.get(ranked[0]) or to_style(ranked[0], "tone")
        else:
            chosen = next((spelled[r] for r in ranked if r in spelled), None)
            if chosen is None or citation_tone(char, _canonical(chosen)) == citation_tone(char, _canonical(item[0])):
                return item  # nothing pypinyin has, or pypinyin's own reading (一, 不: in its tone)
        return [chosen] + [r for r in item if r != chosen]


class EdgePinyin(Pinyin):
    """pypinyin's ``Pinyin`` that cuts words as pypinyin does and lets the model read the whole text."""

    def __init__(self, converter=None, **kwargs):
        super().__init__(converter or EdgeConverter(), **kwargs)

    def pinyin(self, hans, style=Style.TONE, heteronym=False, errors="default", strict=True, **kwargs):
        if isinstance(hans, str):
            words = self.seg(hans)
        else:  # pre-cut words: a Han word stays whole, as pypinyin does for its UltimateConverter
            words = []
            for piece in hans:
                if RE_HANS.match(piece):
                    words.append(piece)
                else:
                    words.extend(self.seg(piece))
        converter = self._converter
        if not isinstance(converter, EdgeConverter):
            return super().pinyin(words, style=style, heteronym=heteronym, errors=errors, strict=strict)
        return converter.convert_words(list(words), style, heteronym, errors, strict)
