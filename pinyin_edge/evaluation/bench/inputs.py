"""What the benchmark feeds every system: how much to measure (:class:`Plan`) and the inputs, drawn
once with a fixed seed from the first ``--data`` file or, without one, from the speed text shipped in
this package (``speed_text.txt``)."""
from __future__ import annotations

import os
import random
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

KINDS = ("ime", "sentence", "paragraph")
KIND_LABELS = {"ime": "IME 2-8 chars", "sentence": "sentences", "paragraph": "paragraphs 300+ chars"}
PARAGRAPH_CHARS = 300
SPEED_TEXT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "speed_text.txt")


@dataclass(frozen=True)
class Plan:
    """How much to measure. ``accuracy_sentences=None`` scores every sentence of every data file."""

    accuracy_sentences: Optional[int]
    iterations: Dict[str, int]          # timed batch-1 calls per input kind (distinct inputs)
    warmup: Dict[str, int]              # untimed calls first, on other inputs of the same kind
    max_seconds: float                  # time cap per input kind and for the batched run
    cold_runs: int                      # fresh processes for the cold start (median reported)
    worker_timeout: float               # seconds before a worker is killed and the system marked failed
    speed_rounds: int = 1               # timing rounds per system, interleaved across systems (best kept)


QUICK = Plan(accuracy_sentences=300, iterations={"ime": 200, "sentence": 200, "paragraph": 30},
             warmup={"ime": 20, "sentence": 20, "paragraph": 3}, max_seconds=4.0, cold_runs=1,
             worker_timeout=300.0, speed_rounds=2)
FULL = Plan(accuracy_sentences=None, iterations={"ime": 2000, "sentence": 2000, "paragraph": 200},
            warmup={"ime": 100, "sentence": 100, "paragraph": 10}, max_seconds=30.0, cold_runs=3,
            worker_timeout=1800.0, speed_rounds=3)


def read_speed_text(path: str = SPEED_TEXT) -> List[str]:
    """The shipped speed text: everyday sentences written for this project, one per line."""
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip()]


def _draw(pool: Sequence[str], k: int, rng: random.Random) -> List[str]:
    """``k`` items of ``pool``: without replacement while it lasts, then again from the start."""
    out: List[str] = []
    while len(out) < k:
        out.extend(rng.sample(list(pool), min(len(pool), k - len(out))))
    return out


def _han_runs(text: str, minimum: int) -> List[str]:
    from ...readings import is_han

    runs, start = [], None
    for i, ch in enumerate(text + "\0"):
        if i < len(text) and is_han(ch):
            start = i if start is None else start
        elif start is not None:
            if i - start >= minimum:
                runs.append(text[start:i])
            start = None
    return runs


def ime_inputs(pool: Sequence[str], k: int, rng: random.Random) -> List[str]:
    """``k`` IME-like inputs: 2-8 consecutive Han characters cut from the pool's sentences."""
    runs = [run for text in pool for run in _han_runs(text, 2)]
    if not runs:  # no Han pairs at all: cut any 2-8 characters
        runs = [t for t in pool if len(t) >= 2] or [t * 2 for t in pool if t]
    out = []
    for _ in range(k):
        run = rng.choice(runs)
        length = rng.randint(2, min(8, len(run)))
        start = rng.randint(0, len(run) - length)
        out.append(run[start:start + length])
    return out


def paragraph_inputs(pool: Sequence[str], k: int, rng: random.Random,
                     min_chars: int = PARAGRAPH_CHARS) -> List[str]:
    """``k`` paragraphs of at least ``min_chars`` characters: sentences drawn at random, concatenated."""
    out = []
    for _ in range(k):
        parts, size = [], 0
        while size < min_chars:
            sentence = rng.choice(pool)
            parts.append(sentence)
            size += len(sentence)
        out.append("".join(parts))
    return out


def build_inputs(texts: Sequence[str], plan: Plan, seed: int) -> Dict[str, Dict[str, List[str]]]:
    """Per input kind: ``{"warmup": [...], "timed": [...]}``, the same for every system."""
    pool = [t for t in texts if t.strip()]
    if not pool:
        raise ValueError("no text to time")
    rng = random.Random(seed)
    makers = {"ime": lambda k: ime_inputs(pool, k, rng),
              "sentence": lambda k: _draw(pool, k, rng),
              "paragraph": lambda k: paragraph_inputs(pool, k, rng)}
    out = {}
    for kind in KINDS:
        drawn = makers[kind](plan.iterations[kind] + plan.warmup[kind])
        out[kind] = {"timed": drawn[:plan.iterations[kind]], "warmup": drawn[plan.iterations[kind]:]}
    return out


def input_stats(texts: Sequence[str]) -> Dict[str, Any]:
    lengths = [len(t) for t in texts]
    return {"count": len(texts), "chars_min": min(lengths), "chars_max": max(lengths),
            "chars_mean": round(sum(lengths) / len(lengths), 1)}


def subset_indices(n: int, limit: Optional[int], seed: int) -> Optional[List[int]]:
    """Sorted indices of a fixed random sample of ``limit`` out of ``n``; None = all."""
    if limit is None or n <= limit:
        return None
    return sorted(random.Random(seed).sample(range(n), limit))


def data_name(path: str) -> str:
    """``data/polyphone/cpp/test.sent`` -> ``cpp/test``."""
    stem = os.path.splitext(os.path.basename(path))[0]
    parent = os.path.basename(os.path.dirname(os.path.abspath(path)))
    return f"{parent}/{stem}" if parent else stem


def scored_examples(path: str, limit: Optional[int], seed: int):
    """The labelled examples of ``path`` that accuracy is scored on (all, or a fixed sample)."""
    from ...data import Dataset, read_labelled

    dataset = read_labelled(path)
    picked = subset_indices(len(dataset.examples), limit, seed)
    if picked is not None:
        dataset = Dataset([dataset.examples[i] for i in picked], dataset.skipped, dataset.errors)
    return dataset, picked is not None
