"""The candidate table: every Han character's possible readings, in canonical form.

Built from pypinyin's character dictionary, read-only (pypinyin's process-wide tables are never
changed; see :mod:`pinyin_edge.dictionaries`). Readings seen in *training* labels can be added with
:meth:`CandidateTable.extend`, so a label convention pypinyin lacks (CPP follows CC-CEDICT) is still
reachable; test labels never are.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Dict, Iterable, List, Tuple

from .dictionaries import dictionaries


@lru_cache(maxsize=1)
def pypinyin_readings() -> Dict[str, Tuple[str, ...]]:
    """char -> canonical readings in pypinyin's order (its first reading is its default)."""
    chars = dictionaries().chars
    return {c: tuple(v.split(",")) for c, v in chars.items()}


class LazyReadings(dict):
    """pypinyin's readings split one character at a time, on first use.

    For the runtime, which only looks characters up. Iterating it sees only the characters looked up
    so far, so code that needs the whole table uses :func:`pypinyin_readings`.
    """

    def __missing__(self, char: str) -> Tuple[str, ...]:
        readings = dictionaries().char_readings(char) if len(char) == 1 else ()
        self[char] = readings
        return readings

    def get(self, char: str, default=None):
        readings = self[char]
        return readings if readings else default


@dataclass
class CandidateTable:
    """char -> ordered candidate readings; ``labels`` is the model's output label set."""

    readings: Dict[str, Tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_pypinyin(cls) -> "CandidateTable":
        return cls(dict(pypinyin_readings()))

    @classmethod
    def lazy_pypinyin(cls) -> "CandidateTable":
        """pypinyin's table converted on demand: for lookups only (get, is_polyphone)."""
        return cls(LazyReadings())

    def get(self, char: str) -> Tuple[str, ...]:
        return self.readings.get(char, ())

    def is_polyphone(self, char: str) -> bool:
        return len(self.readings.get(char, ())) > 1

    def extend(self, pairs: Iterable[Tuple[str, str]]) -> int:
        """Add (char, reading) pairs missing from the table; returns how many were added."""
        added = 0
        for char, reading in pairs:
            current = self.readings.get(char, ())
            if reading not in current:
                self.readings[char] = current + (reading,)
                added += 1
        return added

    def polyphones(self) -> List[str]:
        return sorted(c for c, r in self.readings.items() if len(r) > 1)

    def labels(self) -> List[str]:
        """The sorted label set: every reading of every polyphone."""
        return sorted({r for c in self.polyphones() for r in self.readings[c]})

    def to_json(self, chars: Iterable[str] = None) -> Dict[str, List[str]]:
        keep = self.polyphones() if chars is None else chars
        return {c: list(self.readings[c]) for c in keep if c in self.readings}

    @classmethod
    def from_json(cls, data: Dict[str, List[str]]) -> "CandidateTable":
        return cls({c: tuple(r) for c, r in data.items()})
