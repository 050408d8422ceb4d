"""The parity gate: the exported graphs against the PyTorch original, on labelled validation data.

* fp32 ONNX must pick the same reading as PyTorch for >= ``min_fp32_agreement`` of the queries
  (the largest absolute logit difference is reported);
* the shipped graph's accuracy must be within ``max_accuracy_drop`` of PyTorch's.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import List

import numpy as np
import torch


class ParityError(RuntimeError):
    """An exported graph disagrees with the PyTorch original beyond the thresholds."""


@dataclass(frozen=True)
class ParityThresholds:
    min_fp32_agreement: float = 0.999
    max_accuracy_drop: float = 0.002    # 0.2 points
    max_examples: int = 2000
    max_recorded_drop: float = 0.005    # PyTorch now vs the dev accuracy recorded at training time


@dataclass
class ParityReport:
    queries: int = 0
    fp32_agreement: float = 0.0
    fp32_max_logit_diff: float = 0.0
    shipped_agreement: float = 0.0
    torch_accuracy: float = 0.0
    fp32_accuracy: float = 0.0
    shipped_accuracy: float = 0.0
    data: List[str] = field(default_factory=list)
    failures: List[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def _session(path: str):
    from ..runtime.session import create_session

    return create_session(path, threads=1)


def measure_parity(model, tokenizer, meta, fp32_path: str, shipped_path: str, data: List[str],
                   thresholds: ParityThresholds, log=print) -> ParityReport:
    from ..candidates import CandidateTable
    from ..data import read_many
    from ..modeling.encoding import Encoder, window

    report = ParityReport(data=list(data))
    if not data:
        report.failures.append("no validation data: pass --validate PATH (the checkpoint names no dev set)")
        return report
    examples = [window(e, meta["max_length"] - 2) for e in read_many(data, skip_bad=True)]
    examples = examples[: thresholds.max_examples]
    encode = Encoder(tokenizer, meta["labels"], CandidateTable.from_json(meta["candidates"]), meta["max_length"])
    sessions = {"fp32": _session(fp32_path), "shipped": _session(shipped_path)}
    agree = {"fp32": 0, "shipped": 0}
    correct = {"torch": 0, "fp32": 0, "shipped": 0}
    max_diff = 0.0
    model.eval()
    for start in range(0, len(examples), 64):
        batch = encode(examples[start:start + 64])
        if batch is None:
            continue
        feeds = {"input_ids": batch["input_ids"].numpy().astype(np.int64),
                 "attention_mask": batch["attention_mask"].numpy().astype(np.int64),
                 "query_index": batch["query_index"].numpy().astype(np.int64)}
        mask = batch["candidate_mask"].numpy()
        with torch.no_grad():
            ref = model(batch["input_ids"], batch["attention_mask"], batch["query_index"]).numpy()
        gold = batch["gold"].numpy()
        ref_pick = np.where(mask, ref, -np.inf).argmax(-1)
        correct["torch"] += int((ref_pick == gold).sum())
        for name, session in sessions.items():
            logits = session.run(["logits"], feeds)[0]
            pick = np.where(mask, logits, -np.inf).argmax(-1)
            agree[name] += int((pick == ref_pick).sum())
            correct[name] += int((pick == gold).sum())
            if name == "fp32":
                max_diff = max(max_diff, float(np.abs(logits - ref).max()))
        report.queries += len(gold)
    n = max(1, report.queries)
    report.fp32_agreement = agree["fp32"] / n
    report.shipped_agreement = agree["shipped"] / n
    report.fp32_max_logit_diff = max_diff
    report.torch_accuracy = correct["torch"] / n
    report.fp32_accuracy = correct["fp32"] / n
    report.shipped_accuracy = correct["shipped"] / n
    log(f"parity on {report.queries} queries: fp32 agreement {report.fp32_agreement:.4%} "
        f"(max logit diff {max_diff:.2e}); accuracy torch {report.torch_accuracy:.4f}, "
        f"fp32 {report.fp32_accuracy:.4f}, shipped {report.shipped_accuracy:.4f}")
    if report.queries == 0:
        report.failures.append("validation data gave no scorable queries")
    if report.fp32_agreement < thresholds.min_fp32_agreement:
        report.failures.append(f"fp32 ONNX agrees with PyTorch on {report.fp32_agreement:.2%} of predictions, "
                               f"needs {thresholds.min_fp32_agreement:.1%}")
    recorded = (meta.get("metrics") or {}).get("dev_accuracy")
    same_data = list(data) == list((meta.get("config") or {}).get("dev") or []) and \
        report.queries == (meta.get("metrics") or {}).get("dev_total")
    if recorded is not None and same_data and report.torch_accuracy < recorded - thresholds.max_recorded_drop:
        report.failures.append(f"the checkpoint scores {report.torch_accuracy:.4f} on its dev data but "
                               f"recorded {recorded:.4f} when it was trained: its files were changed or "
                               f"mixed up; re-train or restore the checkpoint")
    drop = report.torch_accuracy - report.shipped_accuracy
    if drop > thresholds.max_accuracy_drop:
        report.failures.append(f"quantized accuracy {report.shipped_accuracy:.4f} is {drop * 100:.2f} points "
                               f"below PyTorch's {report.torch_accuracy:.4f} (limit "
                               f"{thresholds.max_accuracy_drop * 100:.1f})")
    return report
