"""Display styles: a canonical reading rendered in one of pypinyin's styles (:data:`STYLE_NAMES`).

pypinyin's own style machinery renders; its renderings of every reading in pypinyin's tables are
cached per install beside the compiled dictionaries (:func:`pinyin_edge.dictionaries.style_table`),
so a process that only reads them never imports pypinyin.
"""
from __future__ import annotations

from functools import lru_cache

from .dictionaries import style_table
from .readings import STYLE_NAMES


def to_style(reading: str, style: str) -> str:
    """Render a canonical reading in one of pypinyin's styles (by its lowercase name)."""
    return styler(style)(reading)


@lru_cache(maxsize=None)
def styler(style: str):
    """The function canonical reading -> its rendering in ``style`` (a lowercase style name)."""
    if style not in STYLE_NAMES:
        raise ValueError(f"unknown style {style!r}; choose one of: {', '.join(STYLE_NAMES)}")
    if style == "tone3":
        return lambda r: r
    render = pypinyin_renderer(style)
    table = style_table(style, render)
    return lambda reading: table[reading] if reading in table else render(reading)  # '' is a rendering


@lru_cache(maxsize=1)
def _pypinyin_style_machinery():
    from pypinyin import Style
    from pypinyin.contrib.tone_convert import to_tone
    from pypinyin.style import convert

    return Style, to_tone, convert


def pypinyin_renderer(style: str):
    """pypinyin's rendering of a canonical reading in ``style``; pypinyin is imported on first use."""
    @lru_cache(maxsize=8192)
    def render(reading: str) -> str:
        styles, to_tone, convert = _pypinyin_style_machinery()
        marked = to_tone(reading[:-1] if reading.endswith("5") else reading)
        return convert(marked, getattr(styles, style.upper()), strict=True)

    return render
