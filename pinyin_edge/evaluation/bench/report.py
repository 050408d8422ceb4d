"""bench.json, and bench.md rendered from it alone (bench.png: plot.py)."""
from __future__ import annotations

import json
import os
import sys
from typing import Any, Callable, Dict, List, Optional

from .inputs import KIND_LABELS, KINDS
from .machine import checkout_root
from .stats import ms
from .targets import check_targets, figure, load_targets

Log = Callable[[str], None]



def _num(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _x(value: Optional[float]) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}x" if value < 10 else f"{value:.1f}x"


def _table(report: Dict[str, Any], data_names: List[str]) -> List[str]:
    header = ["system"] + [f"acc {n} %" for n in data_names]
    for kind in KINDS:
        header += [f"{kind} p50 ms", f"{kind} p95 ms"]
    header += ["IME words/s", "chars/s b1", "chars/s batched", "cold start s", "peak RSS MB", "size MB"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    for name, system in report["systems"].items():
        if system.get("status") != "ok":
            continue
        cells = [system.get("label", name)]
        for n in data_names:
            acc = figure(system, f"accuracy.{n}.accuracy")
            cells.append("-" if acc is None else f"{100 * acc:.2f}")
        for kind in KINDS:
            cells += [ms(figure(system, f"latency_ms.{kind}.p50")), ms(figure(system, f"latency_ms.{kind}.p95"))]
        batched = _num(figure(system, "throughput.batched.chars_per_s"))
        if not (system.get("throughput", {}).get("batched") or {}).get("native_batching"):
            batched += " *"
        size = figure(system, "size.bytes")
        cold = figure(system, "cold_start.total_s")
        cells += [_num(figure(system, "throughput.ime.words_per_s")),
                  _num(figure(system, "throughput.batch1.chars_per_s")), batched,
                  "-" if cold is None else f"{cold:.2f}", _num(figure(system, "rss_mb.after_speed")),
                  "-" if size is None else f"{size / 1e6:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _method(report: Dict[str, Any]) -> List[str]:
    settings, inputs = report["settings"], report["inputs"]
    lines = ["\\* no batch API: the batched figure is the system's one-call loop.", ""]
    lines.append(f"Inputs from {inputs.get('source', 'the first data file')}. Latency: batch 1, after warm-up, "
                 "one call per input: "
                 + "; ".join(f"{KIND_LABELS[k]} (n={inputs[k]['count']}, mean {inputs[k]['chars_mean']:.0f} chars)"
                             for k in KINDS)
                 + ". IME words/s: the IME run's calls per second. Cold start: import + load + first call in a "
                 f"fresh process (median of {settings['plan']['cold_runs']}). Peak RSS: of the system's own "
                 "process after the latency and batched runs. Size: "
                 + "; ".join(f"{s.get('label', n)}: {s['size']['what']}" for n, s in report["systems"].items()
                             if s.get("size") and s.get("status") == "ok") + ".")
    rounds = settings["plan"].get("speed_rounds", 1)
    if rounds > 1:
        spread = []
        for name, system in report["systems"].items():
            per_round = system.get("speed_rounds") or []
            if system.get("status") != "ok" or len(per_round) < 2:
                continue
            p50s = [r["latency_ms"]["sentence"]["p50"] for r in per_round]
            rates = [r["batched"]["chars_per_s"] or 0 for r in per_round]
            spread.append(f"{system.get('label', name)} sentence p50 {ms(min(p50s))}-{ms(max(p50s))} ms, "
                          f"batched {_num(min(rates))}-{_num(max(rates))} chars/s")
        lines.append(f"Latency and throughput: the best of {rounds} timing rounds per system, each statistic on "
                     "its own (medians in the JSON under `median_of_rounds`), each round in a fresh process, the "
                     "systems taking turns. Round-to-round range: " + "; ".join(spread) + ".")
    if report.get("data"):
        lines.append("Accuracy: " + "; ".join(
            f"{d['name']}: {d['scored_sentences']:,} of {d['sentences']:,} sentences"
            + (f" (a fixed sample, seed {settings['seed']})" if d["scored_sentences"] < d["sentences"] else "")
            for d in report["data"]) + ", scored by the `eval` code path.")
    else:
        lines.append("Accuracy: not measured (no `--data` given).")
    return lines + [""]


def _ratios(report: Dict[str, Any], data_names: List[str]) -> List[str]:
    ratios = {n: r for n, r in report.get("ratios", {}).items() if n.startswith("edge")}
    if not ratios:
        return []
    lines = ["## Ratios (same run)", ""]
    label = {n: s.get("label", n) for n, s in report["systems"].items()}
    for name, against in ratios.items():
        parts = [
            "batched throughput " + ", ".join(f"{_x(r['batched_throughput'])} {label[b]}" for b, r in against.items()),
            "at batch 1 " + ", ".join(f"{_x(r['batch1_throughput'])} {label[b]}" for b, r in against.items()),
            "IME words/s " + ", ".join(f"{_x(r['ime_words_per_s'])} {label[b]}" for b, r in against.items()),
            "p50 sentence latency " + ", ".join(f"{_x(r['p50_sentence_latency'])} {label[b]}'s"
                                                for b, r in against.items()),
        ]
        accuracy = [f"{r['accuracy_points']:+.2f} vs {label[b]}" for b, r in against.items()
                    if r.get("accuracy_points") is not None]
        if accuracy and data_names:
            parts.append(f"accuracy on {data_names[0]} (points) " + ", ".join(accuracy))
        lines.append(f"- **{label[name]}**: " + "; ".join(parts))
    return lines + [""]


def _targets(report: Dict[str, Any]) -> List[str]:
    rows = report.get("targets") or []
    if not rows:
        return []
    spec = report.get("targets_file") or {}
    where = os.path.basename(spec.get("path") or "targets.json")
    lines = [f"## Targets ({where}), {spec.get('system', 'edge')} system", "",
             "| target | wanted | measured | met |", "|---|---|---|---|"]
    for t in rows:
        met = "-" if t["met"] is None else ("yes" if t["met"] else "**no**")
        lines.append(f"| {t['name']} | {t['target']} | {t['shown']} | {met} |")
    return lines + [""]


def _machine(report: Dict[str, Any]) -> List[str]:
    machine = report["machine"]
    lines = ["## Machine and versions", ""]
    lines.append(f"- CPU: {machine.get('cpu_model')}, {machine.get('logical_cpus')} logical / "
                 f"{machine.get('usable_cpus')} usable cores"
                 + (f", flags: {' '.join(machine['cpu_flags'])}" if machine.get("cpu_flags") else "")
                 + (f", {machine['memory_mb']:,} MB RAM" if machine.get("memory_mb") else ""))
    lines.append(f"- load average at start / end: {machine.get('loadavg_start')} / {machine.get('loadavg_end')}")
    lines.append(f"- {machine.get('platform')}")
    lines.append("- " + ", ".join(f"{k} {v}" for k, v in report["versions"].items() if v))
    missing = [k for k, v in report["versions"].items() if not v]
    if missing:
        lines.append(f"- not installed: {', '.join(missing)}")
    git = report.get("git")
    if git:
        lines.append(f"- git {git['commit'][:12]}{' (uncommitted changes)' if git.get('dirty') else ''}")
    for name, system in report["systems"].items():
        manifest = system.get("manifest")
        if manifest and system.get("status") == "ok":
            lines.append(f"- {system.get('label', name)} bundle: sha256 {manifest['graph_sha256'][:16]}..."
                         f"{'' if manifest.get('sha256_matches') else ' (MISMATCH)'}, "
                         f"{(manifest.get('graph_bytes') or 0) / 1e6:.2f} MB, quantization "
                         f"{json.dumps(manifest.get('quantization'), sort_keys=True)}")
    lines.append(f"- total wall time {report.get('wall_s', 0):.0f} s")
    if report.get("outputs", {}).get("plot_skipped"):
        lines.append(f"- plot skipped: {report['outputs']['plot_skipped']}")
    return lines + [""]


def render_markdown(report: Dict[str, Any]) -> str:
    data_names = [d["name"] for d in report.get("data", [])]
    settings, machine = report["settings"], report["machine"]
    mode = "quick (sampled)" if settings.get("quick") else "full"
    lines = ["# pinyin-edge benchmark", "",
             f"{report['created']} · {mode} · {settings['threads']} thread(s) · "
             f"{machine.get('cpu_model') or 'unknown CPU'} ({machine.get('usable_cpus')} usable cores)",
             "", f"Command: `{report['command']}`", ""]
    lines += _table(report, data_names) + [""] + _method(report)
    skipped = [(n, s) for n, s in report["systems"].items() if s.get("status") != "ok"]
    if skipped:
        lines += ["Not measured:"] + [f"- {s.get('label', n)}: {s['status']}: {s.get('reason')}" for n, s in skipped]
        lines.append("")
    lines += _ratios(report, data_names) + _targets(report)
    notes = [(s.get("label", n), note) for n, s in report["systems"].items() if s.get("status") == "ok"
             for note in s.get("notes", [])]
    if notes:
        lines += ["## Notes", ""] + [f"- {label}: {note}" for label, note in notes] + [""]
    return "\n".join(lines + _machine(report))


def _default_log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def portable_paths(report: Dict[str, Any], root: Optional[str]) -> None:
    """Paths in the report relative to the checkout (``root``; the data beside it as ``../...``), or
    under ``~``: a committed result names no build machine's folders."""
    home = os.path.expanduser("~")

    def short(path: Optional[str]) -> Optional[str]:
        if not path or not os.path.isabs(path):
            return path
        if os.path.commonpath([home, path]) == home and not (root and root.startswith(home)):
            return os.path.join("~", os.path.relpath(path, home))
        return os.path.relpath(path, root) if root else path

    for entry in report.get("data", []):
        entry["path"] = short(entry["path"])
    if report.get("targets_file"):
        report["targets_file"]["path"] = short(report["targets_file"].get("path"))
    if report.get("dictionary_cache"):
        report["dictionary_cache"]["path"] = short(report["dictionary_cache"].get("path"))
    for system in report["systems"].values():
        for key in ("model",):
            if key in system:
                system[key] = short(system[key])
        manifest = system.get("manifest")
        if manifest:
            manifest["path"] = short(manifest.get("path"))
            if (manifest.get("provenance") or {}).get("checkpoint"):
                manifest["provenance"]["checkpoint"] = short(manifest["provenance"]["checkpoint"])
        for figures in (system.get("accuracy") or {}).values():
            figures["path"] = short(figures.get("path"))
        system["notes"] = [note.replace(home + os.sep, "~" + os.sep) for note in system.get("notes", [])]


def write_outputs(report: Dict[str, Any], out: str, plot: bool = True, log: Log = _default_log) -> None:
    """bench.json, then bench.png (when matplotlib is there) and bench.md, all from the report."""
    os.makedirs(out, exist_ok=True)
    outputs: Dict[str, Any] = {"json": "bench.json", "markdown": "bench.md", "png": None}
    if plot:
        try:
            from .plot import render_png

            render_png(report, os.path.join(out, "bench.png"))
            outputs["png"] = "bench.png"
        except ImportError as exc:
            outputs["plot_skipped"] = f"matplotlib is not installed ({exc.name}): pip install 'pinyin-edge[bench]'"
            log(f"plot skipped: {outputs['plot_skipped']}")
    else:
        outputs["plot_skipped"] = "plotting turned off"
    report["outputs"] = outputs
    with open(os.path.join(out, "bench.json"), "w", encoding="utf-8") as handle:
        json.dump(report, handle, ensure_ascii=False, indent=1)
        handle.write("\n")
    with open(os.path.join(out, "bench.md"), "w", encoding="utf-8") as handle:
        handle.write(render_markdown(report))


def render_dir(out: str, targets: Optional[str] = None) -> None:
    """Re-render bench.md and bench.png from an existing bench.json; the targets are checked again,
    against ``targets`` when given, else against those the run recorded."""
    with open(os.path.join(out, "bench.json"), encoding="utf-8") as handle:
        report = json.load(handle)
    spec = load_targets(targets) if targets else report.get("targets_file")
    if spec:
        report["targets_file"] = {"path": spec.get("path"), "system": spec.get("system", "edge"),
                                  "targets": spec["targets"]}
        report["targets"] = check_targets(report, spec)
    portable_paths(report, checkout_root())
    write_outputs(report, out)
