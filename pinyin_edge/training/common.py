"""Pieces shared by pretraining and fine-tuning: schedules, logs, progress, atomic checkpoints."""
from __future__ import annotations

import json
import math
import os
import random
import shutil
import time
from typing import Callable, Optional

import numpy as np
import torch

from ..progress import Progress  # noqa: F401  (re-exported for the training loops)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def warmup_cosine(warmup: int, total: int, floor: float = 0.1) -> Callable[[int], float]:
    """LR multiplier: linear warm-up, then cosine decay to ``floor``."""
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))
    return factor


class JsonlLog:
    """Appends one JSON object per line; survives resumes (it appends)."""

    def __init__(self, path: str):
        self.path = path
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)

    def write(self, **record) -> None:
        record.setdefault("time", round(time.time(), 3))
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def atomic_dir(final: str, write: Callable[[str], None]) -> None:
    """Run ``write(tmp_dir)``, then swap ``tmp_dir`` into ``final``: never a half-written checkpoint."""
    parent = os.path.dirname(os.path.abspath(final))
    os.makedirs(parent, exist_ok=True)
    tmp = final.rstrip("/") + ".tmp"
    old = final.rstrip("/") + ".old"
    shutil.rmtree(tmp, ignore_errors=True)
    write(tmp)
    if os.path.exists(final):
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


def write_json(path: str, data: dict) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2)
    os.replace(tmp, path)


def autocast(device: torch.device, enabled: Optional[bool] = None):
    """bf16 autocast on CUDA (mixed precision), a no-op on the CPU."""
    use = device.type == "cuda" if enabled is None else enabled
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use)
