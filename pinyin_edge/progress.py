"""One progress line on stderr for every long job (pretraining, training, evaluation, benchmarks).

Redrawn in place on a terminal (unless ``redraw=False``); in a log file, a plain line every ``every``
seconds.
"""
from __future__ import annotations

import sys
import time
from typing import Optional, TextIO


class Progress:
    def __init__(self, total: int, label: str, stream: Optional[TextIO] = None, enabled: bool = True,
                 every: Optional[float] = None, unit: str = "", redraw: Optional[bool] = None):
        self.total, self.label, self.unit = total, label, unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and total > 0
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)()) if redraw is None else redraw
        self.every = every if every is not None else (0.2 if self.tty else 10.0)
        self.start = self.last = time.perf_counter()
        self.done = 0

    def update(self, done: int, text: str = "", force: bool = False) -> None:
        self.done = done
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self.last < self.every and done < self.total:
            return
        self.last = now
        elapsed = now - self.start
        rate = done / max(elapsed, 1e-9)
        unit = f" {self.unit}" if self.unit else ""
        line = (f"{self.label}: {done}/{self.total}{unit} ({100.0 * done / self.total:.0f}%, "
                f"{rate:,.1f}/s, {elapsed:.0f}s) {text}").rstrip()
        self.stream.write(("\r" + line) if self.tty else (line + "\n"))
        if self.tty and done >= self.total:
            self.stream.write("\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty and self.done < self.total:
            self.stream.write("\n")
            self.stream.flush()
