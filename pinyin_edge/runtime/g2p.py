"""``G2P``: Chinese text in, one reading per character out.

Who decides each character, in order:

1. **user**: an override (a phrase, longest match first, or a single character) always wins;
2. **dictionary (phrases)**: a polyphone inside a multi-character phrase of pypinyin's phrase
   dictionary takes the phrase's reading (measured better than the model there, on CPP dev), except
   the bundle's ``phrase_exceptions`` (characters whose phrase readings the labelled data contradicts)
   and ``phrase_word_exceptions`` (the same, per phrase and position);
3. **model**: a polyphone the bundle's model knows (in ``manifest.candidates`` with two or more
   readings and present in its vocabulary) is chosen by the model among its candidates;
4. **dictionary**: a Han character with one reading in pypinyin's dictionary takes it; a polyphone
   the model does not decide (absent from the manifest's candidates, or ``[UNK]`` in its vocabulary)
   takes its dictionary phrase's reading, else its first (pypinyin's default) reading;
5. **none**: any other character (Latin, digits, punctuation, spaces, emoji, a Han character
   pypinyin has no reading for) comes back unchanged.

``pinyin()`` returns exactly ``len(text)`` items. With ``heteronym=True`` each item is a *list*:
the readings ranked (model probability order for model decisions; the chosen reading then the
dictionary's others for dictionary decisions; ``[char]`` for unchanged characters), after styling
and with duplicates removed (``normal`` style folds tones together).
"""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field, replace
from typing import Dict, Iterable, Iterator, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

from ..candidates import CandidateTable
from ..readings import STYLE_NAMES, ReadingError, _styler, is_han, normalize
from . import stream
from .phrases import deciding_phrases, fallback_reading, phrase_lookup, phrase_readings
from .predictor import Predictor
from .sandhi import SANDHI_FORMS, apply_tone_sandhi, citation_ranked

Ranked = Tuple[Tuple[str, float], ...]
ReadingsSpec = Union[str, Sequence[str]]


class OverrideError(ValueError):
    """A user override that cannot be used (bad reading, wrong count, malformed file line)."""


@dataclass(frozen=True)
class CharAnnotation:
    """One character of :meth:`G2P.annotate`'s answer; also readable like a dict (``a["reading"]``).

    ``reading`` is styled (the character itself when ``source`` is ``"none"``); ``candidates`` are
    ``(reading, probability)`` pairs ranked best first (model probabilities; 1.0 for the chosen reading
    and 0.0 for the others when the dictionary or a user decided; empty for ``"none"``).
    """

    char: str
    offset: int
    reading: str
    candidates: List[Tuple[str, float]] = field(default_factory=list)
    source: str = "none"

    _KEYS = ("char", "offset", "reading", "candidates", "source")

    def keys(self):
        return list(self._KEYS)

    def __getitem__(self, key: str):
        if key not in self._KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def to_dict(self) -> Dict[str, object]:
        return {"char": self.char, "offset": self.offset, "reading": self.reading,
                "candidates": [list(c) for c in self.candidates], "source": self.source}


_STATIC_CACHE_SIZE = 1 << 16  # characters whose static decision a G2P remembers


class _Decisions(NamedTuple):
    """One text's decisions, per character: canonical reading (None: none), source ("user",
    "dictionary", "model", "none") and, when asked for, ranked candidates."""

    readings: List[Optional[str]]
    sources: List[str]
    candidates: Optional[List[Ranked]]


# -- styles -------------------------------------------------------------------------------------------

def style_name(style) -> str:
    """A style given by name (any case) or as ``pypinyin.Style.X`` -> its lowercase name.

    Raises ValueError naming every style for an unknown one."""
    name = getattr(style, "name", style)
    if not isinstance(name, str) or name.lower() not in STYLE_NAMES:
        raise ValueError(f"unknown style {style!r}; choose one of: {', '.join(STYLE_NAMES)}")
    return name.lower()


# -- overrides ----------------------------------------------------------------------------------------

class _Overrides:
    """An immutable snapshot: phrase -> canonical readings of its Han characters, plus a matcher."""

    def __init__(self, table: Dict[str, Tuple[str, ...]]):
        self.table = table
        if table:
            phrases = sorted(table, key=lambda p: (-len(p), p))
            self.pattern = re.compile("|".join(re.escape(p) for p in phrases))
        else:
            self.pattern = None

    def match(self, text: str) -> Dict[int, str]:
        """offset -> reading for every Han character covered by a match (greedy, leftmost-longest)."""
        if self.pattern is None:
            return {}
        out: Dict[int, str] = {}
        for m in self.pattern.finditer(text):
            readings = iter(self.table[m.group()])
            for offset in range(m.start(), m.end()):
                if is_han(text[offset]):
                    out[offset] = next(readings)
        return out


def _parse_override(phrase: str, readings: ReadingsSpec, where: str = "") -> Tuple[str, Tuple[str, ...]]:
    prefix = f"{where}: " if where else ""
    if not isinstance(phrase, str) or not phrase:
        raise OverrideError(f"{prefix}an override needs a non-empty phrase, got {phrase!r}")
    if isinstance(readings, str):
        items = readings.split()
    elif isinstance(readings, Iterable):
        items = [str(r) for r in readings]
    else:
        raise OverrideError(f"{prefix}readings for {phrase!r} must be a string or a list of strings")
    han = [c for c in phrase if is_han(c)]
    if not han:
        raise OverrideError(f"{prefix}override phrase {phrase!r} has no Han character")
    if len(items) != len(han):
        raise OverrideError(f"{prefix}override {phrase!r} needs {len(han)} reading(s), one per Han "
                            f"character, got {len(items)}: {' '.join(items) or '(none)'}")
    try:
        canonical = tuple(normalize(r) for r in items)
    except ReadingError as exc:
        raise OverrideError(f"{prefix}override {phrase!r}: {exc}") from None
    return phrase, canonical


def read_overrides(path: Union[str, "os.PathLike[str]"]) -> Dict[str, Tuple[str, ...]]:
    """Parse an overrides file: ``phrase<TAB>reading reading ...`` per line; blank lines and lines
    starting with ``#`` are skipped, and ``#`` starts a comment after the readings. Readings may be
    canonical (``hang2``), tone-marked (``háng``) or CPP-style (``lu:4``)."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise OverrideError(f"{path}: no such overrides file") from None
    except OSError as exc:
        raise OverrideError(f"{path}: cannot read overrides ({exc.strerror or exc})") from None
    table: Dict[str, Tuple[str, ...]] = {}
    for lineno, line in enumerate(raw.split(b"\n"), 1):
        try:
            text = line.decode("utf-8-sig").rstrip("\r")  # a BOM on any line: files get concatenated
        except UnicodeDecodeError as exc:
            raise OverrideError(f"{path}:{lineno}: not UTF-8 ({exc.reason})") from None
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        if "\t" not in text:
            raise OverrideError(f"{path}:{lineno}: expected phrase<TAB>readings, found no tab")
        phrase, readings = text.split("\t", 1)
        readings = readings.split("#", 1)[0]
        key, value = _parse_override(phrase.strip(), readings, where=f"{path}:{lineno}")
        table[key] = value
    return table


class _HybridMethod:
    """``G2P.load_overrides(path)`` parses a file (-> dict); ``g2p.load_overrides(path)`` also adds it."""

    def __init__(self, func):
        self.func = func
        self.__doc__ = func.__doc__

    def __get__(self, obj, owner):
        target = obj if obj is not None else owner

        def bound(*args, **kwargs):
            return self.func(target, *args, **kwargs)

        bound.__doc__ = self.func.__doc__
        bound.__name__ = self.func.__name__
        return bound


# -- the engine ---------------------------------------------------------------------------------------

class G2P:
    """Context-aware grapheme-to-pinyin over a model bundle.

    ``model``: a bundle directory, or a bundled model's name (None or ``"default"``: the most
    accurate; ``"fast"``: about 60% of the latency, a few tenths of a point less accurate); ``threads``:
    onnxruntime intra-op threads; ``providers``: onnxruntime execution providers (default CPU);
    ``overrides``: a dict ``{phrase: readings}``, pairs, or an overrides file path (see
    :func:`read_overrides`); ``phrases``: override the bundle's phrase policy; ``context``: tokens the
    model reads around the characters it decides (default: the bundle's; None: whole windows).
    A G2P can be shared by many threads; adding overrides while others
    convert is safe (each call sees one consistent set).
    """

    def __init__(self, model: Optional[Union[str, "os.PathLike[str]"]] = None, threads: int = 1,
                 providers: Optional[Sequence] = None,
                 overrides: Optional[Union[Mapping[str, ReadingsSpec], Iterable, str, "os.PathLike[str]"]] = None,
                 *, verify: bool = True, batch_size: int = 64, phrases: Optional[bool] = None,
                 context: Union[int, None, str] = "bundle"):
        self.predictor = Predictor(model, threads=threads, providers=providers, verify=verify,
                                   batch_size=batch_size, context=context)
        self.manifest = self.predictor.manifest
        # Does pypinyin's phrase dictionary decide the polyphones it covers? None: the bundle's policy.
        self.phrases = bool(self.manifest.phrases if phrases is None else phrases)
        self._exceptions = frozenset(self.manifest.phrase_exceptions)
        self._word_exceptions = self.manifest.phrase_word_exceptions
        self.model_path = self.predictor.path
        self.table = CandidateTable.lazy_pypinyin()  # converted per character on first use
        self._lock = threading.Lock()
        self._static_cache: Dict[str, Tuple[Optional[str], str]] = {}  # char -> see _static
        self._overrides = _Overrides({})
        if overrides is not None:
            self.add_overrides(overrides)

    def __repr__(self) -> str:
        return f"G2P(model={self.model_path!r})"

    # -- overrides ------------------------------------------------------------------------------------
    @property
    def overrides(self) -> Dict[str, str]:
        """The current overrides: phrase -> space-separated canonical readings."""
        return {p: " ".join(r) for p, r in self._overrides.table.items()}

    def add_override(self, phrase: str, readings: ReadingsSpec) -> None:
        """Always read ``phrase`` (a character or a phrase) as ``readings`` (one per Han character:
        a space-separated string or a list). Longer phrases win over shorter ones."""
        key, value = _parse_override(phrase, readings)
        self._update({key: value})

    def add_overrides(self, overrides) -> None:
        """Add many overrides: a dict, (phrase, readings) pairs, or an overrides file path."""
        if isinstance(overrides, (str, os.PathLike)):
            parsed = read_overrides(overrides)
        else:
            items = overrides.items() if isinstance(overrides, Mapping) else overrides
            parsed = dict(_parse_override(p, r) for p, r in items)
        self._update(parsed)

    def remove_override(self, phrase: str) -> None:
        with self._lock:
            table = dict(self._overrides.table)
            table.pop(phrase, None)
            self._overrides = _Overrides(table)

    def _update(self, parsed: Dict[str, Tuple[str, ...]]) -> None:
        with self._lock:
            table = dict(self._overrides.table)
            table.update(parsed)
            self._overrides = _Overrides(table)  # one atomic swap: readers see old or new, never half

    @_HybridMethod
    def load_overrides(target, path) -> Dict[str, str]:
        """Read an overrides file (``phrase<TAB>reading reading ...`` per line, ``#`` comments).

        On the class (``G2P.load_overrides(path)``) it returns the parsed overrides, to pass as
        ``G2P(overrides=...)``; on an instance it also adds them. Returns phrase -> readings."""
        parsed = read_overrides(path)
        if isinstance(target, G2P):
            target._update(parsed)
        return {p: " ".join(r) for p, r in parsed.items()}

    # -- decisions --------------------------------------------------------------------------------------
    def _static(self, char: str) -> Tuple[Optional[str], str]:
        """What decides ``char`` when no user, phrase or model does: ``(reading, source)``, with
        source ``"fallback"`` for a polyphone that takes its phrase's or default reading (resolved per
        text). Cached per character: it depends on the bundle and pypinyin's tables only."""
        got = self._static_cache.get(char)
        if got is None:
            if char in self.manifest.dictionary:  # one reading, or a polyphone the bundle fixed
                got = (self.manifest.dictionary[char], "dictionary")
            elif not is_han(char):
                got = (None, "none")
            else:
                readings = self.table.get(char)
                if len(readings) == 1:  # a bundle without a dictionary: pypinyin's table
                    got = (readings[0], "dictionary")
                else:
                    got = (None, "fallback" if readings else "none")
            if len(self._static_cache) < _STATIC_CACHE_SIZE:  # bounded, whatever a server is fed
                self._static_cache[char] = got
        return got

    def _decide_batch(self, texts: Sequence[str], ranked: bool) -> List[_Decisions]:
        """Per text: its readings (canonical, or None), sources and, when ``ranked``, per character
        the ranked candidates (see the module docstring for who decides)."""
        snapshot = self._overrides
        users = [snapshot.match(t) for t in texts]
        looked_up = [phrase_lookup(t, self._word_exceptions) if self.phrases else (None, ()) for t in texts]
        found = [f for f, _ in looked_up]  # None: not yet looked up
        phrases = [deciding_phrases(t, f, self._exceptions, excepted) for t, (f, excepted) in zip(texts, looked_up)]
        # the model decides only what no override or phrase covers
        skip = [(user.keys() | phrase.keys()) if user or phrase else None for user, phrase in zip(users, phrases)]
        if ranked:
            predictions = self.predictor.predict(texts, skip=skip)
        else:
            predictions = self.predictor.best_readings(texts, skip=skip)
        static_cache, static, is_polyphone = self._static_cache, self._static, self.table.is_polyphone
        out = []
        for text, user, phrase, pred, text_found in zip(texts, users, phrases, predictions, found):
            pairs = [static_cache.get(c) or static(c) for c in text]
            readings: List[Optional[str]] = [p[0] for p in pairs]
            sources = [p[1] for p in pairs]
            for offset, got in pred.items():
                readings[offset] = got[0][0] if ranked else got
                sources[offset] = "model"
            from_phrase = [o for o in phrase if is_polyphone(text[o])]
            for offset in from_phrase:
                readings[offset] = phrase[offset]
                sources[offset] = "dictionary"
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
            if ranked:
                candidates = [pred[o] if source == "model" else () if reading is None
                              else self._dictionary_ranked(char, reading) if source == "dictionary"
                              else ((reading, 1.0),)
                              for o, (char, reading, source) in enumerate(zip(text, readings, sources))]
                for offset in from_phrase:
                    candidates[offset] = ((readings[offset], 1.0),)
            if "一" in text or "不" in text:
                self._citation(text, readings, sources, candidates)
            out.append(_Decisions(readings, sources, candidates))
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
        return ((reading, 1.0),) + tuple((r, 0.0) for r in self.table.get(char) if r != reading)

    # -- public API ---------------------------------------------------------------------------------------
    @staticmethod
    def _check_text(text) -> str:
        if not isinstance(text, str):
            hint = " (decode bytes first)" if isinstance(text, (bytes, bytearray)) else ""
            raise TypeError(f"text must be str, not {type(text).__name__}{hint}")
        return text

    @staticmethod
    def _check_texts(texts) -> List[str]:
        if isinstance(texts, (str, bytes, bytearray)):
            raise TypeError("pinyin_batch takes a list of strings; for one string use pinyin()")
        texts = list(texts)
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"texts[{i}] must be str, not {type(text).__name__}")
        return texts

    def pinyin(self, text: str, style="tone3", heteronym: bool = False,
               tone_sandhi: bool = False) -> list:
        """One item per character of ``text``: its reading in ``style`` (a non-Han character as
        itself); with ``heteronym`` each item is the ranked list of readings."""
        return self.pinyin_batch([self._check_text(text)], style=style, heteronym=heteronym,
                                 tone_sandhi=tone_sandhi)[0]

    def pinyin_batch(self, texts: Sequence[str], style="tone3", heteronym: bool = False,
                     tone_sandhi: bool = False) -> List[list]:
        """:meth:`pinyin` for many texts, with their model windows batched together."""
        texts = self._check_texts(texts)
        return stream.batch(self, texts, lambda group: self._pinyin_batch(group, style, heteronym, tone_sandhi))

    def iter_pinyin(self, text: str, style="tone3", heteronym: bool = False,
                    tone_sandhi: bool = False) -> Iterator[list]:
        """:meth:`pinyin` of ``text`` in consecutive parts, each given back as soon as it is ready
        (a long text in pieces of a few thousand characters; the same items as :meth:`pinyin`)."""
        text = self._check_text(text)
        return stream.in_pieces(self, text, lambda group: self._pinyin_batch(group, style, heteronym, tone_sandhi))

    def _pinyin_batch(self, texts: List[str], style, heteronym: bool, tone_sandhi: bool) -> List[list]:
        render = _styler(style_name(style))
        results = []
        for text, decisions in zip(texts, self._decide_batch(texts, ranked=heteronym)):
            readings = self._final_readings(text, decisions, tone_sandhi)
            if not heteronym:
                results.append([char if r is None else render(r) for char, r in zip(text, readings)])
                continue
            items = []
            for char, reading, cands in zip(text, readings, decisions.candidates):
                if reading is None:
                    items.append([char])
                    continue
                styled: List[str] = []
                for r in [reading] + [c for c, _ in cands]:
                    s = render(r)
                    if s not in styled:
                        styled.append(s)
                items.append(styled)
            results.append(items)
        return results

    def annotate(self, text: str, style="tone3", tone_sandhi: bool = False) -> List[CharAnnotation]:
        """Per character: char, offset, reading (styled), ranked candidates with probabilities,
        and source (``"model"``, ``"dictionary"``, ``"user"``, or ``"none"`` for a character
        returned unchanged)."""
        return self.annotate_batch([self._check_text(text)], style=style, tone_sandhi=tone_sandhi)[0]

    def annotate_batch(self, texts: Sequence[str], style="tone3",
                       tone_sandhi: bool = False) -> List[List[CharAnnotation]]:
        texts = self._check_texts(texts)
        return stream.batch(self, texts, lambda group: self._annotate_batch(group, style, tone_sandhi),
                            rebase=lambda items, at: [replace(a, offset=a.offset + at) for a in items])

    def _annotate_batch(self, texts: List[str], style, tone_sandhi: bool) -> List[List[CharAnnotation]]:
        render = _styler(style_name(style))
        out = []
        for text, decisions in zip(texts, self._decide_batch(texts, ranked=True)):
            readings = self._final_readings(text, decisions, tone_sandhi)
            out.append([
                CharAnnotation(char=char, offset=offset,
                               reading=char if reading is None else render(reading),
                               candidates=[(render(r), p) for r, p in cands], source=source)
                for offset, (char, reading, cands, source)
                in enumerate(zip(text, readings, decisions.candidates, decisions.sources))
            ])
        return out

    def readings(self, text: str, tone_sandhi: bool = False) -> List[Optional[str]]:
        """Canonical readings, one per character (None where a character has no reading)."""
        text = self._check_text(text)
        return self._final_readings(text, self._decide_batch([text], ranked=False)[0], tone_sandhi)

    @staticmethod
    def _final_readings(text: str, decisions: _Decisions, tone_sandhi: bool) -> List[Optional[str]]:
        if not tone_sandhi:
            return decisions.readings
        locked = {i for i, source in enumerate(decisions.sources) if source == "user"}
        return apply_tone_sandhi(text, decisions.readings, locked)
