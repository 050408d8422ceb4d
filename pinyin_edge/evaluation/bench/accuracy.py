"""Accuracy through the ``eval`` code path (:func:`pinyin_edge.evaluation.evaluate.evaluate`), for a
system running here and for a peer whose readings were computed elsewhere (the node peers)."""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Sequence

FIELDS = ("accuracy", "correct", "total", "sentences", "outside_candidates")


def score(system, dataset, entry: Mapping[str, str], batch_size: int, sampled: bool,
          timed: bool = True) -> Dict[str, Any]:
    """``timed``: the system ran here, so the time inside its predict calls means something (and
    progress is worth showing)."""
    from ...candidates import CandidateTable
    from ..evaluate import evaluate

    result = evaluate(system, dataset, [entry["path"]], batch_size=batch_size,
                      table=CandidateTable.from_pypinyin(), progress=timed)
    summary = result.to_json()
    keys = FIELDS + (("seconds", "sentences_per_s", "chars_per_s") if timed else ())
    return {"name": entry["name"], "path": entry["path"], "sampled": sampled, **{k: summary[k] for k in keys}}


class Precomputed:
    """A system whose readings for each text were computed by another process (already canonical,
    one per character), so that they are scored exactly as a system running here."""

    def __init__(self, name: str, readings: Mapping[str, List[str]]):
        self.name, self.readings = name, readings

    def predict(self, texts: Sequence[str]) -> List[List[str]]:
        return [self.readings[text] for text in texts]
