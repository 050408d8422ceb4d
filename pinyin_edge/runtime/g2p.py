"""``G2P``: Chinese text in, one reading per character out.

Who decides each character, in order: a user override, pypinyin's dictionary phrases, the bundle's
model, the dictionary (see :mod:`pinyin_edge.runtime.policy`, the one place that rule is written);
any other character (Latin, digits, punctuation, emoji, a Han character without a reading) comes back
unchanged.

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
from typing import Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from ..readings import STYLE_NAMES, ReadingError, is_han, normalize
from ..styles import styler
from . import stream
from .policy import DecisionPolicy, Decisions
from .predictor import Predictor
from .sandhi import apply_tone_sandhi
from .traditional import Simplifier
from .words import WordReading, check_k, read_words

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
    model reads around the characters it decides (default: the bundle's; None: whole windows);
    ``traditional``: read traditional characters through their simplified forms (``"auto"``: texts that
    have a traditional-only character; True: every text; False: never; see runtime/traditional.py).
    A G2P can be shared by many threads; adding overrides while others
    convert is safe (each call sees one consistent set).
    """

    def __init__(self, model: Optional[Union[str, "os.PathLike[str]"]] = None, threads: int = 1,
                 providers: Optional[Sequence] = None,
                 overrides: Optional[Union[Mapping[str, ReadingsSpec], Iterable, str, "os.PathLike[str]"]] = None,
                 *, verify: bool = True, batch_size: int = 64, phrases: Optional[bool] = None,
                 context: Union[int, None, str] = "bundle", traditional: Union[str, bool] = "auto"):
        self.predictor = Predictor(model, threads=threads, providers=providers, verify=verify,
                                   batch_size=batch_size, context=context)
        self.manifest = self.predictor.manifest
        # Does pypinyin's phrase dictionary decide the polyphones it covers? None: the bundle's policy.
        self.policy = DecisionPolicy.from_manifest(self.manifest, phrases)
        self.phrases = self.policy.phrases
        self.model_path = self.predictor.path
        self.simplifier = Simplifier(traditional)
        self._lock = threading.Lock()
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
    def _decide_batch(self, texts: Sequence[str], ranked) -> List[Decisions]:
        """The policy's decisions for ``texts`` with the current overrides, scored by the bundle."""
        snapshot = self._overrides
        # decided on the simplified forms, same length; overrides match both (the original's win)
        simplified = list(map(self.simplifier.simplify, texts))
        if snapshot.pattern is None:  # no overrides
            users = None
        else:
            users = [snapshot.match(t) if s is t else {**snapshot.match(s), **snapshot.match(t)}
                     for t, s in zip(texts, simplified)]
        return self.policy.decide(simplified, self.predictor, ranked, users)

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
        if set(map(type, texts)) <= {str}:  # one pass in C; str subclasses take the loop
            return texts
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
        name = style_name(style)
        render = styler(name)
        results = []
        for text, decisions in zip(texts, self._decide_batch(texts, ranked=heteronym)):
            readings = self._final_readings(text, decisions, tone_sandhi)
            if not heteronym:
                if name == "tone3":  # canonical readings are tone3: no per-character call
                    results.append([char if r is None else r for char, r in zip(text, readings)])
                else:
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
        render = styler(style_name(style))
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

    def word_readings(self, word: str, k: int = 3, style="tone3") -> List[WordReading]:
        """The ``k`` most probable readings of ``word`` read alone, best first: ``(pinyin, probability)``
        pairs, one styled item per character (see :mod:`pinyin_edge.runtime.words`)."""
        return self.word_readings_batch([self._check_text(word)], k=k, style=style)[0]

    def word_readings_batch(self, words: Sequence[str], k: int = 3, style="tone3") -> List[List[WordReading]]:
        """:meth:`word_readings` for many words, their model windows batched together."""
        render = styler(style_name(style))
        words = self._check_texts(words)
        check_k(k)
        return read_words(words, self._decide_batch(words, ranked="model"), k, render)

    def readings(self, text: str, tone_sandhi: bool = False) -> List[Optional[str]]:
        """Canonical readings, one per character (None where a character has no reading)."""
        text = self._check_text(text)
        return self._final_readings(text, self._decide_batch([text], ranked=False)[0], tone_sandhi)

    def _final_readings(self, text: str, decisions: Decisions, tone_sandhi: bool) -> List[Optional[str]]:
        if not tone_sandhi:
            return decisions.readings
        locked = {i for i, source in enumerate(decisions.sources) if source == "user"}
        return apply_tone_sandhi(self.simplifier.simplify(text), decisions.readings, locked)
