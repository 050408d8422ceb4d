"""Average the weights of fine-tuned checkpoints (a "model soup", Wortsman et al. 2022).

Runs fine-tuned from the same base encoder stay close in weight space, so their parameter mean is
one model of the same size and speed that votes like an ensemble: less variance between seeds and
recipes at no runtime cost. Every checkpoint must share the base model, tokenizer, label space and
candidates; anything else is refused. The result is an ordinary checkpoint (export, eval, train
--resume from it all work) whose ``polyphone.json`` lists what it was averaged from.

    pinyin-edge average runs/a runs/b runs/c --out runs/soup --dev runs/data/dev_cpp.tsv
"""
from __future__ import annotations

import os
from typing import Callable, Dict, List, Optional, Sequence

import torch

from ..modeling.checkpoint import CheckpointError, load_checkpoint, resolve_checkpoint, save_checkpoint
from ..modeling.encoding import Encoder, window
from .finetune import evaluate

MATCHING = ("labels", "candidates", "max_length")


def _mean(states: List[Dict[str, torch.Tensor]]) -> Dict[str, torch.Tensor]:
    out = {}
    for name, first in states[0].items():
        if first.is_floating_point():
            out[name] = torch.stack([s[name] for s in states]).mean(dim=0)
        else:  # integer buffers (none in our encoders today) cannot be averaged: they must agree
            if any(not torch.equal(s[name], first) for s in states[1:]):
                raise CheckpointError(f"checkpoints differ in the integer buffer {name}; cannot average")
            out[name] = first
    return out


def average_checkpoints(paths: Sequence[str], out: str, dev: Optional[Sequence[str]] = None,
                        log: Callable[[str], None] = print) -> dict:
    """Write the parameter mean of ``paths`` (training outputs or checkpoint dirs) to ``out``.
    With ``dev`` labelled files, the averaged model's dev metrics go into its metadata."""
    if len(paths) < 2:
        raise CheckpointError("averaging needs at least two checkpoints")
    resolved = [resolve_checkpoint(p) for p in paths]
    if os.path.abspath(out) in {os.path.abspath(os.path.dirname(p)) for p in resolved} | \
            {os.path.abspath(p) for p in resolved}:
        raise CheckpointError(f"--out {out} is one of the checkpoints being averaged")
    loaded = [load_checkpoint(p) for p in resolved]
    model, tokenizer, meta = loaded[0]
    for path, (other, other_tok, other_meta) in zip(resolved[1:], loaded[1:]):
        for key in MATCHING:
            if other_meta.get(key) != meta.get(key):
                raise CheckpointError(f"{path}: its {key} differ from {resolved[0]}'s; only runs over the "
                                      f"same label space can be averaged")
        if other_tok.get_vocab() != tokenizer.get_vocab() or type(other.encoder) is not type(model.encoder):
            raise CheckpointError(f"{path}: a different base encoder or tokenizer than {resolved[0]}")
    with torch.no_grad():
        model.encoder.load_state_dict(_mean([m.encoder.state_dict() for m, _, _ in loaded]))
        model.head.load_state_dict(_mean([m.head.state_dict() for m, _, _ in loaded]))
    metrics = {}
    if dev:
        from ..candidates import CandidateTable
        from ..data import read_many

        encode = Encoder(tokenizer, meta["labels"], CandidateTable.from_json(meta["candidates"]), meta["max_length"])
        examples = [window(e, meta["max_length"] - 2) for e in read_many(list(dev))]
        metrics = evaluate(model, encode, examples, 64, torch.device("cpu"))
        model.eval()
        log(f"averaged model on {', '.join(dev)}: accuracy {metrics['dev_accuracy']:.4f}, "
            f"loss {metrics['dev_loss']:.4f} over {metrics['dev_total']} labels")
    averaged = {**meta, "averaged_from": [os.path.abspath(p) for p in resolved], "metrics": metrics,
                "step": None}
    save_checkpoint(os.path.join(out, "best"), model, tokenizer, averaged)
    log(f"averaged {len(resolved)} checkpoints into {out}/best")
    return averaged
