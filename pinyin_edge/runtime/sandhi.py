"""Mandarin tone sandhi on canonical readings (lowercase pinyin + tone digit).

Applied, when asked for, after the readings are chosen and before they are styled. Runs of
consecutive characters that have readings are treated as one stretch of speech; any other character
(punctuation, Latin, a space) ends a run. Rules, all computed from the readings before sandhi:

* 不 (read ``bu4`` or ``bu2``) becomes ``bu2`` before a fourth tone and ``bu4`` otherwise; other
  readings of 不 (``bu5``, ``fou3``) are left alone.
* 一 (read ``yi1``, ``yi2`` or ``yi4``) keeps the first tone in numbers (after 第 or a numeral, or
  before a digit: 十一, 第一, 一二, while 一百 and 一千 change), at the end of a run, and at the end
  of a multi-character word (统一, 唯一, 万一: a short word list plus pypinyin's segmenter); between
  two copies of one character (看一看) it is neutral; otherwise it becomes ``yi2`` before a fourth
  or neutral tone and ``yi4`` before a first, second or third tone.
* Third tone: in a streak of consecutive third tones every one but the last becomes second tone
  (the simple rule; no prosodic grouping).

Positions in ``locked`` (user overrides) never change but still count as context.
"""
from __future__ import annotations

from typing import Collection, Dict, List, Optional, Sequence, Tuple

from .phrases import phrase_words

NUMERALS = frozenset("一二三四五六七八九十零〇两百千万亿壹贰叁肆伍陆柒捌玖拾佰仟")
DIGITS = frozenset("一二三四五六七八九十零〇壹贰叁肆伍陆柒捌玖拾")  # 一百, 一千, 一两 still change
# common words ending in 一 (read yi1 whatever follows) that pypinyin's segmenter does not know
YI_FINAL_WORDS = frozenset(["统一", "唯一", "惟一", "万一", "专一", "单一", "划一", "初一", "逐一",
                            "之一", "其一", "合一", "归一", "均一", "纯一", "独一", "守一", "整一"])
_YI = ("yi1", "yi2", "yi4")
_BU = ("bu4", "bu2")


def _tone(reading: Optional[str]) -> int:
    if reading and reading[-1].isdigit():
        return int(reading[-1])
    return 0


def _word_final_yi(text: str, start: int, end: int) -> set:
    """Offsets of 一 that end a multi-character word of pypinyin's segmentation of text[start:end]."""
    piece = text[start:end]
    return {start + e - 1 for s, e in phrase_words(piece) if piece[e - 1] == "一"}


# 一 and 不 change tone by context (the rules above); their citation tones are yi1 and bu4. Sources
# disagree on which tone they write (pypinyin's phrase table bakes some sandhi in: 一个 yi2 ge4, 不是
# bu2 shi4; cpp-subset labels 不 bu2 before a fourth tone; CPP and g2pL write citation tones), so a
# model or phrase may return either: without sandhi asked for, both are read in citation tone.
SANDHI_FORMS = {"一": {"yi2": "yi1", "yi4": "yi1"}, "不": {"bu2": "bu4"}}


def citation_ranked(char: str, ranked: Sequence[Tuple[str, float]]) -> Tuple[Tuple[str, float], ...]:
    """Ranked candidates of ``char`` with its sandhi forms merged into its citation reading
    (probabilities summed, best first); other characters' candidates come back as they are."""
    forms = SANDHI_FORMS.get(char)
    if not forms:
        return tuple(ranked)
    merged: Dict[str, float] = {}
    for reading, p in ranked:
        key = forms.get(reading, reading)
        merged[key] = merged.get(key, 0.0) + p
    return tuple(sorted(merged.items(), key=lambda item: -item[1]))


def citation_tone(char: str, reading: Optional[str]) -> Optional[str]:
    """``reading`` of ``char`` in citation tone: 一 yi2/yi4 -> yi1, 不 bu2 -> bu4; anything else as it is."""
    return SANDHI_FORMS.get(char, {}).get(reading, reading)


def apply_tone_sandhi(text: str, readings: Sequence[Optional[str]],
                      locked: Collection[int] = ()) -> List[Optional[str]]:
    """Return a copy of ``readings`` (one per character of ``text``, None where a character has no
    reading) with tone sandhi applied."""
    if len(readings) != len(text):
        raise ValueError("one reading (or None) per character is needed")
    out = list(readings)
    n = len(text)
    i = 0
    while i < n:
        if readings[i] is None:
            i += 1
            continue
        start = i
        while i < n and readings[i] is not None:
            i += 1
        _sandhi_run(text, readings, out, start, i, locked)
    return out


def _sandhi_run(text: str, original: Sequence[Optional[str]], out: List[Optional[str]],
                start: int, end: int, locked: Collection[int]) -> None:
    tones = [_tone(original[k]) for k in range(start, end)]

    def tone_at(k: int) -> int:
        return tones[k - start]

    # third tone: every third tone followed by a third tone becomes second tone
    for k in range(start, end - 1):
        if tone_at(k) == 3 and tone_at(k + 1) == 3 and k not in locked:
            out[k] = original[k][:-1] + "2"

    word_final = None
    for k in range(start, end):
        if k in locked:
            continue
        char, reading = text[k], original[k]
        has_next = k + 1 < end
        if char == "不" and reading in _BU:
            out[k] = "bu2" if has_next and tone_at(k + 1) == 4 else "bu4"
        elif char == "一" and reading in _YI:
            prev_char = text[k - 1] if k > start else ""
            next_char = text[k + 1] if has_next else ""
            if not has_next or prev_char == "第" or prev_char in NUMERALS or next_char in DIGITS:
                out[k] = "yi1"
                continue
            if word_final is None:
                word_final = _word_final_yi(text, start, end)
            if k in word_final or text[k - 1:k + 1] in YI_FINAL_WORDS:
                out[k] = "yi1"
            elif prev_char and prev_char == next_char:
                out[k] = "yi5"
            elif tone_at(k + 1) in (4, 5):
                out[k] = "yi2"
            else:
                out[k] = "yi4"
