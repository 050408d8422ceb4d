"""pypinyin's phrase dictionary as a decision source (read-only use of its tables).

A polyphone inside a multi-character phrase of pypinyin's dictionary (segmented by pypinyin's own
maximum-matching segmenter) takes the phrase's reading: on held-out CPP dev this beat the model on
those characters (93.3% -> 95.5% overall), and the model then only decides what no phrase covers.
"""
from __future__ import annotations

from typing import Dict

from ..readings import ReadingError, normalize


def phrase_readings(text: str) -> Dict[int, str]:
    """offset -> canonical reading for every character inside a multi-character dictionary phrase
    whose reading there is unambiguous."""
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.seg.mmseg import seg

    out: Dict[int, str] = {}
    offset = 0
    for word in seg.cut(text):
        start = text.find(word, offset)
        if start < 0:
            break
        offset = start + len(word)
        if len(word) < 2:
            continue
        readings = phrases_dict.get(word)
        if not readings or len(readings) != len(word):
            continue
        for i, options in enumerate(readings):
            if len(options) != 1:
                continue
            try:
                out[start + i] = normalize(options[0])
            except ReadingError:
                continue
    return out
