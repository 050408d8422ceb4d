"""Score any system on labelled data, through one code path.

``evaluate(system, dataset)`` batches the texts, asks the system for one reading per character, and
compares every labelled offset. Several results (one per file) combine into a total with
:meth:`EvalResult.combine`.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, TextIO

from ..candidates import CandidateTable
from ..data import Dataset
from ..progress import Progress
from .coverage import candidate_coverage


@dataclass
class EvalResult:
    """Counts of one evaluation; the derived lists (worst characters, confusions) come from them."""

    system: str
    data: List[str]
    correct: int = 0
    total: int = 0
    sentences: int = 0
    characters: int = 0
    seconds: float = 0.0  # time inside the system's predict calls
    outside_candidates: int = 0
    skipped: int = 0
    char_counts: Dict[str, List[int]] = field(default_factory=dict)  # char -> [correct, total]
    confusion_counts: Counter = field(default_factory=Counter)  # (char, gold, predicted) -> count
    parts: List["EvalResult"] = field(default_factory=list)  # per-file results of a combined total

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def sentences_per_s(self) -> float:
        return self.sentences / self.seconds if self.seconds > 0 else 0.0

    def per_char(self, min_count: int = 5, top: int = 10) -> List[Dict[str, object]]:
        """The worst characters among those with at least ``min_count`` labels."""
        rows = [(c, ok, n) for c, (ok, n) in self.char_counts.items() if n >= min_count]
        rows.sort(key=lambda row: (row[1] / row[2], -row[2], row[0]))
        return [{"char": c, "accuracy": ok / n, "correct": ok, "total": n} for c, ok, n in rows[:top]]

    def confusions(self, top: int = 10) -> List[Dict[str, object]]:
        """The most frequent errors: (char, gold, predicted, count)."""
        rows = sorted(self.confusion_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        return [{"char": c, "gold": g, "predicted": p, "count": n} for (c, g, p), n in rows]

    def summary(self) -> Dict[str, object]:
        return {"data": self.data, "accuracy": self.accuracy, "correct": self.correct, "total": self.total,
                "sentences": self.sentences, "outside_candidates": self.outside_candidates,
                "skipped": self.skipped}

    def to_json(self, min_count: int = 5, top: int = 10) -> Dict[str, object]:
        out: Dict[str, object] = {
            "accuracy": self.accuracy,
            "correct": self.correct,
            "total": self.total,
            "system": self.system,
            "data": self.data,
            "per_char": self.per_char(min_count, top),
            "confusions": self.confusions(top),
            "outside_candidates": self.outside_candidates,
            "sentences": self.sentences,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
            "sentences_per_s": round(self.sentences_per_s, 1),
            "chars_per_s": round(self.characters / self.seconds, 1) if self.seconds > 0 else 0.0,
        }
        if self.parts:
            out["files"] = [part.summary() for part in self.parts]
        return out

    @classmethod
    def combine(cls, results: Sequence["EvalResult"]) -> "EvalResult":
        if len(results) == 1:
            return results[0]
        total = cls(system=results[0].system if results else "", data=[], parts=list(results))
        for part in results:
            total.data.extend(part.data)
            for name in ("correct", "total", "sentences", "characters", "seconds", "outside_candidates",
                         "skipped"):
                setattr(total, name, getattr(total, name) + getattr(part, name))
            for char, (ok, n) in part.char_counts.items():
                counts = total.char_counts.setdefault(char, [0, 0])
                counts[0] += ok
                counts[1] += n
            total.confusion_counts.update(part.confusion_counts)
        return total


class AlignmentError(RuntimeError):
    """A system broke the contract of one reading per input character."""


def evaluate(system, dataset: Dataset, data: Iterable[str] = (), *, batch_size: int = 64,
             table: Optional[CandidateTable] = None, progress: bool = True,
             stream: Optional[TextIO] = None) -> EvalResult:
    """Score ``system`` (``name`` + ``predict(texts)``) on every labelled offset of ``dataset``."""
    result = EvalResult(system=system.name, data=list(data), skipped=dataset.skipped)
    examples = dataset.examples
    label = f"{system.name} on {', '.join(result.data) or 'data'}"
    bar = Progress(len(examples), label, stream=stream, enabled=progress, unit="sentences")
    for start in range(0, len(examples), batch_size):
        batch = examples[start:start + batch_size]
        texts = [ex.text for ex in batch]
        began = time.perf_counter()
        predicted = system.predict(texts)
        result.seconds += time.perf_counter() - began
        if len(predicted) != len(texts):
            raise AlignmentError(f"system {system.name} returned {len(predicted)} results "
                                 f"for {len(texts)} texts")
        for ex, readings in zip(batch, predicted):
            if len(readings) != len(ex.text):
                raise AlignmentError(f"system {system.name} returned {len(readings)} readings for "
                                     f"{len(ex.text)} characters ({ex.source}: {ex.text[:40]})")
            result.sentences += 1
            result.characters += len(ex.text)
            for offset, gold in ex.labels:
                char, guess = ex.text[offset], readings[offset]
                counts = result.char_counts.setdefault(char, [0, 0])
                counts[1] += 1
                result.total += 1
                if guess == gold:
                    counts[0] += 1
                    result.correct += 1
                else:
                    result.confusion_counts[(char, gold, guess)] += 1
        bar.update(start + len(batch))
    result.outside_candidates = candidate_coverage(dataset.labelled_pairs(), table).outside
    return result
