"""Checkpoint -> ONNX (fp32) -> graph optimisation -> int8 (dynamic, per channel) -> parity gate -> bundle.

Export uses ``torch.onnx.export`` and quantization ``onnxruntime.quantization`` directly (optimum-onnx
0.1.0 pins transformers<4.58, which would hold back the train extra). Every figure the gate measures
goes into the manifest, and a breach raises :class:`ParityError` after the bundle is written aside
as ``BUNDLE.rejected`` for inspection, so a failed export never looks like a valid bundle.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from typing import List, Optional, Tuple

import torch
from torch import nn

from ..bundle import INPUT_NAMES, OUTPUT_NAMES, Manifest, data_record, portable_name, sha256_file, write_bundle
from ..data import SOURCES
from .validate import ParityError, ParityThresholds, measure_parity

OPSET = 17


@dataclass(frozen=True)
class ExportSettings:
    quantize: str = "int8"            # int8 | none
    per_channel: bool = True
    # 7-bit weights: x86 CPUs without VNNI (AVX2, AVX-512F) multiply int8 pairs into saturating int16
    # sums, which full-range weights can overflow (a 40-step test BiGRU lost 7 points there).
    reduce_range: bool = True
    optimize: bool = True             # onnxruntime transformer fusions on the fp32 graph
    phrases: bool = True              # the runtime policy: dictionary phrases decide what they cover
    word_exceptions_from: Tuple[str, ...] = ()  # labelled files that name the phrase word exceptions
    word_exception_min_count: int = 1
    word_exception_min_disagreement: float = 0.5
    gold_from: Tuple[str, ...] = ()  # gold files: the model decides only the polyphones they label
    context: Optional[int] = None     # tokens the runtime reads around decided characters (None: all)
    fixed_from: Tuple[str, ...] = ()  # unlabelled text: polyphones the model always reads one way there
    fixed_per_file: int = 3000        # (and gold_from never contradicts) get a fixed reading (policy.py)
    fixed_min_decisions: int = 100
    fixed_min_share: float = 0.999
    opset: int = OPSET
    thresholds: ParityThresholds = ParityThresholds()
    recipe: Optional[str] = None      # the build recipe file (KEY=VALUE lines), recorded in the manifest


class _GraphModule(nn.Module):
    """The exported signature: ids, mask, flat query positions -> logits (masking is the runtime's)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, query_index):
        return self.model(input_ids, attention_mask, query_index)


def export_fp32(model, path: str, opset: int = OPSET) -> None:
    ids = torch.tensor([[2, 10, 11, 12, 3], [2, 13, 14, 3, 0]], dtype=torch.long)
    mask = (ids != 0).long()
    query = torch.tensor([1, 2, 6], dtype=torch.long)
    torch.onnx.export(
        _GraphModule(model).eval(), (ids, mask, query), path, dynamo=False, opset_version=opset,
        input_names=list(INPUT_NAMES), output_names=list(OUTPUT_NAMES),
        dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                      "query_index": {0: "queries"}, "logits": {0: "queries"}},
        do_constant_folding=True)


def optimize_graph(src: str, dst: str, hidden: int, heads: int) -> bool:
    """Fuse attention / layer norm / GELU with onnxruntime's transformer optimizer; False if it can't."""
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        optimized = optimize_model(src, model_type="bert", num_heads=heads, hidden_size=hidden,
                                   opt_level=1, use_gpu=False)
        optimized.save_model_to_file(dst)
        return True
    except Exception as exc:  # fusion is an optimisation: keep the plain graph when it fails
        print(f"graph optimisation skipped: {exc}")
        shutil.copyfile(src, dst)
        return False


def quantize_int8(src: str, dst: str, per_channel: bool, reduce_range: bool = True) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Fused contrib ops (FastGelu, SkipLayerNorm) defeat shape inference: tell it the default type.
    quantize_dynamic(src, dst, weight_type=QuantType.QInt8, per_channel=per_channel, reduce_range=reduce_range,
                     op_types_to_quantize=["MatMul", "Gather", "Attention"],
                     extra_options={"MatMulConstBOnly": True,
                                    "DefaultTensorType": onnx.TensorProto.FLOAT})


def single_readings(candidates: dict) -> dict:
    """Every Han character with one reading in pypinyin's table (and not decided by the model)."""
    from ..candidates import pypinyin_readings

    return {c: r[0] for c, r in pypinyin_readings().items() if len(r) == 1 and c not in candidates}


def dev_metrics(meta: dict) -> dict:
    """The checkpoint's dev metrics, with a note when a dev file was among its training files too
    (a refit after the recipe was chosen): then they are not held-out figures."""
    config = meta.get("config", {})
    metrics = dict(meta.get("metrics", {}))
    seen = {os.path.normpath(p) for p in config.get("dev") or []} & \
        {os.path.normpath(p) for p in config.get("train") or []}
    if seen:
        names = sorted({portable_name(p) for p in seen})
        metrics["note"] = f"not held out: the checkpoint also trained on {', '.join(names)}"
    return metrics


def decided_candidates(meta: dict, settings: ExportSettings) -> Tuple[dict, Optional[dict]]:
    """The candidates the bundle lets the model decide, and (with ``gold_from``) what was left out."""
    candidates = dict(meta["candidates"])
    if not settings.gold_from:
        return candidates, None
    from .policy import gold_decided

    kept, counts = gold_decided(settings.gold_from, candidates)
    left = sorted(set(candidates) - set(kept))
    record = {"from": data_record(settings.gold_from), "decided": len(kept),
              "left_to_the_dictionary": "".join(left),
              "why": "polyphones without a gold label learnt only pypinyin's readings (weak labels): "
                     "pypinyin's dictionary reads them"}
    return {c: candidates[c] for c in kept}, record


def _recipe_settings(path: str, root: str, files: dict) -> dict:
    """KEY=VALUE settings of a recipe, a sourced recipe's first (resolved from ``root``, as the build
    script runs there); ``files`` collects each file read -> its sha256."""
    import shlex

    files[_repo_name(path, root)] = sha256_file(path)
    settings: dict = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            words = shlex.split(line, comments=True)
            if len(words) == 1 and "=" in words[0] and words[0].split("=", 1)[0].isidentifier():
                key, value = words[0].split("=", 1)
                settings[key] = value
            elif len(words) == 2 and words[0] in ("source", "."):
                settings.update(_recipe_settings(os.path.join(root, words[1]), root, files))
    return settings


def _repo_name(path: str, root: str) -> str:
    rel = os.path.relpath(os.path.abspath(path), root)
    return rel.replace(os.sep, "/") if not rel.startswith("..") else portable_name(path)


def recipe_record(path: str) -> dict:
    """A build recipe (``export/recipe.env``: shell ``KEY=VALUE`` lines, comments after ``#``, other
    recipes ``source``d) as the manifest keeps it: ``recipe`` (its path in the repository, else its
    name), ``recipe_files`` (each file read -> sha256) and ``recipe_settings`` (the values in effect)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    files: dict = {}
    settings = _recipe_settings(path, root, files)
    return {"recipe": _repo_name(path, root), "recipe_files": files, "recipe_settings": settings}


def data_sources(config: dict) -> Optional[dict]:
    """``sources.json`` of the ``pinyin-edge prepare`` folders the training files came from."""
    found = {}
    for key in ("train", "weak", "dev"):
        for path in config.get(key) or []:
            sources = os.path.join(os.path.dirname(os.path.abspath(path)), SOURCES)
            if os.path.isfile(sources) and sources not in found:
                with open(sources, encoding="utf-8") as handle:
                    found[sources] = json.load(handle)
    if not found:
        return None
    return {portable_name(os.path.dirname(path)): record for path, record in sorted(found.items())}


def provenance(meta: dict, checkpoint: str, recipe: Optional[str] = None) -> dict:
    """Where the weights come from, without the machine: the code's commit (when run from a git
    checkout), the recipe, the checkpoint's name and weights' sha256, the data files' names and sha256
    and the inputs ``prepare`` made them from."""
    import subprocess

    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=os.path.dirname(os.path.abspath(__file__)),
                                capture_output=True, text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    config = meta.get("config", {})

    def files(paths):
        return [data_record([p])[0] if os.path.isfile(p) else {"file": portable_name(p)} for p in paths or []]

    from ..modeling.checkpoint import weights_sha256

    record = {"commit": commit, "checkpoint": portable_name(checkpoint),
              "checkpoint_sha256": weights_sha256(checkpoint),
              "base_model": portable_name(meta.get("base_model")), "step": meta.get("step"),
              "data": {k: files(config.get(k)) for k in ("train", "weak", "dev")}}
    if recipe:
        record.update(recipe_record(recipe))
    sources = data_sources(config)
    if sources:
        record["data_sources"] = sources
    if meta.get("averaged_from"):
        record["averaged_from"] = [portable_name(p) for p in meta["averaged_from"]]
    return record


def manifest_for(meta: dict, tokenizer, checkpoint: str, settings: ExportSettings) -> Manifest:
    vocab = [tok for tok, _ in sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1])]
    candidates, gold_record = decided_candidates(meta, settings)
    manifest = Manifest(
        dictionary=single_readings(candidates),
        vocab=vocab, labels=list(meta["labels"]), candidates=candidates,
        max_length=int(meta["max_length"]),
        quantization={"mode": settings.quantize, "method": "onnxruntime.quantization.quantize_dynamic"
                      if settings.quantize == "int8" else None, "weight_type": "QInt8",
                      "per_channel": settings.per_channel, "reduce_range": settings.reduce_range,
                      "optimized": settings.optimize,
                      "opset": settings.opset},
        provenance=provenance(meta, checkpoint, settings.recipe),
        metrics={"dev": dev_metrics(meta)},
        phrases=settings.phrases,
        context=settings.context,
    )
    if gold_record is not None:
        manifest.metrics["model_decides"] = gold_record
    if settings.phrases and settings.word_exceptions_from:
        from .policy import set_word_exceptions

        set_word_exceptions(manifest, settings.word_exceptions_from, settings.word_exception_min_count,
                            settings.word_exception_min_disagreement)
    return manifest


def export_bundle(checkpoint: str, out: str, settings: ExportSettings = ExportSettings(),
                  validate: Optional[List[str]] = None, log=print) -> Manifest:
    """Export ``checkpoint`` to the bundle directory ``out``; raises ParityError on a gate breach."""
    from ..modeling.checkpoint import load_checkpoint, resolve_checkpoint

    checkpoint = resolve_checkpoint(checkpoint)
    model, tokenizer, meta = load_checkpoint(checkpoint, "cpu")
    config = model.encoder.config
    with tempfile.TemporaryDirectory() as work:
        fp32, opt = os.path.join(work, "fp32.onnx"), os.path.join(work, "fp32.opt.onnx")
        started = time.time()
        export_fp32(model, fp32, settings.opset)
        # The transformer fusions apply to attention encoders only (a BiGRU has nothing to fuse).
        heads = getattr(config, "num_attention_heads", None)
        fused = bool(settings.optimize and heads and optimize_graph(fp32, opt, config.hidden_size, heads))
        final = opt if fused else fp32
        if settings.quantize == "int8":
            final = os.path.join(work, "int8.onnx")
            quantize_int8(opt if fused else fp32, final, settings.per_channel, settings.reduce_range)
        elif settings.quantize != "none":
            raise ValueError(f"unknown quantization {settings.quantize!r}: choose int8 or none")
        log(f"exported in {time.time() - started:.1f}s: fp32 {os.path.getsize(fp32) / 1e6:.2f} MB, "
            f"{settings.quantize} {os.path.getsize(final) / 1e6:.2f} MB")
        manifest = manifest_for(meta, tokenizer, checkpoint, settings)
        manifest.quantization["optimized"] = bool(fused)  # what happened, not what was asked
        dev_paths = validate or meta.get("config", {}).get("dev") or []
        report = measure_parity(model, tokenizer, meta, fp32, final, dev_paths, settings.thresholds, log=log)
        manifest.metrics["parity"] = dict(report.to_json(), data=data_record(report.data))
        manifest.metrics["size_bytes"] = {"fp32": os.path.getsize(fp32), "graph": os.path.getsize(final)}
        if report.failures:
            write_bundle(out.rstrip("/") + ".rejected", manifest, final)
            raise ParityError("; ".join(report.failures) +
                              f" (bundle kept for inspection at {out.rstrip('/')}.rejected)")
        if settings.fixed_from:
            staged = os.path.join(work, "staged")
            write_bundle(staged, manifest, final)
            fix_readings(manifest, staged, settings, log)
        write_bundle(out, manifest, final)
    return manifest


def fix_readings(manifest: Manifest, bundle_dir: str, settings: ExportSettings, log=print) -> None:
    """Move the polyphones the model always reads one way from ``candidates`` to ``dictionary``."""
    from .policy import decided_only, fixed_readings, gold_outside_phrases, model_decisions

    if not settings.gold_from:
        raise ValueError("fixed readings need the gold files (gold_from) that must never contradict them")
    decisions, texts = model_decisions(bundle_dir, settings.fixed_from, settings.fixed_per_file, log=log)
    gold = gold_outside_phrases(settings.gold_from, manifest.phrases, manifest.phrase_word_exceptions)
    fixed = fixed_readings(decisions, gold, settings.fixed_min_decisions, settings.fixed_min_share)
    for char, (reading, _, _) in fixed.items():
        del manifest.candidates[char]
        manifest.dictionary[char] = reading
    manifest.phrase_word_exceptions = decided_only(manifest.phrase_word_exceptions, manifest.candidates)
    share = sum(n for _, n, _ in fixed.values()) / max(1, sum(sum(c.values()) for c in decisions.values()))
    manifest.metrics["fixed_readings"] = {
        "from": data_record(settings.fixed_from), "texts": texts,
        "gold": data_record(settings.gold_from),
        "min_decisions": settings.fixed_min_decisions, "min_share": settings.fixed_min_share,
        "share_of_model_decisions": round(share, 4),
        "readings": {c: list(v) for c, v in fixed.items()}}  # char -> [reading, decisions, gold labels]
    log(f"fixed readings: {len(fixed)} polyphones the model read one way in {texts} texts "
        f"({share:.1%} of its decisions there) go to the dictionary")
