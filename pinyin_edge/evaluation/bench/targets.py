"""Figures derived from one run: ratios between systems, and the targets file checked against them.

The targets file (``benchmarks/targets.json`` in the repository; the wheel ships the same file as
package data, and ``--targets FILE`` picks another) lists each target as a figure of the target
system, a peer and a ratio (``at_most`` / ``at_least``), a difference in accuracy points, or an
absolute limit; see :func:`check_targets`."""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional

from .machine import checkout_root

SCHEMA = "pinyin-edge-bench-targets/1"
PACKAGED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "targets.json")
BASELINES = ("pypinyin", "g2pm", "pinyin-pro", "napi-pinyin")
_LIMITS = ("at_most", "at_least", "points_at_least", "points_within")


class TargetsError(ValueError):
    """A targets file that cannot be used."""


def default_targets_path() -> str:
    """The repository's ``benchmarks/targets.json`` in a checkout, the packaged copy otherwise."""
    root = checkout_root()
    if root is not None:
        path = os.path.join(root, "benchmarks", "targets.json")
        if os.path.isfile(path):
            return path
    return PACKAGED


def load_targets(path: Optional[str] = None) -> Dict[str, Any]:
    path = path or default_targets_path()
    try:
        with open(path, encoding="utf-8") as handle:
            spec = json.load(handle)
    except (OSError, ValueError) as exc:
        raise TargetsError(f"{path}: cannot read targets ({exc})") from exc
    if not isinstance(spec, dict) or spec.get("schema") != SCHEMA or not isinstance(spec.get("targets"), list):
        raise TargetsError(f"{path}: not a targets file (schema {SCHEMA!r} with a list of targets)")
    for i, target in enumerate(spec["targets"]):
        limits = [k for k in _LIMITS if k in target] if isinstance(target, dict) else []
        if len(limits) != 1 or not isinstance(target.get("figure"), str) or not target.get("name"):
            raise TargetsError(f"{path}: target {i + 1} needs a name, a figure and one of {', '.join(_LIMITS)}")
        if limits[0].startswith("points") and "peer" not in target:
            raise TargetsError(f"{path}: target {i + 1} ({target['name']}): points need a peer")
    spec["path"] = path
    return spec


def ok_systems(report: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    return {n: s for n, s in report["systems"].items() if s.get("status") == "ok"}


def figure(system: Dict[str, Any], path: str) -> Optional[float]:
    """The number at ``path`` (``throughput.batched.chars_per_s``) in a system's entry, or None."""
    value: Any = system
    for key in _split(path):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _split(path: str) -> List[str]:
    # accuracy keys are data names such as "cpp/test": split on dots only
    return path.split(".")


def compute_ratios(report: Dict[str, Any]) -> Dict[str, Dict[str, Dict[str, Optional[float]]]]:
    """Every system against each baseline of the same run. Throughput: higher is faster; latency:
    lower is faster; accuracy: the difference in points on the first data file."""
    ok = ok_systems(report)
    primary = report["data"][0]["name"] if report.get("data") else None
    out: Dict[str, Dict[str, Dict[str, Optional[float]]]] = {}
    for name, system in ok.items():
        for base in BASELINES:
            if base == name or base not in ok:
                continue
            other = ok[base]

            def ratio(path: str) -> Optional[float]:
                a, b = figure(system, path), figure(other, path)
                return round(a / b, 3) if a is not None and b else None

            acc_a = figure(system, f"accuracy.{primary}.accuracy") if primary else None
            acc_b = figure(other, f"accuracy.{primary}.accuracy") if primary else None
            out.setdefault(name, {})[base] = {
                "batched_throughput": ratio("throughput.batched.chars_per_s"),
                "batch1_throughput": ratio("throughput.batch1.chars_per_s"),
                "ime_words_per_s": ratio("throughput.ime.words_per_s"),
                "p50_sentence_latency": ratio("latency_ms.sentence.p50"),
                "p50_ime_latency": ratio("latency_ms.ime.p50"),
                "cold_start": ratio("cold_start.total_s"),
                "peak_rss": ratio("rss_mb.after_speed"),
                "accuracy_points": round(100 * (acc_a - acc_b), 2) if acc_a is not None and acc_b is not None
                else None,
            }
    return out


def _shown(value: float, unit: Optional[str]) -> str:
    if unit == "MB":
        return f"{value / 1e6:.2f} MB"
    return f"{100 * value:.2f}" if value <= 1 else f"{value:g}"


def check_targets(report: Dict[str, Any], spec: Dict[str, Any]) -> List[Dict[str, Any]]:
    """One row per target and data file: ``{name, target, value, met, shown}``; ``met`` is None when
    the run did not measure what the target needs (the peer skipped, no ``--data``)."""
    name = spec.get("system", "edge")
    ok = ok_systems(report)
    system = ok.get(name)
    rows: List[Dict[str, Any]] = []
    if system is None:
        return rows

    def row(title: str, target: str, value: Optional[float], met: Optional[bool], shown: str) -> None:
        rows.append({"name": title, "target": target, "value": value, "met": met, "shown": shown})

    data_names = list((system.get("accuracy") or {}).keys())
    for t in spec["targets"]:
        limit_key = next(k for k in _LIMITS if k in t)
        limit = t[limit_key]
        peer = t.get("peer")
        if limit_key.startswith("points"):
            peers = [p for p in ok if p in BASELINES] if peer == "*" else [peer]  # *: the other engines
            for data in data_names:
                ours = figure(system, f"accuracy.{data}.accuracy")
                for other in peers:
                    theirs = figure(ok.get(other, {}), f"accuracy.{data}.accuracy")
                    label = f"{t['name']}: {data}, {other}"
                    if ours is None or theirs is None:
                        if peer != "*":
                            row(label, f"{other} not measured", None, None, "-")
                        continue
                    diff = round(100 * (ours - theirs), 2)
                    if limit_key == "points_at_least":
                        row(label, f">= {limit:+.2f} points", diff, diff >= limit, f"{diff:+.2f} points")
                    else:
                        row(label, f"within {limit} points", diff, abs(diff) <= limit + 1e-9, f"{diff:+.2f} points")
            if not data_names:
                row(t["name"], "needs --data", None, None, "-")
            continue
        op = "<=" if limit_key == "at_most" else ">="
        passes = (lambda v: v <= limit + 1e-12) if limit_key == "at_most" else (lambda v: v >= limit - 1e-12)
        if peer is None:
            ours = figure(system, t["figure"])
            wanted = f"{op} {_shown(limit, t.get('unit'))}"
            if ours is None:
                row(t["name"], wanted, None, None, "not measured")
            else:
                row(t["name"], wanted, ours, passes(ours), _shown(ours, t.get("unit")))
            continue
        wanted = f"{op} {limit:g}x {peer}'s (same run)"
        ours, theirs = figure(system, t["figure"]), figure(ok.get(peer, {}), t["figure"])
        if ours is None or not theirs:
            row(t["name"], wanted, None, None, f"{peer} not measured" if ours is not None else "not measured")
            continue
        ratio = round(ours / theirs, 3)
        row(t["name"], wanted, ratio, passes(ratio), f"{ratio:.2f}x {peer}'s")
    return rows
