"""Annotate a word list: every entry gets the reading pinyin-edge gives its word alone.

Streamed: lines are read, batched (:data:`CHUNK` entries through the model at a time) and written in
order, so memory stays flat whatever the file's size."""
from __future__ import annotations

from typing import BinaryIO, Callable, Dict, List, Optional, TextIO

from .formats import Entry, Item, code_syllables, read_items, write_entry

CHUNK = 4096  # entries per batch: large enough to fill the model's runs, small enough to stay flat


def annotate_stream(g2p, source: BinaryIO, out: TextIO, fmt: str, tones: bool = False,
                    name: str = "<input>", progress: Optional[Callable[[int, int], None]] = None
                    ) -> Dict[str, int]:
    """Write ``source`` (a ``fmt`` word list) to ``out`` with each entry's reading (toneless, or
    canonical tone numbers with ``tones``); ``progress(bytes_read, entries)`` is called per batch.
    Returns counts: entries, lines."""
    style = "tone3" if tones else "normal"
    pending: List[Item] = []
    words: List[str] = []
    counts = {"entries": 0, "lines": 0}

    def flush() -> None:
        readings = iter(g2p.word_readings_batch(words, k=1, style=style)) if words else iter(())
        lines = [write_entry(item, code_syllables(item.word, next(readings)[0].pinyin))
                 if isinstance(item, Entry) else item for item in pending]
        lines.append("")
        out.write("\n".join(lines))  # one write per batch
        counts["lines"] += len(pending)
        counts["entries"] += len(words)
        pending.clear()
        words.clear()

    done = 0
    for done, item in read_items(source, fmt, name):
        pending.append(item)
        if isinstance(item, Entry):
            words.append(item.word)
            if len(words) >= CHUNK:
                flush()
                if progress:
                    progress(done, counts["entries"])
    flush()
    if progress:
        progress(done, counts["entries"])
    return counts
