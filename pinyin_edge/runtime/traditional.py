"""Traditional characters read through their simplified forms, one character for one.

The phrase table, the model's vocabulary and the fixed readings are all keyed on simplified
characters, so :class:`~pinyin_edge.runtime.g2p.G2P` decides on ``Simplifier.simplify(text)`` and
returns the readings against the original characters. The table (``t2s.tsv`` beside this module,
built by ``export/traditional_table.py`` from OpenCC's dictionaries) has three kinds of rows, all
length-preserving:

* ``c``: characters only traditional text uses (銀 -> 银); any one of them marks a text as traditional;
* ``s``: characters simplified text also uses as themselves (乾, 著, 於, 瞭, 藉), mapped only in a text
  marked traditional (or when forced), so simplified text is never touched;
* ``p``: phrases converted as a whole (乾坤 stays 乾坤, 瞭解 -> 了解), matched longest first, left to
  right, as OpenCC does.

See docs/traditional.md for the choice of table and the cases checked.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Dict, Optional, Tuple, Union

TABLE_PATH = Path(__file__).with_name("t2s.tsv")
MODES = ("auto", True, False)


class TableError(ValueError):
    """A traditional -> simplified table that cannot be trusted (malformed or length-changing row)."""


def read_table(path: Union[str, Path] = TABLE_PATH) -> Tuple[Dict[str, str], Dict[str, str], Dict[str, str]]:
    """(traditional-only characters, shared characters, phrases), each original -> simplified."""
    chars: Dict[str, str] = {}
    shared: Dict[str, str] = {}
    phrases: Dict[str, str] = {}
    kinds = {"c": chars, "s": shared, "p": phrases}
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    for lineno, line in enumerate(lines, 1):
        if not line or line[0] == "#":
            continue
        parts = line.split("\t")
        if len(parts) != 3 or parts[0] not in kinds or len(parts[1]) != len(parts[2]) or not parts[1] \
                or (parts[0] != "p" and len(parts[1]) != 1):
            raise TableError(f"{path}:{lineno}: expected kind<TAB>original<TAB>simplified of one length")
        kinds[parts[0]][parts[1]] = parts[2]
    return chars, shared, phrases


class Simplifier:
    """``simplify(text)``: ``text`` with its traditional characters in simplified form, same length.

    ``mode``: ``"auto"`` maps a text that has a traditional-only character (a simplified text comes back
    as it is, the same object); ``True`` maps every text; ``False`` maps nothing."""

    def __init__(self, mode: Union[str, bool] = "auto", table: Optional[Tuple[dict, dict, dict]] = None):
        if not any(mode is m or (isinstance(mode, str) and mode == m) for m in MODES):
            raise ValueError(f"traditional must be 'auto', True or False, got {mode!r}")
        self.mode = mode
        self._table = table
        self._loaded = False

    def _load(self) -> None:
        """Index the table on first use (a G2P that never meets traditional text pays one set build)."""
        chars, shared, phrases = self._table if self._table is not None else _default_table()
        lengths: Dict[str, set] = {}
        for phrase in phrases:
            lengths.setdefault(phrase[0], set()).add(len(phrase))
        self.chars = {**shared, **chars}
        self.phrases = phrases
        self.lengths = {first: sorted(ls, reverse=True) for first, ls in lengths.items()}
        self.marker = frozenset(chars)
        self._loaded = True

    def is_traditional(self, text: str) -> bool:
        """Does ``text`` have a character only traditional text uses?"""
        if not self._loaded:
            self._load()
        return not self.marker.isdisjoint(text)

    def simplify(self, text: str) -> str:
        if self.mode is False or (self.mode == "auto" and not self.is_traditional(text)):
            return text
        if not self._loaded:
            self._load()
        chars, phrases, lengths = self.chars, self.phrases, self.lengths
        out, i, n = [], 0, len(text)
        while i < n:
            char = text[i]
            for length in lengths.get(char, ()):
                got = phrases.get(text[i:i + length]) if i + length <= n else None
                if got is not None:
                    out.append(got)
                    i += length
                    break
            else:
                out.append(chars.get(char, char))
                i += 1
        result = "".join(out)
        # rows are length-checked on load; kept as the guard that alignment depends on
        return result if len(result) == n else "".join(chars.get(c, c) for c in text)


@lru_cache(maxsize=1)
def _default_table() -> Tuple[Dict[str, str], Dict[str, str], Dict[str, str]]:
    return read_table(TABLE_PATH)
