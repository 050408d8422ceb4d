"""pypinyin compatibility: drop-in ``lazy_pinyin``/``pinyin`` and a converter for ``pypinyin.core.Pinyin``.

* :func:`lazy_pinyin` and :func:`pinyin` take pypinyin's arguments and return pypinyin's shapes
  (a run of non-Han characters is one item, ``errors`` decides what it becomes), with each Han
  character's reading chosen by pinyin-edge. The model sees each whole run of Han characters.
* :class:`EdgeConverter` plugs into pypinyin's own class: ``Pinyin(EdgeConverter()).lazy_pinyin(text)``.
  pypinyin's ``Pinyin`` cuts a string into words (its mmseg segmenter) before the converter sees it,
  so there the model's context is one word; pass a list of pre-cut strings, or use
  :class:`EdgePinyin` (which keeps runs of Han characters whole), for sentence-level context.

pypinyin's dictionaries are only read, never changed; user overrides live in the :class:`G2P`.
"""
from __future__ import annotations

import os
import threading
from typing import Dict, Optional, Tuple

from pypinyin import Style
from pypinyin.converter import UltimateConverter
from pypinyin.core import Pinyin
from pypinyin.seg.simpleseg import simple_seg

from ..styles import to_style
from .g2p import G2P

_shared: Dict[Tuple[Optional[str], int], G2P] = {}
_shared_lock = threading.Lock()


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


class EdgeConverter(UltimateConverter):
    """A pypinyin converter (a :class:`pypinyin.converter.DefaultConverter`) whose Han readings come
    from pinyin-edge: ``Pinyin(EdgeConverter()).lazy_pinyin("银行")``.

    ``g2p``: a :class:`G2P` to use (its overrides apply); else one is built for ``model`` (None = the
    bundled default) on first use and shared. ``v_to_u``, ``neutral_tone_with_five`` and
    ``tone_sandhi`` act as in pypinyin. With ``heteronym=True`` the readings come ranked, best first.
    """

    def __init__(self, model=None, g2p: Optional[G2P] = None, threads: int = 1, v_to_u: bool = False,
                 neutral_tone_with_five: bool = False, tone_sandhi: bool = False, **kwargs):
        super().__init__(v_to_u=v_to_u, neutral_tone_with_five=neutral_tone_with_five,
                         tone_sandhi=tone_sandhi, **kwargs)
        self._g2p = g2p
        self._model = model
        self._threads = threads

    @property
    def g2p(self) -> G2P:
        if self._g2p is None:
            self._g2p = shared_g2p(self._model, self._threads)
        return self._g2p

    def _phrase_pinyin(self, phrase, style, heteronym, errors, strict):
        """pypinyin's hook for a run of Han characters: [[tone-marked reading, ...], ...] per char."""
        decisions = self.g2p._decide_batch([phrase], ranked=heteronym)[0]
        pinyin_list = []
        for char, reading, cands in zip(phrase, decisions.readings, decisions.candidates or [()] * len(phrase)):
            if reading is None:  # no reading anywhere: pypinyin's own handling (errors=...)
                pinyin_list.extend(self._single_pinyin(char, style, heteronym, errors, strict))
                continue
            marked = [to_style(reading, "tone")]
            if heteronym:
                for other, _p in cands:
                    styled = to_style(other, "tone")
                    if styled not in marked:
                        marked.append(styled)
            pinyin_list.append(marked)
        return pinyin_list


class EdgePinyin(Pinyin):
    """pypinyin's ``Pinyin`` that hands each whole run of Han characters to the converter (no word
    segmentation: the model reads the context itself)."""

    def __init__(self, converter=None, **kwargs):
        super().__init__(converter or EdgeConverter(), **kwargs)

    def get_seg(self, **kwargs):
        return simple_seg


def _converter(model, g2p, v_to_u, neutral_tone_with_five, tone_sandhi) -> EdgeConverter:
    return EdgeConverter(g2p=g2p if g2p is not None else shared_g2p(model), v_to_u=v_to_u,
                         neutral_tone_with_five=neutral_tone_with_five, tone_sandhi=tone_sandhi)


def pinyin(hans, style=Style.TONE, heteronym=False, errors="default", strict=True, v_to_u=False,
           neutral_tone_with_five=False, *, model=None, g2p: Optional[G2P] = None):
    """pypinyin's ``pinyin()`` with pinyin-edge's readings: a list of lists (one per Han character,
    one per run of other characters); with ``heteronym`` the lists hold the ranked readings."""
    core = EdgePinyin(_converter(model, g2p, v_to_u, neutral_tone_with_five, False))
    return core.pinyin(hans, style=style, heteronym=heteronym, errors=errors, strict=strict)


def lazy_pinyin(hans, style=Style.NORMAL, errors="default", strict=True, v_to_u=False,
                neutral_tone_with_five=False, tone_sandhi=False, *, model=None, g2p: Optional[G2P] = None):
    """pypinyin's ``lazy_pinyin()`` with pinyin-edge's readings (a flat list of strings)."""
    core = EdgePinyin(_converter(model, g2p, v_to_u, neutral_tone_with_five, tone_sandhi))
    return core.lazy_pinyin(hans, style=style, errors=errors, strict=strict)
