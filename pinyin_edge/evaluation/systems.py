"""Systems that ``eval`` (and ``bench``) score through one code path.

A system has a ``name`` and ``predict(texts) -> list of lists``: one canonical reading (``hang2``,
``lv4``, neutral ``de5``) per input character, with every character that is not Han returned unchanged,
so that ``len(out[i]) == len(texts[i])``. Each system imports its engine lazily, in its constructor:
importing this module costs nothing but the standard library.

Build one with :func:`make_system`.
"""
from __future__ import annotations

import os
from collections import Counter, defaultdict
from typing import Callable, Collection, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ..readings import ReadingError, is_han, normalize


class SystemUnavailable(RuntimeError):
    """A system whose engine is not installed (or not written yet); the message says what to install."""


def canonical(char: str, item: str) -> str:
    """One output item for ``char``: a non-Han character unchanged, a Han one's reading normalised.

    A reading that cannot be normalised (an engine's ``xx5``, or the character itself where the
    engine knows no reading) is kept as it is, so it is scored wrong rather than silently dropped.
    """
    if not is_han(char):
        return char
    try:
        return normalize(item)
    except ReadingError:
        return item


class PypinyinSystem:
    """pypinyin at sentence level (its phrase table and segmenter), read-only use of its tables."""

    name = "pypinyin"

    def __init__(self) -> None:
        from pypinyin import Style, lazy_pinyin

        def convert(text: str) -> List[str]:
            return lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True,
                               errors=lambda s: list(s))

        self._lazy: Callable[[str], List[str]] = convert
        self.realigned = 0  # sentences whose whole-text output needed realignment

    def predict(self, texts: Sequence[str]) -> List[List[str]]:
        return [self.predict_one(text) for text in texts]

    def predict_one(self, text: str) -> List[str]:
        out = self._lazy(text)
        if len(out) != len(text):
            self.realigned += 1
            out = self._aligned(text)
        return [canonical(ch, item) for ch, item in zip(text, out)]

    def _aligned(self, text: str) -> List[str]:
        """One item per character when the whole-text call grouped or split something: convert each
        Han run on its own (pypinyin segments by Han runs anyway), then character by character."""
        out: List[str] = []
        for run, han in _runs(text):
            if not han:
                out.extend(run)
                continue
            items = self._lazy(run)
            if len(items) != len(run):
                items = []
                for ch in run:
                    single = self._lazy(ch)
                    items.append(single[0] if len(single) == 1 else ch)
            out.extend(items)
        return out


def _runs(text: str) -> Iterable[Tuple[str, bool]]:
    """Maximal runs of Han / non-Han characters: ``("AI", False), ("行业", True)``."""
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or is_han(text[i]) != is_han(text[start]):
            yield text[start:i], is_han(text[start])
            start = i


class MajoritySystem:
    """The most frequent reading of each character in the training labels; pypinyin elsewhere."""

    name = "majority"

    def __init__(self, train: Sequence[str], skip_bad: bool = False) -> None:
        from ..data import read_many

        if not train:
            raise ValueError("the majority system learns from labelled data: give --train FILE")
        dataset = read_many(list(train), skip_bad=skip_bad)
        self.skipped, self.errors = dataset.skipped, dataset.errors
        self.majority = majority_readings(dataset.labelled_pairs())
        if not self.majority:
            raise ValueError(f"no labelled characters in the training data: {', '.join(train)}")
        self.fallback = PypinyinSystem()

    def predict(self, texts: Sequence[str]) -> List[List[str]]:
        out = []
        for text in texts:
            base = self.fallback.predict_one(text)
            out.append([self.majority.get(ch, item) for ch, item in zip(text, base)])
        return out


def majority_readings(pairs: Iterable[Tuple[str, str]]) -> Dict[str, str]:
    """char -> its most frequent reading; ties go to pypinyin's earlier reading, then alphabetical."""
    from ..candidates import pypinyin_readings

    counts: Dict[str, Counter] = defaultdict(Counter)
    for char, reading in pairs:
        counts[char][reading] += 1
    order = pypinyin_readings()
    out = {}
    for char, counter in counts.items():
        known = order.get(char, ())
        rank = {r: i for i, r in enumerate(known)}
        out[char] = min(counter, key=lambda r: (-counter[r], rank.get(r, len(known)), r))
    return out


class G2pMSystem:
    """g2pM 0.1.2.5 (the CPP paper's BiLSTM, numpy), one sentence per call, ``char_split=True``."""

    name = "g2pm"

    def __init__(self) -> None:
        try:
            from g2pM import G2pM
        except ImportError as exc:
            raise SystemUnavailable(
                f"the g2pm system needs g2pM ({exc.name or 'g2pM'} is missing): pip install g2pM") from None
        self.model = G2pM()

    def predict(self, texts: Sequence[str]) -> List[List[str]]:
        return [self.predict_one(text) for text in texts]

    def predict_one(self, text: str) -> List[str]:
        if not text:
            return []  # g2pM indexes the last character of its output
        # char_split=True: one item per input character (without it, g2pM joins non-Han runs).
        # g2pM also reads Latin letters through CC-CEDICT (B -> bi1); non-Han characters stay as they are.
        out = self.model(text, char_split=True, tone=True)
        if len(out) != len(text):
            out = list(text)
        return [canonical(ch, item) for ch, item in zip(text, out)]


class EdgeSystem:
    """pinyin-edge's runtime: ``G2P(model, threads).pinyin_batch(texts, style="tone3")``."""

    name = "edge"

    def __init__(self, model: Optional[str] = None, threads: int = 1, phrases: Optional[bool] = None) -> None:
        from ..bundle import resolve_bundle

        if model is not None and not os.path.exists(resolve_bundle(model)):
            raise FileNotFoundError(f"{model}: no such model bundle")
        try:
            from ..runtime.g2p import G2P
        except ImportError as exc:
            raise SystemUnavailable(f"the edge runtime cannot be loaded: {exc}") from None
        self.g2p = G2P(model=model, threads=threads, phrases=phrases)

    def predict(self, texts: Sequence[str]) -> List[List[str]]:
        return self.g2p.pinyin_batch(list(texts), style="tone3")


class TorchSystem:
    """A fine-tuned PyTorch checkpoint, before export (needs torch and transformers: the ``train``
    extra), deciding through the runtime's decision policy with the checkpoint as its scorer."""

    name = "torch"

    def __init__(self, model: Optional[str] = None, phrases: bool = True,
                 decided: Optional[Collection[str]] = None,
                 fixed: Optional[Mapping[str, str]] = None,
                 phrase_word_exceptions: Optional[Mapping[str, Sequence[int]]] = None) -> None:
        if model is None:
            raise ValueError("the torch system needs a checkpoint directory: give --model DIR")
        if not os.path.exists(model):
            raise FileNotFoundError(f"{model}: no such checkpoint")
        try:
            from ..modeling.scorer import TorchScorer
        except ImportError as exc:
            if (exc.name or "").split(".")[0] in ("torch", "transformers"):
                raise SystemUnavailable(f"the torch system needs the 'train' extra ({exc.name} is missing): "
                                        "pip install 'pinyin-edge[train]'") from None
            raise SystemUnavailable(f"the torch scorer cannot be loaded: {exc}") from None
        from ..runtime.policy import DecisionPolicy

        self.scorer = TorchScorer(model, device="cpu", decided=decided)
        self.policy = DecisionPolicy(fixed, phrases, phrase_word_exceptions)

    def predict(self, texts: Sequence[str]) -> List[List[str]]:
        texts = list(texts)
        return [[char if reading is None else reading for char, reading in zip(text, decisions.readings)]
                for text, decisions in zip(texts, self.policy.decide(texts, self.scorer))]


SYSTEMS = ("edge", "pypinyin", "g2pm", "torch", "majority")
MODEL_SYSTEMS = ("edge", "torch")  # the systems that take --model


def make_system(name: str, model: Optional[str] = None, train: Sequence[str] = (), threads: int = 1,
                *, skip_bad: bool = False, phrases: Optional[bool] = None, policy_of: Optional[str] = None):
    """Build the system called ``name``. ``model`` is used by edge and torch, ``train`` by majority,
    ``threads`` by edge, ``phrases`` (None: the bundle's policy; torch: True) by edge and torch,
    ``policy_of`` (a bundle whose phrase policy, word exceptions, decided characters and
    fixed readings to apply) by torch;
    others ignore what they do not use."""
    if name == "pypinyin":
        return PypinyinSystem()
    if name == "majority":
        return MajoritySystem(train, skip_bad=skip_bad)
    if name == "g2pm":
        return G2pMSystem()
    if name == "edge":
        return EdgeSystem(model=model, threads=threads, phrases=phrases)
    if name == "torch":
        decided: Optional[Collection[str]] = None
        fixed: Optional[Mapping[str, str]] = None
        words: Optional[Mapping[str, Sequence[int]]] = None
        if policy_of is not None:
            from ..bundle import load_bundle

            manifest, _ = load_bundle(policy_of, verify=False)
            phrases = manifest.phrases if phrases is None else phrases
            decided = set(manifest.candidates)
            fixed = manifest.dictionary
            words = manifest.phrase_word_exceptions
        return TorchSystem(model=model, phrases=True if phrases is None else phrases, decided=decided,
                           fixed=fixed, phrase_word_exceptions=words)
    raise ValueError(f"unknown system {name!r}; choose one of: {', '.join(SYSTEMS)}")
