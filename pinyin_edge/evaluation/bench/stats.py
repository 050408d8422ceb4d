"""Statistics over timing samples, and how several timing rounds become one figure."""
from __future__ import annotations

import math
from typing import Any, Dict, Optional, Sequence

from .inputs import KINDS


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); ``sorted_values`` ascending."""
    if not sorted_values:
        return float("nan")
    pos = (len(sorted_values) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


def median(values: Sequence[Optional[float]]) -> Optional[float]:
    present = sorted(v for v in values if v is not None)
    return percentile(present, 50) if present else None


def latency_stats(samples_ms: Sequence[float]) -> Dict[str, float]:
    values = sorted(samples_ms)
    out: Dict[str, float] = {"n": len(values)}
    if not values:
        return out
    for q in (1, 5, 25, 50, 75, 95, 99):
        out[f"p{q}"] = round(percentile(values, q), 5)
    out["min"] = round(values[0], 5)
    out["max"] = round(values[-1], 5)
    out["mean"] = round(sum(values) / len(values), 5)
    return out


def _rate(count: float, samples_ms: Sequence[float]) -> Optional[float]:
    seconds = sum(samples_ms) / 1000
    return round(count / seconds, 1) if seconds > 0 else None


def speed_figures(measured: Dict[str, Any]) -> Dict[str, Any]:
    """One timing round's figures from a worker's result (Python or node: the same fields)."""
    samples, chars = measured["latency_samples_ms"], measured["latency_chars"]
    return {"latency_ms": {kind: latency_stats(samples[kind]) for kind in KINDS},
            "batch1": {"chars_per_s": _rate(chars["sentence"], samples["sentence"]),
                       "sentences_per_s": _rate(len(samples["sentence"]), samples["sentence"]),
                       "source": "the batch-1 sentence latency run"},
            "ime": {"chars_per_s": _rate(chars["ime"], samples["ime"]),
                    "words_per_s": _rate(len(samples["ime"]), samples["ime"]),
                    "source": "the batch-1 IME latency run (one call per word)"},
            "batched": measured["batched"]}


THROUGHPUT_KEYS = {"batch1": ("chars_per_s", "sentences_per_s"), "ime": ("chars_per_s", "words_per_s"),
                   "batched": ("chars_per_s", "sentences_per_s")}


def combine_speed_rounds(system: Dict[str, Any]) -> None:
    """Each latency statistic and throughput becomes its best over the system's timing rounds (the
    lowest p50, the lowest p95, ..., the highest chars/s), each statistic on its own; the medians
    over the rounds are kept under ``median_of_rounds``. ``n`` is the samples of all rounds together.

    Why the best: on a shared machine interference only ever slows a round down, so the least
    disturbed round is the most repeatable figure (as ``timeit`` takes the minimum)."""
    rounds = system.get("speed_rounds") or []
    if len(rounds) < 2:
        return
    medians: Dict[str, Any] = {"latency_ms": {}, "throughput": {}}
    for kind in KINDS:
        per_round = [r["latency_ms"][kind] for r in rounds]
        keys = [k for k in per_round[0] if k != "n" and all(k in s for s in per_round)]
        system["latency_ms"][kind] = {"n": sum(s["n"] for s in per_round),
                                      **{k: round(min(s[k] for s in per_round), 5) for k in keys}}
        medians["latency_ms"][kind] = {k: round(median([s[k] for s in per_round]), 5) for k in keys}
    for mode, keys in THROUGHPUT_KEYS.items():
        figure = system["throughput"][mode]
        for key in keys:
            values = [r[mode].get(key) for r in rounds]
            if all(v is not None for v in values):
                figure[key] = round(max(values), 1)
                medians["throughput"].setdefault(mode, {})[key] = round(median(values), 1)
        figure["rounds_chars_per_s"] = [r[mode].get("chars_per_s") for r in rounds]
    system["median_of_rounds"] = medians


def ms(value: Optional[float]) -> str:
    if value is None:
        return "-"
    if value < 1:
        return f"{value:.3f}"
    if value < 10:
        return f"{value:.2f}"
    return f"{value:.1f}"
