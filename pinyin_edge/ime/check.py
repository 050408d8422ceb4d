"""Check a word list: the entries whose written reading disagrees with pinyin-edge's, with how sure
pinyin-edge is (the probability that the written reading is not the word's reading alone).

* A reading written without tones is compared without tones (``normal`` style, probabilities of
  readings that differ only in tone summed); one with tone digits is compared with them.
* Confidence = 1 - P(written reading), P from the word's k best readings; a written reading outside
  them has at most the smaller of the k-th reading's probability and the probability the k best leave
  (so the confidence reported is then a lower bound).
* A word listed with several different readings is not an error (a second pass over the file finds
  them for the flagged words only, so memory holds the findings, never the whole list).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO, Callable, Dict, List, Optional, Sequence, Tuple

from ..readings import ReadingError, is_han, normalize
from .formats import Entry, code_syllables, read_items

K = 8  # readings per word: the alternatives shown and the bound on an unlisted reading
CHUNK = 4096


@dataclass
class Finding:
    word: str
    lineno: int
    written: List[str]
    confidence: float
    ours: List[Tuple[List[str], float]] = field(default_factory=list)

    def to_dict(self) -> Dict[str, object]:
        return {"word": self.word, "line": self.lineno, "written": " ".join(self.written),
                "confidence": round(self.confidence, 6),
                "ours": [{"reading": " ".join(r), "probability": round(p, 6)} for r, p in self.ours]}


def written_form(syllables: Sequence[str]) -> Tuple[List[str], bool]:
    """A written reading in canonical spelling, and whether it carries tones (all syllables do)."""
    toned = all(s[-1:].isdigit() for s in syllables)
    out = []
    for s in syllables:
        try:
            canonical = normalize(s)
            out.append(canonical if toned else canonical[:-1])
        except ReadingError:
            out.append(s.lower())
    return out, toned


def _judge(entry: Entry, readings, toned: bool, written: List[str]) -> Optional[Finding]:
    ours = [(code_syllables(entry.word, r.pinyin), r.probability) for r in readings]
    if ours[0][0] == written:
        return None
    matching = sum(p for syllables, p in ours if syllables == written)
    if not matching:
        matching = min(ours[-1][1], max(0.0, 1.0 - sum(p for _, p in ours))) if len(ours) == K else 0.0
    return Finding(entry.word, entry.lineno, written, 1.0 - matching, ours[:3])


def check_stream(g2p, open_source: Callable[[], BinaryIO], fmt: str, min_confidence: float,
                 name: str = "<input>", progress: Optional[Callable[[int, int], None]] = None
                 ) -> Tuple[List[Finding], Dict[str, int]]:
    """The findings at ``min_confidence`` or above (most confident first) and counts. ``open_source``
    opens the file afresh: it is read twice."""
    counts = {"entries": 0, "with_reading": 0, "checked": 0, "skipped_length": 0, "skipped_mixed": 0,
              "disagree": 0, "several_readings": 0}
    findings: List[Finding] = []
    batch: Dict[bool, List[Tuple[Entry, List[str]]]] = {True: [], False: []}

    def flush(toned: bool) -> None:
        entries = batch[toned]
        if not entries:
            return
        words = [e.word for e, _ in entries]
        for (entry, written), readings in zip(entries, g2p.word_readings_batch(
                words, k=K, style="tone3" if toned else "normal")):
            counts["checked"] += 1
            found = _judge(entry, readings, toned, written)
            if found is not None:
                counts["disagree"] += 1
                if found.confidence >= min_confidence:
                    findings.append(found)
        entries.clear()

    done = 0
    with open_source() as source:
        for done, item in read_items(source, fmt, name):
            if not isinstance(item, Entry):
                continue
            counts["entries"] += 1
            if not item.code:
                continue
            counts["with_reading"] += 1
            if not all(is_han(c) for c in item.word):
                counts["skipped_mixed"] += 1
                continue
            written, toned = written_form(item.code)
            if len(written) != len(item.word):
                counts["skipped_length"] += 1
                continue
            batch[toned].append((item, written))
            if len(batch[toned]) >= CHUNK:
                flush(toned)
                if progress:
                    progress(done, counts["entries"])
    flush(True)
    flush(False)
    if progress:
        progress(done, counts["entries"])
    if findings:  # a word listed with several readings: each is meant
        flagged = {f.word for f in findings}
        codes: Dict[str, set] = {w: set() for w in flagged}
        with open_source() as source:
            for _, item in read_items(source, fmt, name):
                if isinstance(item, Entry) and item.word in codes and item.code:
                    codes[item.word].add(tuple(written_form(item.code)[0]))
        several = {w for w, c in codes.items() if len(c) > 1}
        counts["several_readings"] = sum(f.word in several for f in findings)
        findings = [f for f in findings if f.word not in several]
    findings.sort(key=lambda f: (-f.confidence, f.lineno))
    counts["flagged"] = len(findings)
    return findings, counts
