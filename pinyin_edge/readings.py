"""Canonical readings: lowercase pinyin + tone digit 1-5 (5 = neutral), ü written ``v``.

Every loader normalises to this form; display styles (:data:`STYLE_NAMES`) are made from it at the
edge with pypinyin's own style machinery (:mod:`pinyin_edge.styles`), never with new tables.
"""
from __future__ import annotations

import re
from functools import lru_cache

_CANONICAL = re.compile(r"^[a-z]+[1-5]$")
_TONE_MARKED = set("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ")


class ReadingError(ValueError):
    """A reading that cannot be put in canonical form."""


def is_han(char: str) -> bool:
    """True for a CJK ideograph (the characters that have pinyin readings)."""
    cp = ord(char)
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x323AF  # extensions B-I, compatibility supplement
        or 0xF900 <= cp <= 0xFAFF
        or cp == 0x3007  # 〇
    )


@lru_cache(maxsize=1)
def syllables() -> frozenset:
    """Every toneless syllable (canonical spelling) that pypinyin's dictionary knows."""
    from pypinyin.pinyin_dict import pinyin_dict

    # Convert each distinct spelling once (1.5k of them), not all 50k dictionary entries.
    marked = {m for value in pinyin_dict.values() for m in value.split(",")}
    out = {_tone_mark_to_canonical(m)[:-1] for m in marked}
    out.add("r")  # erhua 儿 read r5 (CPP labels it so); pypinyin's dictionary has no such syllable
    return frozenset(out)


def _tone_mark_to_canonical(marked: str) -> str:
    from pypinyin.contrib.tone_convert import to_tone3

    plain = to_tone3(marked.strip(), v_to_u=False, neutral_tone_with_five=True)
    return plain.replace("ü", "v")


@lru_cache(maxsize=65536)
def normalize(reading: str) -> str:
    """Return the canonical form of ``reading`` or raise :class:`ReadingError`.

    Accepts CPP's ``lu:4``, ``ü``, tone marks (``háng``), upper case, a missing tone digit (neutral)
    and ``0`` for neutral; maps ``lue``/``nue`` to ``lve``/``nve``.
    """
    raw = reading
    text = reading.strip().lower()
    if not text:
        raise ReadingError("empty reading")
    if any(ch in _TONE_MARKED for ch in text):
        text = _tone_mark_to_canonical(text)
    text = text.replace("u:", "v").replace("ü", "v")
    if text[-1] == "0":
        text = text[:-1] + "5"
    if not text[-1].isdigit():
        text += "5"
    base = text[:-1]
    if base in ("lue", "nue"):
        base = base[0] + "ve"
    text = base + text[-1]
    if not _CANONICAL.match(text) or base not in syllables():
        raise ReadingError(f"not a pinyin reading: {raw!r}")
    return text


# pypinyin's styles by lowercase name, as the API and the CLI take them (rendered by pinyin_edge.styles)
STYLE_NAMES = (
    "tone3", "tone", "tone2", "normal", "initials", "first_letter", "finals", "finals_tone",
    "finals_tone2", "finals_tone3", "bopomofo", "bopomofo_first", "cyrillic", "cyrillic_first",
    "wadegiles",
)
