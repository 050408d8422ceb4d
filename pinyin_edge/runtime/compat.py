"""pypinyin's public functions with pinyin-edge reading the polyphones: ``from pinyin_edge import
lazy_pinyin`` instead of ``from pypinyin import lazy_pinyin``.

Every name of pypinyin's ``__all__`` is here with pypinyin's signature and defaults; ``pinyin``,
``lazy_pinyin`` and ``slug`` also take keyword-only ``model`` (a bundle) and ``g2p`` (a :class:`G2P`,
whose overrides apply). Only the characters pinyin-edge decides by context can read differently
(see :mod:`pinyin_edge.runtime.plugin`); ``load_phrases_dict`` and ``load_single_dict`` are
pypinyin's own, and what they load reaches these functions.
"""
from __future__ import annotations

from itertools import chain
from typing import Optional

import pypinyin
from pypinyin import Style
from pypinyin.core import load_phrases_dict, load_single_dict  # noqa: F401  (pypinyin's own)

from .g2p import G2P
from .plugin import EdgeConverter, EdgePinyin, shared_g2p

# pypinyin's style constants (Style, STYLE_TONE, TONE, ...), the same objects
_FUNCTIONS = ("pinyin", "lazy_pinyin", "slug", "load_single_dict", "load_phrases_dict")
globals().update({name: getattr(pypinyin, name) for name in pypinyin.__all__ if name not in _FUNCTIONS})

__all__ = list(pypinyin.__all__)


def _core(model, g2p: Optional[G2P], v_to_u=False, neutral_tone_with_five=False, tone_sandhi=False):
    converter = EdgeConverter(g2p=g2p if g2p is not None else shared_g2p(model), v_to_u=v_to_u,
                              neutral_tone_with_five=neutral_tone_with_five, tone_sandhi=tone_sandhi)
    return EdgePinyin(converter)


def pinyin(hans, style=Style.TONE, heteronym=False, errors="default", strict=True, v_to_u=False,
           neutral_tone_with_five=False, *, model=None, g2p: Optional[G2P] = None):
    """pypinyin's ``pinyin()``: a list of reading lists (one per Han character, one per run of
    other characters); with ``heteronym`` the decided reading first, then pypinyin's others."""
    core = _core(model, g2p, v_to_u, neutral_tone_with_five)
    return core.pinyin(hans, style=style, heteronym=heteronym, errors=errors, strict=strict)


def lazy_pinyin(hans, style=Style.NORMAL, errors="default", strict=True, v_to_u=False,
                neutral_tone_with_five=False, tone_sandhi=False, *, model=None, g2p: Optional[G2P] = None):
    """pypinyin's ``lazy_pinyin()``: a flat list of strings."""
    core = _core(model, g2p, v_to_u, neutral_tone_with_five, tone_sandhi)
    return core.lazy_pinyin(hans, style=style, errors=errors, strict=strict)


def slug(hans, style=Style.NORMAL, heteronym=False, separator="-", errors="default", strict=True, *,
         model=None, g2p: Optional[G2P] = None):
    """pypinyin's ``slug()``: the readings joined by ``separator``."""
    core = _core(model, g2p)
    return separator.join(chain(*core.pinyin(hans, style=style, heteronym=heteronym, errors=errors,
                                             strict=strict)))
