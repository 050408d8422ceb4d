"""The checkpoint format, written by training and read by export, evaluation and training::

    encoder/          HF save_pretrained: config, weights, tokenizer
    head.pt           the classification head's state dict
    polyphone.json    labels, candidates, max_length, the full training config, dev metrics
    state.pt          (a training run's last/ only) optimizer, scheduler, step, best score: what
                      ``--resume`` needs

A training run's output directory holds ``best/`` and ``last/`` checkpoints; every reader accepts
the run's directory (its ``best/``) or a checkpoint directory itself.
"""
from __future__ import annotations

import json
import os
import pickle
import shutil
from typing import Callable, Optional

import torch

from . import bigru  # noqa: F401  (registers the BiGRU encoder with the Auto classes)
from .model import PolyphoneModel, resolve_device

CHECKPOINT_META = "polyphone.json"


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


def save_checkpoint(path: str, model: PolyphoneModel, tokenizer, meta: dict,
                    state: Optional[dict] = None) -> None:
    def write(tmp: str) -> None:
        encoder = model.encoder.module if hasattr(model.encoder, "module") else model.encoder
        encoder.save_pretrained(os.path.join(tmp, "encoder"))
        tokenizer.save_pretrained(os.path.join(tmp, "encoder"))
        torch.save(model.head.state_dict(), os.path.join(tmp, "head.pt"))
        write_json(os.path.join(tmp, CHECKPOINT_META), meta)
        if state is not None:
            torch.save(state, os.path.join(tmp, "state.pt"))
    atomic_dir(path, write)


class CheckpointError(ValueError):
    """A checkpoint directory that cannot be loaded; the message says why."""


def resolve_checkpoint(path: str) -> str:
    """Accept a training output dir (uses its best/) or a checkpoint dir itself."""
    if os.path.exists(os.path.join(path, "best", CHECKPOINT_META)):
        return os.path.join(path, "best")
    if not os.path.isdir(path):
        raise CheckpointError(f"{path}: no such checkpoint directory")
    if not os.path.exists(os.path.join(path, CHECKPOINT_META)):
        raise CheckpointError(f"{path}: not a pinyin-edge checkpoint (no {CHECKPOINT_META}); "
                              f"pass the --out of `pinyin-edge train` or its best/ folder")
    return path


WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt")


def weights_sha256(path: str) -> str:
    """One sha256 for a checkpoint's weights: over each weight file's relative name and sha256, in
    name order (``encoder/*.safetensors``, ``head.pt``). The config and training record are left out:
    they hold paths and timings, which differ between two identical builds."""
    import hashlib

    from ..bundle import sha256_file

    path = resolve_checkpoint(path)
    digest = hashlib.sha256()
    for folder, _, files in sorted(os.walk(path)):
        for name in sorted(files):
            rel = os.path.relpath(os.path.join(folder, name), path).replace(os.sep, "/")
            if name.endswith(WEIGHT_SUFFIXES) and name != "state.pt":
                digest.update(f"{rel}\t{sha256_file(os.path.join(folder, name))}\n".encode())
    return digest.hexdigest()


def load_checkpoint(path: str, device: str = "cpu"):
    """-> (model in eval mode, tokenizer, meta). Raises CheckpointError for a corrupt checkpoint."""
    from transformers import AutoModel, AutoTokenizer

    path = resolve_checkpoint(path)
    if not os.path.isdir(os.path.join(path, "encoder")):
        raise CheckpointError(f"{path}: corrupt or incomplete checkpoint (no encoder/ folder)")
    try:
        with open(os.path.join(path, CHECKPOINT_META), encoding="utf-8") as handle:
            meta = json.load(handle)
        missing = [k for k in ("labels", "candidates", "max_length")
                   if not isinstance(meta, dict) or k not in meta]
        if missing:
            raise ValueError(f"{CHECKPOINT_META} lacks {', '.join(missing)}")
        tokenizer = AutoTokenizer.from_pretrained(os.path.join(path, "encoder"))
        encoder = AutoModel.from_pretrained(os.path.join(path, "encoder"), add_pooling_layer=False)
        model = PolyphoneModel(encoder, num_labels=len(meta["labels"]))
        model.head.load_state_dict(torch.load(os.path.join(path, "head.pt"), map_location="cpu",
                                              weights_only=True))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, EOFError,
            pickle.UnpicklingError) as exc:  # torch.load: EOFError (empty), UnpicklingError (garbage)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: corrupt or incomplete checkpoint ({first})") from None
    model.to(resolve_device(device)).eval()
    return model, tokenizer, meta
