"""Candidate coverage: how many gold labels a candidate-masked model could never produce.

The model scores only a character's candidates, so a gold reading missing from the table is an error
before any model runs. Measure it on held-out data; close the gap with
:meth:`~pinyin_edge.candidates.CandidateTable.extend` from *training* labels only.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

from ..candidates import CandidateTable


@dataclass
class Coverage:
    total: int = 0
    outside: int = 0
    missing: Counter = field(default_factory=Counter)  # (char, reading) -> count, outside the table

    @property
    def covered(self) -> int:
        return self.total - self.outside

    def top_missing(self, top: int = 20) -> List[Tuple[str, str, int]]:
        return [(c, r, n) for (c, r), n in sorted(self.missing.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]

    def to_json(self, top: int = 20) -> Dict[str, object]:
        return {
            "total": self.total,
            "outside": self.outside,
            "missing": [{"char": c, "reading": r, "count": n} for c, r, n in self.top_missing(top)],
        }


def candidate_coverage(pairs: Iterable[Tuple[str, str]],
                       table: Optional[CandidateTable] = None) -> Coverage:
    """Count (char, gold reading) pairs whose reading is not among the char's candidates.

    ``pairs`` is what :meth:`pinyin_edge.data.Dataset.labelled_pairs` yields; ``table`` defaults to
    pypinyin's full table.
    """
    table = table or CandidateTable.from_pypinyin()
    out = Coverage()
    for char, reading in pairs:
        out.total += 1
        if reading not in table.get(char):
            out.outside += 1
            out.missing[(char, reading)] += 1
    return out
